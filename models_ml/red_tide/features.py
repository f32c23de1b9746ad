"""The inputs of ``red_tide.bloom_risk``: a week of daily buoy summaries -> one feature row.

The same function serves training (daily summaries drawn by :mod:`.generator`) and the
plugin (daily summaries of an area's hourly buoy readings, ``plugins/red_tide/services.py``),
so the model never sees features computed two ways.

A day is summarised as :class:`Day`: surface (0.5 m) and bottom means of temperature and
salinity, surface chlorophyll, and dissolved oxygen at the bottom (the day's minimum) and at
the surface. Any of them may be missing (``nan``): the gradient boosting model takes missing
values natively, so a buoy without a bottom sensor still gets a forecast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

NAN = float("nan")

HISTORY_DAYS = 14
"""Days of summaries a forecast reads: today and the thirteen before."""
SINCE_CAP = 14
"""``days_since_advisory`` when the area was not over the advisory level in the history."""

FEATURES = (
    "temp_surface",
    "temp_trend_3d",
    "temp_mean_7d",
    "temp_mean_14d",
    "salinity_surface",
    "salinity_drop_10d",
    "stratification",
    "stratification_mean_3d",
    "stratification_min_7d",
    "chlorophyll",
    "chlorophyll_trend_3d",
    "chlorophyll_max_14d",
    "do_bottom",
    "do_surface",
    "count_ratio_latest",
    "count_age_days",
    "days_since_advisory",
    "season_sin",
    "season_cos",
)


@dataclass(frozen=True, slots=True)
class Day:
    """One day of an area's buoy readings, summarised (``nan`` where nothing was read)."""

    day_of_year: int
    temp_surface: float = NAN
    temp_bottom: float = NAN
    salinity_surface: float = NAN
    salinity_bottom: float = NAN
    chlorophyll: float = NAN
    do_bottom: float = NAN
    do_surface: float = NAN
    count_ratio: float = NAN
    """The day's cell counts, if the area was sampled: the highest density relative to its
    advisory density (1.0 = at the advisory level), 0 when nothing harmful was found."""


def sigma_t(temperature: float, salinity: float) -> float:
    """Density anomaly (kg/m³ above 1000) from a linear equation of state, good to a few
    tenths in coastal water between 10 and 30 °C: enough to rank stratification."""
    return (
        25.0
        - 0.2 * (temperature - 20.0)
        - 0.004 * (temperature - 20.0) ** 2
        + 0.77 * (salinity - 33.0)
    )


def stratification(day: Day) -> float:
    """Bottom minus surface density (kg/m³): warm or fresh water on top makes it large."""
    if any(
        math.isnan(v)
        for v in (day.temp_surface, day.temp_bottom, day.salinity_surface, day.salinity_bottom)
    ):
        return NAN
    return sigma_t(day.temp_bottom, day.salinity_bottom) - sigma_t(
        day.temp_surface, day.salinity_surface
    )


def _mean(values: Sequence[float]) -> float:
    known = [v for v in values if not math.isnan(v)]
    return sum(known) / len(known) if known else NAN


def _max(values: Sequence[float]) -> float:
    known = [v for v in values if not math.isnan(v)]
    return max(known) if known else NAN


def _min(values: Sequence[float]) -> float:
    known = [v for v in values if not math.isnan(v)]
    return min(known) if known else NAN


def _at(days: Sequence[Day], back: int, field: str) -> float:
    return float(getattr(days[-1 - back], field)) if back < len(days) else NAN


def features(days: Sequence[Day]) -> dict[str, float]:
    """The feature row for the last day of ``days`` (oldest first, one per calendar day,
    ending today; fewer than :data:`HISTORY_DAYS` days gives ``nan`` where history lacks)."""
    if not days:
        raise ValueError("features need at least today's summary")
    today = days[-1]
    week = days[-7:]
    strat = [stratification(d) for d in days[-3:]]
    earlier_salinity = [d.salinity_surface for d in days[-10:-1]]
    known_earlier = [v for v in earlier_salinity if not math.isnan(v)]
    chl_now, chl_then = today.chlorophyll, _at(days, 3, "chlorophyll")
    angle = 2 * math.pi * today.day_of_year / 365.25
    return {
        "temp_surface": today.temp_surface,
        "temp_trend_3d": today.temp_surface - _at(days, 3, "temp_surface"),
        "temp_mean_7d": _mean([d.temp_surface for d in week]),
        "temp_mean_14d": _mean([d.temp_surface for d in days[-14:]]),
        "salinity_surface": today.salinity_surface,
        "salinity_drop_10d": (
            max(known_earlier) - today.salinity_surface if known_earlier else NAN
        ),
        "stratification": strat[-1],
        "stratification_mean_3d": _mean(strat),
        "stratification_min_7d": _min([stratification(d) for d in week]),
        "chlorophyll": chl_now,
        "chlorophyll_trend_3d": (
            math.log(max(chl_now, 0.05) / max(chl_then, 0.05))
            if not (math.isnan(chl_now) or math.isnan(chl_then))
            else NAN
        ),
        "chlorophyll_max_14d": _max([d.chlorophyll for d in days[-14:]]),
        "do_bottom": today.do_bottom,
        "do_surface": today.do_surface,
        **_counts(days),
        "season_sin": math.sin(angle),
        "season_cos": math.cos(angle),
    }


def _counts(days: Sequence[Day]) -> dict[str, float]:
    """The latest sample of the last week and how long ago the area was last over."""
    latest, age, since = NAN, NAN, float(SINCE_CAP)
    for back, day in enumerate(reversed(days)):
        if math.isnan(day.count_ratio):
            continue
        if math.isnan(latest) and back < 7:
            latest, age = day.count_ratio, float(back)
        if day.count_ratio >= 1.0:
            since = float(back)
            break
    return {"count_ratio_latest": latest, "count_age_days": age, "days_since_advisory": since}


def row(days: Sequence[Day]) -> list[float]:
    """:func:`features` in the order of :data:`FEATURES`."""
    values = features(days)
    return [values[name] for name in FEATURES]
