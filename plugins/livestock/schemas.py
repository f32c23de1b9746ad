"""Requests and answers of the livestock routes (msgspec Structs; never ORM objects)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from plugins.livestock.models import AnimalStatus, EventKind, Housing, Sex

EarTag = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9]{10}$",
        description="The 10-digit individual identification number on the ear tag.",
        examples=["1234567890"],
    ),
]
Name = Annotated[str, msgspec.Meta(max_length=100)]
Short = Annotated[str, msgspec.Meta(max_length=60)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]


class AnimalCreate(msgspec.Struct, forbid_unknown_fields=True):
    organization_id: str
    ear_tag: EarTag
    name: Name = ""
    breed: Short = ""
    sex: Sex = Sex.FEMALE
    birth_date: date | None = None
    group: Short = ""
    housing: Housing = Housing.FREE_STALL


class AnimalUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Only the fields sent change."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    breed: Short | msgspec.UnsetType = msgspec.UNSET
    sex: Sex | msgspec.UnsetType = msgspec.UNSET
    birth_date: date | msgspec.UnsetType | None = msgspec.UNSET
    group: Short | msgspec.UnsetType = msgspec.UNSET
    housing: Housing | msgspec.UnsetType = msgspec.UNSET
    status: AnimalStatus | msgspec.UnsetType = msgspec.UNSET


class Reproduction(msgspec.Struct):
    """Derived from the animal's events at the time of the answer."""

    state: str
    """heifer, fresh, open, inseminated, pregnant, dry or inactive."""
    last_calving: datetime | None
    days_in_milk: int | None
    last_heat: datetime | None
    last_insemination: datetime | None
    pregnant: bool
    days_pregnant: int | None
    expected_calving: date | None
    """About 283 days after the insemination a pregnancy check confirmed."""
    estrus_alerts: str
    """``on``, or why not: learning, after_calving, pregnant, late_gestation, male, inactive."""
    estrus_detection: str
    """``full``, or ``limited`` for tie-stalled animals, which show little activity in heat."""


class DeviceSummary(msgspec.Struct):
    id: str
    kind: str
    name: str


class Animal(msgspec.Struct):
    id: str
    organization_id: str
    ear_tag: str
    name: str
    breed: str
    sex: Sex
    birth_date: date | None
    group: str
    housing: Housing
    status: AnimalStatus
    monitoring_since: datetime | None
    reproduction: Reproduction
    devices: list[DeviceSummary]
    created_at: datetime
    updated_at: datetime


class AnimalList(msgspec.Struct):
    items: list[Animal]
    next_cursor: str | None


class EventCreate(msgspec.Struct, forbid_unknown_fields=True):
    kind: EventKind
    at: datetime
    sire: Name = ""
    pregnant: bool | None = None
    """Required for a pregnancy check."""
    note: Note = ""


class EventUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    at: datetime | msgspec.UnsetType = msgspec.UNSET
    sire: Name | msgspec.UnsetType = msgspec.UNSET
    pregnant: bool | msgspec.UnsetType | None = msgspec.UNSET
    note: Note | msgspec.UnsetType = msgspec.UNSET


class Event(msgspec.Struct):
    id: str
    organization_id: str
    animal_id: str
    kind: EventKind
    at: datetime
    sire: str
    pregnant: bool | None
    note: str
    recorded_by: str | None
    created_at: datetime
    updated_at: datetime


class EventList(msgspec.Struct):
    items: list[Event]
    next_cursor: str | None


class HeatOut(msgspec.Struct):
    id: str
    organization_id: str
    animal_id: str
    animal: str
    onset: datetime
    detected_at: datetime
    inseminate_from: datetime
    inseminate_until: datetime
    probability: float
    model_version: str
    alert_id: str | None


class HeatList(msgspec.Struct):
    items: list[HeatOut]
    next_cursor: str | None


class SeriesHour(msgspec.Struct):
    """One hour and the animal's usual for that hour of day: the median and the 10th-90th
    percentile band of the same hour (and the hours either side) on the 6 days before."""

    ts: datetime
    activity: float | None
    activity_baseline: float | None
    activity_low: float | None
    activity_high: float | None
    rumination: float | None
    rumination_baseline: float | None
    rumination_low: float | None
    rumination_high: float | None
    temperature: float | None
    temperature_baseline: float | None
    temperature_low: float | None
    temperature_high: float | None


class Series(msgspec.Struct):
    animal_id: str
    start: datetime = msgspec.field(name="from")
    end: datetime = msgspec.field(name="to")
    hours: list[SeriesHour]


class CalendarAnimal(msgspec.Struct):
    id: str
    ear_tag: str
    name: str


class CalendarItem(msgspec.Struct):
    day: date
    kind: str
    """expected_heat, pregnancy_check or calving_due."""
    until: date | None
    """The last day of a window (a pregnancy check is due 30-40 days after insemination)."""
    organization_id: str
    animal: CalendarAnimal


class Calendar(msgspec.Struct):
    start: date = msgspec.field(name="from")
    end: date = msgspec.field(name="to")
    items: list[CalendarItem]


class HerdOverview(msgspec.Struct):
    organization_id: str
    organization: str
    animals: int
    """Active animals."""
    by_state: dict[str, int]
    by_housing: dict[str, int]
    monitored: int
    """Active animals with a collar."""
    learning: int
    """Monitored animals still in their learning period."""
    heats_today: int
    calvings_due_7_days: int
    open_alerts: dict[str, int]
    """Open and acknowledged livestock alerts by type (estrus, calving, health)."""


class Overview(msgspec.Struct):
    day: date
    organizations: list[HerdOverview]


class Rate(msgspec.Struct):
    alerts: int
    confirmed: int
    """Confirmed by feedback, or by a matching record (an insemination or observed heat
    after an estrus alert, a calving after a calving alert)."""
    false_alarms: int
    unrated: int
    missed: int
    """Heats (or calvings) on record that no alert announced."""
    sensitivity: float | None
    """confirmed / (confirmed + missed); None until there is something to count."""
    ppv: float | None
    """confirmed / (confirmed + false_alarms)."""


class FarmPerformance(msgspec.Struct):
    organization_id: str
    organization: str
    estrus: Rate
    calving: Rate


class Performance(msgspec.Struct):
    start: datetime = msgspec.field(name="from")
    end: datetime = msgspec.field(name="to")
    organizations: list[FarmPerformance]
