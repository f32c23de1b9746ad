"""Which process runs the jobs.

On SQLite there is one process and it is always the leader. On PostgreSQL the leader is the
process holding a session-level advisory lock on a connection of its own (never one of the
ORM's pooled connections: a pool hands its connections around, and a session lock belongs to
one session). The others are standbys and try for the lock every ``interval`` seconds; when
the leader's session ends, PostgreSQL releases the lock and a standby takes it. The leader
checks its session every ``interval`` seconds too and steps down as soon as it is gone.

Advisory locks are scoped to one database, so services on separate databases of one server
do not contend. A connection pooler in transaction mode (PgBouncer) would break session
locks: point ``MINORI_DATABASE_URL`` at PostgreSQL or at a pooler in session mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

log = logging.getLogger("minori.jobs")

LOCK_KEY = 0x6D696E6F72692D6A
"""The advisory lock of the scheduler's leader: the bytes ``b"minori-j"`` as a bigint."""

_CONNECT_KEYS = ("host", "port", "user", "password", "database", "ssl")


class Leadership(Protocol):
    is_leader: bool

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class SingleProcess:
    """The embedded default: the only process leads from start to stop."""

    def __init__(self, on_change: Callable[[bool], None]) -> None:
        self.on_change = on_change
        self.is_leader = False

    async def start(self) -> None:
        self.is_leader = True
        self.on_change(True)

    async def stop(self) -> None:
        self.is_leader = False


def connect_arguments(database_url: str) -> dict[str, Any]:
    """asyncpg's arguments for tortoise's URL (``postgres://``, ``postgresql://`` or
    ``asyncpg://``), without tortoise's pool options."""
    credentials = expand_db_url(database_url)["credentials"]
    return {k: credentials[k] for k in _CONNECT_KEYS if credentials.get(k) is not None}


class AdvisoryLock:
    """Leadership by ``pg_try_advisory_lock(LOCK_KEY)`` on a dedicated asyncpg connection.

    ``on_change(True)`` is called when this process becomes the leader and
    ``on_change(False)`` when it stops being one, both on the event loop.

    A leader that lost its session waits ``hold_off`` intervals before trying again, so the
    standbys (which may have a healthier path to the database) get the lock first.
    """

    def __init__(
        self,
        database_url: str,
        on_change: Callable[[bool], None],
        *,
        interval: float = 5.0,
        timeout: float = 5.0,
        hold_off: int = 3,
    ) -> None:
        self.arguments = connect_arguments(database_url)
        self.on_change = on_change
        self.interval = interval
        self.timeout = timeout
        self.hold_off = hold_off
        self.is_leader = False
        self._connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._not_before = 0.0
        self._failing = False

    async def start(self) -> None:
        """Try once now (a lone process is the leader as soon as it has started), then
        keep trying, or keep checking, in the background."""
        await self.attempt()
        self._task = asyncio.create_task(self._loop(), name="minori-scheduler-leadership")

    async def stop(self) -> None:
        """Stop trying and end the session, which releases the lock if held."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.is_leader = False
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            try:
                await connection.close(timeout=self.timeout)
            except Exception:
                connection.terminate()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.attempt()

    async def attempt(self) -> None:
        """One round: (re)connect if needed, then check the session (leader) or try for
        the lock (standby). Any failure ends the session and, for a leader, steps down."""
        try:
            if self._connection is not None and self._connection.is_closed():
                self._connection = None
                self._step_down("its database session ended")
            if self._connection is None:
                self._connection = await asyncpg.connect(**self.arguments, timeout=self.timeout)
            if self.is_leader:
                await self._connection.fetchval("SELECT 1", timeout=self.timeout)
            elif time.monotonic() >= self._not_before and await self._connection.fetchval(
                "SELECT pg_try_advisory_lock($1)", LOCK_KEY, timeout=self.timeout
            ):
                self.is_leader = True
                log.info("this process is now the scheduler's leader")
                self.on_change(True)
            if self._failing:
                self._failing = False
                log.info("scheduler leadership: the database answers again")
        except Exception as exc:
            # Once per outage, not every interval.
            log.log(
                logging.DEBUG if self._failing else logging.WARNING,
                "scheduler leadership: the database session failed (%s: %s)",
                type(exc).__name__,
                exc,
            )
            self._failing = True
            if self._connection is not None:
                self._connection.terminate()
                self._connection = None
            self._step_down("its database session failed")

    def _step_down(self, reason: str) -> None:
        if not self.is_leader:
            return
        self.is_leader = False
        self._not_before = time.monotonic() + self.hold_off * self.interval
        log.warning("the scheduler steps down: %s", reason)
        self.on_change(False)
