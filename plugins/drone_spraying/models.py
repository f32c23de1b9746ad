"""What the drone spraying plugin stores.

Spray records are legal evidence: they are never deleted. A record row holds the current
state, every change appends a :class:`SprayRecordVersion` (who, when, why, the whole record
as it was), and the foreign keys that point at records and versions refuse deletes.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from core.clock import now as clock_now
from core.db import Record


class AreaSource(StrEnum):
    BOUNDARY = "boundary"
    MANUAL = "manual"


class SprayStatus(StrEnum):
    PLANNED = "planned"
    DONE = "done"
    VOIDED = "voided"


class VersionKind(StrEnum):
    CREATED = "created"
    CORRECTED = "corrected"
    TRACK_IMPORTED = "track_imported"
    VOIDED = "voided"


class FarmField(Record):
    """A field (圃場) of a farm, with its boundary as a GeoJSON polygon in WGS84 or an area
    entered by hand."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    name = fields.CharField(max_length=200)
    crop = fields.CharField(max_length=100, default="")
    location = fields.CharField(max_length=300, default="")
    boundary = fields.JSONField(null=True)
    area_m2 = fields.FloatField()
    area_source = fields.CharEnumField(AreaSource, max_length=10)
    centroid_lat = fields.FloatField(null=True)
    centroid_lon = fields.FloatField(null=True)
    updated_at = fields.DatetimeField(default=clock_now)


class Season(Record):
    """One crop on one field from planting to harvest. ``earliest_harvest_date`` follows
    from the season's sprays and their labels' pre-harvest intervals."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    field = fields.ForeignKeyField(
        "drone_spraying.FarmField", related_name=False, on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=200, default="")
    crop = fields.CharField(max_length=100)
    planting_date = fields.DateField()
    planned_harvest_date = fields.DateField(null=True)
    earliest_harvest_date = fields.DateField(null=True)
    reminded_for = fields.DateField(null=True)
    """The earliest harvest date the interval reminder was last sent for."""
    updated_at = fields.DatetimeField(default=clock_now)


class Drone(Record):
    """A spraying drone, by its aircraft registration number (機体登録記号)."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    registration_number = fields.CharField(max_length=40)
    model = fields.CharField(max_length=100)
    last_inspection = fields.DateField(null=True)
    next_inspection_due = fields.DateField(null=True)
    updated_at = fields.DatetimeField(default=clock_now)

    class Meta:
        unique_together = (("organization", "registration_number"),)


class Operator(Record):
    """A pilot with the licence they fly under."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    name = fields.CharField(max_length=200)
    licence_number = fields.CharField(max_length=60, default="")
    licence_expires = fields.DateField(null=True)
    phone = fields.CharField(max_length=40, default="")
    updated_at = fields.DatetimeField(default=clock_now)


class Pesticide(Record):
    """A registered pesticide of the city's catalogue, kept by city staff."""

    registration_number = fields.CharField(max_length=40, unique=True)
    name = fields.CharField(max_length=200)
    active_ingredients = fields.JSONField()
    formulation = fields.CharField(max_length=100, default="")
    kind = fields.CharField(max_length=40, default="")
    amount_unit = fields.CharField(max_length=4, default="L")
    updated_at = fields.DatetimeField(default=clock_now)


class PesticideLabel(Record):
    """What a product's label allows on one crop (Pesticide Use Standards, Art. 2)."""

    pesticide = fields.ForeignKeyField(
        "drone_spraying.Pesticide", related_name=False, on_delete=fields.CASCADE
    )
    crop = fields.CharField(max_length=100)
    crop_key = fields.CharField(max_length=100)
    min_dilution = fields.FloatField(null=True)
    max_amount_per_10a = fields.FloatField()
    phi_days = fields.IntField(null=True)
    max_uses = fields.IntField(null=True)
    ingredient_max_uses = fields.JSONField(default=dict)
    target = fields.CharField(max_length=300, default="")
    updated_at = fields.DatetimeField(default=clock_now)

    class Meta:
        unique_together = (("pesticide", "crop_key"),)


class SprayRecord(Record):
    """The current state of one spraying of one field, planned or done."""

    organization = fields.ForeignKeyField(
        "core.Organization", related_name=False, on_delete=fields.RESTRICT
    )
    field = fields.ForeignKeyField(
        "drone_spraying.FarmField", related_name=False, on_delete=fields.RESTRICT
    )
    season = fields.ForeignKeyField(
        "drone_spraying.Season", related_name=False, on_delete=fields.RESTRICT
    )
    drone = fields.ForeignKeyField(
        "drone_spraying.Drone", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    operator = fields.ForeignKeyField(
        "drone_spraying.Operator", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    status = fields.CharEnumField(SprayStatus, max_length=10)
    started_at = fields.DatetimeField()
    ended_at = fields.DatetimeField()
    spray_day = fields.DateField()
    """The local day the spraying ended: pre-harvest intervals count from it."""
    crop = fields.CharField(max_length=100)
    area_m2 = fields.FloatField()
    products = fields.JSONField()
    purpose = fields.CharField(max_length=300, default="")
    wind_speed_ms = fields.FloatField(null=True)
    temperature_c = fields.FloatField(null=True)
    contact = fields.CharField(max_length=200, default="")
    notes = fields.TextField(default="")
    verdict = fields.JSONField(default=list)
    track = fields.JSONField(null=True)
    version = fields.IntField(default=1)
    updated_at = fields.DatetimeField(default=clock_now)

    class Meta:
        indexes = (("organization_id", "started_at"), ("season_id", "status"))


class SprayRecordVersion(Record):
    """One version of a spray record: the whole record as it then was, with who changed it,
    when (``created_at``) and why. Never updated, never deleted."""

    organization = fields.ForeignKeyField(
        "core.Organization", related_name=False, on_delete=fields.RESTRICT
    )
    record = fields.ForeignKeyField(
        "drone_spraying.SprayRecord", related_name=False, on_delete=fields.RESTRICT
    )
    version = fields.IntField()
    kind = fields.CharEnumField(VersionKind, max_length=20)
    reason = fields.TextField(default="")
    author = fields.ForeignKeyField(
        "core.User", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    snapshot = fields.JSONField()

    class Meta:
        unique_together = (("record", "version"),)


class SprayRefusal(Record):
    """A spraying Minori refused to record (a planned one, usually), with every reason."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    field = fields.ForeignKeyField(
        "drone_spraying.FarmField", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    season = fields.ForeignKeyField(
        "drone_spraying.Season", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    record = fields.ForeignKeyField(
        "drone_spraying.SprayRecord", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    author = fields.ForeignKeyField(
        "core.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    started_at = fields.DatetimeField(null=True)
    crop = fields.CharField(max_length=100, default="")
    reasons = fields.JSONField()
    attempted = fields.JSONField()


class SprayTrack(Record):
    """A flight track imported for a spray record, with what it measured."""

    organization = fields.ForeignKeyField(
        "core.Organization", related_name=False, on_delete=fields.RESTRICT
    )
    record = fields.ForeignKeyField(
        "drone_spraying.SprayRecord", related_name=False, on_delete=fields.RESTRICT
    )
    author = fields.ForeignKeyField(
        "core.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    source_format = fields.CharField(max_length=10)
    swath_width_m = fields.FloatField()
    point_count = fields.IntField()
    sprayed_paths = fields.JSONField()
    summary = fields.JSONField()


class FlightLog(Record):
    """A flight log entry (飛行日誌, flight record part) as the aviation law asks."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    drone = fields.ForeignKeyField(
        "drone_spraying.Drone", related_name=False, on_delete=fields.RESTRICT
    )
    operator = fields.ForeignKeyField(
        "drone_spraying.Operator", related_name=False, on_delete=fields.RESTRICT
    )
    spray_record = fields.ForeignKeyField(
        "drone_spraying.SprayRecord", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    purpose = fields.CharField(max_length=200)
    takeoff_place = fields.CharField(max_length=300)
    takeoff_at = fields.DatetimeField()
    landing_place = fields.CharField(max_length=300)
    landing_at = fields.DatetimeField()
    flight_minutes = fields.FloatField()
    incidents = fields.TextField(default="")
    defects = fields.TextField(default="")


class PreflightCheck(Record):
    """A daily pre-flight inspection (日常点検) of a drone."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    drone = fields.ForeignKeyField(
        "drone_spraying.Drone", related_name=False, on_delete=fields.RESTRICT
    )
    operator = fields.ForeignKeyField(
        "drone_spraying.Operator", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    checked_on = fields.DateField()
    items = fields.JSONField()
    passed = fields.BooleanField()
    notes = fields.TextField(default="")
