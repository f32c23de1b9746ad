"""The wildlife trap plugin's settings, ``[plugins.wildlife_traps.settings]`` in plugins.toml.

Defaults follow docs DOMAIN.md "Wildlife traps"; the source of each is in its docstring.
Numbers marked *(unverified)* have no source: they are reasonable defaults, kept
configurable for the hunting groups to tune.
"""

from __future__ import annotations

from typing import Annotated

import msgspec


class WildlifeTrapsSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    debounce_s: Annotated[int, msgspec.Meta(ge=0, le=600)] = 5
    """A trigger that returns to rest within this many seconds is kept as a ``bounce`` event
    and raises no alert; 0 alerts on the trigger reading itself. *(unverified: no source
    gives a figure; a door or trigger line settles well within a few seconds)*"""
    escalate_after_min: Annotated[int, msgspec.Meta(ge=1, le=24 * 60)] = 30
    """A sprung alert nobody acknowledged within this many minutes goes to the next backup
    responder, in order (issue 7)."""
    welfare_after_h: Annotated[int, msgspec.Meta(ge=1, le=72)] = 24
    """A trap sprung this long with no capture or reset recorded raises a critical welfare
    alert to the owner and every backup: traps are inspected daily in principle
    (原則として毎日, prefectural hunting-licence training material, ehime-hunting.com)."""
    max_heartbeat_gap_min: Annotated[int, msgspec.Meta(ge=10, le=24 * 60)] = 120
    """A day counts as ``verified_by_sensor`` only if the sensor never went silent for longer
    than this while the trap was set. Typical units report hourly (ほかパト, みまわり楽太郎);
    two missed heartbeats is also when core calls the sensor offline."""
    battery_low_v: Annotated[float, msgspec.Meta(gt=0, le=12)] = 4.6
    """Below this the sensor's battery raises a warning. four AA cells: about 6.0 V fresh,
    electronics stop near 1.0 V a cell. *(the threshold is unverified: tune it per product)*"""
    battery_empty_v: Annotated[float, msgspec.Meta(gt=0, le=12)] = 4.0
    """The voltage at which the unit stops; the days-left estimate counts down to it."""
    battery_full_v: Annotated[float, msgspec.Meta(gt=0, le=12)] = 6.0
    """A fresh set of four AA cells."""
    battery_life_days: Annotated[int, msgspec.Meta(ge=7, le=3650)] = 300
    """Battery life of a trap's child unit on four AA cells: about 10 months (DOMAIN.md).
    Used for the days-left estimate until the sensor has a week of its own voltage history."""
    battery_trend_days: Annotated[int, msgspec.Meta(ge=2, le=90)] = 14
    """How many days of voltage history the days-left estimate fits its trend to."""
    permit_warning_days: Annotated[int, msgspec.Meta(ge=0, le=180)] = 14
    """A capture permit expiring within this many days raises a warning. *(unverified)*"""
    reminder_hour: Annotated[int, msgspec.Meta(ge=0, le=23)] = 18
    """The hour (in each owner's own time zone) at which owners of traps whose inspection is
    still ``missed`` today are reminded (issue 7: 18:00 local)."""
    max_backdate_days: Annotated[int, msgspec.Meta(ge=0, le=31)] = 7
    """How far back an inspection may be dated (a phone that was offline sends it late).
    Inspections make the compliance record, so this is kept short."""
    likely_capture: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.5
    """From this capture probability on, a sprung alert reads "likely capture"; below it,
    "possibly a false trigger". The label never suppresses an alert."""
    training_data: tuple[str, ...] = ()
    """CSV files exported from ``GET /api/v1/wildlife_traps/training-data.csv`` that
    ``minori ml train wildlife_traps.capture_likelihood`` adds to the synthetic data (an
    organization's own capture and reset records)."""

    def __post_init__(self) -> None:
        if not self.battery_empty_v < self.battery_low_v < self.battery_full_v:
            raise ValueError(
                "battery voltages must be battery_empty_v < battery_low_v < battery_full_v"
            )
