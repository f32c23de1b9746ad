"""Settings of the drone spraying plugin (``[plugins.drone_spraying.settings]``).

Defaults come from DOMAIN.md (the project's domain facts), "Drone pesticide spraying", where
it gives a number; the others are this plugin's own choices and say so.
"""

from __future__ import annotations

from typing import Annotated

import msgspec


class DroneSprayingSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    wind_warn_ms: Annotated[float, msgspec.Meta(gt=0, le=30)] = 3.0
    """Wind above this (m/s) warns. 3 m/s at 1.5 m height is "often quoted" for drone
    spraying, and DOMAIN.md marks it *unverified*: keep it configurable."""
    wind_reject_ms: Annotated[float, msgspec.Meta(gt=0, le=30)] = 5.0
    """Wind at or above this (m/s) refuses a spraying: contractors do not spray at
    wind >= 5 m/s (skyfarm contractor rule, DOMAIN.md)."""
    licence_warning_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 30
    """A licence expiring within this many days of a spraying warns (plugin's choice)."""
    inspection_interval_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 365
    """A drone's periodic inspection is due this many days after the last one, unless the
    drone states its own due date. Plugin's choice (manufacturers ask for a yearly
    maintenance); DOMAIN.md gives no number."""
    inspection_warning_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 30
    """An inspection due within this many days of a spraying warns (plugin's choice)."""
    drift_warning_share: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.10
    """A track that sprayed more than this share of its area outside the field raises a
    drift warning (plugin's choice)."""
    flow_threshold_l_min: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    """A CSV track segment sprays when the flow at its start is above this (L/min)."""
    max_swath_m: Annotated[float, msgspec.Meta(gt=0, le=100)] = 20.0
    """Widest swath accepted with a track (m); spraying drones spray 4 to 10 m."""
    max_track_points: Annotated[int, msgspec.Meta(ge=2, le=1_000_000)] = 50_000
    """Most points one imported track may hold."""
    interval_card_days: Annotated[int, msgspec.Meta(ge=0, le=60)] = 7
    """The home screen shows a card when a pre-harvest interval ends within this many days."""
    preflight_check_required: bool = True
    """Warn when a flown spraying has no pre-flight check of its drone that day (aviation
    law asks for one each day of flight, DOMAIN.md)."""

    def __post_init__(self) -> None:
        if self.wind_warn_ms > self.wind_reject_ms:
            raise ValueError("wind_warn_ms must not exceed wind_reject_ms")
