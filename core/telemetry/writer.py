"""The group-commit writer of readings: the one hot path that bypasses the ORM.

Requests hand over their validated rows and wait for the commit of the group they joined,
so an answer of 202 still means "stored". While one group commits, the next one gathers
(up to ``max_rows``, so one commit never holds the database for long), so under load many
requests share one transaction; idle, a request commits alone at once.

Rows go in with set-based SQL and ``ON CONFLICT DO NOTHING``, without returning the rows (that
costs more than the insert): the database's count of inserted rows says whether all were new,
which under normal traffic they are. Only when some were duplicates is the database asked which
rows the group inserted.

SQLite: the whole group is one synchronous function run on the writer's own connection and
thread (one hop out of the event loop per group, not one per statement), with multi-row
statements whose parameters the requests built. The ORM keeps its connection: in WAL mode its
reads go on while the writer writes, and its transactions begin ``IMMEDIATE`` (see
``core.db_sqlite``) so they wait for the writer's commit instead of failing. Before each group
the writer lets queued ORM work go first, so alerts are not starved. An in-memory database
cannot be shared between connections; there the same function runs on the ORM's connection,
under its lock. Duplicates: the group is rolled back and inserted again with ``RETURNING``.

PostgreSQL: one statement per group on a connection of the ORM's pool (rows as arrays through
``unnest``; device, device-day and gateway updates in the same statement), up to two groups in
flight. Duplicates: the group's keys whose rows carry its transaction id (``xmin``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.context import TortoiseContext

log = logging.getLogger("minori.telemetry.writer")

COLUMNS = ("device_id", "message_id", "ts", "metric", "value", "received_at")
MAX_GROUP_ROWS = 4000
PG_IN_FLIGHT = 2
DEADLOCK = "40P01"
SQLITE_ROWS_PER_STATEMENT = 5000  # 6 parameters a row, under SQLite's 32766 limit


@dataclass(frozen=True, slots=True)
class Row:
    device_id: uuid.UUID
    message_id: str
    ts: datetime
    metric: str
    value: float
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Seen:
    """A device (or gateway) reported: when, and its battery if the batch said."""

    at: datetime
    battery: float | None = None


@dataclass(frozen=True, slots=True)
class _Job:
    rows: Sequence[Row]
    devices: dict[uuid.UUID, Seen]
    gateways: dict[uuid.UUID, datetime]
    done: asyncio.Future[Sequence[Row]]
    params: list[Any]


@dataclass(slots=True)
class _Group:
    """What one transaction writes, merged from the jobs of a group."""

    rows: list[Row]
    devices: dict[uuid.UUID, Seen]
    gateways: dict[uuid.UUID, datetime]
    params: list[Any]


class ReadingWriter:
    def __init__(
        self, get_context: Callable[[], TortoiseContext], max_rows: int = MAX_GROUP_ROWS
    ) -> None:
        self.get_context = get_context
        self.max_rows = max_rows
        self._pending: deque[_Job] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sqlite: _SqliteConnection | None = None
        self._dialect: str | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="reading-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._sqlite is not None:
            await self._sqlite.close()
            self._sqlite = None

    async def write(
        self,
        rows: Sequence[Row],
        devices: dict[uuid.UUID, Seen],
        gateways: dict[uuid.UUID, datetime] | None = None,
    ) -> Sequence[Row]:
        """Store ``rows``, mark devices and gateways seen; return the rows that were new.

        A key repeated within ``rows`` or already stored is not new; a key two concurrent
        callers both send is new for one of them only."""
        if self._dialect is None:
            self._dialect = self.get_context().db("default").capabilities.dialect
        # SQLite's parameters are built here, by the request, while the writer commits the
        # group before: the writer's thread then spends its time in SQLite, not in Python.
        params = _sqlite_params(rows) if self._dialect == "sqlite" else _postgres_params(rows)
        job = _Job(
            rows, devices, gateways or {}, asyncio.get_running_loop().create_future(), params
        )
        self._pending.append(job)
        self._wake.set()
        return await job.done

    async def _run(self) -> None:
        slots: asyncio.Semaphore | None = None
        committing: set[asyncio.Task[None]] = set()
        try:
            while True:
                if not self._pending:
                    self._wake.clear()
                    await self._wake.wait()
                if slots is None:
                    # A second group on PostgreSQL's pool keeps the server busy while the first
                    # one's answer waits its turn in the event loop. SQLite has one writer.
                    slots = asyncio.Semaphore(1 if self._dialect == "sqlite" else PG_IN_FLIGHT)
                await slots.acquire()
                task = asyncio.create_task(self._write_group(self._take(), slots))
                committing.add(task)
                task.add_done_callback(committing.discard)
        finally:
            for task in committing:
                task.cancel()
            await asyncio.gather(*committing, return_exceptions=True)

    async def _write_group(self, group: list[_Job], slots: asyncio.Semaphore) -> None:
        try:
            new = await self._commit(group)
        except Exception as exc:
            log.exception("writing %d readings failed", sum(len(j.rows) for j in group))
            for job in group:
                if not job.done.done():
                    job.done.set_exception(exc)
            return
        finally:
            slots.release()
        for job, rows in zip(group, new, strict=True):
            if not job.done.done():
                job.done.set_result(rows)

    def _take(self) -> list[_Job]:
        """The oldest jobs up to ``max_rows`` (at least one job, however large)."""
        group = [self._pending.popleft()]
        size = len(group[0].rows)
        while self._pending and size + len(self._pending[0].rows) <= self.max_rows:
            job = self._pending.popleft()
            group.append(job)
            size += len(job.rows)
        return group

    async def _commit(self, jobs: list[_Job]) -> list[Sequence[Row]]:
        group = _merge(jobs)
        client = self.get_context().db("default")
        if client.capabilities.dialect == "sqlite":
            added, new_keys = await self._commit_sqlite(client, group)
        else:
            async with client.acquire_connection() as connection:
                added, new_keys = await _commit_postgres(connection, group)
        if added == len(group.rows):
            return [job.rows for job in jobs]
        assert new_keys is not None
        result: list[Sequence[Row]] = []
        for job in jobs:
            new = []
            for row in job.rows:
                key = (str(row.device_id), row.message_id)
                if key in new_keys:
                    new_keys.discard(key)  # a key sent twice is new once, for the first
                    new.append(row)
            result.append(new)
        return result

    async def _commit_sqlite(self, client: Any, group: _Group) -> tuple[int, set[Any] | None]:
        if client.filename in ("", ":memory:"):
            async with client.acquire_connection() as connection:
                return await connection._execute(_write_sqlite, connection._conn, group)  # type: ignore[no-any-return]
        if self._sqlite is None:
            self._sqlite = _SqliteConnection(client.filename, client.pragmas)
        # Queued ORM work (a transaction waiting in SQLite's busy handler among it) goes
        # first: SQLite's busy handler polls, and would rarely find the lock free between
        # two groups of a busy writer.
        async with client._lock:
            pass
        return await self._sqlite.run(_write_sqlite, group)


def _merge(jobs: list[_Job]) -> _Group:
    if len(jobs) == 1:
        job = jobs[0]
        return _Group(list(job.rows), job.devices, job.gateways, job.params)
    rows: list[Row] = []
    params: list[Any] = []
    # PostgreSQL's parameters are columns (lists of lists); SQLite's one flat list.
    columns = [[] for _ in COLUMNS] if isinstance(jobs[0].params[0], list) else None
    devices: dict[uuid.UUID, Seen] = {}
    gateways: dict[uuid.UUID, datetime] = {}
    for job in jobs:
        rows += job.rows
        if columns is None:
            params += job.params
        else:
            for column, values in zip(columns, job.params, strict=True):
                column += values
        for device_id, seen in job.devices.items():
            previous = devices.get(device_id)
            if seen.battery is None and previous is not None:
                seen = Seen(seen.at, previous.battery)
            devices[device_id] = seen
        gateways.update(job.gateways)
    return _Group(rows, devices, gateways, params if columns is None else columns)


class _SqliteConnection:
    """The writer's own connection, used only from its own thread."""

    def __init__(self, filename: str, pragmas: dict[str, Any]) -> None:
        self.filename = filename
        self.pragmas = dict(pragmas)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reading-writer")
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(
                self.filename, isolation_level=None, check_same_thread=False
            )
            for pragma, value in self.pragmas.items():
                connection.execute(f"PRAGMA {pragma}={value}")
            self._connection = connection
        return self._connection

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._connect(), *args))

    async def close(self) -> None:
        def close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=False)


def _sqlite_params(rows: Sequence[Row]) -> list[Any]:
    adapt = sqlite3.adapt
    params: list[Any] = []
    device = received = None
    device_text = received_text = ""
    for r in rows:
        # Rows of one request share their device and receipt time: adapt those once.
        if r.device_id is not device:
            device, device_text = r.device_id, str(r.device_id)
        if r.received_at is not received:
            received, received_text = r.received_at, adapt(r.received_at)
        params += (device_text, r.message_id, adapt(r.ts), r.metric, r.value, received_text)
    return params


def _write_sqlite(connection: sqlite3.Connection, group: _Group) -> tuple[int, set[Any] | None]:
    """One transaction, on the connection's thread: how many rows were added, and (only when
    that is not all of them) the keys of the new ones.

    Statements are few and multi-row, never ``executemany``: sqlite3 lets go of the GIL around
    each step, and a thread taking it back from a busy event loop waits for the loop to let go
    (up to the switch interval) each time."""
    params = group.params
    seen: list[Any] = []
    days: list[Any] = []
    for device_id, s in group.devices.items():
        seen += (str(device_id), sqlite3.adapt(s.at), s.battery)
        days += (str(device_id), s.at.date().isoformat())
    gateways: list[Any] = []
    for gateway_id, at in group.gateways.items():
        gateways += (str(gateway_id), sqlite3.adapt(at))
    connection.execute("BEGIN IMMEDIATE")
    try:
        before = connection.total_changes
        _sqlite_insert(connection, params, "")
        added = connection.total_changes - before
        new_keys = None
        if added * len(COLUMNS) != len(params):
            # Some were duplicates. Rare: insert again, this time asking which rows are new.
            connection.execute("ROLLBACK")
            connection.execute("BEGIN IMMEDIATE")
            new_keys = _sqlite_insert(connection, params, " RETURNING device_id, message_id")
            added = len(new_keys)
        if seen:
            connection.execute(
                "UPDATE core_device SET last_seen = v.column2, "  # noqa: S608
                "battery = COALESCE(v.column3, core_device.battery) "
                f"FROM (VALUES {_tuples(len(seen) // 3, 3)}) AS v "
                "WHERE core_device.id = v.column1",
                seen,
            )
            connection.execute(
                "INSERT INTO core_deviceday (device_id, day) "  # noqa: S608
                f"VALUES {_tuples(len(days) // 2, 2)} ON CONFLICT DO NOTHING",
                days,
            )
        if gateways:
            connection.execute(
                "UPDATE core_gateway SET last_seen = v.column2 "  # noqa: S608
                f"FROM (VALUES {_tuples(len(gateways) // 2, 2)}) AS v "
                "WHERE core_gateway.id = v.column1",
                gateways,
            )
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return added, new_keys


def _sqlite_insert(connection: sqlite3.Connection, params: list[Any], returning: str) -> set[Any]:
    width = len(COLUMNS)
    keys: set[Any] = set()
    for start in range(0, len(params), SQLITE_ROWS_PER_STATEMENT * width):
        chunk = params[start : start + SQLITE_ROWS_PER_STATEMENT * width]
        cursor = connection.execute(
            f"INSERT INTO core_reading ({','.join(COLUMNS)}) "  # noqa: S608
            f"VALUES {_tuples(len(chunk) // width, width)} "
            f"ON CONFLICT (device_id, message_id) DO NOTHING{returning}",
            chunk,
        )
        if returning:
            keys.update((d, m) for d, m in cursor)
    return keys


def _tuples(count: int, width: int) -> str:
    one = f"({','.join('?' * width)})"
    return ",".join([one] * count)


def _postgres_params(rows: Sequence[Row]) -> list[Any]:
    return [
        [r.device_id for r in rows],
        [r.message_id for r in rows],
        [r.ts for r in rows],
        [r.metric for r in rows],
        [r.value for r in rows],
        [r.received_at for r in rows],
    ]


# One statement, so one round trip and atomic without a transaction block. RETURNING only
# feeds the count: the rows never leave the server.
_PG_WRITE = f"""
WITH seen AS (
    UPDATE core_device d SET last_seen = s.at, battery = COALESCE(s.battery, d.battery)
    FROM unnest($7::uuid[], $8::timestamptz[], $9::float8[]) AS s(id, at, battery)
    WHERE d.id = s.id
), days AS (
    INSERT INTO core_deviceday (device_id, day)
    SELECT * FROM unnest($7::uuid[], $10::date[]) ON CONFLICT DO NOTHING
), gateways AS (
    UPDATE core_gateway g SET last_seen = s.at
    FROM unnest($11::uuid[], $12::timestamptz[]) AS s(id, at) WHERE g.id = s.id
), added AS (
    INSERT INTO core_reading ({",".join(COLUMNS)})
    SELECT * FROM unnest(
        $1::uuid[], $2::varchar[], $3::timestamptz[], $4::varchar[], $5::float8[],
        $6::timestamptz[]
    )
    ON CONFLICT (device_id, message_id) DO NOTHING RETURNING 1
)
SELECT (SELECT count(*) FROM added), pg_current_xact_id()::xid
"""  # noqa: S608

# The rows a transaction inserted carry its id; the join keeps to the unique index.
_PG_ADDED = """
SELECT r.device_id, r.message_id FROM core_reading r
JOIN unnest($1::uuid[], $2::varchar[]) AS k(device_id, message_id)
    ON r.device_id = k.device_id AND r.message_id = k.message_id
WHERE r.xmin = $3::xid
"""


async def _commit_postgres(connection: Any, group: _Group) -> tuple[int, set[Any] | None]:
    # Groups in flight at once lock device rows in one order.
    devices = sorted(group.devices.items())
    for attempt in range(3):
        try:
            return await _write_postgres(connection, group, devices)
        except Exception as exc:
            # Two groups holding a key each that the other also sends (a client retrying
            # in another order) deadlock; PostgreSQL aborts one, which is harmless to redo.
            if getattr(exc, "sqlstate", None) != DEADLOCK or attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _write_postgres(
    connection: Any, group: _Group, devices: list[tuple[uuid.UUID, Seen]]
) -> tuple[int, set[Any] | None]:
    columns = group.params
    added, xid = await connection.fetchrow(
        _PG_WRITE,
        *columns,
        [device_id for device_id, _ in devices],
        [seen.at for _, seen in devices],
        [seen.battery for _, seen in devices],
        [seen.at.date() for _, seen in devices],
        sorted(group.gateways),
        [group.gateways[g] for g in sorted(group.gateways)],
    )
    new_keys = None
    if added != len(group.rows):
        found = await connection.fetch(_PG_ADDED, columns[0], columns[1], xid)
        new_keys = {(str(d), m) for d, m in found}
    return added, new_keys
