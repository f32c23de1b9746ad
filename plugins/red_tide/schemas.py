"""Request and response bodies of ``/api/v1/red_tide``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar.datastructures import UploadFile

from plugins.red_tide.models import Advice, FarmedSpecies, FeedingSource, SampleSource

Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Position = Annotated[list[float], msgspec.Meta(min_length=2, max_length=2)]
Ring = Annotated[list[Position], msgspec.Meta(min_length=4, max_length=2000)]
Polygon = Annotated[list[Ring], msgspec.Meta(min_length=1, max_length=50)]
"""GeoJSON Polygon coordinates: an outer ring, then holes; each ring closed, [lon, lat]."""
Kg = Annotated[float, msgspec.Meta(gt=0, le=100000)]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=2000)]
LevelName = Literal["none", "advisory", "warning"]
Trend = Literal["rising", "falling", "steady", "unknown"]


# Sea areas and stations: the city's public record of the sea.


class AreaCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    polygon: Polygon


class AreaPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    polygon: Polygon | None = None


class StationRef(msgspec.Struct):
    id: str
    code: str
    name: str


class Finding(msgspec.Struct):
    """What one threshold rule found in the latest samplings of an area."""

    rule: str
    species: list[str]
    level: LevelName
    cells_per_ml: float
    advisory: float | None
    warning: float | None
    min_stations: int
    stations: list[StationRef]


class Risk(msgspec.Struct):
    """The 3-day bloom probability of ``red_tide.bloom_risk`` for an area."""

    day: date
    probability: float
    high: bool
    threshold: float
    model_version: str
    computed_at: datetime


class Area(msgspec.Struct):
    id: str
    name: str
    level: LevelName
    level_since: datetime | None
    trend: Trend
    """Of the harmful densities between each station's two latest samplings."""
    ratio: float
    """Highest latest density relative to its advisory density (1.0 = advisory level)."""
    sampling_day: date | None
    findings: list[Finding]
    risk: Risk | None
    stations: list[StationRef]
    farms: int
    created_at: datetime
    updated_at: datetime


class AreaList(msgspec.Struct):
    items: list[Area]
    next_cursor: str | None


class StationCreate(msgspec.Struct, forbid_unknown_fields=True):
    area_id: str
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    name: Name
    latitude: Latitude
    longitude: Longitude
    operator_id: str | None = None


class StationPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None


class Station(msgspec.Struct):
    id: str
    area_id: str
    code: str
    name: str
    latitude: float
    longitude: float
    operator_id: str | None
    buoys: list[str]
    """Ids of the ``red_tide.buoy`` devices bound to this station."""
    created_at: datetime


class StationList(msgspec.Struct):
    items: list[Station]
    next_cursor: str | None


# Water samples and cell counts.


class SampleCreate(msgspec.Struct, forbid_unknown_fields=True):
    station_id: str
    sampled_at: datetime
    depth_m: Annotated[float, msgspec.Meta(ge=0, le=200)]
    counts: dict[str, float]
    """cells/mL (0 to 10,000,000) per species id (``karenia_mikimotoi``…); a species counted
    and absent is 0."""
    temperature_c: Annotated[float, msgspec.Meta(ge=-2, le=40)] | None = None
    salinity: Annotated[float, msgspec.Meta(ge=0, le=45)] | None = None


class Sample(msgspec.Struct):
    id: str
    station_id: str
    station_code: str
    area_id: str
    sampled_at: datetime
    sampling_day: date
    depth_m: float
    temperature_c: float | None
    salinity: float | None
    counts: dict[str, float]
    source: SampleSource
    created_at: datetime


class SampleList(msgspec.Struct):
    items: list[Sample]
    next_cursor: str | None


@dataclass
class CsvUpload:
    file: UploadFile
    """A flash-report CSV file, UTF-8."""


class RowError(msgspec.Struct):
    row: int
    """Line number in the file (the header is line 1)."""
    column: str | None
    detail: str


class ImportResult(msgspec.Struct):
    rows: int
    created: int
    updated: int
    unchanged: int
    errors: list[RowError]
    levels: dict[str, LevelName]
    """The level of every area the file had samples for, after the import."""


class Rule(msgspec.Struct):
    label: str
    species: list[str]
    advisory: float | None
    warning: float | None
    min_stations: int
    source: str


class Thresholds(msgspec.Struct):
    preset: str
    presets: list[str]
    rules: list[Rule]
    species: dict[str, str]


# Charts and the map.


class Point(msgspec.Struct, array_like=True):
    ts: datetime
    value: float


class Series(msgspec.Struct):
    name: str
    unit: str
    points: list[Point]
    """``[ts, value]`` pairs, oldest first."""


class StationSeries(msgspec.Struct):
    station_id: str
    start: datetime = msgspec.field(name="from")
    end: datetime = msgspec.field(name="to")
    resolution: Literal["hour", "raw"]
    telemetry: list[Series]
    """Buoy metrics (hourly means with resolution=hour)."""
    counts: list[Series]
    """Cells/mL per species: the highest depth of each sample time."""


# Farms, cages, feeding.


class FarmCreate(msgspec.Struct, forbid_unknown_fields=True):
    organization_id: str
    area_id: str
    name: Name
    latitude: Latitude | None = None
    longitude: Longitude | None = None


class FarmPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    area_id: str | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None


class Farm(msgspec.Struct):
    id: str
    organization_id: str
    area_id: str
    area_name: str
    name: str
    latitude: float | None
    longitude: float | None
    level: LevelName
    advice: Advice
    cages: int
    created_at: datetime


class FarmList(msgspec.Struct):
    items: list[Farm]
    next_cursor: str | None


class CageCreate(msgspec.Struct, forbid_unknown_fields=True):
    farm_id: str
    name: Name
    species: FarmedSpecies
    stock: Annotated[int, msgspec.Meta(ge=0)] | None = None


class CagePatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    species: FarmedSpecies | None = None
    stock: Annotated[int, msgspec.Meta(ge=0)] | None = None


class Cage(msgspec.Struct):
    id: str
    organization_id: str
    farm_id: str
    area_id: str
    name: str
    species: FarmedSpecies
    stock: int | None
    level: LevelName
    advice: Advice
    """Today's feeding advice: normal, restrict (advisory level), stop (warning level), or
    not_fed (shellfish)."""
    max_kg_today: float | None
    """With restrict: the share of today's planned ration still allowed; None otherwise."""
    created_at: datetime


class CageList(msgspec.Struct):
    items: list[Cage]
    next_cursor: str | None


class FeedingCreate(msgspec.Struct, forbid_unknown_fields=True):
    cage_id: str
    kg: Kg
    fed_at: datetime | None = None
    """Defaults to now."""
    override_reason: Reason | None = None
    """Required while the cage's feeding is stopped; kept with the feeding."""


class Override(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class Person(msgspec.Struct):
    id: str
    display_name: str


class Feeding(msgspec.Struct):
    id: str
    organization_id: str
    cage_id: str
    fed_at: datetime
    kg: float
    source: FeedingSource
    device_id: str | None
    logged_by: Person | None
    advice: Advice
    """The cage's advice when it was fed."""
    needs_reason: bool
    """Fed during a stop and no reason given yet."""
    override_reason: str | None
    override_by: Person | None
    override_at: datetime | None
    created_at: datetime


class FeedingList(msgspec.Struct):
    items: list[Feeding]
    next_cursor: str | None


class PlanCreate(msgspec.Struct, forbid_unknown_fields=True):
    cage_id: str
    time_of_day: HHMM
    kg: Kg
    active: bool = True


class PlanPatch(msgspec.Struct, forbid_unknown_fields=True):
    time_of_day: HHMM | None = None
    kg: Kg | None = None
    active: bool | None = None


class Plan(msgspec.Struct):
    id: str
    organization_id: str
    cage_id: str
    time_of_day: str
    kg: float
    active: bool
    suspended: bool
    """The cage's feeding is stopped: the plan does not run today."""
    created_at: datetime


class PlanList(msgspec.Struct):
    items: list[Plan]
    next_cursor: str | None


class AdviceIssued(msgspec.Struct):
    id: str
    organization_id: str
    cage_id: str
    area_id: str
    level: LevelName
    advice: Advice
    issued_at: datetime


class AdviceList(msgspec.Struct):
    items: list[AdviceIssued]
    next_cursor: str | None


# The daily bulletin.


class SubscriptionIn(msgspec.Struct, forbid_unknown_fields=True):
    active: bool = True
    areas: Annotated[list[str], msgspec.Meta(max_length=100)] = []
    """Area ids; empty: the areas of the member's farms."""


class Subscription(msgspec.Struct):
    active: bool
    areas: list[str]
    bulletin_time: str
    timezone: str


class BulletinArea(msgspec.Struct):
    area_id: str
    name: str
    level: LevelName
    sampling_day: date | None
    species: str | None
    cells_per_ml: float | None
    risk: float | None
    risk_high: bool | None


class BulletinCage(msgspec.Struct):
    cage_id: str
    name: str
    farm: str
    advice: Advice
    max_kg_today: float | None


class Bulletin(msgspec.Struct):
    date: date
    title: str
    body: str
    areas: list[BulletinArea]
    cages: list[BulletinCage]
    sent_at: datetime | None
    """When this morning's push went out to the caller (None: not sent yet)."""


# Events other plugins may subscribe to.


class LevelChanged(msgspec.Struct):
    """Published as ``red_tide.level_changed`` after a level change is committed."""

    area_id: str
    area: str
    previous: LevelName
    level: LevelName
    changed_at: datetime
    species: list[str]
    cells_per_ml: float
    stations: list[str]
    farms: list[str]
    """Ids of the fish farms in the area."""


GeoJSON = dict[str, Any]
