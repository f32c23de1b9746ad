"""The daily inspection record, computed from what is known of one trap (no database here).

Traps must be inspected in principle every day (DOMAIN.md). For every trap and every local
calendar day the record says:

- ``inspected``: somebody recorded an inspection of the trap that day;
- ``verified_by_sensor``: no inspection, but the trap was set, never sprung that day, and its
  sensor reported without a gap longer than ``max_gap`` for as long as it was set;
- ``missed``: set that day, and neither of the above (sprung, sensor silent, no sensor);
- ``not_set``: disarmed or removed all day: nothing can be caught, nothing to inspect.

Days before the trap was registered have no record. For today the record is "so far": it
covers the day up to now.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from plugins.wildlife_traps.models import TrapState

SET_STATES = frozenset({TrapState.ARMED, TrapState.SPRUNG})


class DayStatus(StrEnum):
    VERIFIED_BY_SENSOR = "verified_by_sensor"
    INSPECTED = "inspected"
    MISSED = "missed"
    NOT_SET = "not_set"


@dataclass(frozen=True, slots=True)
class StateChange:
    at: datetime
    state: TrapState


@dataclass(frozen=True, slots=True)
class TrapHistory:
    """What the record of one trap is computed from, all times timezone-aware."""

    created_at: datetime
    changes: Sequence[StateChange]
    """Every change of state, the first one the state the trap was registered in."""
    inspections: Sequence[datetime]
    heartbeats: Sequence[datetime]
    """Times its sensors reported anything, from at least ``max_gap`` before the first day
    asked for."""


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start, end


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def segments(
    changes: Sequence[StateChange], start: datetime, end: datetime
) -> list[tuple[datetime, datetime, TrapState]]:
    """The trap's states over ``[start, end)``, as ``(from, to, state)``."""
    ordered = sorted(changes, key=lambda c: c.at)
    state: TrapState | None = None
    for change in ordered:
        if change.at <= start:
            state = change.state
    found: list[tuple[datetime, datetime, TrapState]] = []
    cursor = start
    for change in ordered:
        if start < change.at < end:
            if state is not None and change.at > cursor:
                found.append((cursor, change.at, state))
            cursor, state = change.at, change.state
    if state is not None and end > cursor:
        found.append((cursor, end, state))
    return found


def covered(
    heartbeats: Sequence[datetime], start: datetime, end: datetime, max_gap: timedelta
) -> bool:
    """Whether the sensor was alive at every moment of ``[start, end)``: its last report
    was never more than ``max_gap`` old. Before ``start`` the last report before it counts
    (a sensor that never reported before counts from ``start``); no report at all covers
    nothing."""
    first = bisect.bisect_left(heartbeats, start)
    last = bisect.bisect_left(heartbeats, end)
    if first == last and first == 0:
        return False
    previous = heartbeats[first - 1] if first > 0 else start
    for beat in heartbeats[first:last]:
        if beat > start and beat - previous > max_gap:
            return False
        previous = beat
    return end - previous <= max_gap


def day_status(
    history: TrapHistory, day: date, zone: ZoneInfo, now: datetime, max_gap: timedelta
) -> DayStatus | None:
    """The record of ``day``; None for a day before the trap existed or after ``now``."""
    day_start, day_end = day_bounds(day, zone)
    if day_start > now or day_end <= history.created_at:
        return None
    if any(day_start <= at < day_end for at in history.inspections):
        return DayStatus.INSPECTED
    start, end = max(day_start, history.created_at), min(day_end, now)
    if start >= end:
        return None
    parts = [p for p in segments(history.changes, start, end) if p[2] in SET_STATES]
    if not parts:
        return DayStatus.NOT_SET
    if any(state is TrapState.SPRUNG for _a, _b, state in parts):
        return DayStatus.MISSED
    beats = sorted(history.heartbeats)
    if all(covered(beats, a, b, max_gap) for a, b, _state in parts):
        return DayStatus.VERIFIED_BY_SENSOR
    return DayStatus.MISSED


def record(
    history: TrapHistory, days: Iterable[date], zone: ZoneInfo, now: datetime, max_gap: timedelta
) -> list[tuple[date, DayStatus]]:
    found = []
    for day in days:
        status = day_status(history, day, zone, now, max_gap)
        if status is not None:
            found.append((day, status))
    return found


def battery_days_left(
    history: Sequence[tuple[datetime, float]],
    voltage: float,
    *,
    empty_v: float,
    full_v: float,
    life_days: int,
    min_span: timedelta = timedelta(days=7),
) -> tuple[int, str]:
    """Days until the battery reaches ``empty_v``: from the trend of its own history when
    it spans at least ``min_span`` and falls; else from the nominal battery life."""
    left = max(voltage - empty_v, 0.0)
    if len(history) >= 5 and history[-1][0] - history[0][0] >= min_span:
        origin = history[0][0]
        xs = [(ts - origin).total_seconds() / 86400 for ts, _v in history]
        ys = [v for _ts, v in history]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        spread = sum((x - mean_x) ** 2 for x in xs)
        if spread > 0:
            slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
            if slope < 0:
                return int(left / -slope), "trend"
    per_day = (full_v - empty_v) / life_days
    return int(left / per_day), "nominal"
