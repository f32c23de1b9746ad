"""The herd: animals, their reproductive events, the heats the collars found, and what the
daily jobs wrote. Every row belongs to an organization (a farm)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from core.clock import now as clock_now
from core.db import Record


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


class Housing(StrEnum):
    FREE_STALL = "free_stall"
    TIE_STALL = "tie_stall"
    PASTURE = "pasture"


class AnimalStatus(StrEnum):
    ACTIVE = "active"
    SOLD = "sold"
    CULLED = "culled"
    DEAD = "dead"


class EventKind(StrEnum):
    CALVING = "calving"
    HEAT = "heat"
    """A heat someone saw (standing to be mounted), not one the collar found."""
    INSEMINATION = "insemination"
    PREGNANCY_CHECK = "pregnancy_check"
    DRY_OFF = "dry_off"
    CULL = "cull"


class Animal(Record):
    """A head of cattle. ``ear_tag`` is the 10-digit individual identification number on its
    ear tag, its public identifier."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    ear_tag = fields.CharField(max_length=10)
    name = fields.CharField(max_length=100, default="")
    breed = fields.CharField(max_length=60, default="")
    sex = fields.CharEnumField(Sex, max_length=10, default=Sex.FEMALE)
    birth_date = fields.DateField(null=True)
    group = fields.CharField(max_length=60, default="")
    housing = fields.CharEnumField(Housing, max_length=12, default=Housing.FREE_STALL)
    status = fields.CharEnumField(AnimalStatus, max_length=10, default=AnimalStatus.ACTIVE)
    monitoring_since = fields.DatetimeField(null=True)
    """The first collar reading: the learning period counts from here."""
    updated_at = fields.DatetimeField(default=clock_now)
    """Changed with the animal and with its events (offline sync reads it)."""

    class Meta:
        unique_together = (("organization", "ear_tag"),)
        indexes = (("organization_id", "updated_at"),)


class ReproductiveEvent(Record):
    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    animal = fields.ForeignKeyField("livestock.Animal", related_name="events")
    kind = fields.CharEnumField(EventKind, max_length=20)
    at = fields.DatetimeField()
    sire = fields.CharField(max_length=100, default="")
    """The bull (or semen straw) of an insemination."""
    pregnant = fields.BooleanField(null=True)
    """The result of a pregnancy check."""
    note = fields.TextField(default="")
    recorded_by = fields.ForeignKeyField("core.User", related_name=False, null=True)
    updated_at = fields.DatetimeField(default=clock_now)

    class Meta:
        indexes = (("animal_id", "at"), ("organization_id", "updated_at"))


class Heat(Record):
    """A heat the collar found: the estrus alert it raised and when to inseminate."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    animal = fields.ForeignKeyField("livestock.Animal", related_name="heats")
    onset = fields.DatetimeField()
    detected_at = fields.DatetimeField()
    probability = fields.FloatField()
    model_version = fields.CharField(max_length=100)
    alert_id = fields.UUIDField(null=True)

    class Meta:
        indexes = (("animal_id", "onset"), ("organization_id", "detected_at"))


class HerdSummary(Record):
    """What the daily summary job counted for a farm on a (local) day."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    day = fields.DateField()
    data = fields.JSONField(default=dict)

    class Meta:
        unique_together = (("organization", "day"),)


class Reminder(Record):
    """A breeding-calendar reminder that was sent, so a repeated run sends it once."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    animal = fields.ForeignKeyField("livestock.Animal", related_name="reminders")
    kind = fields.CharField(max_length=30)
    due = fields.DateField()

    class Meta:
        unique_together = (("animal", "kind", "due"),)
