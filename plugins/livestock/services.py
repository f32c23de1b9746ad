"""Everything the livestock plugin reads and writes: the only module that queries the ORM.

Herd records go through the tenancy helpers; the scoring job reads sensor history in bulk
(one set-based query over ``core_reading`` per few thousand devices, aggregated by hour in
the database) and hands numpy arrays to :mod:`plugins.livestock.scoring`.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec
import numpy as np
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from core import tenancy
from core.alerts.models import Alert, AlertStatus, Verdict
from core.alerts.service import Subject, organization_members
from core.errors import Conflict, Invalid
from core.identity.access import Principal
from core.identity.models import Organization, OrganizationKind
from core.pagination import decode_cursor, encode_cursor, page
from core.plugin import PluginContext
from core.sync import Tombstone, record_deletion
from core.telemetry.models import Device, Reading
from plugins.livestock import herd, schemas
from plugins.livestock.features import BASELINE_OFFSETS
from plugins.livestock.models import (
    Animal,
    AnimalStatus,
    EventKind,
    Heat,
    HerdSummary,
    Reminder,
    ReproductiveEvent,
    Sex,
)
from plugins.livestock.settings import LivestockSettings

PLUGIN = "livestock"
COLLAR = "livestock.collar"
THERMO = "livestock.thermo"
SUBJECT = "livestock.animal"
ANIMALS = "animals"
EVENTS = "events"
"""The collections the mobile app syncs (``changes.livestock.animals``, ``.events``)."""
OPEN = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
METRICS = ("activity", "rumination", "temperature")
MAX_FUTURE = timedelta(minutes=5)
HEAT_MEMORY = timedelta(days=60)
"""How far back the collar's heats count for "time since the last heat"."""
DEVICES_PER_QUERY = 2000
"""Sensor history is read for this many devices at a time (SQLite serves nothing else
while one query runs)."""


def label(animal: Animal) -> str:
    return f"{animal.name} ({animal.ear_tag})" if animal.name else animal.ear_tag


def subject(animal: Animal) -> Subject:
    return Subject(SUBJECT, str(animal.id), label(animal))


def settings_of(ctx: PluginContext) -> LivestockSettings:
    settings = ctx.settings
    assert isinstance(settings, LivestockSettings)
    return settings


# Reproductive state of many animals at once


async def event_facts(animal_ids: Iterable[Any]) -> dict[str, list[herd.EventFact]]:
    ids = [str(a) for a in animal_ids]
    facts: dict[str, list[herd.EventFact]] = defaultdict(list)
    if not ids:
        return facts
    rows = await ReproductiveEvent.filter(animal_id__in=ids).values_list(
        "animal_id", "kind", "at", "pregnant"
    )
    for animal_id, kind, at, pregnant in rows:
        facts[str(animal_id)].append(herd.EventFact(EventKind(kind), at, pregnant))
    return facts


async def false_alarm_ids(since: datetime) -> set[str]:
    ids = await Alert.filter(
        plugin=PLUGIN, type="estrus", feedback=Verdict.FALSE_ALARM, first_seen__gte=since
    ).values_list("id", flat=True)
    return {str(i) for i in ids}


async def detected_heats(animal_ids: Iterable[Any], now: datetime) -> dict[str, list[datetime]]:
    """The collar's heats of the last 60 days, without those marked false alarms."""
    ids = [str(a) for a in animal_ids]
    found: dict[str, list[datetime]] = defaultdict(list)
    if not ids:
        return found
    wrong = await false_alarm_ids(now - HEAT_MEMORY)
    rows = await Heat.filter(animal_id__in=ids, onset__gte=now - HEAT_MEMORY).values_list(
        "animal_id", "onset", "alert_id"
    )
    for animal_id, onset, alert_id in rows:
        if alert_id is None or str(alert_id) not in wrong:
            found[str(animal_id)].append(onset)
    return found


async def states_of(
    ctx: PluginContext, animals: Sequence[Animal], now: datetime
) -> dict[str, herd.ReproState]:
    ids = [a.id for a in animals]
    facts = await event_facts(ids)
    heats = await detected_heats(ids, now)
    return {
        str(a.id): herd.reproductive_state(
            facts.get(str(a.id), []),
            now,
            settings_of(ctx),
            ctx.city_zone,
            detected_heats=heats.get(str(a.id), []),
            status=AnimalStatus(a.status),
        )
        for a in animals
    }


async def devices_of(animal_ids: Iterable[Any]) -> dict[str, list[schemas.DeviceSummary]]:
    ids = [str(a) for a in animal_ids]
    found: dict[str, list[schemas.DeviceSummary]] = defaultdict(list)
    if not ids:
        return found
    rows = await Device.filter(
        subject_kind=SUBJECT, subject_id__in=ids, revoked_at__isnull=True
    ).order_by("created_at")
    for device in rows:
        found[str(device.subject_id)].append(
            schemas.DeviceSummary(str(device.id), device.kind, device.name)
        )
    return found


# Animals


def animal_out(
    settings: LivestockSettings,
    animal: Animal,
    state: herd.ReproState,
    devices: list[schemas.DeviceSummary],
    now: datetime,
) -> schemas.Animal:
    blocked = herd.estrus_suppressed(
        state,
        now,
        settings,
        sex=Sex(animal.sex),
        status=AnimalStatus(animal.status),
        monitoring_since=animal.monitoring_since,
    )
    return schemas.Animal(
        id=str(animal.id),
        organization_id=str(animal.organization_id),
        ear_tag=animal.ear_tag,
        name=animal.name,
        breed=animal.breed,
        sex=animal.sex,
        birth_date=animal.birth_date,
        group=animal.group,
        housing=animal.housing,
        status=animal.status,
        monitoring_since=animal.monitoring_since,
        reproduction=schemas.Reproduction(
            state=state.state.value,
            last_calving=state.last_calving,
            days_in_milk=state.days_in_milk,
            last_heat=state.last_heat,
            last_insemination=state.last_insemination,
            pregnant=state.pregnant,
            days_pregnant=state.days_pregnant,
            expected_calving=state.expected_calving,
            estrus_alerts=blocked.value if blocked else "on",
            estrus_detection=herd.housing_estrus_note(animal.housing),
        ),
        devices=devices,
        created_at=animal.created_at,
        updated_at=animal.updated_at,
    )


async def animals_out(ctx: PluginContext, animals: Sequence[Animal]) -> list[schemas.Animal]:
    settings = settings_of(ctx)
    now = ctx.clock.now()
    states = await states_of(ctx, animals, now)
    devices = await devices_of(a.id for a in animals)
    return [
        animal_out(settings, a, states[str(a.id)], devices.get(str(a.id), []), now) for a in animals
    ]


async def create_animal(
    ctx: PluginContext, principal: Principal, data: schemas.AnimalCreate
) -> schemas.Animal:
    organization = await tenancy.referenced(
        Organization.all(), data.organization_id, principal, "/organization_id", field=None
    )
    now = ctx.clock.now()
    try:
        animal = await Animal.create(
            organization=organization,
            ear_tag=data.ear_tag,
            name=data.name,
            breed=data.breed,
            sex=data.sex,
            birth_date=data.birth_date,
            group=data.group,
            housing=data.housing,
            created_at=now,
            updated_at=now,
        )
    except IntegrityError:
        raise Conflict(
            f"This organization already has an animal with ear tag {data.ear_tag}."
        ) from None
    return (await animals_out(ctx, [animal]))[0]


async def list_animals(
    ctx: PluginContext,
    principal: Principal,
    cursor: str | None,
    limit: int,
    *,
    organization_id: str | None = None,
    status: AnimalStatus | None = None,
    group: str | None = None,
    ear_tag: str | None = None,
) -> schemas.AnimalList:
    queryset = tenancy.scope(Animal.all(), principal)
    if organization_id is not None:
        queryset = queryset.filter(
            organization_id=tenancy.parse_id(organization_id) or uuid.uuid4()
        )
    if status is not None:
        queryset = queryset.filter(status=status)
    if group is not None:
        queryset = queryset.filter(group=group)
    if ear_tag is not None:
        queryset = queryset.filter(ear_tag=ear_tag)
    rows, next_cursor = await page(queryset, cursor, limit)
    return schemas.AnimalList(await animals_out(ctx, rows), next_cursor)


async def get_animal(ctx: PluginContext, principal: Principal, animal_id: str) -> schemas.Animal:
    animal = await tenancy.get(Animal.all(), animal_id, principal)
    return (await animals_out(ctx, [animal]))[0]


async def update_animal(
    ctx: PluginContext, principal: Principal, animal_id: str, data: schemas.AnimalUpdate
) -> schemas.Animal:
    animal = await tenancy.get(Animal.all(), animal_id, principal, write=True)
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    if changes:
        animal.update_from_dict({**changes, "updated_at": ctx.clock.now()})
        await animal.save()
        if changes.get("status", AnimalStatus.ACTIVE) is not AnimalStatus.ACTIVE:
            await resolve_all(ctx, animal, "The animal left the herd.")
    return (await animals_out(ctx, [animal]))[0]


async def delete_animal(ctx: PluginContext, principal: Principal, animal_id: str) -> None:
    """Delete a record made by mistake (an animal that leaves the herd is culled or sold).
    Its devices must be revoked first: a device never reports for nothing."""
    animal = await tenancy.get(Animal.all(), animal_id, principal, write=True)
    bound = await Device.filter(
        subject_kind=SUBJECT, subject_id=str(animal.id), revoked_at__isnull=True
    ).count()
    if bound:
        raise Conflict(
            f"{bound} device(s) are still bound to this animal; revoke them first "
            "(DELETE /api/v1/devices/{id})."
        )
    await resolve_all(ctx, animal, "The animal was deleted.")
    event_ids = await ReproductiveEvent.filter(animal_id=animal.id).values_list("id", flat=True)
    now = ctx.clock.now()
    async with in_transaction():
        await animal.delete()
        organization_id = str(animal.organization_id)
        await record_deletion(PLUGIN, ANIMALS, str(animal.id), now, organization_id=organization_id)
        for event_id in event_ids:
            await record_deletion(
                PLUGIN, EVENTS, str(event_id), now, organization_id=organization_id
            )


async def resolve_all(ctx: PluginContext, animal: Animal, note: str) -> None:
    for kind in ("estrus", "calving", "health"):
        await ctx.alerts.resolve(
            organization_id=str(animal.organization_id),
            type=kind,
            subject=subject(animal),
            note=note,
        )


async def find_animal(ctx: PluginContext, organization_id: str, subject_id: str) -> str | None:
    """The subject resolver of ``livestock.animal``: the label of the organization's animal."""
    key = tenancy.parse_id(subject_id)
    if key is None:
        return None
    animal = await Animal.get_or_none(id=key, organization_id=organization_id)
    return label(animal) if animal else None


async def mark_monitored(animal_id: str, since: datetime) -> None:
    """The animal's collar reported: its learning period counts from its first reading."""
    key = tenancy.parse_id(animal_id)
    if key is None:
        return
    await Animal.filter(
        Q(monitoring_since__isnull=True) | Q(monitoring_since__gt=since), id=key
    ).update(monitoring_since=since)


# Events


def event_out(event: ReproductiveEvent) -> schemas.Event:
    return schemas.Event(
        id=str(event.id),
        organization_id=str(event.organization_id),
        animal_id=str(event.animal_id),
        kind=event.kind,
        at=event.at,
        sire=event.sire,
        pregnant=event.pregnant,
        note=event.note,
        recorded_by=str(event.recorded_by_id) if event.recorded_by_id else None,
        created_at=event.created_at,
        updated_at=event.updated_at,
    )


def _check_event(
    animal: Animal, kind: EventKind, at: datetime, sire: str, pregnant: bool | None, now: datetime
) -> None:
    if at.tzinfo is None:
        raise Invalid.field("/at", "give the time with its UTC offset")
    if at - now > MAX_FUTURE:
        raise Invalid.field("/at", "an event cannot be in the future")
    if animal.birth_date is not None and at.date() < animal.birth_date:
        raise Invalid.field("/at", "before the animal was born")
    if animal.sex is Sex.MALE and kind is not EventKind.CULL:
        raise Invalid.field("/kind", f"a male animal has no {kind.value} events")
    if kind is EventKind.PREGNANCY_CHECK and pregnant is None:
        raise Invalid.field("/pregnant", "a pregnancy check needs its result: true or false")
    if kind is not EventKind.PREGNANCY_CHECK and pregnant is not None:
        raise Invalid.field("/pregnant", "only a pregnancy check has a result")
    if sire and kind is not EventKind.INSEMINATION:
        raise Invalid.field("/sire", "only an insemination has a sire")


async def list_events(
    principal: Principal, animal_id: str, cursor: str | None, limit: int
) -> schemas.EventList:
    """The animal's events, latest ``at`` first (the order in which they happened, not the
    order in which they were typed in)."""
    animal = await tenancy.get(Animal.all(), animal_id, principal)
    queryset = ReproductiveEvent.filter(animal_id=animal.id)
    if cursor:
        values = decode_cursor(cursor)
        try:
            at, last_id = datetime.fromisoformat(values[0]), uuid.UUID(values[1])
        except (IndexError, ValueError):
            raise Invalid.parameter("cursor", "not a cursor this service issued") from None
        queryset = queryset.filter(Q(at__lt=at) | Q(at=at, id__lt=last_id))
    rows = await queryset.order_by("-at", "-id").limit(limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].at.isoformat(), rows[-1].id)
    return schemas.EventList([event_out(e) for e in rows], next_cursor)


async def create_event(
    ctx: PluginContext, principal: Principal, animal_id: str, data: schemas.EventCreate
) -> schemas.Event:
    animal = await tenancy.get(Animal.all(), animal_id, principal, write=True)
    _check_event(animal, data.kind, data.at, data.sire, data.pregnant, ctx.clock.now())
    event = await record_event(
        ctx,
        animal,
        data.kind,
        data.at,
        sire=data.sire,
        pregnant=data.pregnant,
        note=data.note,
        user_id=principal.user_id,
    )
    return event_out(event)


async def record_event(
    ctx: PluginContext,
    animal: Animal,
    kind: EventKind,
    at: datetime,
    *,
    sire: str = "",
    pregnant: bool | None = None,
    note: str = "",
    user_id: str | None = None,
) -> ReproductiveEvent:
    """Store an event (already checked) and settle what it answers."""
    now = ctx.clock.now()
    async with in_transaction():
        event = await ReproductiveEvent.create(
            organization_id=animal.organization_id,
            animal=animal,
            kind=kind,
            at=at,
            sire=sire,
            pregnant=pregnant,
            note=note,
            recorded_by_id=user_id,
            created_at=now,
            updated_at=now,
        )
        changed: dict[str, Any] = {"updated_at": now}
        if kind is EventKind.CULL:
            changed["status"] = AnimalStatus.CULLED
        await Animal.filter(id=animal.id).update(**changed)
    await _after_event(ctx, animal, kind, pregnant)
    return event


async def _after_event(
    ctx: PluginContext, animal: Animal, kind: EventKind, pregnant: bool | None
) -> None:
    """What a record settles: an insemination (or a confirmed pregnancy) answers the estrus
    alert, a calving the calving alert, a cull everything."""
    organization_id = str(animal.organization_id)
    if kind is EventKind.INSEMINATION or (kind is EventKind.PREGNANCY_CHECK and pregnant):
        await ctx.alerts.resolve(
            organization_id=organization_id,
            type="estrus",
            subject=subject(animal),
            note="Inseminated." if kind is EventKind.INSEMINATION else "Pregnant.",
        )
    elif kind is EventKind.CALVING:
        await ctx.alerts.resolve(
            organization_id=organization_id, type="calving", subject=subject(animal), note="Calved."
        )
    elif kind is EventKind.CULL:
        await resolve_all(ctx, animal, "Culled.")


async def get_event(principal: Principal, event_id: str) -> schemas.Event:
    return event_out(await tenancy.get(ReproductiveEvent.all(), event_id, principal))


async def update_event(
    ctx: PluginContext, principal: Principal, event_id: str, data: schemas.EventUpdate
) -> schemas.Event:
    event = await tenancy.get(ReproductiveEvent.all(), event_id, principal, write=True)
    animal = await Animal.get(id=event.animal_id)
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    now = ctx.clock.now()
    _check_event(
        animal,
        EventKind(event.kind),
        changes.get("at", event.at),
        changes.get("sire", event.sire),
        changes.get("pregnant", event.pregnant),
        now,
    )
    if changes:
        async with in_transaction():
            event.update_from_dict({**changes, "updated_at": now})
            await event.save()
            await Animal.filter(id=animal.id).update(updated_at=now)
    return event_out(event)


async def delete_event(ctx: PluginContext, principal: Principal, event_id: str) -> None:
    event = await tenancy.get(ReproductiveEvent.all(), event_id, principal, write=True)
    now = ctx.clock.now()
    async with in_transaction():
        await event.delete()
        await Animal.filter(id=event.animal_id).update(updated_at=now)
        await record_deletion(
            PLUGIN, EVENTS, str(event.id), now, organization_id=str(event.organization_id)
        )


# Heats


def insemination_window(settings: LivestockSettings, onset: datetime) -> tuple[datetime, datetime]:
    return (
        onset + timedelta(hours=settings.insemination_window_start_hours),
        onset + timedelta(hours=settings.insemination_window_end_hours),
    )


def heat_out(settings: LivestockSettings, heat: Heat, animal: Animal) -> schemas.HeatOut:
    start, end = insemination_window(settings, heat.onset)
    return schemas.HeatOut(
        id=str(heat.id),
        organization_id=str(heat.organization_id),
        animal_id=str(heat.animal_id),
        animal=label(animal),
        onset=heat.onset,
        detected_at=heat.detected_at,
        inseminate_from=start,
        inseminate_until=end,
        probability=round(heat.probability, 3),
        model_version=heat.model_version,
        alert_id=str(heat.alert_id) if heat.alert_id else None,
    )


async def list_heats(
    ctx: PluginContext,
    principal: Principal,
    cursor: str | None,
    limit: int,
    *,
    since: datetime | None = None,
    animal_id: str | None = None,
) -> schemas.HeatList:
    queryset = tenancy.scope(Heat.all(), principal)
    if since is not None:
        queryset = queryset.filter(detected_at__gte=since)
    if animal_id is not None:
        queryset = queryset.filter(animal_id=tenancy.parse_id(animal_id) or uuid.uuid4())
    rows, next_cursor = await page(
        queryset.prefetch_related("animal"), cursor, limit, newest_first=True
    )
    settings = settings_of(ctx)
    return schemas.HeatList([heat_out(settings, h, h.animal) for h in rows], next_cursor)


async def heats_since(principal: Principal, since: datetime) -> list[Heat]:
    return (
        await tenancy.scope(Heat.filter(detected_at__gte=since), principal)
        .select_related("animal")
        .order_by("-detected_at")
    )


# Sensor history


@dataclass
class History:
    """Hourly series of many animals: ``[animals, hours]`` each, NaN where nothing came.
    Column 0 is the hour starting at ``start``."""

    start: datetime
    activity: np.ndarray
    rumination: np.ndarray
    temperature: np.ndarray

    @property
    def hours(self) -> int:
        return int(self.activity.shape[1])


def _sqlite_hourly() -> str:
    """Per device (driven by a JSON array of ids), the hours and values of each metric as
    JSON arrays: correlated subqueries that each read one stretch of the
    ``(device_id, metric, ts)`` index, no sorting, a few rows to decode in Python."""
    hour = "CAST(strftime('%s', r.ts) AS INTEGER) / 3600"
    arrays = [
        f"(SELECT json_group_array({what}) FROM core_reading r WHERE r.device_id = wanted.id "  # noqa: S608
        f"AND r.metric = '{metric}' AND r.ts >= ?2 AND r.ts < ?3)"
        for metric in METRICS
        for what in (hour, "r.value")
    ]
    return (
        "WITH wanted(id, i) AS (SELECT value, key FROM json_each(?1)) "  # noqa: S608
        f"SELECT wanted.i, {', '.join(arrays)} FROM wanted"
    )


_SQLITE_HOURLY = _sqlite_hourly()
_POSTGRES_HOURLY = """
SELECT wanted.i - 1, agg.metric, agg.hours, agg.vals
FROM unnest($1::uuid[]) WITH ORDINALITY AS wanted(id, i)
CROSS JOIN LATERAL (
    SELECT CASE r.metric WHEN 'activity' THEN 0 WHEN 'rumination' THEN 1 ELSE 2 END AS metric,
           array_agg(floor(extract(epoch FROM r.ts) / 3600)::bigint) AS hours,
           array_agg(r.value) AS vals
    FROM core_reading r
    WHERE r.device_id = wanted.id AND r.ts >= $2 AND r.ts < $3
      AND r.metric IN ('activity', 'rumination', 'temperature')
    GROUP BY r.metric
) agg
"""
"""Per device, by index (a lateral subquery, so the planner never hashes the whole table):
the hours and values of each metric as arrays."""
_numbers = msgspec.json.Decoder(list[float])


async def _hourly_rows(
    device_ids: Sequence[uuid.UUID], start: datetime, end: datetime
) -> np.ndarray:
    """``[readings, 4]``: device position, metric (0 activity, 1 rumination, 2 temperature),
    hour since the epoch, value."""
    client = Reading._meta.db
    devices: list[np.ndarray] = []
    metrics: list[np.ndarray] = []
    hours: list[np.ndarray] = []
    values: list[np.ndarray] = []

    def add(position: int, metric: int, at: Sequence[float], value: Sequence[float]) -> None:
        if len(at):
            hours.append(np.asarray(at, dtype=np.float64))
            values.append(np.asarray(value, dtype=np.float64))
            devices.append(np.full(len(at), position, dtype=np.float64))
            metrics.append(np.full(len(at), metric, dtype=np.float64))

    for first in range(0, len(device_ids), DEVICES_PER_QUERY):
        chunk = device_ids[first : first + DEVICES_PER_QUERY]
        async with client.acquire_connection() as connection:
            if client.capabilities.dialect == "sqlite":
                cursor = await connection.execute(
                    _SQLITE_HOURLY, (json.dumps([str(d) for d in chunk]), start, end)
                )
                rows = await cursor.fetchall()
                for row in rows:
                    for metric in range(len(METRICS)):
                        add(
                            first + row[0],
                            metric,
                            _numbers.decode(row[1 + 2 * metric]),
                            _numbers.decode(row[2 + 2 * metric]),
                        )
            else:
                for position, metric, at, value in await connection.fetch(
                    _POSTGRES_HOURLY, list(chunk), start, end
                ):
                    add(first + position, metric, at, value)
    if not hours:
        return np.empty((0, 4))
    return np.column_stack(
        [
            np.concatenate(devices),
            np.concatenate(metrics),
            np.concatenate(hours),
            np.concatenate(values),
        ]
    )


async def history(
    devices: Sequence[tuple[uuid.UUID, int]], animals: int, start: datetime, hours: int
) -> History:
    """The hourly history of ``animals`` animals from ``start`` (a whole hour) for ``hours``
    hours, from ``devices``: ``(device id, animal position)``."""
    assert start.minute == 0 and start.second == 0 and start.microsecond == 0
    rows = await _hourly_rows([d for d, _ in devices], start, start + timedelta(hours=hours))
    size = 3 * animals * hours
    sums = np.zeros(size)
    counts = np.zeros(size)
    if rows.size:
        owner = np.array([a for _, a in devices], dtype=np.intp)
        column = rows[:, 2].astype(np.int64) - int(start.timestamp()) // 3600
        inside = (column >= 0) & (column < hours)
        rows, column = rows[inside], column[inside]
        cell = (rows[:, 1].astype(np.intp) * animals + owner[rows[:, 0].astype(np.intp)]) * hours
        cell += column
        # Devices that report more than hourly: the hour's mean.
        sums = np.bincount(cell, weights=rows[:, 3], minlength=size)
        counts = np.bincount(cell, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        series = np.where(counts > 0, sums / counts, np.nan).reshape(3, animals, hours)
    return History(start, series[0], series[1], series[2])


async def animal_series(
    ctx: PluginContext, principal: Principal, animal_id: str, start: datetime, end: datetime
) -> schemas.Series:
    """The animal's hours in ``[start, end)`` (whole hours) with the baseline band of each."""
    animal = await tenancy.get(Animal.all(), animal_id, principal)
    lookback = int(-BASELINE_OFFSETS.min())
    first = start - timedelta(hours=lookback)
    hours = int((end - first) / timedelta(hours=1))
    devices = await Device.filter(
        subject_kind=SUBJECT, subject_id=str(animal.id), kind__in=[COLLAR, THERMO]
    ).values_list("id", flat=True)
    data = await history([(d, 0) for d in devices], 1, first, hours)
    columns = np.arange(lookback, hours)
    out: list[schemas.SeriesHour] = []
    bands = {}
    for name in METRICS:
        values = getattr(data, name)[0]
        window = values[columns[:, None] + BASELINE_OFFSETS[None, :]]
        present = (~np.isnan(window)).sum(axis=1) > 0
        low, mid, high = np.full((3, columns.size), np.nan)
        if present.any():
            low[present], mid[present], high[present] = np.nanpercentile(
                window[present], [10, 50, 90], axis=1
            )
        bands[name] = (values[columns], mid, low, high)

    def number(value: float) -> float | None:
        return None if np.isnan(value) else round(float(value), 3)

    for i, column in enumerate(columns):
        row: dict[str, Any] = {"ts": first + timedelta(hours=int(column))}
        for name, (values, mid, low, high) in bands.items():
            row[name] = number(values[i])
            row[f"{name}_baseline"] = number(mid[i])
            row[f"{name}_low"] = number(low[i])
            row[f"{name}_high"] = number(high[i])
        out.append(schemas.SeriesHour(**row))
    return schemas.Series(str(animal.id), start, end, out)


# What the scoring job reads and writes


@dataclass
class ScoringInputs:
    animals: list[Animal]
    devices: list[tuple[uuid.UUID, int]]
    """(device id, position of its animal in ``animals``)."""
    collared: set[int]
    thermometers: set[int]
    facts: dict[str, list[herd.EventFact]]
    heats: dict[str, list[datetime]]
    open_alerts: dict[tuple[str, str], Alert] = field(default_factory=dict)
    """Open or acknowledged alerts by (type, animal id)."""


async def scoring_inputs(organization_ids: Sequence[str] | None, now: datetime) -> ScoringInputs:
    """Every active animal with a collar or a thermometer (of these organizations), with
    its records: a handful of queries whatever the size of the herds."""
    devices = Device.filter(
        kind__in=[COLLAR, THERMO], subject_kind=SUBJECT, revoked_at__isnull=True
    )
    animals = Animal.filter(status=AnimalStatus.ACTIVE)
    events = ReproductiveEvent.filter(animal__status=AnimalStatus.ACTIVE)
    heats = Heat.filter(onset__gte=now - HEAT_MEMORY)
    alerts = Alert.filter(plugin=PLUGIN, status__in=OPEN)
    if organization_ids is not None:
        orgs = [tenancy.parse_id(o) or uuid.uuid4() for o in organization_ids]
        devices = devices.filter(organization_id__in=orgs)
        animals = animals.filter(organization_id__in=orgs)
        events = events.filter(organization_id__in=orgs)
        heats = heats.filter(organization_id__in=orgs)
        alerts = alerts.filter(organization_id__in=orgs)
    device_rows = await devices.values_list("id", "kind", "subject_id")
    with_devices = {str(s) for _, _, s in device_rows}
    found = [
        a
        for a in await animals.order_by("organization_id", "group", "id")
        if str(a.id) in with_devices
    ]
    position = {str(a.id): i for i, a in enumerate(found)}
    inputs = ScoringInputs(found, [], set(), set(), {}, {})
    for device_id, kind, subject_id in device_rows:
        at = position.get(str(subject_id))
        if at is None:
            continue
        inputs.devices.append((device_id, at))
        (inputs.collared if kind == COLLAR else inputs.thermometers).add(at)
    for animal_id, kind, at, pregnant in await events.values_list(
        "animal_id", "kind", "at", "pregnant"
    ):
        inputs.facts.setdefault(str(animal_id), []).append(
            herd.EventFact(EventKind(kind), at, pregnant)
        )
    wrong = await false_alarm_ids(now - HEAT_MEMORY)
    for animal_id, onset, alert_id in await heats.values_list("animal_id", "onset", "alert_id"):
        if alert_id is None or str(alert_id) not in wrong:
            inputs.heats.setdefault(str(animal_id), []).append(onset)
    for alert in await alerts:
        inputs.open_alerts[(alert.type, alert.subject_id)] = alert
    return inputs


async def record_heat(
    animal: Animal,
    onset: datetime,
    detected_at: datetime,
    probability: float,
    model_version: str,
    alert_id: str,
) -> Heat:
    return await Heat.create(
        organization_id=animal.organization_id,
        animal=animal,
        onset=onset,
        detected_at=detected_at,
        probability=probability,
        model_version=model_version,
        alert_id=alert_id,
        created_at=detected_at,
    )


# Breeding calendar, herd overview, performance


async def _visible_animals(
    principal: Principal, organization_id: str | None, active: bool = True
) -> list[Animal]:
    queryset = tenancy.scope(Animal.all(), principal)
    if organization_id is not None:
        queryset = queryset.filter(
            organization_id=tenancy.parse_id(organization_id) or uuid.uuid4()
        )
    if active:
        queryset = queryset.filter(status=AnimalStatus.ACTIVE, sex=Sex.FEMALE)
    return await queryset.order_by("ear_tag")


async def calendar(
    ctx: PluginContext,
    principal: Principal,
    start: date,
    end: date,
    organization_id: str | None,
) -> schemas.Calendar:
    settings = settings_of(ctx)
    animals = await _visible_animals(principal, organization_id)
    states = await states_of(ctx, animals, ctx.clock.now())
    items = []
    for animal in animals:
        for entry in herd.calendar(states[str(animal.id)], settings, ctx.city_zone):
            last = entry.until or entry.day
            if last >= start and entry.day <= end:
                items.append(
                    schemas.CalendarItem(
                        day=entry.day,
                        kind=entry.kind,
                        until=entry.until,
                        organization_id=str(animal.organization_id),
                        animal=schemas.CalendarAnimal(str(animal.id), animal.ear_tag, animal.name),
                    )
                )
    items.sort(key=lambda i: (i.day, i.kind, i.animal.ear_tag))
    return schemas.Calendar(start, end, items)


async def calendar_items(
    ctx: PluginContext, animals: Sequence[Animal], now: datetime
) -> list[tuple[Animal, herd.CalendarEntry]]:
    states = await states_of(ctx, animals, now)
    settings = settings_of(ctx)
    return [
        (a, e) for a in animals for e in herd.calendar(states[str(a.id)], settings, ctx.city_zone)
    ]


async def _organizations(principal: Principal, organization_id: str | None) -> list[Organization]:
    """The caller's organizations that keep livestock: farms and co-ops, and any other with
    animals on record."""
    queryset = tenancy.scope(Organization.all(), principal, field=None)
    if organization_id is not None:
        queryset = queryset.filter(id=tenancy.parse_id(organization_id) or uuid.uuid4())
    keeping = Animal.all().distinct().values_list("organization_id", flat=True)
    queryset = queryset.filter(
        Q(kind__in=[OrganizationKind.FARM, OrganizationKind.COOP]) | Q(id__in=Subquery(keeping))
    )
    return await queryset.order_by("name")


async def herd_overview(
    ctx: PluginContext,
    principal: Principal | None,
    organization_id: str | None,
    *,
    now: datetime | None = None,
) -> schemas.Overview:
    """Per farm: the herd by state and housing, monitoring, today's heats, calvings due
    within 7 days and open alerts. ``principal`` None: every farm with animals (the daily
    job)."""
    settings = settings_of(ctx)
    now = now or ctx.clock.now()
    today = ctx.local_day(now)
    if principal is None:
        organizations = await Organization.all().order_by("name")
    else:
        organizations = await _organizations(principal, organization_id)
    org_ids = [o.id for o in organizations]
    animals = await Animal.filter(organization_id__in=org_ids, status=AnimalStatus.ACTIVE)
    states = await states_of(ctx, [a for a in animals if a.sex is Sex.FEMALE], now)
    collared = set(
        await Device.filter(
            kind=COLLAR, subject_kind=SUBJECT, revoked_at__isnull=True, organization_id__in=org_ids
        ).values_list("subject_id", flat=True)
    )
    heats = Counter(
        str(o)
        for o in await Heat.filter(
            organization_id__in=org_ids, detected_at__gte=ctx.day_start(today)
        ).values_list("organization_id", flat=True)
    )
    alerts: dict[str, Counter[str]] = defaultdict(Counter)
    for org, kind in await Alert.filter(
        plugin=PLUGIN, status__in=OPEN, organization_id__in=org_ids
    ).values_list("organization_id", "type"):
        alerts[str(org)][kind] += 1
    out = []
    for organization in organizations:
        mine = [a for a in animals if a.organization_id == organization.id]
        if not mine and principal is None:
            continue
        by_state: Counter[str] = Counter()
        due = learning = monitored = 0
        for animal in mine:
            state = states.get(str(animal.id))
            by_state[state.state.value if state else "male"] += 1
            if state and state.expected_calving and 0 <= (state.expected_calving - today).days <= 7:
                due += 1
            if str(animal.id) in collared:
                monitored += 1
                since = animal.monitoring_since
                if since is None or now - since < timedelta(days=settings.learning_days):
                    learning += 1
        out.append(
            schemas.HerdOverview(
                organization_id=str(organization.id),
                organization=organization.name,
                animals=len(mine),
                by_state=dict(sorted(by_state.items())),
                by_housing=dict(sorted(Counter(a.housing.value for a in mine).items())),
                monitored=monitored,
                learning=learning,
                heats_today=heats[str(organization.id)],
                calvings_due_7_days=due,
                open_alerts=dict(sorted(alerts[str(organization.id)].items())),
            )
        )
    return schemas.Overview(today, out)


def _rate(alerts: int, confirmed: int, false_alarms: int, missed: int) -> schemas.Rate:
    return schemas.Rate(
        alerts=alerts,
        confirmed=confirmed,
        false_alarms=false_alarms,
        unrated=alerts - confirmed - false_alarms,
        missed=missed,
        sensitivity=round(confirmed / (confirmed + missed), 4) if confirmed + missed else None,
        ppv=round(confirmed / (confirmed + false_alarms), 4) if confirmed + false_alarms else None,
    )


async def performance(
    ctx: PluginContext, principal: Principal, start: datetime, end: datetime
) -> schemas.Performance:
    """What each farm actually got, from feedback and records.

    An estrus alert counts as confirmed when the farm said so, or when an insemination or an
    observed heat of that animal was recorded from 24 h before to 48 h after it; as a false
    alarm when the farm said so. A heat on record (observed or inseminated) of a collared
    animal past its learning period with no estrus alert from 48 h before to 24 h after is
    missed; records within 48 h of each other are one heat. A calving alert is confirmed by
    feedback or a calving within 72 h after it, a false alarm by feedback or when 72 h passed
    without one; a calving of an animal wearing a thermometer with no calving alert in the
    72 h before is missed.
    """
    settings = settings_of(ctx)
    organizations = await _organizations(principal, None)
    org_ids = [o.id for o in organizations]
    alerts = await Alert.filter(
        plugin=PLUGIN,
        type__in=["estrus", "calving"],
        organization_id__in=org_ids,
        first_seen__gte=start,
        first_seen__lt=end,
    ).values_list("organization_id", "type", "subject_id", "first_seen", "feedback")
    margin = timedelta(days=4)
    events = await ReproductiveEvent.filter(
        organization_id__in=org_ids,
        at__gte=start - margin,
        at__lt=end + margin,
        kind__in=[EventKind.HEAT, EventKind.INSEMINATION, EventKind.CALVING],
    ).values_list("organization_id", "animal_id", "kind", "at")
    records: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for _org, animal_id, kind, at in events:
        key = "calving" if kind == EventKind.CALVING else "estrus"
        records[(key, str(animal_id))].append(at)
    raised: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    now = ctx.clock.now()
    for org, kind, animal_id, first_seen, feedback in alerts:
        raised[(kind, animal_id)].append(first_seen)
        tally = counts[(str(org), kind)]
        tally[0] += 1
        seen = records.get((kind, animal_id), [])
        if kind == "estrus":
            matched = any(
                first_seen - timedelta(hours=24) <= at <= first_seen + timedelta(hours=48)
                for at in seen
            )
            late = False
        else:
            matched = any(first_seen <= at <= first_seen + timedelta(hours=72) for at in seen)
            late = now - first_seen > timedelta(hours=72)
        if feedback == Verdict.CONFIRMED or (feedback is None and matched):
            tally[1] += 1
        elif feedback == Verdict.FALSE_ALARM or (feedback is None and late):
            tally[2] += 1
    animals = {
        str(a.id): a
        for a in await Animal.filter(
            id__in=list({str(animal_id) for _o, animal_id, _k, _a in events})
        )
    }
    thermometers = defaultdict(list)
    for subject_id, created in await Device.filter(
        kind=THERMO, subject_kind=SUBJECT, organization_id__in=org_ids
    ).values_list("subject_id", "created_at"):
        thermometers[str(subject_id)].append(created)
    learning = timedelta(days=settings.learning_days)
    one_heat = timedelta(hours=48)
    for (kind, animal_id), moments in records.items():
        animal = animals.get(animal_id)
        if animal is None:
            continue
        # Records within 48 h of each other are one heat (a heat seen, then inseminated).
        clusters: list[list[datetime]] = []
        for at in sorted(moments):
            if clusters and at - clusters[-1][-1] < one_heat:
                clusters[-1].append(at)
            else:
                clusters.append([at])
        alerted = raised.get((kind, animal_id), [])
        for cluster in clusters:
            first, last = cluster[0], cluster[-1]
            if not start <= first < end:
                continue
            if kind == "estrus":
                since = animal.monitoring_since
                if since is None or first - since < learning:
                    continue
                hit = any(first - one_heat <= a <= last + timedelta(hours=24) for a in alerted)
            else:
                if not any(c <= first - timedelta(days=1) for c in thermometers.get(animal_id, [])):
                    continue
                hit = any(first - timedelta(hours=72) <= a <= first for a in alerted)
            if not hit:
                counts[(str(animal.organization_id), kind)][3] += 1
    return schemas.Performance(
        start,
        end,
        [
            schemas.FarmPerformance(
                organization_id=str(o.id),
                organization=o.name,
                estrus=_rate(*counts[(str(o.id), "estrus")]),
                calving=_rate(*counts[(str(o.id), "calving")]),
            )
            for o in organizations
        ],
    )


# Feed and sync


async def due_calvings(
    ctx: PluginContext, principal: Principal, today: date, days: int
) -> list[tuple[Animal, date]]:
    settings = settings_of(ctx)
    # Only a cow inseminated about one gestation ago can be due (a day of slack each side
    # for the time zone): the home screen asks on every opening, and the whole herd's
    # records are what costs.
    gestation = timedelta(days=settings.gestation_days)
    inseminated = ReproductiveEvent.filter(
        kind=EventKind.INSEMINATION,
        at__gte=datetime.combine(today - timedelta(days=2), time(), UTC) - gestation,
        at__lt=datetime.combine(today + timedelta(days=days + 2), time(), UTC) - gestation,
    ).values("animal_id")
    animals = await (
        tenancy.scope(Animal.filter(id__in=Subquery(inseminated)), principal)
        .filter(status=AnimalStatus.ACTIVE, sex=Sex.FEMALE)
        .order_by("ear_tag")
    )
    states = await states_of(ctx, animals, ctx.clock.now())
    due = []
    for animal in animals:
        expected = states[str(animal.id)].expected_calving
        if expected is not None and -1 <= (expected - today).days <= days:
            due.append((animal, expected))
    return sorted(due, key=lambda item: item[1])


async def animal_changes(
    ctx: PluginContext, principal: Principal, since: datetime | None
) -> tuple[list[dict[str, Any]], list[str]]:
    visible = tenancy.scope(Animal.all(), principal)
    if since is not None:
        visible = visible.filter(updated_at__gte=since)
    rows = await visible.order_by("updated_at", "id")
    upserted = [
        msgspec.to_builtins(a, builtin_types=(datetime, date)) for a in await animals_out(ctx, rows)
    ]
    return upserted, await _deleted(principal, ANIMALS, since)


async def event_changes(
    principal: Principal, since: datetime | None
) -> tuple[list[dict[str, Any]], list[str]]:
    visible = tenancy.scope(ReproductiveEvent.all(), principal)
    if since is not None:
        visible = visible.filter(updated_at__gte=since)
    rows = await visible.order_by("updated_at", "id")
    upserted = [msgspec.to_builtins(event_out(e), builtin_types=(datetime, date)) for e in rows]
    return upserted, await _deleted(principal, EVENTS, since)


async def _deleted(principal: Principal, collection: str, since: datetime | None) -> list[str]:
    if since is None:
        return []  # a phone starting over has nothing to drop
    gone = Tombstone.filter(plugin=PLUGIN, collection=collection, deleted_at__gte=since)
    if not principal.is_admin:
        organizations = tenancy.scope(Organization.all(), principal, field=None)
        gone = gone.filter(organization_id__in=await organizations.values_list("id", flat=True))
    return [str(i) for i in await gone.order_by("deleted_at").values_list("object_id", flat=True)]


# The demo city


async def demo_animal(
    organization: Organization,
    ear_tag: str,
    defaults: dict[str, Any],
    records: Sequence[tuple[EventKind, datetime, dict[str, Any]]],
    recorded_by: str,
) -> Animal:
    """The demo's animal with this ear tag; made with its records the first time."""
    animal, created = await Animal.get_or_create(
        organization=organization, ear_tag=ear_tag, defaults=defaults
    )
    if created:
        for kind, at, extra in records:
            await ReproductiveEvent.create(
                organization=organization,
                animal=animal,
                kind=kind,
                at=at,
                recorded_by_id=recorded_by,
                created_at=at,
                updated_at=at,
                **extra,
            )
    return animal


# Daily jobs


async def farms_with_animals() -> list[Organization]:
    org_ids = (
        await Animal.filter(status=AnimalStatus.ACTIVE)
        .distinct()
        .values_list("organization_id", flat=True)
    )
    return await Organization.filter(id__in=list(org_ids)).order_by("name")


async def save_summary(organization_id: str, day: date, data: dict[str, Any]) -> bool:
    """Store the day's summary; False when it was stored already (a repeated run)."""
    _summary, created = await HerdSummary.get_or_create(
        organization_id=organization_id, day=day, defaults={"data": data}
    )
    return bool(created)


async def active_animals_of(organization_id: str) -> list[Animal]:
    return await Animal.filter(
        organization_id=organization_id, status=AnimalStatus.ACTIVE, sex=Sex.FEMALE
    ).order_by("ear_tag")


async def claim_reminders(
    items: Sequence[tuple[Animal, str, date]],
) -> list[tuple[Animal, str, date]]:
    """Record reminders; return those not sent before."""
    fresh = []
    for animal, kind, due in items:
        _reminder, created = await Reminder.get_or_create(
            animal=animal, kind=kind, due=due, defaults={"organization_id": animal.organization_id}
        )
        if created:
            fresh.append((animal, kind, due))
    return fresh


async def members_of(organization_id: str) -> list[str]:
    return await organization_members(organization_id)


async def heat_counts(start: datetime, end: datetime) -> dict[str, int]:
    """Heats the collars found in ``[start, end)``, per organization."""
    rows = await Heat.filter(detected_at__gte=start, detected_at__lt=end).values_list(
        "organization_id", flat=True
    )
    return dict(Counter(str(r) for r in rows))


transaction = in_transaction
"""Jobs write their records and the notifications they cause in one transaction."""
