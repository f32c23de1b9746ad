"""What the wildlife trap plugin stores: traps, what happened to them, inspections, captures.

Trap sensors are core devices (``wildlife_traps.sensor``) bound to a trap as their subject.
Their readings live in core's readings table, which the daily inspection record reads.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from core.db import Record


class TrapKind(StrEnum):
    BOX = "box"
    """箱わな: a cage whose door drops."""
    SNARE = "snare"
    """くくりわな: a foot snare."""
    ENCLOSURE = "enclosure"
    """囲いわな: a fenced enclosure."""


class TrapState(StrEnum):
    ARMED = "armed"
    DISARMED = "disarmed"
    SPRUNG = "sprung"
    REMOVED = "removed"


class Species(StrEnum):
    WILD_BOAR = "wild_boar"
    SIKA_DEER = "sika_deer"
    RACCOON_DOG = "raccoon_dog"
    BADGER = "badger"
    MASKED_PALM_CIVET = "masked_palm_civet"
    CAT = "cat"
    OTHER = "other"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class Disposal(StrEnum):
    CULLED_BURIED = "culled_buried"
    CULLED_INCINERATED = "culled_incinerated"
    PROCESSED = "processed"
    """Taken to a game-meat processing facility (ジビエ)."""
    RELEASED = "released"
    """Non-target animals must be released (DOMAIN.md)."""
    OTHER = "other"


class InspectionResult(StrEnum):
    OK = "ok"
    """Set and empty, nothing to do."""
    CAPTURE = "capture"
    RELEASED_NON_TARGET = "released_non_target"
    FALSE_TRIGGER = "false_trigger"
    NEEDS_REPAIR = "needs_repair"


class EventKind(StrEnum):
    CREATED = "created"
    TRIGGER = "trigger"
    """A trigger seen, not confirmed yet: it becomes ``sprung`` or ``bounce``."""
    SPRUNG = "sprung"
    BOUNCE = "bounce"
    RELEASED = "released"
    """The trigger of a sprung trap returned to rest; the trap stays sprung until a reset."""
    IGNORED = "ignored"
    """A trigger of a disarmed or removed trap: recorded, no alert."""
    ARMED = "armed"
    DISARMED = "disarmed"
    REMOVED = "removed"
    RESET = "reset"
    INSPECTION = "inspection"
    CAPTURE = "capture"
    WELFARE = "welfare"


class Outcome(StrEnum):
    """What a sprung event turned out to be, from the records people made afterwards."""

    CAPTURE = "capture"
    FALSE_TRIGGER = "false_trigger"


class Trap(Record):
    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    name = fields.CharField(max_length=200)
    kind = fields.CharEnumField(TrapKind, max_length=12)
    latitude = fields.FloatField()
    longitude = fields.FloatField()
    target_species = fields.JSONField(default=list)
    permit_number = fields.CharField(max_length=100)
    permit_valid_from = fields.DateField()
    permit_valid_until = fields.DateField()
    owner = fields.ForeignKeyField("core.User", related_name=False)
    backup_ids = fields.JSONField(default=list)
    """Backup responders' user ids, in the order they are called."""
    state = fields.CharEnumField(TrapState, max_length=10)
    state_changed_at = fields.DatetimeField()
    sprung_at = fields.DatetimeField(null=True)
    sprung_alert_id = fields.UUIDField(null=True)
    welfare_alerted_at = fields.DatetimeField(null=True)
    permit_alert = fields.CharField(max_length=10, null=True)
    """The permit warning already raised for the current dates: expiring or expired."""
    note = fields.TextField(default="")
    updated_at = fields.DatetimeField()

    class Meta:
        indexes = (("organization_id", "state"),)


class TrapEvent(Record):
    """One thing that happened to a trap, for its timeline and its daily record."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    trap: fields.ForeignKeyRelation[Trap] = fields.ForeignKeyField(
        "wildlife_traps.Trap", related_name="events", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(EventKind, max_length=12)
    at = fields.DatetimeField()
    state_after = fields.CharEnumField(TrapState, max_length=10, null=True)
    """Set on the events that change the trap's state."""
    device_id = fields.UUIDField(null=True)
    user = fields.ForeignKeyField("core.User", related_name=False, null=True)
    data = fields.JSONField(default=dict)
    capture_probability = fields.FloatField(null=True)
    model_version = fields.CharField(max_length=100, null=True)
    alert_id = fields.UUIDField(null=True)
    outcome = fields.CharEnumField(Outcome, max_length=14, null=True)

    class Meta:
        indexes = (("trap_id", "at"), ("kind", "at"))


class Inspection(Record):
    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    trap: fields.ForeignKeyRelation[Trap] = fields.ForeignKeyField(
        "wildlife_traps.Trap", related_name="inspections", on_delete=fields.CASCADE
    )
    inspector = fields.ForeignKeyField("core.User", related_name=False)
    inspected_at = fields.DatetimeField()
    result = fields.CharEnumField(InspectionResult, max_length=20)
    note = fields.TextField(default="")
    photo_ids = fields.JSONField(default=list)

    class Meta:
        indexes = (("trap_id", "inspected_at"),)


class Capture(Record):
    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    trap: fields.ForeignKeyRelation[Trap] = fields.ForeignKeyField(
        "wildlife_traps.Trap", related_name="captures", on_delete=fields.CASCADE
    )
    sprung_event = fields.ForeignKeyField(
        "wildlife_traps.TrapEvent", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    captured_at = fields.DatetimeField()
    species = fields.CharEnumField(Species, max_length=20)
    count = fields.IntField()
    sex = fields.CharEnumField(Sex, max_length=8)
    estimated_weight_kg = fields.FloatField(null=True)
    disposal = fields.CharEnumField(Disposal, max_length=20)
    latitude = fields.FloatField()
    longitude = fields.FloatField()
    note = fields.TextField(default="")
    photo_ids = fields.JSONField(default=list)
    recorded_by = fields.ForeignKeyField("core.User", related_name=False)

    class Meta:
        indexes = (("organization_id", "captured_at"),)


class SensorState(Record):
    """The last trigger state and battery voltage a trap sensor reported: a trigger reading
    that repeats the state is a heartbeat, one that changes it is an event."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    device_id = fields.UUIDField(unique=True)
    trap: fields.ForeignKeyRelation[Trap] = fields.ForeignKeyField(
        "wildlife_traps.Trap", related_name=False, on_delete=fields.CASCADE
    )
    trigger = fields.FloatField(null=True)
    trigger_at = fields.DatetimeField(null=True)
    battery_v = fields.FloatField(null=True)
    battery_at = fields.DatetimeField(null=True)


class Reminder(Record):
    """An evening reminder sent to one owner for one organization's traps and one day: sent
    once, however often the job runs."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    user = fields.ForeignKeyField("core.User", related_name=False)
    day = fields.DateField()
    traps = fields.IntField()

    class Meta:
        unique_together = (("organization", "user", "day"),)
