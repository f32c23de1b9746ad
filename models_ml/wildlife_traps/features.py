"""The capture-likelihood model's input: what is known of a trigger when it is confirmed.

Both the plugin (at prediction time) and the training code (for generated and exported
rows) build the model's vector here, so the two can never disagree on the features.
"""

from __future__ import annotations

import math

import msgspec

TRAP_KINDS = ("box", "snare", "enclosure")
HOURS_SINCE_ARMED_CAP = 24 * 30.0


class TriggerFeatures(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One confirmed trigger of a trap."""

    local_hour: float
    """Hour of day in the trap's local time, 0 to 24 (minutes as a fraction)."""
    day_of_year: int
    """1 to 366: the season."""
    trap_kind: str
    """box, snare or enclosure."""
    triggers_7d: int
    """Confirmed triggers of the same trap in the 7 days before."""
    bounces_1h: int
    """Triggers of the same trap that reverted within the debounce, in the hour before: how
    jittery the trigger was before it held."""
    hours_since_armed: float
    """Hours since the trap was last armed or reset."""


FEATURE_NAMES = (
    "hour_sin",
    "hour_cos",
    "season_sin",
    "season_cos",
    *(f"kind_{kind}" for kind in TRAP_KINDS),
    "log_triggers_7d",
    "log_bounces_1h",
    "log_hours_since_armed",
    "armed_within_1h",
)


def vector(features: TriggerFeatures) -> list[float]:
    hour = 2 * math.pi * (features.local_hour % 24) / 24
    season = 2 * math.pi * (features.day_of_year - 1) / 365.25
    armed = min(max(features.hours_since_armed, 0.0), HOURS_SINCE_ARMED_CAP)
    return [
        math.sin(hour),
        math.cos(hour),
        math.sin(season),
        math.cos(season),
        *(1.0 if features.trap_kind == kind else 0.0 for kind in TRAP_KINDS),
        math.log1p(max(features.triggers_7d, 0)),
        math.log1p(max(features.bounces_1h, 0)),
        math.log1p(armed),
        1.0 if armed < 1.0 else 0.0,
    ]
