"""Settings of the red tide plugin: ``[plugins.red_tide.settings]`` in plugins.toml.

Densities come from ../shared/DOMAIN.md ("Red tide and aquaculture") through the presets of
:mod:`plugins.red_tide.thresholds`. Numbers DOMAIN.md does not give are marked *(unverified)*:
they are policy choices of this plugin, kept configurable.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

from plugins.red_tide.thresholds import Override, PresetName, SpeciesId

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class SpeciesOverride(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[[plugins.red_tide.settings.overrides]]``: the city's own densities for a species."""

    species: SpeciesId
    advisory: Annotated[float, msgspec.Meta(gt=0)] | None = None
    warning: Annotated[float, msgspec.Meta(gt=0)] | None = None
    min_stations: Annotated[int, msgspec.Meta(ge=1, le=20)] = 1

    def __post_init__(self) -> None:
        if self.advisory is None and self.warning is None:
            raise ValueError(f"override of {self.species}: give advisory, warning or both")
        if self.advisory is not None and self.warning is not None and self.warning < self.advisory:
            raise ValueError(f"override of {self.species}: warning is below advisory")

    def as_override(self) -> Override:
        return Override(self.species, self.advisory, self.warning, self.min_stations)


class RedTideSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    preset: PresetName = "most_cautious"
    """Whose thresholds the city follows: kumamoto, kagawa, osaka, yamaguchi, oita, or
    most_cautious (every rule of every preset, each at one station). Nagasaki publishes no
    numbers of its own (DOMAIN.md), so the default is the most cautious."""
    overrides: tuple[SpeciesOverride, ...] = ()
    """Per species, densities that replace the preset's single-species rule."""
    count_max_age_days: Annotated[int, msgspec.Meta(ge=1, le=60)] = 7
    """A station's latest sampling counts for its area while younger than this; older, the
    station no longer holds the area at a level. *(unverified: a policy choice)*"""
    hypoxia_do_mg_l: Annotated[float, msgspec.Meta(gt=0, le=15)] = 3.0
    """Dissolved oxygen (mg/L) below which a buoy raises a hypoxia alert. *(unverified: 3 mg/L
    is the usual hypoxic-water mark in Japanese coastal monitoring; set it per species
    farmed)*"""
    hypoxia_recovery_mg_l: Annotated[float, msgspec.Meta(gt=0, le=15)] = 3.5
    """The hypoxia alert resolves once every depth of the buoy reads at least this."""
    hypoxia_radius_km: Annotated[float, msgspec.Meta(gt=0, le=50)] = 5.0
    """Farms within this distance of the buoy's station (or in its area, without a position)
    are told of hypoxia. *(unverified)*"""
    fsi_harmful: Annotated[float, msgspec.Meta(gt=0)] = 2.0
    """FSI above which a telemeter suggests harmful plankton (Sasebo's trial at 下船越,
    city.sasebo.lg.jp akashio page): the area's farms are told to expect a count."""
    restrict_ratio: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.5
    """At the advisory level, feed at most this share of the planned ration. *(unverified)*"""
    bulletin_time: str = "07:00"
    """Local time (each fisher's time zone) of the daily bulletin."""
    bulletin_until: str = "11:00"
    """No bulletin is sent after this local time: a late morning bulletin would be stale."""
    risk_threshold: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    """3-day bloom probability called "high"; None uses the threshold chosen in training
    (the artifact's metadata)."""

    def __post_init__(self) -> None:
        for name in ("bulletin_time", "bulletin_until"):
            if not HHMM.match(getattr(self, name)):
                raise ValueError(f"{name} must be HH:MM (24 h)")
        if self.bulletin_until <= self.bulletin_time:
            raise ValueError("bulletin_until must be after bulletin_time")
        if self.hypoxia_recovery_mg_l < self.hypoxia_do_mg_l:
            raise ValueError("hypoxia_recovery_mg_l must not be below hypoxia_do_mg_l")
