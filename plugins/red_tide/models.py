"""Records of the red tide plugin (tables ``red_tide_*``).

Sea areas, stations and water samples are the city's public record of the sea (what the
prefectural flash reports publish): they belong to no organization, city staff write them,
every user reads them. Fish farms, cages, feeding plans and logs belong to a fishery
organization, under core's tenancy rule.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from core.clock import now as clock_now
from core.db import Record


class FarmedSpecies(StrEnum):
    YELLOWTAIL = "yellowtail"
    GREATER_AMBERJACK = "greater_amberjack"
    RED_SEA_BREAM = "red_sea_bream"
    TUNA = "tuna"
    PEARL_OYSTER = "pearl_oyster"
    OYSTER = "oyster"
    OTHER = "other"


NOT_FED = frozenset({FarmedSpecies.PEARL_OYSTER, FarmedSpecies.OYSTER})
"""Shellfish filter the water: nobody feeds them, so they get no feeding advice."""


class Advice(StrEnum):
    NORMAL = "normal"
    RESTRICT = "restrict"
    STOP = "stop"
    NOT_FED = "not_fed"


class SampleSource(StrEnum):
    MANUAL = "manual"
    IMPORT = "import"


class FeedingSource(StrEnum):
    MANUAL = "manual"
    FEEDER = "feeder"


class SeaArea(Record):
    """A watched sea area (a bay) with its outline and its current red-tide level."""

    name = fields.CharField(max_length=200, unique=True)
    polygon = fields.JSONField()
    """GeoJSON Polygon coordinates: rings of [longitude, latitude]."""
    level = fields.CharField(max_length=10, default="none")
    level_since = fields.DatetimeField(null=True)
    detail = fields.JSONField(default=dict)
    """The evaluation behind the level: the deciding rule, density and stations."""
    ratio = fields.FloatField(default=0.0)
    """Highest density of the latest samplings relative to its advisory density."""
    updated_at = fields.DatetimeField(default=clock_now)


class Station(Record):
    """A sampling station, where lab staff take water and a telemeter buoy may float."""

    area: fields.ForeignKeyRelation[SeaArea] = fields.ForeignKeyField(
        "red_tide.SeaArea", related_name="stations"
    )
    code = fields.CharField(max_length=50, unique=True)
    """The station's code in the flash report, which the CSV import matches."""
    name = fields.CharField(max_length=200)
    latitude = fields.FloatField()
    longitude = fields.FloatField()
    operator = fields.ForeignKeyField("core.Organization", related_name=False, null=True)
    """The organization whose buoys may report for this station (None: any organization)."""
    updated_at = fields.DatetimeField(default=clock_now)


class Sample(Record):
    """One water sample: a station at a depth and time, its temperature and salinity, and
    cells/mL per harmful species (0 when counted and absent)."""

    station: fields.ForeignKeyRelation[Station] = fields.ForeignKeyField(
        "red_tide.Station", related_name="samples"
    )
    sampled_at = fields.DatetimeField()
    sampling_day = fields.DateField()
    """The local (city) date of ``sampled_at``: one sampling of a station is one day."""
    depth_m = fields.FloatField()
    temperature_c = fields.FloatField(null=True)
    salinity = fields.FloatField(null=True)
    counts = fields.JSONField(default=dict)
    source = fields.CharEnumField(SampleSource, max_length=10)
    entered_by = fields.ForeignKeyField("core.User", related_name=False, null=True)
    updated_at = fields.DatetimeField(default=clock_now)

    class Meta:
        unique_together = (("station", "sampled_at", "depth_m"),)
        indexes = (("station_id", "sampling_day"), ("sampling_day",))


class LevelChange(Record):
    """An area's level moved: the history behind trends, bulletins and audits."""

    area: fields.ForeignKeyRelation[SeaArea] = fields.ForeignKeyField(
        "red_tide.SeaArea", related_name="changes"
    )
    previous = fields.CharField(max_length=10)
    level = fields.CharField(max_length=10)
    changed_at = fields.DatetimeField()
    detail = fields.JSONField(default=dict)

    class Meta:
        indexes = (("area_id", "changed_at"),)


class AreaRisk(Record):
    """The 3-day bloom probability of an area for a local day (latest computation)."""

    area: fields.ForeignKeyRelation[SeaArea] = fields.ForeignKeyField(
        "red_tide.SeaArea", related_name="risks"
    )
    day = fields.DateField()
    computed_at = fields.DatetimeField()
    probability = fields.FloatField()
    high = fields.BooleanField()
    model_version = fields.CharField(max_length=120)
    features = fields.JSONField(default=dict)

    class Meta:
        unique_together = (("area", "day"),)


class FishFarm(Record):
    """A fishery organization's farming site in a sea area."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    area: fields.ForeignKeyRelation[SeaArea] = fields.ForeignKeyField(
        "red_tide.SeaArea", related_name="farms"
    )
    name = fields.CharField(max_length=200)
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    updated_at = fields.DatetimeField(default=clock_now)


class Cage(Record):
    """A net cage (or raft) of a farm, with what it holds."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    farm: fields.ForeignKeyRelation[FishFarm] = fields.ForeignKeyField(
        "red_tide.FishFarm", related_name="cages"
    )
    name = fields.CharField(max_length=200)
    species = fields.CharEnumField(FarmedSpecies, max_length=30)
    stock = fields.IntField(null=True)
    """Fish (or shells) held, when known."""
    updated_at = fields.DatetimeField(default=clock_now)


class FeedingPlan(Record):
    """A planned daily feeding of a cage: a local time and a ration in kg."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    cage: fields.ForeignKeyRelation[Cage] = fields.ForeignKeyField(
        "red_tide.Cage", related_name="plans"
    )
    time_of_day = fields.CharField(max_length=5)
    kg = fields.FloatField()
    active = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField(default=clock_now)


class FeedingLog(Record):
    """One feeding, logged by hand or dispensed by a feeder. A feeding during a stop keeps
    the reason it was overridden, who gave it and when."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    cage: fields.ForeignKeyRelation[Cage] = fields.ForeignKeyField(
        "red_tide.Cage", related_name="feedings"
    )
    fed_at = fields.DatetimeField()
    kg = fields.FloatField()
    source = fields.CharEnumField(FeedingSource, max_length=10)
    device_id = fields.UUIDField(null=True)
    message_id = fields.CharField(max_length=64, null=True)
    logged_by = fields.ForeignKeyField("core.User", related_name=False, null=True)
    advice = fields.CharEnumField(Advice, max_length=10)
    """The cage's feeding advice when it was fed."""
    override_reason = fields.TextField(null=True)
    override_by = fields.ForeignKeyField("core.User", related_name=False, null=True)
    override_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(default=clock_now)

    class Meta:
        unique_together = (("device_id", "message_id"),)
        indexes = (("cage_id", "fed_at"),)


class FeedingAdvice(Record):
    """Advice issued to a cage when its area's level changed (the history, while the current
    advice always follows the area's level)."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    cage: fields.ForeignKeyRelation[Cage] = fields.ForeignKeyField(
        "red_tide.Cage", related_name="advice"
    )
    area: fields.ForeignKeyRelation[SeaArea] = fields.ForeignKeyField(
        "red_tide.SeaArea", related_name=False
    )
    level = fields.CharField(max_length=10)
    advice = fields.CharEnumField(Advice, max_length=10)
    issued_at = fields.DatetimeField()

    class Meta:
        indexes = (("cage_id", "issued_at"),)


class BulletinSubscription(Record):
    """A member's subscription to the daily bulletin (areas: empty means the areas of the
    member's farms)."""

    user = fields.ForeignKeyField("core.User", related_name=False, unique=True)
    areas = fields.JSONField(default=list)
    active = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField(default=clock_now)


class BulletinDelivery(Record):
    """The bulletin a member was sent on a local morning: once per user and local date."""

    user = fields.ForeignKeyField("core.User", related_name=False)
    local_date = fields.DateField()
    sent_at = fields.DatetimeField()
    level = fields.CharField(max_length=10, default="none")
    """The highest level of the bulletin's areas."""
    title = fields.JSONField()
    body = fields.JSONField()
    """The texts as stored messages, rendered in the reader's language when shown."""

    class Meta:
        unique_together = (("user", "local_date"),)
