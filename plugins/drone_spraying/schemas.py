"""Requests and answers of the drone spraying routes (msgspec; never ORM objects)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Short = Annotated[str, msgspec.Meta(max_length=300)]
Positive = Annotated[float, msgspec.Meta(gt=0)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class Ref(msgspec.Struct):
    id: str
    name: str


# ------------------------------------------------------------------------------ fields


class FieldCreate(msgspec.Struct, forbid_unknown_fields=True):
    organization_id: str
    name: Name
    crop: Short = ""
    location: Short = ""
    boundary: dict[str, Any] | None = None
    """A GeoJSON Polygon or MultiPolygon in WGS84 (longitude, latitude); its area is
    computed on the ellipsoid. Give either this or ``area_m2``."""
    area_m2: Positive | None = None
    """The area entered by hand, when there is no boundary."""


class FieldUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    crop: Short | UnsetType = UNSET
    location: Short | UnsetType = UNSET
    boundary: dict[str, Any] | UnsetType | None = UNSET
    area_m2: Positive | UnsetType | None = UNSET


class Centroid(msgspec.Struct):
    lat: float
    lon: float


class Field(msgspec.Struct):
    id: str
    organization_id: str
    name: str
    crop: str
    location: str
    boundary: dict[str, Any] | None
    area_m2: float
    area_a: float
    """The area in are (10 a = 1,000 m²), the unit of labels."""
    area_source: str
    centroid: Centroid | None
    created_at: datetime
    updated_at: datetime


class FieldList(msgspec.Struct):
    items: list[Field]
    next_cursor: str | None


# ----------------------------------------------------------------------------- seasons


class SeasonCreate(msgspec.Struct, forbid_unknown_fields=True):
    field_id: str
    planting_date: date
    crop: Short | None = None
    """Defaults to the field's crop."""
    name: Short = ""
    planned_harvest_date: date | None = None


class SeasonUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Short | UnsetType = UNSET
    planting_date: date | UnsetType = UNSET
    planned_harvest_date: date | UnsetType | None = UNSET


class Season(msgspec.Struct):
    id: str
    organization_id: str
    field: Ref
    name: str
    crop: str
    planting_date: date
    planned_harvest_date: date | None
    earliest_harvest_date: date | None
    """The first day the season's sprays allow a harvest (latest spray day + its label's
    pre-harvest interval); None before any spray with an interval."""
    harvest_allowed: bool | None
    """Whether the planned harvest is on or after the earliest allowed date (None when
    either is unknown)."""
    created_at: datetime
    updated_at: datetime


class SeasonList(msgspec.Struct):
    items: list[Season]
    next_cursor: str | None


# ------------------------------------------------------------------ drones and pilots


class DroneCreate(msgspec.Struct, forbid_unknown_fields=True):
    organization_id: str
    registration_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    model: Name
    last_inspection: date | None = None
    next_inspection_due: date | None = None
    """When the next periodic inspection is due; without it, ``last_inspection`` plus the
    ``inspection_interval_days`` setting."""


class DroneUpdate(msgspec.Struct, forbid_unknown_fields=True):
    model: Name | UnsetType = UNSET
    last_inspection: date | UnsetType | None = UNSET
    next_inspection_due: date | UnsetType | None = UNSET


class Drone(msgspec.Struct):
    id: str
    organization_id: str
    registration_number: str
    model: str
    last_inspection: date | None
    next_inspection_due: date | None
    inspection_due: date | None
    """The due date in force: ``next_inspection_due`` or one computed from the last."""
    created_at: datetime
    updated_at: datetime


class DroneList(msgspec.Struct):
    items: list[Drone]
    next_cursor: str | None


class OperatorCreate(msgspec.Struct, forbid_unknown_fields=True):
    organization_id: str
    name: Name
    licence_number: Annotated[str, msgspec.Meta(max_length=60)] = ""
    licence_expires: date | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40)] = ""


class OperatorUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    licence_number: Annotated[str, msgspec.Meta(max_length=60)] | UnsetType = UNSET
    licence_expires: date | UnsetType | None = UNSET
    phone: Annotated[str, msgspec.Meta(max_length=40)] | UnsetType = UNSET


class Operator(msgspec.Struct):
    id: str
    organization_id: str
    name: str
    licence_number: str
    licence_expires: date | None
    phone: str
    created_at: datetime
    updated_at: datetime


class OperatorList(msgspec.Struct):
    items: list[Operator]
    next_cursor: str | None


# -------------------------------------------------------------------------- pesticides


class LabelRule(msgspec.Struct, forbid_unknown_fields=True):
    crop: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    max_amount_per_10a: Positive
    """Most product (before dilution, in the product's unit) per 10 a per use."""
    min_dilution: Annotated[float, msgspec.Meta(ge=1)] | None = None
    """Least dilution (times); None for products used as they are (granules)."""
    phi_days: Annotated[int, msgspec.Meta(ge=0, le=365)] | None = None
    """"Until N days before harvest"."""
    max_uses: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None
    """Uses of this product per season (本剤の使用回数)."""
    ingredient_max_uses: dict[str, Annotated[int, msgspec.Meta(ge=1, le=100)]] = {}
    """Uses per season of each active ingredient in all products that contain it."""
    target: Short = ""
    """The pests or diseases the label names for this crop."""


class PesticideCreate(msgspec.Struct, forbid_unknown_fields=True):
    registration_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    name: Name
    active_ingredients: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=100)]],
        msgspec.Meta(min_length=1, max_length=10),
    ]
    formulation: Annotated[str, msgspec.Meta(max_length=100)] = ""
    kind: Annotated[str, msgspec.Meta(max_length=40)] = ""
    amount_unit: Literal["L", "kg"] = "L"
    labels: Annotated[list[LabelRule], msgspec.Meta(max_length=100)] = []


class PesticideUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    formulation: Annotated[str, msgspec.Meta(max_length=100)] | UnsetType = UNSET
    kind: Annotated[str, msgspec.Meta(max_length=40)] | UnsetType = UNSET
    labels: Annotated[list[LabelRule], msgspec.Meta(max_length=100)] | UnsetType = UNSET
    """Replaces every label rule of the product."""


class Pesticide(msgspec.Struct):
    id: str
    registration_number: str
    name: str
    active_ingredients: list[str]
    formulation: str
    kind: str
    amount_unit: str
    labels: list[LabelRule]
    created_at: datetime
    updated_at: datetime


class PesticideList(msgspec.Struct):
    items: list[Pesticide]
    next_cursor: str | None


# -------------------------------------------------------------------------- spraying


class SprayProductIn(msgspec.Struct, forbid_unknown_fields=True):
    pesticide_id: str
    dilution: Annotated[float, msgspec.Meta(ge=1, le=100000)]
    """Times diluted (8 for 8倍); 1 for a product used as it is."""
    amount: Positive
    """Product used, before dilution, in the product's unit (L or kg)."""


class SprayCreate(msgspec.Struct, forbid_unknown_fields=True):
    season_id: str
    started_at: datetime
    ended_at: datetime
    products: Annotated[list[SprayProductIn], msgspec.Meta(min_length=1, max_length=10)]
    status: Literal["planned", "done"] = "planned"
    area_m2: Positive | None = None
    """Area sprayed; defaults to the field's area."""
    drone_id: str | None = None
    operator_id: str | None = None
    purpose: Short = ""
    wind_speed_ms: Annotated[float, msgspec.Meta(ge=0, le=100)] | None = None
    temperature_c: Annotated[float, msgspec.Meta(ge=-50, le=60)] | None = None
    contact: Annotated[str, msgspec.Meta(max_length=200)] = ""
    """Who neighbours call; defaults to the operator's phone."""
    notes: Annotated[str, msgspec.Meta(max_length=4000)] = ""


class SprayCorrection(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
    """Why the record is corrected: kept with the new version."""
    started_at: datetime | UnsetType = UNSET
    ended_at: datetime | UnsetType = UNSET
    products: (
        Annotated[list[SprayProductIn], msgspec.Meta(min_length=1, max_length=10)] | UnsetType
    ) = UNSET
    status: Literal["planned", "done"] | UnsetType = UNSET
    area_m2: Positive | UnsetType | None = UNSET
    drone_id: str | UnsetType | None = UNSET
    operator_id: str | UnsetType | None = UNSET
    purpose: Short | UnsetType = UNSET
    wind_speed_ms: Annotated[float, msgspec.Meta(ge=0, le=100)] | UnsetType | None = UNSET
    temperature_c: Annotated[float, msgspec.Meta(ge=-50, le=60)] | UnsetType | None = UNSET
    contact: Annotated[str, msgspec.Meta(max_length=200)] | UnsetType = UNSET
    notes: Annotated[str, msgspec.Meta(max_length=4000)] | UnsetType = UNSET


class SprayVoid(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class VerdictReason(msgspec.Struct):
    code: str
    """Stable, machine-readable: ``crop_not_on_label``, ``wind_above_warning``…"""
    severity: Literal["reject", "warn"]
    message: str
    """In the caller's language."""
    pointer: str
    """The part of the request the reason is about (JSON Pointer)."""
    data: dict[str, Any]


class Verdict(msgspec.Struct):
    outcome: Literal["ok", "warn", "reject"]
    reasons: list[VerdictReason]
    earliest_harvest_date: date | None = None
    """The season's earliest harvest date if this spraying is recorded."""


class SprayProduct(msgspec.Struct):
    pesticide_id: str
    name: str
    registration_number: str
    active_ingredients: list[str]
    dilution: float
    amount: float
    unit: str
    amount_per_10a: float
    spray_liquid: float
    """Amount of diluted liquid (amount x dilution), in the product's unit."""
    phi_days: int | None


class TrackSummary(msgspec.Struct):
    id: str
    source_format: str
    swath_width_m: float
    point_count: int
    pass_count: int
    distance_m: float
    sprayed_area_m2: float
    inside_area_m2: float | None
    field_area_m2: float | None
    coverage: float | None
    """Share of the field's area sprayed, 0 to 1."""
    outside_share: float | None
    """Share of the sprayed area outside the field, 0 to 1."""
    drift_warning: bool
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None
    spraying_s: float | None
    imported_at: datetime


class SprayRecord(msgspec.Struct):
    id: str
    organization_id: str
    field: Ref
    season_id: str
    status: str
    started_at: datetime
    ended_at: datetime
    spray_day: date
    crop: str
    area_m2: float
    products: list[SprayProduct]
    purpose: str
    drone: Ref | None
    operator: Ref | None
    wind_speed_ms: float | None
    temperature_c: float | None
    contact: str
    notes: str
    verdict: Verdict
    track: TrackSummary | None
    version: int
    created_at: datetime
    updated_at: datetime


class SprayRecordList(msgspec.Struct):
    items: list[SprayRecord]
    next_cursor: str | None


class Person(msgspec.Struct):
    id: str
    display_name: str


class SprayVersion(msgspec.Struct):
    version: int
    kind: str
    reason: str
    author: Person | None
    at: datetime
    changed: list[str]
    """Fields that differ from the previous version."""
    record: dict[str, Any]
    """The whole record as this version left it."""


class SprayHistory(msgspec.Struct):
    record_id: str
    versions: list[SprayVersion]


class TrackImport(msgspec.Struct, forbid_unknown_fields=True):
    format: Literal["geojson", "csv"]
    swath_width_m: Positive
    geojson: dict[str, Any] | None = None
    """A LineString, MultiLineString, Feature or FeatureCollection of them."""
    csv: str | None = None
    """The documented CSV: ``time,lat,lon,altitude,flow``."""


class Track(msgspec.Struct):
    summary: TrackSummary
    sprayed_paths: dict[str, Any]
    """The passes that sprayed, as a GeoJSON MultiLineString."""


class Refusal(msgspec.Struct):
    id: str
    organization_id: str
    field_id: str | None
    season_id: str | None
    record_id: str | None
    author_id: str | None
    started_at: datetime | None
    crop: str
    reasons: list[VerdictReason]
    created_at: datetime


class RefusalList(msgspec.Struct):
    items: list[Refusal]
    next_cursor: str | None


# ----------------------------------------------------------- flight logs and checks


class FlightLogCreate(msgspec.Struct, forbid_unknown_fields=True):
    drone_id: str
    operator_id: str
    purpose: Name
    takeoff_place: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    takeoff_at: datetime
    landing_place: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    landing_at: datetime
    spray_record_id: str | None = None
    incidents: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    """Anything that affected safety (飛行の安全に影響のあった事項)."""
    defects: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    """Defects found, and what was done about them."""


class FlightLog(msgspec.Struct):
    id: str
    organization_id: str
    drone: Ref
    operator: Ref
    spray_record_id: str | None
    purpose: str
    takeoff_place: str
    takeoff_at: datetime
    landing_place: str
    landing_at: datetime
    flight_minutes: float
    incidents: str
    defects: str
    created_at: datetime


class FlightLogList(msgspec.Struct):
    items: list[FlightLog]
    next_cursor: str | None


class PreflightCheckCreate(msgspec.Struct, forbid_unknown_fields=True):
    drone_id: str
    items: Annotated[dict[str, bool], msgspec.Meta(min_length=1, max_length=50)]
    """Each inspected item and whether it passed (``{"propellers": true, ...}``)."""
    operator_id: str | None = None
    checked_on: date | None = None
    """Defaults to today in the city's time zone."""
    notes: Annotated[str, msgspec.Meta(max_length=4000)] = ""


class PreflightCheck(msgspec.Struct):
    id: str
    organization_id: str
    drone: Ref
    operator: Ref | None
    checked_on: date
    items: dict[str, bool]
    passed: bool
    notes: str
    created_at: datetime


class PreflightCheckList(msgspec.Struct):
    items: list[PreflightCheck]
    next_cursor: str | None


# ---------------------------------------------------------------------------- reports


class RecordBookRow(msgspec.Struct):
    date: date
    started_at: datetime
    ended_at: datetime
    field: str
    crop: str
    pesticide: str
    registration_number: str
    active_ingredients: list[str]
    purpose: str
    dilution: float
    amount: float
    unit: str
    amount_per_10a: float
    area_a: float
    operator: str
    drone: str
    wind_speed_ms: float | None
    temperature_c: float | None
    record_id: str
    version: int


class RecordBook(msgspec.Struct):
    organization: Ref
    year: int
    crop: str | None
    generated_at: datetime
    rows: list[RecordBookRow]


class CropArea(msgspec.Struct):
    crop: str
    area_ha: float
    records: int


class CitySummary(msgspec.Struct):
    month: str
    start: datetime = msgspec.field(name="from")
    end: datetime = msgspec.field(name="to")
    farms: int
    spray_records: int
    area_ha: float
    by_crop: list[CropArea]
    flights: int
    flight_minutes: float
    rejected_plans: int
