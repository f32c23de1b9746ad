"""The livestock plugin's settings: ``[plugins.livestock.settings]`` in plugins.toml.

Defaults follow the project's domain facts (DOMAIN.md, "Livestock") and name their source;
where DOMAIN.md is silent the docstring says where the figure comes from.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

Days = Annotated[int, msgspec.Meta(ge=0, le=400)]
Hours = Annotated[int, msgspec.Meta(ge=1, le=168)]
Share = Annotated[float, msgspec.Meta(gt=0, lt=1)]
Probability = Annotated[float, msgspec.Meta(gt=0, lt=1)]


class LivestockSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # Estrus alert rules (Farmnote Color help, DOMAIN.md)
    learning_days: Days = 7
    """Days of collar data an animal needs before estrus alerts start (learning period)."""
    no_estrus_after_calving_days: Days = 10
    """No estrus alerts from calving until this many days after it."""
    no_estrus_from_gestation_day: Days = 271
    """No estrus alerts from this day after the last insemination on."""

    # Reproduction (DOMAIN.md; the issue)
    gestation_days: Annotated[int, msgspec.Meta(ge=270, le=295)] = 283
    """Expected calving this many days after the successful insemination (280-285)."""
    cycle_days: Annotated[int, msgspec.Meta(ge=18, le=24)] = 21
    """The estrous cycle: the next heat is expected this long after the last (18-24)."""
    insemination_window_start_hours: Annotated[int, msgspec.Meta(ge=0, le=48)] = 6
    """Best insemination from this many hours after the onset of heat (NARO: 6-18 h)."""
    insemination_window_end_hours: Annotated[int, msgspec.Meta(ge=1, le=48)] = 18
    """... until this many hours after it."""
    pregnancy_check_from_days: Days = 30
    """Pregnancy check due from this many days after insemination (the issue: 30-40)."""
    pregnancy_check_to_days: Days = 40
    calving_reminder_days: Days = 7
    """Remind the farm this many days before the expected calving."""

    # Predictors: None uses the operating point recorded with the model (metadata.json).
    estrus_threshold: Probability | None = None
    """Probability of heat at which free-stall and pasture cows raise an alert."""
    estrus_threshold_tie_stall: Probability | None = None
    """... and tie-stalled cows, which show little activity in heat (DOMAIN.md)."""
    calving_threshold: Probability | None = None
    episode_hours: Hours = 48
    """Scores above the threshold within this many hours of an alert belong to it: one heat,
    one alert. The models were evaluated with 48."""
    onset_rise: Annotated[float, msgspec.Meta(gt=1, le=10)] = 1.5
    """A heat's onset is taken as the first hour of the rise to this many times the baseline."""
    calving_watch_days: Days = 14
    """Calving is predicted for pregnant animals this many days before the expected date,
    and for animals with a thermometer but no insemination on record."""
    calving_escalate_after_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 30
    """A calving alert nobody acknowledged is sent to the farm's members again after this
    long (critical: it ignores their quiet hours)."""
    calving_alert_hours: Hours = 72
    """A calving alert still open this long after it was raised, with no calving recorded,
    is resolved."""

    # Health (ICAR ADE attention causes; thresholds are common herd-management practice)
    health_hours: Annotated[int, msgspec.Meta(ge=2, le=24)] = 8
    """Hours a shortfall must last before a health alert."""
    health_rumination_share: Share = 0.6
    """Rumination below this share of the cow's own baseline is LowerRumination."""
    health_activity_share: Share = 0.5
    """Activity below this share of the cow's own baseline is Inactivity."""
    fever_celsius: Annotated[float, msgspec.Meta(ge=38.5, le=42)] = 39.5
    """Body temperature at or above this (3 of the last 4 hours) is AnimalTemperature."""

    # Grouping and display
    herd_group_min: Annotated[int, msgspec.Meta(ge=2, le=1000)] = 5
    """Animals of a group are compared with their group when it has this many with collars,
    otherwise with the whole farm."""
    performance_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 90
    """Default period of GET /api/v1/livestock/performance."""

    def __post_init__(self) -> None:
        if self.insemination_window_end_hours <= self.insemination_window_start_hours:
            raise ValueError("insemination_window_end_hours must be after the start")
        if self.pregnancy_check_to_days < self.pregnancy_check_from_days:
            raise ValueError("pregnancy_check_to_days must not be before the from day")
