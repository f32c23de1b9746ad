"""Time for every rule: plugins and core read the clock, never ``datetime.now()``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Tokyo"
"""Where a person's time zone is unknown: the city's (users carry their own)."""


def zone_named(name: str | None) -> ZoneInfo:
    """The time zone called ``name``; ``DEFAULT_TIMEZONE`` for none or one unknown here."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (KeyError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to; for tests and accelerated demos."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)


class ScaledClock:
    """Real time sped up ``speed`` times from ``start``: the demo's clock."""

    def __init__(self, speed: float, start: datetime | None = None) -> None:
        self.speed = speed
        self._start = (start or datetime.now(UTC)).astimezone(UTC)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._origin) * self.speed)


_current: ContextVar[Clock] = ContextVar("clock", default=SystemClock())  # noqa: B039 (stateless)


@contextmanager
def use_clock(clock: Clock) -> Iterator[None]:
    """Make ``clock`` the one :func:`now` reads in this task and the tasks it starts."""
    token = _current.set(clock)
    try:
        yield
    finally:
        _current.reset(token)


def now() -> datetime:
    """The current app's time: what stored rows are stamped with (``Record.created_at``)."""
    return _current.get().now()
