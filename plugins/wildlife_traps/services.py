"""Everything the wildlife trap plugin reads and writes (the only module that queries the ORM).

Rules (issue 7, DOMAIN.md "Wildlife traps"):

- A trigger of a set trap that holds for ``debounce_s`` springs it: a critical ``sprung``
  alert to the owner at once, then to each backup responder in order while nobody
  acknowledges it (core's escalation, every ``escalate_after_min``). A trigger that returns
  to rest sooner is kept as a ``bounce`` event and alerts nobody. Repeated triggers of a
  sprung trap update its open alert.
- The capture-likelihood model labels the alert ("likely capture, 87 %") and its version is
  stored with it; it never decides whether the alert is raised.
- A trap sprung for ``welfare_after_h`` with no capture or reset recorded raises a critical
  ``welfare`` alert to the owner and every backup at once.
- A sensor's battery below ``battery_low_v`` raises a warning with an estimate of the days
  left. A silent sensor is core's ``offline`` alert (liveness), which tells to check in
  person.
- A capture permit expiring within ``permit_warning_days`` or expired raises a warning; a
  trap cannot be armed on a permit that is not valid today.
"""

from __future__ import annotations

import csv
import io
import math
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from tortoise.expressions import Q
from tortoise.functions import Count, Max
from tortoise.transactions import in_transaction

from core import tenancy
from core.alerts.models import Alert, AlertStatus, Severity
from core.alerts.service import Subject
from core.errors import Conflict, Invalid, NotFound
from core.i18n import Text
from core.identity.access import Principal
from core.identity.models import Organization, Role, User
from core.media.services import media_url
from core.pagination import decode_cursor, encode_cursor, page
from core.plugin import PluginContext
from core.sync import Tombstone, record_deletion
from core.telemetry.devices import DeviceRef
from core.telemetry.ingest import NewReading
from core.telemetry.kinds import OFFLINE_FACTOR
from core.telemetry.models import Device, Reading
from models_ml.wildlife_traps.features import TriggerFeatures
from plugins.wildlife_traps import daily, schemas
from plugins.wildlife_traps.daily import DayStatus, StateChange, TrapHistory
from plugins.wildlife_traps.i18n import _
from plugins.wildlife_traps.models import (
    Capture,
    Disposal,
    EventKind,
    Inspection,
    Outcome,
    Reminder,
    SensorState,
    Trap,
    TrapEvent,
    TrapState,
)

PLUGIN = "wildlife_traps"
TRAP_SUBJECT = "wildlife_traps.trap"
SENSOR_KIND = "wildlife_traps.sensor"
PREDICTOR = "wildlife_traps.capture_likelihood"
SENSOR_INTERVAL = timedelta(hours=1)
"""Trap units report hourly (ほかパト, みまわり楽太郎: DOMAIN.md)."""
BATTERY_RECOVERY_V = 0.3
"""A low-battery alert is resolved once the voltage is this far above the threshold again
(new cells), so a voltage hovering at the threshold does not open and close it hourly."""
FUTURE_SLACK = timedelta(minutes=5)
RECENT_TRIGGERS = timedelta(days=7)
RECENT_BOUNCES = timedelta(hours=1)
ALERT_SPRUNG = "sprung"
ALERT_WELFARE = "welfare"
ALERT_BATTERY = "battery_low"
ALERT_PERMIT_EXPIRING = "permit_expiring"
ALERT_PERMIT_EXPIRED = "permit_expired"
CAPTURE_KIND = "wildlife_traps.capture"
INSPECTION_KIND = "wildlife_traps.inspection"


# small helpers


def local_time(ctx: PluginContext, moment: datetime, fmt: str = "%H:%M") -> str:
    return moment.astimezone(ctx.city_zone).strftime(fmt)


def trap_subject(trap: Trap) -> Subject:
    return Subject(TRAP_SUBJECT, str(trap.id), trap.name)


def photo_out(media_id: str) -> schemas.Photo:
    return schemas.Photo(media_id, media_url(media_id), media_url(media_id, thumbnail=True))


async def members_of(organization_id: Any) -> set[str]:
    ids = await User.filter(
        organizations__id=organization_id, is_active=True, role=Role.MEMBER
    ).values_list("id", flat=True)
    return {str(i) for i in ids}


# traps: out


def _sensor_status(device: Device, now: datetime) -> str:
    if device.revoked_at is not None:
        return "revoked"
    if device.last_seen is None:
        return "never_seen"
    return "offline" if now - device.last_seen > SENSOR_INTERVAL * OFFLINE_FACTOR else "online"


async def sensors_of(traps: Sequence[Trap], now: datetime) -> dict[str, list[schemas.Sensor]]:
    ids = [str(t.id) for t in traps]
    found: dict[str, list[schemas.Sensor]] = defaultdict(list)
    if not ids:
        return found
    devices = await Device.filter(
        kind=SENSOR_KIND, subject_kind=TRAP_SUBJECT, subject_id__in=ids
    ).order_by("created_at")
    states = {
        s.device_id: s for s in await SensorState.filter(device_id__in=[d.id for d in devices])
    }
    for device in devices:
        state = states.get(device.id)
        trigger = state.trigger if state is not None else None
        found[str(device.subject_id)].append(
            schemas.Sensor(
                id=str(device.id),
                name=device.name,
                status=_sensor_status(device, now),
                last_seen=device.last_seen,
                battery_v=state.battery_v if state is not None else None,
                trigger=None if trigger is None else int(trigger),
            )
        )
    return found


def trap_out(trap: Trap, sensors: list[schemas.Sensor], status: DayStatus | None) -> schemas.Trap:
    return schemas.Trap(
        id=str(trap.id),
        organization_id=str(trap.organization_id),
        name=trap.name,
        kind=trap.kind,
        latitude=trap.latitude,
        longitude=trap.longitude,
        target_species=list(trap.target_species),
        permit_number=trap.permit_number,
        permit_valid_from=trap.permit_valid_from,
        permit_valid_until=trap.permit_valid_until,
        owner_id=str(trap.owner_id),
        backup_ids=list(trap.backup_ids),
        state=trap.state,
        state_changed_at=trap.state_changed_at,
        sprung_at=trap.sprung_at,
        note=trap.note,
        sensors=sensors,
        today=status.value if status is not None else None,
        created_at=trap.created_at,
        updated_at=trap.updated_at,
    )


async def traps_out(ctx: PluginContext, traps: Sequence[Trap]) -> list[schemas.Trap]:
    now = ctx.clock.now()
    sensors = await sensors_of(traps, now)
    day = ctx.today()
    records = await records_for(ctx, traps, day, day, now)
    return [
        trap_out(
            t,
            sensors.get(str(t.id), []),
            next((s for d, s in records.get(str(t.id), []) if d == day), None),
        )
        for t in traps
    ]


async def one_trap_out(ctx: PluginContext, trap: Trap) -> schemas.Trap:
    return (await traps_out(ctx, [trap]))[0]


# traps: create, change, delete


async def _check_people(organization_id: Any, owner_id: str, backup_ids: Sequence[str]) -> None:
    members = await members_of(organization_id)
    if owner_id not in members:
        raise Invalid.field("/owner_id", _("not a member of the trap's organization"))
    seen = {owner_id}
    for index, backup in enumerate(backup_ids):
        if backup not in members:
            raise Invalid.field(
                f"/backup_ids/{index}", _("not a member of the trap's organization")
            )
        if backup in seen:
            raise Invalid.field(
                f"/backup_ids/{index}", _("the owner and each backup may appear only once")
            )
        seen.add(backup)


def _check_permit_dates(valid_from: date, valid_until: date) -> None:
    if valid_until < valid_from:
        raise Invalid.field("/permit_valid_until", _("the permit cannot end before it starts"))


def _check_can_arm(trap: Trap, day: date) -> None:
    if day > trap.permit_valid_until:
        raise Invalid.field(
            "/state",
            _(
                "the capture permit expired on {date}: a trap cannot be armed on it",
                date=trap.permit_valid_until.isoformat(),
            ),
        )
    if day < trap.permit_valid_from:
        raise Invalid.field(
            "/state",
            _(
                "the capture permit is valid only from {date}",
                date=trap.permit_valid_from.isoformat(),
            ),
        )


async def create_trap(
    ctx: PluginContext, principal: Principal, data: schemas.TrapCreate
) -> schemas.Trap:
    organization = await tenancy.referenced(
        Organization.all(), data.organization_id, principal, "/organization_id", field=None
    )
    owner_id = data.owner_id or (None if principal.is_admin else principal.user_id)
    if owner_id is None:
        raise Invalid.field("/owner_id", _("an admin names the trap's owner"))
    await _check_people(organization.id, owner_id, data.backup_ids)
    _check_permit_dates(data.permit_valid_from, data.permit_valid_until)
    if data.state not in (TrapState.ARMED, TrapState.DISARMED):
        raise Invalid.field("/state", _("a new trap is armed or disarmed"))
    now = ctx.clock.now()
    trap = Trap(
        id=uuid.uuid4(),
        organization=organization,
        name=data.name,
        kind=data.kind,
        latitude=data.latitude,
        longitude=data.longitude,
        target_species=[s.value for s in data.target_species],
        permit_number=data.permit_number,
        permit_valid_from=data.permit_valid_from,
        permit_valid_until=data.permit_valid_until,
        owner_id=owner_id,
        backup_ids=list(data.backup_ids),
        state=data.state,
        state_changed_at=now,
        note=data.note,
        created_at=now,
        updated_at=now,
    )
    if data.state is TrapState.ARMED:
        _check_can_arm(trap, ctx.today())
    async with in_transaction():
        await trap.save()
        await TrapEvent.create(
            organization_id=organization.id,
            trap=trap,
            kind=EventKind.CREATED,
            at=now,
            state_after=data.state,
            user_id=principal.user_id,
            created_at=now,
        )
    await check_permit(ctx, trap)
    return await one_trap_out(ctx, trap)


async def list_traps(
    ctx: PluginContext,
    principal: Principal,
    organization_id: str | None,
    state: TrapState | None,
    cursor: str | None,
    limit: int,
) -> schemas.TrapList:
    queryset = tenancy.scope(Trap.all(), principal)
    if organization_id is not None:
        queryset = queryset.filter(
            organization_id=tenancy.parse_id(organization_id) or uuid.uuid4()
        )
    if state is not None:
        queryset = queryset.filter(state=state)
    rows, next_cursor = await page(queryset, cursor, limit)
    return schemas.TrapList(await traps_out(ctx, rows), next_cursor)


async def get_trap(ctx: PluginContext, principal: Principal, trap_id: str) -> schemas.Trap:
    return await one_trap_out(ctx, await tenancy.get(Trap.all(), trap_id, principal))


async def update_trap(
    ctx: PluginContext, principal: Principal, trap_id: str, data: schemas.TrapUpdate
) -> schemas.Trap:
    trap = await tenancy.get(Trap.all(), trap_id, principal, write=True)
    changes = {
        name: getattr(data, name)
        for name in data.__struct_fields__
        if getattr(data, name) is not msgspec.UNSET
    }
    state = changes.pop("state", None)
    if "owner_id" in changes or "backup_ids" in changes:
        await _check_people(
            trap.organization_id,
            changes.get("owner_id", str(trap.owner_id)),
            changes.get("backup_ids", trap.backup_ids),
        )
    permit_changed = any(k.startswith("permit_") for k in changes)
    if "target_species" in changes:
        changes["target_species"] = [s.value for s in changes["target_species"]]
    for name, value in changes.items():
        setattr(trap, name, value)
    _check_permit_dates(trap.permit_valid_from, trap.permit_valid_until)
    if state is TrapState.SPRUNG and trap.state is not TrapState.SPRUNG:
        raise Invalid.field("/state", _("only its sensor springs a trap"))
    if state is TrapState.ARMED and trap.state is not TrapState.ARMED:
        _check_can_arm(trap, ctx.today())
    now = ctx.clock.now()
    trap.updated_at = now
    changes["updated_at"] = now
    if permit_changed:
        trap.permit_alert = changes["permit_alert"] = None
    async with in_transaction():
        # Only what the request changed: a trigger may be springing the trap meanwhile.
        await Trap.filter(id=trap.id).update(**changes)
        if state is not None and state is not trap.state:
            await _change_state(ctx, trap, state, principal.user_id, now)
    if permit_changed:
        for kind in (ALERT_PERMIT_EXPIRING, ALERT_PERMIT_EXPIRED):
            await ctx.alerts.resolve(
                organization_id=str(trap.organization_id),
                type=kind,
                subject=trap_subject(trap),
                note="The permit dates were changed.",
            )
        await check_permit(ctx, trap)
    return await one_trap_out(ctx, trap)


async def _change_state(
    ctx: PluginContext,
    trap: Trap,
    state: TrapState,
    user_id: str | None,
    now: datetime,
    note: str = "",
) -> None:
    """Move the trap to ``state``; from sprung this is a reset: the sprung event gets its
    outcome (capture or false trigger) and the trap's sprung and welfare alerts are
    resolved, in the caller's transaction."""
    was_sprung = trap.state is TrapState.SPRUNG
    kind = {
        TrapState.ARMED: EventKind.ARMED,
        TrapState.DISARMED: EventKind.DISARMED,
        TrapState.REMOVED: EventKind.REMOVED,
    }[state]
    data: dict[str, Any] = {"note": note} if note else {}
    if was_sprung:
        kind = EventKind.RESET
        sprung = await _sprung_event(trap)
        if sprung is not None and sprung.outcome is None:
            captured = await Capture.exists(sprung_event_id=sprung.id)
            sprung.outcome = Outcome.CAPTURE if captured else Outcome.FALSE_TRIGGER
            await sprung.save(update_fields=["outcome"])
            data["outcome"] = sprung.outcome.value
    await TrapEvent.create(
        organization_id=trap.organization_id,
        trap=trap,
        kind=kind,
        at=now,
        state_after=state,
        user_id=user_id,
        data=data,
        created_at=now,
    )
    await Trap.filter(id=trap.id).update(
        state=state,
        state_changed_at=now,
        sprung_at=None,
        sprung_alert_id=None,
        welfare_alerted_at=None,
        updated_at=now,
    )
    trap.state, trap.state_changed_at, trap.sprung_at = state, now, None
    trap.sprung_alert_id = trap.welfare_alerted_at = None
    if was_sprung:
        for kind_ in (ALERT_SPRUNG, ALERT_WELFARE):
            await ctx.alerts.resolve(
                organization_id=str(trap.organization_id),
                type=kind_,
                subject=trap_subject(trap),
                note="The trap was reset.",
            )


async def reset_trap(
    ctx: PluginContext, principal: Principal, trap_id: str, data: schemas.Reset
) -> schemas.Trap:
    trap = await tenancy.get(Trap.all(), trap_id, principal, write=True)
    if trap.state is not TrapState.SPRUNG:
        raise Conflict(_("{trap} is not sprung: there is nothing to reset.", trap=trap.name))
    if data.state not in (TrapState.ARMED, TrapState.DISARMED):
        raise Invalid.field("/state", _("a reset trap is armed or disarmed"))
    if data.state is TrapState.ARMED:
        _check_can_arm(trap, ctx.today())
    async with in_transaction():
        await _change_state(ctx, trap, data.state, principal.user_id, ctx.clock.now(), data.note)
    return await one_trap_out(ctx, trap)


async def delete_trap(ctx: PluginContext, principal: Principal, trap_id: str) -> None:
    """Only a trap with no record to keep can be deleted; others are set ``removed``."""
    trap = await tenancy.get(Trap.all(), trap_id, principal, write=True)
    kept = (
        await Inspection.exists(trap_id=trap.id)
        or await Capture.exists(trap_id=trap.id)
        or await TrapEvent.exists(
            trap_id=trap.id, kind__in=[EventKind.SPRUNG, EventKind.BOUNCE, EventKind.WELFARE]
        )
    )
    if kept:
        raise Conflict(
            _(
                "{trap} has inspections, captures or triggers on record: set its state to "
                "removed instead.",
                trap=trap.name,
            )
        )
    async with in_transaction():
        await SensorState.filter(trap_id=trap.id).delete()
        await trap.delete()
        await record_deletion(
            PLUGIN,
            "traps",
            str(trap.id),
            ctx.clock.now(),
            organization_id=str(trap.organization_id),
        )


# permits


async def check_permit(ctx: PluginContext, trap: Trap) -> None:
    """Warn once per permit when it is about to expire, and once when it has expired."""
    if trap.state is TrapState.REMOVED:
        return
    day = ctx.today()
    until = trap.permit_valid_until.isoformat()
    subject = trap_subject(trap)
    organization_id = str(trap.organization_id)
    if day > trap.permit_valid_until:
        if trap.permit_alert == "expired":
            return
        body = (
            _(
                "Permit {permit} of {trap} expired on {date}. Disarm the trap: it cannot "
                "be armed again until the permit is renewed.",
                permit=trap.permit_number,
                trap=trap.name,
                date=until,
            )
            if trap.state in daily.SET_STATES
            else _(
                "Permit {permit} of {trap} expired on {date}. The trap cannot be "
                "armed until the permit is renewed.",
                permit=trap.permit_number,
                trap=trap.name,
                date=until,
            )
        )
        await ctx.alerts.raise_(
            organization_id=organization_id,
            type=ALERT_PERMIT_EXPIRED,
            severity=Severity.WARNING,
            title=_("Capture permit of {trap} has expired", trap=trap.name),
            body=body,
            subject=subject,
            notify=[[str(trap.owner_id)]],
            data={
                "trap_id": str(trap.id),
                "permit_number": trap.permit_number,
                "valid_until": until,
            },
        )
        await ctx.alerts.resolve(
            organization_id=organization_id,
            type=ALERT_PERMIT_EXPIRING,
            subject=subject,
            note="The permit has expired.",
        )
        trap.permit_alert = "expired"
    elif (trap.permit_valid_until - day).days <= ctx.settings.permit_warning_days:
        if trap.permit_alert is not None:
            return
        await ctx.alerts.raise_(
            organization_id=organization_id,
            type=ALERT_PERMIT_EXPIRING,
            severity=Severity.WARNING,
            title=_("Capture permit of {trap} expires on {date}", trap=trap.name, date=until),
            body=_(
                "Permit {permit} of {trap} is valid until {date}. Renew it in time: "
                "a trap cannot be armed on an expired permit.",
                permit=trap.permit_number,
                trap=trap.name,
                date=until,
            ),
            subject=subject,
            notify=[[str(trap.owner_id)]],
            data={
                "trap_id": str(trap.id),
                "permit_number": trap.permit_number,
                "valid_until": until,
                "days_left": (trap.permit_valid_until - day).days,
            },
        )
        trap.permit_alert = "expiring"
    else:
        return
    await Trap.filter(id=trap.id).update(permit_alert=trap.permit_alert)


async def check_permits(ctx: PluginContext) -> int:
    day = ctx.today()
    horizon = day + timedelta(days=ctx.settings.permit_warning_days)
    due = await Trap.filter(permit_valid_until__lte=horizon).exclude(state=TrapState.REMOVED)
    for trap in due:
        await check_permit(ctx, trap)
    return len(due)


# sensor readings


@dataclass
class Handled:
    """What a batch of readings left to do: when the next pending trigger is due to be
    confirmed, if one is waiting out its debounce."""

    trap_id: uuid.UUID | None = None
    next_due: datetime | None = None


async def handle_readings(
    ctx: PluginContext, device: DeviceRef, readings: Sequence[NewReading]
) -> Handled:
    if device.subject_kind != TRAP_SUBJECT or not device.subject_id:
        ctx.logger.info("sensor %s is bound to no trap: readings stored, nothing else", device.id)
        return Handled()
    trap = await Trap.get_or_none(
        id=tenancy.parse_id(device.subject_id) or uuid.uuid4(),
        organization_id=device.organization_id,
    )
    if trap is None:
        return Handled()
    state, _created = await SensorState.get_or_create(
        device_id=device.id,
        defaults={"organization_id": device.organization_id, "trap_id": trap.id},
    )
    ordered = sorted(readings, key=lambda r: r.ts)
    created: list[TrapEvent] = []
    for reading in ordered:
        if reading.metric == "trigger":
            event = await _trigger_reading(ctx, trap, state, device, reading)
            if event is not None:
                created.append(event)
    batteries = [r for r in ordered if r.metric == "battery_v"]
    if batteries and (state.battery_at is None or batteries[-1].ts >= state.battery_at):
        state.battery_v, state.battery_at = batteries[-1].value, batteries[-1].ts
    await state.save()
    if batteries:
        await _battery(ctx, trap, device, batteries[-1])
    confirmed = await confirm_due(ctx, trap_id=trap.id) if created else set()
    if all(event.id in confirmed for event in created):
        return Handled(trap.id)  # nothing new waits out its debounce (the usual heartbeat)
    waiting = await TrapEvent.filter(trap_id=trap.id, kind=EventKind.TRIGGER).order_by("at").first()
    if waiting is None:
        return Handled(trap.id)
    return Handled(trap.id, waiting.at + timedelta(seconds=ctx.settings.debounce_s))


async def _trigger_reading(
    ctx: PluginContext, trap: Trap, state: SensorState, device: DeviceRef, reading: NewReading
) -> TrapEvent | None:
    """Record a change of the trigger; return the trigger event it opened, if any."""
    if state.trigger_at is not None and reading.ts <= state.trigger_at:
        return None  # late and out of order: the state it reports is already superseded
    if reading.ts < trap.created_at:
        return None  # from before the trap was registered: history, not an event
    value = 1.0 if reading.value >= 0.5 else 0.0
    previous = state.trigger
    state.trigger, state.trigger_at = value, reading.ts
    if previous == value or (previous is None and value == 0.0):
        return None  # a heartbeat repeating the state, or a first report at rest
    base = {
        "organization_id": trap.organization_id,
        "trap": trap,
        "at": reading.ts,
        "device_id": device.id,
        "created_at": ctx.clock.now(),
    }
    if value == 1.0:
        if trap.state not in daily.SET_STATES:
            await TrapEvent.create(**base, kind=EventKind.IGNORED, data={"state": trap.state.value})
            return None
        return await TrapEvent.create(
            **base, kind=EventKind.TRIGGER, data={"reading": reading.message_id}
        )
    pending = (
        await TrapEvent.filter(trap_id=trap.id, device_id=device.id, kind=EventKind.TRIGGER)
        .order_by("-at")
        .first()
    )
    window = timedelta(seconds=ctx.settings.debounce_s)
    if pending is not None and reading.ts - pending.at < window:
        held = round((reading.ts - pending.at).total_seconds(), 3)
        bounced = await TrapEvent.filter(id=pending.id, kind=EventKind.TRIGGER).update(
            kind=EventKind.BOUNCE, data={**pending.data, "held_s": held}
        )
        if bounced:
            return None
    if trap.state is TrapState.SPRUNG:
        await TrapEvent.create(
            **base, kind=EventKind.RELEASED, data={"reading": reading.message_id}
        )
    return None


async def confirm_due(ctx: PluginContext, trap_id: Any = None) -> set[uuid.UUID]:
    """Spring every trap whose trigger has held for the debounce time; return the ids of
    the triggers confirmed."""
    cutoff = ctx.clock.now() - timedelta(seconds=ctx.settings.debounce_s)
    pending = TrapEvent.filter(kind=EventKind.TRIGGER, at__lte=cutoff)
    if trap_id is not None:
        pending = pending.filter(trap_id=trap_id)
    confirmed = set()
    for event in await pending.order_by("at"):
        if await _confirm(ctx, event):
            confirmed.add(event.id)
    return confirmed


async def _confirm(ctx: PluginContext, event: TrapEvent) -> bool:
    claimed = await TrapEvent.filter(id=event.id, kind=EventKind.TRIGGER).update(
        kind=EventKind.SPRUNG
    )
    if not claimed:
        return False  # another path confirmed it, or it bounced meanwhile
    trap = await Trap.get(id=event.trap_id)
    if trap.state not in daily.SET_STATES:
        await TrapEvent.filter(id=event.id).update(
            kind=EventKind.IGNORED, data={**event.data, "state": trap.state.value}
        )
        return False
    repeat = trap.state is TrapState.SPRUNG
    if repeat and trap.sprung_alert_id is None:
        # Sprung, and its alert closed by a capture record: people are at the trap.
        await TrapEvent.filter(id=event.id).update(
            kind=EventKind.IGNORED, data={**event.data, "handled": True}
        )
        return False
    features = await _features(ctx, trap, event)
    probability, version = _predict(ctx, features)
    sprung_at = trap.sprung_at if repeat and trap.sprung_at else event.at
    try:
        alert = await ctx.alerts.raise_(
            organization_id=str(trap.organization_id),
            type=ALERT_SPRUNG,
            severity=Severity.CRITICAL,
            title=_("{trap} has sprung", trap=trap.name),
            body=_sprung_body(ctx, event.at, probability),
            subject=trap_subject(trap),
            notify=[[str(trap.owner_id)], *([b] for b in trap.backup_ids)],
            escalate_after=timedelta(minutes=ctx.settings.escalate_after_min),
            model_version=version,
            data={
                "trap_id": str(trap.id),
                "event_id": str(event.id),
                "sprung_at": sprung_at.isoformat(),
                "triggered_at": event.at.isoformat(),
                "latitude": trap.latitude,
                "longitude": trap.longitude,
                "trap_kind": trap.kind.value,
                "capture_probability": None if probability is None else round(probability, 4),
                "label": _label_key(ctx, probability),
            },
        )
    except Exception:
        # Give the trigger back: the watch job tries again in a minute. The trap's state is
        # only changed once its alert is out.
        await TrapEvent.filter(id=event.id).update(kind=EventKind.TRIGGER)
        raise
    now = ctx.clock.now()
    if repeat:
        await Trap.filter(id=trap.id).update(sprung_alert_id=alert.id, updated_at=now)
    else:
        await Trap.filter(id=trap.id).update(
            state=TrapState.SPRUNG,
            state_changed_at=event.at,
            sprung_at=event.at,
            sprung_alert_id=alert.id,
            welfare_alerted_at=None,
            updated_at=now,
        )
    await TrapEvent.filter(id=event.id).update(
        state_after=None if repeat else TrapState.SPRUNG,
        capture_probability=probability,
        model_version=version,
        alert_id=alert.id,
        data={**event.data, "features": msgspec.to_builtins(features), "repeat": repeat},
    )
    return True


def _label_key(ctx: PluginContext, probability: float | None) -> str | None:
    if probability is None:
        return None
    return (
        "likely_capture" if probability >= ctx.settings.likely_capture else "possible_false_trigger"
    )


def _sprung_body(ctx: PluginContext, at: datetime, probability: float | None) -> Text:
    time = local_time(ctx, at)
    if probability is None:
        return _(
            "Sprung at {time}. Go to the trap, then record the capture or reset it.", time=time
        )
    percent = round(probability * 100)
    label = (
        _("Likely capture, {percent}%.", percent=percent)
        if probability >= ctx.settings.likely_capture
        else _("Possibly a false trigger (capture {percent}%).", percent=percent)
    )
    return _(
        "{label} Sprung at {time}. Go to the trap, then record the capture or reset it.",
        label=label,
        time=time,
    )


async def _features(ctx: PluginContext, trap: Trap, event: TrapEvent) -> TriggerFeatures:
    local = event.at.astimezone(ctx.city_zone)
    recent = (
        await TrapEvent.filter(
            trap_id=trap.id,
            kind__in=[EventKind.SPRUNG, EventKind.BOUNCE],
            at__gte=event.at - RECENT_TRIGGERS,
            at__lt=event.at,
        )
        .exclude(id=event.id)
        .values_list("kind", "at")
    )
    triggers = sum(1 for kind, _at in recent if kind == EventKind.SPRUNG)
    bounces = sum(
        1 for kind, at in recent if kind == EventKind.BOUNCE and at >= event.at - RECENT_BOUNCES
    )
    if trap.state is TrapState.ARMED:
        armed_at: datetime | None = trap.state_changed_at  # armed, reset or registered armed
    else:
        last = (
            await TrapEvent.filter(trap_id=trap.id, state_after=TrapState.ARMED, at__lte=event.at)
            .order_by("-at")
            .first()
        )
        armed_at = last.at if last is not None else None
    since = (event.at - armed_at).total_seconds() / 3600 if armed_at else 24 * 30.0
    return TriggerFeatures(
        local_hour=round(local.hour + local.minute / 60, 3),
        day_of_year=local.timetuple().tm_yday,
        trap_kind=trap.kind.value,
        triggers_7d=triggers,
        bounces_1h=bounces,
        hours_since_armed=round(max(since, 0.0), 2),
    )


_predictor_failed: set[str] = set()


def _predict(ctx: PluginContext, features: TriggerFeatures) -> tuple[float | None, str | None]:
    """The label never holds up or suppresses the alert: without a model it has none."""
    try:
        model = ctx.predictors.get(PREDICTOR)
        probability = model.predict(features)
    except Exception:
        if PREDICTOR not in _predictor_failed:  # log a broken artifact once, not per trigger
            _predictor_failed.add(PREDICTOR)
            ctx.logger.exception("%s failed: sprung alerts go out without a label", PREDICTOR)
        return None, None
    _predictor_failed.discard(PREDICTOR)
    if not math.isfinite(probability):
        return None, None
    return probability, model.version


async def _sprung_event(trap: Trap) -> TrapEvent | None:
    """The event that sprang the trap (the last one that set it sprung)."""
    return (
        await TrapEvent.filter(trap_id=trap.id, state_after=TrapState.SPRUNG)
        .order_by("-at")
        .first()
    )


async def _battery(ctx: PluginContext, trap: Trap, device: DeviceRef, reading: NewReading) -> None:
    settings = ctx.settings
    subject = trap_subject(trap)
    if reading.value >= settings.battery_low_v + BATTERY_RECOVERY_V:
        await ctx.alerts.resolve(
            organization_id=str(trap.organization_id),
            type=ALERT_BATTERY,
            subject=subject,
            note="The battery was replaced.",
        )
        return
    if reading.value >= settings.battery_low_v:
        return
    since = reading.ts - timedelta(days=settings.battery_trend_days)
    history = (
        await Reading.filter(
            device_id=device.id, metric="battery_v", ts__gte=since, ts__lte=reading.ts
        )
        .order_by("ts")
        .values_list("ts", "value")
    )
    days, method = daily.battery_days_left(
        [(ts, value) for ts, value in history],
        reading.value,
        empty_v=settings.battery_empty_v,
        full_v=settings.battery_full_v,
        life_days=settings.battery_life_days,
    )
    await ctx.alerts.raise_(
        organization_id=str(trap.organization_id),
        type=ALERT_BATTERY,
        severity=Severity.WARNING,
        title=_("Battery of the sensor on {trap} is low", trap=trap.name),
        body=_(
            "{sensor} reports {voltage} V: about {days} days left. Replace the batteries.",
            sensor=device.name,
            voltage=f"{reading.value:.2f}",
            days=days,
        ),
        subject=subject,
        notify=[[str(trap.owner_id)]],
        data={
            "trap_id": str(trap.id),
            "device_id": str(device.id),
            "voltage": reading.value,
            "days_left": days,
            "estimate": method,
        },
    )


# welfare


async def check_welfare(ctx: PluginContext) -> int:
    """Raise the welfare alert of every trap sprung too long with nothing recorded."""
    now = ctx.clock.now()
    cutoff = now - timedelta(hours=ctx.settings.welfare_after_h)
    raised = 0
    for trap in await Trap.filter(
        state=TrapState.SPRUNG, sprung_at__lte=cutoff, welfare_alerted_at__isnull=True
    ):
        assert trap.sprung_at is not None
        if await Capture.exists(trap_id=trap.id, created_at__gte=trap.sprung_at):
            continue  # a capture is on record: somebody took care of the animal
        claimed = await Trap.filter(id=trap.id, welfare_alerted_at__isnull=True).update(
            welfare_alerted_at=now
        )
        if not claimed:
            continue
        hours = int((now - trap.sprung_at).total_seconds() // 3600)
        alert = await ctx.alerts.raise_(
            organization_id=str(trap.organization_id),
            type=ALERT_WELFARE,
            severity=Severity.CRITICAL,
            title=_("{trap}: sprung {hours} h ago, nothing recorded", trap=trap.name, hours=hours),
            body=_(
                "{trap} sprang at {time} and no capture or reset has been recorded since. "
                "An animal may be suffering in it: go and check it now.",
                trap=trap.name,
                time=local_time(ctx, trap.sprung_at, "%Y-%m-%d %H:%M"),
            ),
            subject=trap_subject(trap),
            notify=[[str(trap.owner_id), *trap.backup_ids]],
            data={
                "trap_id": str(trap.id),
                "sprung_at": trap.sprung_at.isoformat(),
                "latitude": trap.latitude,
                "longitude": trap.longitude,
            },
        )
        await TrapEvent.create(
            organization_id=trap.organization_id,
            trap=trap,
            kind=EventKind.WELFARE,
            at=now,
            alert_id=alert.id,
            data={"hours": hours},
            created_at=now,
        )
        raised += 1
    return raised


# inspections and captures


async def _attach_photos(
    ctx: PluginContext,
    principal: Principal,
    photo_ids: Sequence[str],
    kind: str,
    object_id: str,
    organization_id: Any,
) -> None:
    for index, media_id in enumerate(photo_ids):
        await ctx.media.attach(
            media_id, principal, kind, object_id, organization_id, pointer=f"/photo_ids/{index}"
        )


def _check_time(
    ctx: PluginContext, moment: datetime | None, pointer: str, back: timedelta
) -> datetime:
    now = ctx.clock.now()
    if moment is None:
        return now
    if moment.tzinfo is None:
        raise Invalid.field(pointer, _("give the time with its UTC offset"))
    if moment - now > FUTURE_SLACK:
        raise Invalid.field(pointer, _("in the future"))
    if now - moment > back:
        raise Invalid.field(pointer, _("more than {days} days ago", days=back.days))
    return moment.astimezone(UTC)


def inspection_out(inspection: Inspection) -> schemas.Inspection:
    return schemas.Inspection(
        id=str(inspection.id),
        trap_id=str(inspection.trap_id),
        organization_id=str(inspection.organization_id),
        inspector_id=str(inspection.inspector_id),
        inspected_at=inspection.inspected_at,
        result=inspection.result,
        note=inspection.note,
        photos=[photo_out(m) for m in inspection.photo_ids],
        created_at=inspection.created_at,
    )


async def create_inspection(
    ctx: PluginContext, principal: Principal, trap_id: str, data: schemas.InspectionCreate
) -> schemas.Inspection:
    trap = await tenancy.get(Trap.all(), trap_id, principal, write=True)
    at = _check_time(
        ctx, data.inspected_at, "/inspected_at", timedelta(days=ctx.settings.max_backdate_days)
    )
    if at < trap.created_at:
        raise Invalid.field("/inspected_at", _("before the trap was registered"))
    now = ctx.clock.now()
    async with in_transaction():
        inspection = await Inspection.create(
            organization_id=trap.organization_id,
            trap=trap,
            inspector_id=principal.user_id,
            inspected_at=at,
            result=data.result,
            note=data.note,
            photo_ids=list(dict.fromkeys(data.photo_ids)),
            created_at=now,
        )
        await _attach_photos(
            ctx,
            principal,
            inspection.photo_ids,
            INSPECTION_KIND,
            str(inspection.id),
            trap.organization_id,
        )
        await TrapEvent.create(
            organization_id=trap.organization_id,
            trap=trap,
            kind=EventKind.INSPECTION,
            at=at,
            user_id=principal.user_id,
            data={"inspection_id": str(inspection.id), "result": data.result.value},
            created_at=now,
        )
    return inspection_out(inspection)


async def list_inspections(
    principal: Principal, trap_id: str, cursor: str | None, limit: int
) -> schemas.InspectionList:
    trap = await tenancy.get(Trap.all(), trap_id, principal)
    rows, next_cursor = await page(
        Inspection.filter(trap_id=trap.id), cursor, limit, newest_first=True
    )
    return schemas.InspectionList([inspection_out(i) for i in rows], next_cursor)


async def get_inspection(principal: Principal, inspection_id: str) -> schemas.Inspection:
    return inspection_out(await tenancy.get(Inspection.all(), inspection_id, principal))


def capture_out(capture: Capture) -> schemas.Capture:
    return schemas.Capture(
        id=str(capture.id),
        trap_id=str(capture.trap_id),
        organization_id=str(capture.organization_id),
        sprung_event_id=str(capture.sprung_event_id) if capture.sprung_event_id else None,
        captured_at=capture.captured_at,
        species=capture.species,
        count=capture.count,
        sex=capture.sex,
        estimated_weight_kg=capture.estimated_weight_kg,
        disposal=capture.disposal,
        latitude=capture.latitude,
        longitude=capture.longitude,
        note=capture.note,
        photos=[photo_out(m) for m in capture.photo_ids],
        recorded_by=str(capture.recorded_by_id),
        created_at=capture.created_at,
    )


async def create_capture(
    ctx: PluginContext, principal: Principal, trap_id: str, data: schemas.CaptureCreate
) -> schemas.Capture:
    """Record a capture; linked to the trigger that sprang the trap, whose alerts it closes.
    The trap stays sprung until it is reset (Trap.NZ keeps a trap sprung until a reset)."""
    trap = await tenancy.get(Trap.all(), trap_id, principal, write=True)
    if (data.latitude is None) != (data.longitude is None):
        raise Invalid.field(
            "/longitude" if data.longitude is None else "/latitude",
            _("give both latitude and longitude, or neither"),
        )
    sprung = await _sprung_event(trap) if trap.state is TrapState.SPRUNG else None
    default_at = trap.sprung_at if trap.sprung_at is not None else None
    at = _check_time(
        ctx,
        data.captured_at or default_at,
        "/captured_at",
        timedelta(days=ctx.settings.max_backdate_days),
    )
    now = ctx.clock.now()
    async with in_transaction():
        capture = await Capture.create(
            organization_id=trap.organization_id,
            trap=trap,
            sprung_event=sprung,
            captured_at=at,
            species=data.species,
            count=data.count,
            sex=data.sex,
            estimated_weight_kg=data.estimated_weight_kg,
            disposal=data.disposal,
            latitude=data.latitude if data.latitude is not None else trap.latitude,
            longitude=data.longitude if data.longitude is not None else trap.longitude,
            note=data.note,
            photo_ids=list(dict.fromkeys(data.photo_ids)),
            recorded_by_id=principal.user_id,
            created_at=now,
        )
        await _attach_photos(
            ctx, principal, capture.photo_ids, CAPTURE_KIND, str(capture.id), trap.organization_id
        )
        await TrapEvent.create(
            organization_id=trap.organization_id,
            trap=trap,
            kind=EventKind.CAPTURE,
            at=at,
            user_id=principal.user_id,
            data={
                "capture_id": str(capture.id),
                "species": data.species.value,
                "count": data.count,
            },
            created_at=now,
        )
        if sprung is not None:
            await TrapEvent.filter(id=sprung.id).update(outcome=Outcome.CAPTURE)
            await Trap.filter(id=trap.id).update(sprung_alert_id=None, updated_at=now)
    if sprung is not None:
        for kind in (ALERT_SPRUNG, ALERT_WELFARE):
            await ctx.alerts.resolve(
                organization_id=str(trap.organization_id),
                type=kind,
                subject=trap_subject(trap),
                note="A capture was recorded.",
            )
    return capture_out(capture)


async def list_captures(
    principal: Principal, trap_id: str, cursor: str | None, limit: int
) -> schemas.CaptureList:
    trap = await tenancy.get(Trap.all(), trap_id, principal)
    rows, next_cursor = await page(
        Capture.filter(trap_id=trap.id), cursor, limit, newest_first=True
    )
    return schemas.CaptureList([capture_out(c) for c in rows], next_cursor)


async def get_capture(principal: Principal, capture_id: str) -> schemas.Capture:
    return capture_out(await tenancy.get(Capture.all(), capture_id, principal))


# timeline


def event_out(event: TrapEvent) -> schemas.Event:
    return schemas.Event(
        id=str(event.id),
        kind=event.kind,
        at=event.at,
        state_after=event.state_after,
        device_id=str(event.device_id) if event.device_id else None,
        user_id=str(event.user_id) if event.user_id else None,
        capture_probability=event.capture_probability,
        model_version=event.model_version,
        alert_id=str(event.alert_id) if event.alert_id else None,
        outcome=event.outcome.value if event.outcome else None,
        data={k: v for k, v in event.data.items() if k != "features"},
    )


async def timeline(
    principal: Principal, trap_id: str, cursor: str | None, limit: int
) -> schemas.EventList:
    """What happened to the trap, newest first (by when it happened)."""
    trap = await tenancy.get(Trap.all(), trap_id, principal)
    queryset = TrapEvent.filter(trap_id=trap.id)
    if cursor:
        values = decode_cursor(cursor)
        try:
            at, last = datetime.fromisoformat(values[0]), uuid.UUID(values[1])
        except (IndexError, ValueError):
            raise Invalid.parameter("cursor", "not a cursor this service issued") from None
        queryset = queryset.filter(Q(at__lt=at) | Q(at=at, id__lt=last))
    rows = await queryset.order_by("-at", "-id").limit(limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].at.isoformat(), rows[-1].id)
    return schemas.EventList([event_out(e) for e in rows], next_cursor)


# the daily inspection record


_HEARTBEATS: dict[tuple[frozenset[Any], datetime, datetime], tuple[tuple[Any, ...], list]] = {}
_HEARTBEATS_KEPT = 64


async def _heartbeats(
    device_ids: list[Any], start: datetime, end: datetime
) -> list[tuple[Any, datetime]]:
    """``(device id, ts)`` of the devices' readings in ``[start, end)``.

    The home screen asks for today's record of every trap on each opening, and reading a
    day of heartbeats is the costly part (thousands of rows). Readings are only ever
    inserted (with ever-growing ids) or purged, so their count and highest id in the range
    tell whether the rows read last time are still exactly the rows: one aggregate query
    instead of the rows, and the answer stays exact with several server processes."""
    readings = Reading.filter(device_id__in=device_ids, ts__gte=start, ts__lt=end)
    counted = await readings.annotate(n=Count("id"), last=Max("id")).first().values("n", "last")
    fingerprint = (counted["n"], counted["last"]) if counted else (0, None)
    key = (frozenset(device_ids), start, end)
    kept = _HEARTBEATS.get(key)
    if kept is not None and kept[0] == fingerprint:
        return kept[1]
    rows = list(await readings.values_list("device_id", "ts"))
    if len(_HEARTBEATS) >= _HEARTBEATS_KEPT:
        del _HEARTBEATS[next(iter(_HEARTBEATS))]
    _HEARTBEATS[key] = (fingerprint, rows)
    return rows


async def _state_changes(
    trap_ids: list[Any], start: datetime, end: datetime
) -> list[tuple[Any, datetime, str]]:
    """``(trap id, at, state after)`` of the changes within ``(start, end)``, after each trap's
    last change up to ``start`` (the state it was in then), in time order: what the daily
    record needs, however long the traps' history."""
    changes = TrapEvent.filter(trap_id__in=trap_ids, state_after__isnull=False)
    before = (
        await changes.filter(at__lte=start)
        .annotate(last=Max("at"))
        .group_by("trap_id")
        .values_list("trap_id", "last")
    )
    found: dict[Any, tuple[Any, datetime, str]] = {}
    if before:
        lasts = {(trap_id, last) for trap_id, last in before}
        for trap_id, at, state in (
            await changes.filter(at__in=sorted({last for _trap, last in lasts}))
            .order_by("at", "created_at")
            .values_list("trap_id", "at", "state_after")
        ):
            if (trap_id, at) in lasts:
                found[trap_id] = (trap_id, at, state)  # the latest recorded wins a tie
    during = await (
        changes.filter(at__gt=start, at__lt=end)
        .order_by("at", "created_at")
        .values_list("trap_id", "at", "state_after")
    )
    return sorted(found.values(), key=lambda change: change[1]) + list(during)


async def records_for(
    ctx: PluginContext, traps: Sequence[Trap], first: date, last: date, now: datetime
) -> dict[str, list[tuple[date, DayStatus]]]:
    """The daily record of each trap for the days ``first`` to ``last`` (local days)."""
    if not traps:
        return {}
    zone = ctx.city_zone
    start, _first_end = daily.day_bounds(first, zone)
    _last_start, last_end = daily.day_bounds(last, zone)
    end = min(last_end, now)
    ids = [t.id for t in traps]
    changes: dict[str, list[StateChange]] = defaultdict(list)
    for trap_id, at, state in await _state_changes(ids, start, end):
        changes[str(trap_id)].append(StateChange(at, TrapState(state)))
    inspections: dict[str, list[datetime]] = defaultdict(list)
    for trap_id, at in await Inspection.filter(
        trap_id__in=ids, inspected_at__gte=start, inspected_at__lt=last_end
    ).values_list("trap_id", "inspected_at"):
        inspections[str(trap_id)].append(at)
    devices = dict(
        await Device.filter(
            kind=SENSOR_KIND, subject_kind=TRAP_SUBJECT, subject_id__in=[str(i) for i in ids]
        ).values_list("id", "subject_id")
    )
    max_gap = timedelta(minutes=ctx.settings.max_heartbeat_gap_min)
    beats: dict[str, set[datetime]] = defaultdict(set)
    if devices and start < end:
        for device_id, ts in await _heartbeats(list(devices), start - max_gap, last_end):
            if ts < end:
                beats[str(devices[device_id])].add(ts)
    days = daily.days_between(first, last)
    found = {}
    for trap in traps:
        key = str(trap.id)
        history = TrapHistory(
            created_at=trap.created_at,
            changes=changes.get(key, []),
            inspections=inspections.get(key, []),
            heartbeats=sorted(beats.get(key, ())),
        )
        found[key] = daily.record(history, days, zone, now, max_gap)
    return found


def parse_month(ctx: PluginContext, month: str | None) -> tuple[str, date, date]:
    if month is None:
        current = ctx.today()
        first = current.replace(day=1)
    else:
        try:
            first = date.fromisoformat(f"{month}-01")
        except ValueError:
            raise Invalid.parameter("month", _("a month as YYYY-MM")) from None
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first.strftime("%Y-%m"), first, last


async def _organization(principal: Principal, organization_id: str | None) -> Organization:
    if organization_id is None:
        if len(principal.organization_ids) != 1:
            raise Invalid.parameter("organization_id", _("name the organization"))
        organization_id = next(iter(principal.organization_ids))
    try:
        return await tenancy.get(Organization.all(), organization_id, principal, field=None)
    except NotFound:
        raise Invalid.parameter("organization_id", _("unknown or not accessible")) from None


async def compliance(
    ctx: PluginContext, principal: Principal, organization_id: str | None, month: str | None
) -> schemas.ComplianceReport:
    organization = await _organization(principal, organization_id)
    label, first, last = parse_month(ctx, month)
    now = ctx.clock.now()
    traps = await Trap.filter(organization_id=organization.id).order_by("name", "id")
    records = await records_for(ctx, traps, first, last, now)
    totals = schemas.Counts()
    rows = []
    for trap in traps:
        days = records.get(str(trap.id), [])
        if not days:
            continue
        counts = schemas.Counts()
        for _day, status in days:
            setattr(counts, status.value, getattr(counts, status.value) + 1)
            setattr(totals, status.value, getattr(totals, status.value) + 1)
        rows.append(
            schemas.TrapDays(
                trap_id=str(trap.id),
                name=trap.name,
                kind=trap.kind,
                permit_number=trap.permit_number,
                days=[schemas.Day(d, s.value) for d, s in days],
                counts=counts,
            )
        )
    _month_start, month_end = daily.day_bounds(last, ctx.city_zone)
    return schemas.ComplianceReport(
        organization_id=str(organization.id),
        organization=organization.name,
        month=label,
        timezone=ctx.city_zone.key,
        generated_at=now,
        complete=now >= month_end,
        traps=rows,
        totals=totals,
    )


def compliance_csv(report: schemas.ComplianceReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["organization", "month", "trap_id", "trap", "kind", "permit_number", "date", "status"]
    )
    for trap in report.traps:
        for day in trap.days:
            writer.writerow(
                [
                    report.organization,
                    report.month,
                    trap.trap_id,
                    trap.name,
                    trap.kind.value,
                    trap.permit_number,
                    day.date.isoformat(),
                    day.status,
                ]
            )
    return out.getvalue()


# bounty report


async def bounty(
    ctx: PluginContext, principal: Principal, organization_id: str | None, month: str | None
) -> schemas.BountyReport:
    """Captures of the month with what a bounty (捕獲報奨金) claim needs: date, place,
    species, count, sex and photos (DOMAIN.md). Released non-target animals are left out."""
    organization = await _organization(principal, organization_id)
    label, first, last = parse_month(ctx, month)
    zone = ctx.city_zone
    start, _first_end = daily.day_bounds(first, zone)
    _last_start, end = daily.day_bounds(last, zone)
    captures = (
        await Capture.filter(
            organization_id=organization.id, captured_at__gte=start, captured_at__lt=end
        )
        .exclude(disposal=Disposal.RELEASED)
        .order_by("captured_at", "id")
        .prefetch_related("trap")
    )
    totals: dict[str, int] = defaultdict(int)
    rows = []
    for capture in captures:
        totals[capture.species.value] += capture.count
        rows.append(
            schemas.BountyRow(
                capture_id=str(capture.id),
                date=capture.captured_at.astimezone(zone).date(),
                captured_at=capture.captured_at,
                trap_id=str(capture.trap_id),
                trap=capture.trap.name,
                permit_number=capture.trap.permit_number,
                latitude=capture.latitude,
                longitude=capture.longitude,
                species=capture.species,
                count=capture.count,
                sex=capture.sex,
                estimated_weight_kg=capture.estimated_weight_kg,
                disposal=capture.disposal,
                photo_urls=[media_url(m) for m in capture.photo_ids],
            )
        )
    return schemas.BountyReport(
        organization_id=str(organization.id),
        organization=organization.name,
        month=label,
        timezone=ctx.city_zone.key,
        rows=rows,
        totals=dict(sorted(totals.items())),
    )


def bounty_csv(report: schemas.BountyReport, base_url: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "date",
            "time",
            "trap",
            "permit_number",
            "latitude",
            "longitude",
            "species",
            "count",
            "sex",
            "estimated_weight_kg",
            "disposal",
            "photos",
        ]
    )
    zone = ZoneInfo(report.timezone)
    for row in report.rows:
        writer.writerow(
            [
                row.date.isoformat(),
                row.captured_at.astimezone(zone).strftime("%H:%M"),
                row.trap,
                row.permit_number,
                f"{row.latitude:.6f}",
                f"{row.longitude:.6f}",
                row.species.value,
                row.count,
                row.sex.value,
                "" if row.estimated_weight_kg is None else f"{row.estimated_weight_kg:g}",
                row.disposal.value,
                " ".join(base_url + url for url in row.photo_urls),
            ]
        )
    return out.getvalue()


# the map


async def geojson(
    ctx: PluginContext, principal: Principal, organization_id: str | None
) -> schemas.FeatureCollection:
    queryset = tenancy.scope(Trap.all(), principal).exclude(state=TrapState.REMOVED)
    if organization_id is not None:
        queryset = queryset.filter(
            organization_id=tenancy.parse_id(organization_id) or uuid.uuid4()
        )
    traps = await queryset.order_by("name", "id")
    features = []
    for trap in await traps_out(ctx, traps):
        sensor_states = [s.status for s in trap.sensors]
        features.append(
            schemas.Feature(
                id=trap.id,
                geometry=schemas.Point((trap.longitude, trap.latitude)),
                properties={
                    "name": trap.name,
                    "kind": trap.kind.value,
                    "state": trap.state.value,
                    "organization_id": trap.organization_id,
                    "sprung_at": trap.sprung_at,
                    "sensor": (
                        "none"
                        if not sensor_states
                        else "online"
                        if "online" in sensor_states
                        else sensor_states[0]
                    ),
                    "battery_v": min(
                        (s.battery_v for s in trap.sensors if s.battery_v is not None),
                        default=None,
                    ),
                    "today": trap.today,
                    "permit_valid_until": trap.permit_valid_until.isoformat(),
                },
            )
        )
    return schemas.FeatureCollection(features)


# the evening reminder


async def remind(ctx: PluginContext, due: datetime) -> int:
    """At ``reminder_hour`` in each owner's time zone, tell owners which of their traps are
    still ``missed`` today; once per owner, organization and day."""
    now = ctx.clock.now()
    day = ctx.today()
    traps = await Trap.exclude(state=TrapState.REMOVED).prefetch_related("owner")
    records = await records_for(ctx, traps, day, day, now)
    due_for: dict[tuple[str, str], list[Trap]] = defaultdict(list)
    for trap in traps:
        statuses = dict(records.get(str(trap.id), []))
        if statuses.get(day) is not DayStatus.MISSED:
            continue
        owner = trap.owner
        try:
            local_hour = due.astimezone(ZoneInfo(owner.timezone)).hour
        except (KeyError, ValueError):
            local_hour = due.astimezone(ctx.city_zone).hour
        if owner.is_active and local_hour == ctx.settings.reminder_hour:
            due_for[str(trap.organization_id), str(owner.id)].append(trap)
    sent = 0
    for (organization_id, user_id), missed in due_for.items():
        names = ", ".join(t.name for t in sorted(missed, key=lambda t: t.name))
        async with in_transaction():
            _row, created = await Reminder.get_or_create(
                organization_id=organization_id,
                user_id=user_id,
                day=day,
                defaults={"traps": len(missed), "created_at": now},
            )
            if not created:
                continue
            await ctx.notifier.notify(
                [user_id],
                title=_("Traps to inspect today: {count}", count=len(missed)),
                body=_(
                    "Not inspected and not verified by their sensors today: {traps}.",
                    traps=names,
                ),
                data={
                    "kind": "inspection_reminder",
                    "day": day.isoformat(),
                    "trap_ids": ",".join(str(t.id) for t in missed),
                },
            )
        sent += 1
    if sent:
        ctx.notifier.wake()
    return sent


# feed and sync


async def traps_in_place(principal: Principal) -> list[Trap]:
    """The traps of the caller's organizations that are not removed, by name."""
    return (
        await Trap.filter(organization_id__in=list(principal.organization_ids))
        .exclude(state=TrapState.REMOVED)
        .order_by("name")
    )


async def sprung_unattended(traps: Sequence[Trap]) -> list[Trap]:
    """Of ``traps``, the sprung ones whose sprung alert is no longer open (acknowledged, or
    closed by a capture record) but that nobody has reset yet, oldest first: an open alert
    is on the home screen already."""
    sprung = sorted(
        (t for t in traps if t.state == TrapState.SPRUNG),
        key=lambda t: t.sprung_at or t.state_changed_at,
    )
    alert_ids = [t.sprung_alert_id for t in sprung if t.sprung_alert_id]
    open_ids = (
        set(
            await Alert.filter(id__in=alert_ids, status=AlertStatus.OPEN).values_list(
                "id", flat=True
            )
        )
        if alert_ids
        else set()
    )
    return [t for t in sprung if t.sprung_alert_id not in open_ids]


async def missed_today(ctx: PluginContext, traps: Sequence[Trap]) -> list[Trap]:
    """Of ``traps``, those whose record for today so far is ``missed``."""
    day = ctx.today()
    records = await records_for(ctx, traps, day, day, ctx.clock.now())
    return [t for t in traps if dict(records.get(str(t.id), [])).get(day) is DayStatus.MISSED]


def _document(value: Any) -> dict[str, Any]:
    return msgspec.to_builtins(value, builtin_types=(datetime, date))  # type: ignore[no-any-return]


async def changes_since(
    ctx: PluginContext, principal: Principal, since: datetime | None
) -> dict[str, tuple[list[dict[str, Any]], list[str]]]:
    traps = tenancy.scope(Trap.all(), principal)
    inspections = tenancy.scope(Inspection.all(), principal)
    captures = tenancy.scope(Capture.all(), principal)
    if since is not None:
        traps = traps.filter(updated_at__gte=since)
        inspections = inspections.filter(created_at__gte=since)
        captures = captures.filter(created_at__gte=since)
    found: dict[str, tuple[list[dict[str, Any]], list[str]]] = {
        "traps": (
            [_document(t) for t in await traps_out(ctx, await traps.order_by("updated_at", "id"))],
            [],
        ),
        "inspections": (
            [_document(inspection_out(i)) for i in await inspections.order_by("created_at", "id")],
            [],
        ),
        "captures": (
            [_document(capture_out(c)) for c in await captures.order_by("created_at", "id")],
            [],
        ),
    }
    if since is not None:
        gone = Tombstone.filter(plugin=PLUGIN, collection="traps", deleted_at__gte=since)
        if not principal.is_admin:
            organizations = tenancy.scope(Organization.all(), principal, field=None)
            gone = gone.filter(organization_id__in=await organizations.values_list("id", flat=True))
        deleted = await gone.order_by("deleted_at").values_list("object_id", flat=True)
        found["traps"] = (found["traps"][0], [str(i) for i in deleted])
    return found


# training data


TRAINING_COLUMNS = (
    "organization_id",
    "trap_id",
    "event_id",
    "at",
    "local_hour",
    "day_of_year",
    "trap_kind",
    "triggers_7d",
    "bounces_1h",
    "hours_since_armed",
    "label",
)


async def training_data(principal: Principal, organization_id: str | None) -> str:
    """The organization's confirmed triggers whose outcome is on record, as CSV for
    ``minori ml train`` (plugin setting ``training_data``)."""
    organization = await _organization(principal, organization_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TRAINING_COLUMNS)
    events = await TrapEvent.filter(
        organization_id=organization.id, kind=EventKind.SPRUNG, outcome__isnull=False
    ).order_by("at", "id")
    for event in events:
        features = event.data.get("features")
        if not isinstance(features, dict):
            continue
        writer.writerow(
            [
                str(organization.id),
                str(event.trap_id),
                str(event.id),
                event.at.isoformat(),
                features["local_hour"],
                features["day_of_year"],
                features["trap_kind"],
                features["triggers_7d"],
                features["bounces_1h"],
                features["hours_since_armed"],
                1 if event.outcome is Outcome.CAPTURE else 0,
            ]
        )
    return out.getvalue()


# subjects and the demo


async def find_trap(ctx: PluginContext, organization_id: str, subject_id: str) -> str | None:
    """The subject resolver of ``wildlife_traps.trap``: the trap's name, if the organization
    has it."""
    key = tenancy.parse_id(subject_id)
    if key is None:
        return None
    trap = await Trap.get_or_none(id=key, organization_id=organization_id)
    return trap.name if trap is not None else None


async def ensure_trap(
    ctx: PluginContext,
    organization: Organization,
    owner: User,
    backups: Sequence[User],
    *,
    name: str,
    since: datetime,
    **fields: Any,
) -> tuple[Trap, bool]:
    """The organization's trap of this name, registered (armed) at ``since`` if new."""
    existing = await Trap.get_or_none(organization_id=organization.id, name=name)
    if existing is not None:
        return existing, False
    async with in_transaction():
        trap = await Trap.create(
            organization=organization,
            name=name,
            owner=owner,
            backup_ids=[str(b.id) for b in backups],
            state=TrapState.ARMED,
            state_changed_at=since,
            created_at=since,
            updated_at=since,
            **fields,
        )
        await TrapEvent.create(
            organization_id=organization.id,
            trap=trap,
            kind=EventKind.CREATED,
            at=since,
            state_after=TrapState.ARMED,
            user_id=owner.id,
            created_at=since,
        )
    await check_permit(ctx, trap)
    return trap, True


async def demo_record(
    ctx: PluginContext, trap: Trap, user: User, at: datetime, *, capture: dict[str, Any] | None
) -> None:
    """A past inspection (with its capture) of the demo history."""
    async with in_transaction():
        await Inspection.create(
            organization_id=trap.organization_id,
            trap=trap,
            inspector=user,
            inspected_at=at,
            result="capture" if capture else "ok",
            created_at=at,
        )
        await TrapEvent.create(
            organization_id=trap.organization_id,
            trap=trap,
            kind=EventKind.INSPECTION,
            at=at,
            user_id=user.id,
            data={"result": "capture" if capture else "ok"},
            created_at=at,
        )
        if capture:
            await Capture.create(
                organization_id=trap.organization_id,
                trap=trap,
                captured_at=at,
                latitude=trap.latitude,
                longitude=trap.longitude,
                recorded_by=user,
                created_at=at,
                **capture,
            )
