"""The group-commit writer of readings: the one hot path that bypasses the ORM.

Requests hand over their validated rows and wait for the commit of the group they joined,
so an answer of 202 still means "stored". While one group commits, the next one gathers,
so under load many requests share one transaction; idle, a request commits alone at once.
Rows go in with set-based SQL: a multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` on
SQLite, ``COPY`` into a staging table and one ``INSERT … SELECT`` on PostgreSQL. The rows
returned are the new ones; the others were duplicates.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.context import TortoiseContext

log = logging.getLogger("minori.telemetry.writer")

COLUMNS = ("device_id", "message_id", "ts", "metric", "value", "received_at")
SQLITE_ROWS_PER_STATEMENT = 5000  # 6 parameters a row, under SQLite's 32766 limit
STAGE = "minori_reading_stage"


@dataclass(frozen=True, slots=True)
class Row:
    device_id: uuid.UUID
    message_id: str
    ts: datetime
    metric: str
    value: float
    received_at: datetime

    @property
    def key(self) -> tuple[str, str]:
        return (str(self.device_id), self.message_id)


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
    done: asyncio.Future[set[tuple[str, str]]]


class ReadingWriter:
    def __init__(self, get_context: Callable[[], TortoiseContext], max_rows: int = 20_000) -> None:
        self.get_context = get_context
        self.max_rows = max_rows
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="reading-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def write(
        self,
        rows: Sequence[Row],
        devices: dict[uuid.UUID, Seen],
        gateways: dict[uuid.UUID, datetime] | None = None,
    ) -> set[tuple[str, str]]:
        """Store ``rows``, mark devices and gateways seen; return the keys that were new."""
        job = _Job(rows, devices, gateways or {}, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(job)
        return await job.done

    async def _run(self) -> None:
        while True:
            group = [await self._queue.get()]
            size = len(group[0].rows)
            while size < self.max_rows and not self._queue.empty():
                job = self._queue.get_nowait()
                group.append(job)
                size += len(job.rows)
            try:
                inserted = await self._commit(group)
            except Exception as exc:
                log.exception("writing %d readings failed", size)
                for job in group:
                    if not job.done.done():
                        job.done.set_exception(exc)
                continue
            for job in group:
                if not job.done.done():
                    job.done.set_result({r.key for r in job.rows} & inserted)

    async def _commit(self, group: list[_Job]) -> set[tuple[str, str]]:
        rows = [row for job in group for row in job.rows]
        devices: dict[uuid.UUID, Seen] = {}
        gateways: dict[uuid.UUID, datetime] = {}
        for job in group:
            for device_id, seen in job.devices.items():
                previous = devices.get(device_id)
                if seen.battery is None and previous is not None:
                    seen = Seen(seen.at, previous.battery)
                devices[device_id] = seen
            gateways.update(job.gateways)
        client = self.get_context().db("default")
        async with client.acquire_connection() as connection:
            if client.capabilities.dialect == "sqlite":
                return await _commit_sqlite(connection, rows, devices, gateways)
            return await _commit_postgres(connection, rows, devices, gateways)


async def _commit_sqlite(
    connection: Any,
    rows: list[Row],
    devices: dict[uuid.UUID, Seen],
    gateways: dict[uuid.UUID, datetime],
) -> set[tuple[str, str]]:
    inserted: set[tuple[str, str]] = set()
    await connection.execute("BEGIN IMMEDIATE")
    try:
        for start in range(0, len(rows), SQLITE_ROWS_PER_STATEMENT):
            chunk = rows[start : start + SQLITE_ROWS_PER_STATEMENT]
            placeholders = ",".join(["(?,?,?,?,?,?)"] * len(chunk))
            params: list[Any] = []
            for r in chunk:
                params += [str(r.device_id), r.message_id, r.ts, r.metric, r.value, r.received_at]
            cursor = await connection.execute(
                f"INSERT INTO core_reading ({','.join(COLUMNS)}) VALUES {placeholders} "  # noqa: S608
                "ON CONFLICT (device_id, message_id) DO NOTHING RETURNING device_id, message_id",
                params,
            )
            inserted.update((d, m) for d, m in await cursor.fetchall())
        await connection.executemany(
            "UPDATE core_device SET last_seen = ?, battery = COALESCE(?, battery) WHERE id = ?",
            [(seen.at, seen.battery, str(device_id)) for device_id, seen in devices.items()],
        )
        await connection.executemany(
            "INSERT INTO core_deviceday (device_id, day) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(str(device_id), seen.at.date()) for device_id, seen in devices.items()],
        )
        await connection.executemany(
            "UPDATE core_gateway SET last_seen = ? WHERE id = ?",
            [(at, str(gateway_id)) for gateway_id, at in gateways.items()],
        )
        await connection.execute("COMMIT")
    except BaseException:
        await connection.execute("ROLLBACK")
        raise
    return inserted


async def _commit_postgres(
    connection: Any,
    rows: list[Row],
    devices: dict[uuid.UUID, Seen],
    gateways: dict[uuid.UUID, datetime],
) -> set[tuple[str, str]]:
    async with connection.transaction():
        await connection.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (device_id uuid, message_id varchar(64), "
            "ts timestamptz, metric varchar(64), value float8, received_at timestamptz) "
            "ON COMMIT DELETE ROWS"
        )
        await connection.copy_records_to_table(
            STAGE,
            records=[
                (r.device_id, r.message_id, r.ts, r.metric, r.value, r.received_at) for r in rows
            ],
            columns=COLUMNS,
        )
        returned = await connection.fetch(
            f"INSERT INTO core_reading ({','.join(COLUMNS)}) "  # noqa: S608
            f"SELECT {','.join(COLUMNS)} FROM {STAGE} "
            "ON CONFLICT (device_id, message_id) DO NOTHING RETURNING device_id, message_id"
        )
        await connection.executemany(
            "UPDATE core_device SET last_seen = $1, battery = COALESCE($2, battery) WHERE id = $3",
            [(seen.at, seen.battery, device_id) for device_id, seen in devices.items()],
        )
        await connection.executemany(
            "INSERT INTO core_deviceday (device_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [(device_id, seen.at.date()) for device_id, seen in devices.items()],
        )
        await connection.executemany(
            "UPDATE core_gateway SET last_seen = $1 WHERE id = $2",
            [(at, gateway_id) for gateway_id, at in gateways.items()],
        )
    return {(str(device_id), message_id) for device_id, message_id in returned}
