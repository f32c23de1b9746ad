"""Requests and answers of the wildlife trap routes (handlers never return ORM objects)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from plugins.wildlife_traps.models import (
    Disposal,
    EventKind,
    InspectionResult,
    Sex,
    Species,
    TrapKind,
    TrapState,
)

Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Note = Annotated[str, msgspec.Meta(max_length=4000)]
PermitNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
PhotoIds = Annotated[list[str], msgspec.Meta(max_length=20)]
SpeciesList = Annotated[list[Species], msgspec.Meta(min_length=1, max_length=7)]
UserIds = Annotated[list[str], msgspec.Meta(max_length=10)]


class TrapCreate(msgspec.Struct, forbid_unknown_fields=True):
    organization_id: str
    name: Name
    kind: TrapKind
    latitude: Latitude
    longitude: Longitude
    permit_number: PermitNumber
    permit_valid_from: date
    permit_valid_until: date
    target_species: SpeciesList = msgspec.field(
        default_factory=lambda: [Species.WILD_BOAR, Species.SIKA_DEER]
    )
    owner_id: str | None = None
    """Defaults to the caller (a member); an admin names the owner."""
    backup_ids: UserIds = msgspec.field(default_factory=list)
    """Backup responders, in the order they are called when the owner does not answer."""
    state: TrapState = TrapState.ARMED
    note: Note = ""


class TrapUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    kind: TrapKind | msgspec.UnsetType = msgspec.UNSET
    latitude: Latitude | msgspec.UnsetType = msgspec.UNSET
    longitude: Longitude | msgspec.UnsetType = msgspec.UNSET
    permit_number: PermitNumber | msgspec.UnsetType = msgspec.UNSET
    permit_valid_from: date | msgspec.UnsetType = msgspec.UNSET
    permit_valid_until: date | msgspec.UnsetType = msgspec.UNSET
    target_species: SpeciesList | msgspec.UnsetType = msgspec.UNSET
    owner_id: str | msgspec.UnsetType = msgspec.UNSET
    backup_ids: UserIds | msgspec.UnsetType = msgspec.UNSET
    state: TrapState | msgspec.UnsetType = msgspec.UNSET
    """armed, disarmed or removed; a sprung trap set to armed or disarmed is reset."""
    note: Note | msgspec.UnsetType = msgspec.UNSET


class Reset(msgspec.Struct, forbid_unknown_fields=True):
    state: TrapState = TrapState.ARMED
    """armed (set again) or disarmed."""
    note: Note = ""


class Sensor(msgspec.Struct):
    id: str
    name: str
    status: str
    """online, offline, never_seen or revoked (core's device status)."""
    last_seen: datetime | None
    battery_v: float | None
    trigger: int | None


class Trap(msgspec.Struct):
    id: str
    organization_id: str
    name: str
    kind: TrapKind
    latitude: float
    longitude: float
    target_species: list[str]
    permit_number: str
    permit_valid_from: date
    permit_valid_until: date
    owner_id: str
    backup_ids: list[str]
    state: TrapState
    state_changed_at: datetime
    sprung_at: datetime | None
    note: str
    sensors: list[Sensor]
    today: str | None
    """Today's inspection record so far: verified_by_sensor, inspected, missed or not_set."""
    created_at: datetime
    updated_at: datetime


class TrapList(msgspec.Struct):
    items: list[Trap]
    next_cursor: str | None


class Event(msgspec.Struct):
    id: str
    kind: EventKind
    at: datetime
    state_after: TrapState | None
    device_id: str | None
    user_id: str | None
    capture_probability: float | None
    model_version: str | None
    alert_id: str | None
    outcome: str | None
    data: dict[str, Any]


class EventList(msgspec.Struct):
    items: list[Event]
    next_cursor: str | None


class Photo(msgspec.Struct):
    id: str
    url: str
    thumbnail_url: str


class InspectionCreate(msgspec.Struct, forbid_unknown_fields=True):
    result: InspectionResult
    inspected_at: datetime | None = None
    """Defaults to now; at most 5 minutes in the future, at most 7 days in the past."""
    note: Note = ""
    photo_ids: PhotoIds = msgspec.field(default_factory=list)
    """Photos uploaded with POST /mobile/v1/media."""


class Inspection(msgspec.Struct):
    id: str
    trap_id: str
    organization_id: str
    inspector_id: str
    inspected_at: datetime
    result: InspectionResult
    note: str
    photos: list[Photo]
    created_at: datetime


class InspectionList(msgspec.Struct):
    items: list[Inspection]
    next_cursor: str | None


class CaptureCreate(msgspec.Struct, forbid_unknown_fields=True):
    species: Species
    sex: Sex
    disposal: Disposal
    count: Annotated[int, msgspec.Meta(ge=1, le=50)] = 1
    captured_at: datetime | None = None
    """Defaults to when the trap sprung, else now."""
    estimated_weight_kg: Annotated[float, msgspec.Meta(gt=0, le=400)] | None = None
    latitude: Latitude | None = None
    """The place, defaulting to the trap's."""
    longitude: Longitude | None = None
    note: Note = ""
    photo_ids: PhotoIds = msgspec.field(default_factory=list)


class Capture(msgspec.Struct):
    id: str
    trap_id: str
    organization_id: str
    sprung_event_id: str | None
    captured_at: datetime
    species: Species
    count: int
    sex: Sex
    estimated_weight_kg: float | None
    disposal: Disposal
    latitude: float
    longitude: float
    note: str
    photos: list[Photo]
    recorded_by: str
    created_at: datetime


class CaptureList(msgspec.Struct):
    items: list[Capture]
    next_cursor: str | None


class Day(msgspec.Struct):
    date: date
    status: str
    """verified_by_sensor, inspected, missed or not_set."""


class Counts(msgspec.Struct):
    verified_by_sensor: int = 0
    inspected: int = 0
    missed: int = 0
    not_set: int = 0


class TrapDays(msgspec.Struct):
    trap_id: str
    name: str
    kind: TrapKind
    permit_number: str
    days: list[Day]
    counts: Counts


class ComplianceReport(msgspec.Struct):
    organization_id: str
    organization: str
    month: str
    timezone: str
    generated_at: datetime
    complete: bool
    """False while the month is not over: today's entries are so far, later days absent."""
    traps: list[TrapDays]
    totals: Counts


class BountyRow(msgspec.Struct):
    capture_id: str
    date: date
    captured_at: datetime
    trap_id: str
    trap: str
    permit_number: str
    latitude: float
    longitude: float
    species: Species
    count: int
    sex: Sex
    estimated_weight_kg: float | None
    disposal: Disposal
    photo_urls: list[str]


class BountyReport(msgspec.Struct):
    organization_id: str
    organization: str
    month: str
    timezone: str
    rows: list[BountyRow]
    totals: dict[str, int]
    """Animals per species."""


class Point(msgspec.Struct):
    coordinates: tuple[float, float]
    """Longitude, latitude (GeoJSON order)."""
    type: str = "Point"


class Feature(msgspec.Struct):
    id: str
    geometry: Point
    properties: dict[str, Any]
    type: str = "Feature"


class FeatureCollection(msgspec.Struct):
    features: list[Feature]
    type: str = "FeatureCollection"
