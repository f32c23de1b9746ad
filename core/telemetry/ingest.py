"""The one path every reading takes, from HTTP or MQTT: authenticate, judge each item alone,
drop duplicates, store the batch through the group-commit writer, then hand the new readings
to their device kind's plugin handler (after the commit, off the request)."""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import msgspec

from core.clock import Clock
from core.errors import BadRequest, Invalid
from core.telemetry import schemas
from core.telemetry.devices import Caller, DeviceRef, DeviceService
from core.telemetry.kinds import DeviceKinds, RegisteredKind
from core.telemetry.writer import ReadingWriter, Row, Seen

log = logging.getLogger("minori.telemetry")

MAX_BATCH = 1000
MAX_FUTURE = timedelta(minutes=5)
NOT_ALLOWED = "device not allowed"


@dataclass(frozen=True, slots=True)
class NewReading:
    """A reading as plugin handlers receive it."""

    message_id: str
    ts: datetime
    metric: str
    value: float


class ReadingsIn(msgspec.Struct):
    """``{"readings": [...]}``: items are judged one by one, so each is any JSON value here."""

    readings: Annotated[list[Any], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


_batch_decoder = msgspec.json.Decoder(ReadingsIn)


def decode_message(payload: bytes) -> list[Any]:
    """The readings of an MQTT message: a batch like the HTTP body, or one bare reading."""
    try:
        document = msgspec.json.decode(payload)
    except msgspec.DecodeError:
        raise BadRequest("not valid JSON") from None
    if isinstance(document, dict) and "readings" not in document:
        return [document]
    try:
        return msgspec.convert(document, ReadingsIn).readings
    except msgspec.ValidationError as exc:
        raise Invalid.field("/readings", str(exc)) from None


class Ingestor:
    def __init__(
        self,
        clock: Clock,
        kinds: DeviceKinds,
        devices: DeviceService,
        writer: ReadingWriter,
        bind: Callable[[], AbstractContextManager[object]],
    ) -> None:
        self.clock = clock
        self.kinds = kinds
        self.devices = devices
        self.writer = writer
        self.bind = bind
        self.handlers = HandlerQueues(bind)
        self.on_stored: Callable[[Iterable[uuid.UUID]], None] = lambda _ids: None
        """Told which devices just reported (liveness recovers their offline alerts)."""

    async def ingest(
        self, caller: Caller, items: list[Any], topic_device: uuid.UUID | None = None
    ) -> schemas.IngestResult:
        now = self.clock.now()
        rejected: list[schemas.Rejected] = []
        rows: list[Row] = []
        # Items of one request nearly always name the same device or two: resolve each name
        # once, and keep per device what the items add up to.
        by_name: dict[str | None, _Target | None] = {}
        by_device: dict[uuid.UUID, _Target] = {}
        duplicates = 0
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                rejected.append(schemas.Rejected(index, "not a JSON object"))
                continue
            named = item.get("device")
            cacheable = named is None or type(named) is str
            target = by_name.get(named, _UNKNOWN) if cacheable else _UNKNOWN
            if target is _UNKNOWN:
                device = await self._target(caller, named, topic_device)
                target = None
                if device is not None:
                    target = by_device.get(device.id)
                    if target is None:
                        target = by_device[device.id] = _Target(device, self.kinds.get(device.kind))
                if cacheable:
                    by_name[named] = target
            if target is None:
                rejected.append(schemas.Rejected(index, NOT_ALLOWED))
                continue
            kind = target.kind
            if kind is None:
                rejected.append(
                    schemas.Rejected(
                        index,
                        f"device kind {target.device.kind} is not served by any loaded plugin",
                    )
                )
                continue
            row, problem = _judge(item, target.device, kind, now)
            if row is None:
                assert problem is not None
                rejected.append(schemas.Rejected(index, problem))
                continue
            if row.message_id in target.ids:
                duplicates += 1
                continue
            target.ids.add(row.message_id)
            rows.append(row)
            battery = item.get("battery")
            if battery is not None and _is_number(battery):
                target.battery = float(battery)
        accepted = 0
        if rows:
            gateways = {caller.id: now} if caller.kind == "gateway" else None
            seen = {t.device.id: Seen(now, t.battery) for t in by_device.values() if t.ids}
            new = await self.writer.write(rows, seen, gateways)
            accepted = len(new)
            self._hand_over(new, by_device)
            self.on_stored(seen)
        return schemas.IngestResult(
            accepted=accepted,
            duplicates=duplicates + len(rows) - accepted,
            rejected=rejected,
        )

    async def _target(
        self, caller: Caller, named: Any, topic_device: uuid.UUID | None
    ) -> DeviceRef | None:
        """The device an item is for, or None when this caller may not post for it."""
        if caller.kind == "device":
            wanted = caller.id
            if named is not None and str(named) != str(caller.id):
                return None
        else:
            if named is None and topic_device is None:
                return None
            try:
                wanted = uuid.UUID(str(named)) if named is not None else topic_device
            except ValueError:
                return None
        if topic_device is not None and wanted != topic_device:
            return None
        assert wanted is not None
        device = await self.devices.device(wanted)
        if device is None or device.revoked or device.organization_id != caller.organization_id:
            return None
        return device

    def _hand_over(self, new: Sequence[Row], targets: dict[uuid.UUID, _Target]) -> None:
        by_device: dict[uuid.UUID, list[NewReading]] = {}
        device_id: uuid.UUID | None = None
        readings: list[NewReading] = []
        for row in new:
            # Rows of one device share its id object: look the list up only when it changes.
            if row.device_id is not device_id:
                device_id = row.device_id
                readings = by_device.setdefault(device_id, [])
            readings.append(NewReading(row.message_id, row.ts, row.metric, row.value))
        for device_id, readings in by_device.items():
            target = targets[device_id]
            assert target.kind is not None  # items of a kind no plugin serves were rejected
            self.handlers.put(target.kind, target.device, readings)


_UNKNOWN: Any = object()


class _Target:
    """A device some items of one request are for, and what those items add up to."""

    __slots__ = ("battery", "device", "ids", "kind")

    def __init__(self, device: DeviceRef, kind: RegisteredKind | None) -> None:
        self.device = device
        self.kind = kind
        self.ids: set[str] = set()
        self.battery: float | None = None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _judge(
    item: dict[str, Any], device: DeviceRef, kind: RegisteredKind, now: datetime
) -> tuple[Row | None, str | None]:
    """A row, or why this item is rejected."""
    message_id, raw_ts, metric_name = item.get("id"), item.get("ts"), item.get("metric")
    if not isinstance(message_id, str) or not message_id:
        return None, "id is missing"
    if len(message_id) > 64:
        return None, "id is longer than 64 characters"
    if not isinstance(raw_ts, str):
        return None, "ts is missing"
    try:
        ts = datetime.fromisoformat(raw_ts)
    except ValueError:
        return None, "ts is not an RFC 3339 timestamp"
    if ts.tzinfo is None:
        return None, "ts has no UTC offset"
    if ts - now > MAX_FUTURE:
        return None, "ts is more than 5 minutes in the future"
    metric = kind.metrics.get(metric_name) if isinstance(metric_name, str) else None
    if metric is None:
        return None, f"metric must be one of {', '.join(sorted(kind.metrics))} for {kind.name}"
    value = item.get("value")
    if isinstance(value, bool):
        value = int(value)
    if not _is_number(value):
        return None, "value is not a number"
    if not metric.min <= value <= metric.max:
        return None, f"value {value} is outside [{metric.min}, {metric.max}] for {metric.name}"
    return Row(
        device.id, message_id, ts.astimezone(now.tzinfo), metric.name, float(value), now
    ), None


class HandlerQueues:
    """One queue per device kind, so a slow plugin delays only its own readings, and each
    kind sees its readings in the order they were stored."""

    def __init__(self, bind: Callable[[], AbstractContextManager[object]]) -> None:
        self.bind = bind
        self._queues: dict[str, asyncio.Queue[tuple[DeviceRef, list[NewReading]]]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def put(self, kind: RegisteredKind, device: DeviceRef, readings: list[NewReading]) -> None:
        if kind.spec.on_readings is None:
            return
        queue = self._queues.get(kind.name)
        if queue is None:
            queue = self._queues[kind.name] = asyncio.Queue()
            self._tasks.append(asyncio.create_task(self._drain(kind, queue), name=kind.name))
        queue.put_nowait((device, readings))

    async def _drain(
        self, kind: RegisteredKind, queue: asyncio.Queue[tuple[DeviceRef, list[NewReading]]]
    ) -> None:
        assert kind.spec.on_readings is not None
        while True:
            device, readings = await queue.get()
            try:
                with self.bind():
                    await kind.spec.on_readings(kind.context, device, readings)
            except Exception:
                log.exception(
                    "%s handler failed on %d readings of device %s",
                    kind.name,
                    len(readings),
                    device.id,
                    extra={"plugin": kind.plugin, "device": str(device.id)},
                )
            finally:
                queue.task_done()

    async def join(self) -> None:
        """Wait until every handed-over reading was handled (tests, shutdown)."""
        for queue in list(self._queues.values()):
            await queue.join()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
