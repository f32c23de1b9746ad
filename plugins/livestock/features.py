"""Features of the livestock predictors, computed with numpy for many animals at once.

The same functions serve the scoring job (one row per animal, its current hour at the end of
a ``WINDOW``-hour series) and training (models_ml/livestock: one row per simulated cow and
hour), so a model sees in service exactly what it saw in training.

Series are hourly, ``[animals, hours]``, oldest first, NaN where the sensor sent nothing.
Each feature row names its series row (``row``) and the column of its current hour (``at``);
it reads only the ``WINDOW`` hours ending there. The current day is the last 24 of them; an
hour of it is judged against the same hour of day (and the hours either side) on the six
days before (DOMAIN.md: activity and rumination against the cow's own baseline).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

DAY = 24
BASE_DAYS = 6
WINDOW = DAY * (BASE_DAYS + 1)
"""Hours of history one prediction reads: 6 days of baseline and the current day (168)."""
HOUSING_CODES = {"free_stall": 0, "tie_stall": 1, "pasture": 2}
NO_GROUP = -1
"""The group of an animal kept with too few others (with sensors) to be compared with them:
its group features are unknown (NaN), and the models were trained to do without."""

ESTRUS_FEATURES = (
    "ratio_1h",
    "ratio_3h",
    "ratio_6h",
    "ratio_12h",
    "ratio_max_6h",
    "ratio_earlier_today",
    "ratio_yesterday",
    "herd_ratio_3h",
    "ratio_3h_vs_herd",
    "herd_ratio_6h",
    "ratio_6h_vs_herd",
    "rumination_6h",
    "rumination_12h",
    "rumination_24h",
    "missing_6h",
    "missing_baseline",
    "days_since_heat",
    "days_since_calving",
    "tie_stall",
    "pasture",
)
CALVING_FEATURES = (
    "drop_daily_24h",
    "drop_daily_48h",
    "drop_6h_24h",
    "drop_6h_48h",
    "level_vs_baseline",
    "level_6h_vs_baseline",
    "herd_drop_daily_24h",
    "drop_daily_24h_vs_herd",
    "drop_6h_24h_vs_herd",
    "days_to_due",
    "missing_24h",
)

# The baseline hours of an hour h: h - 24k + side for k = 1..6, side = -1, 0, +1, except the
# one that would reach before the window (k = 6, side = -1): 17 hours, all within 144 h.
BASELINE_OFFSETS = np.array(
    [
        -DAY * day + side
        for day in range(1, BASE_DAYS + 1)
        for side in (-1, 0, 1)
        if DAY * day - side <= DAY * BASE_DAYS
    ],
    dtype=np.intp,
)
LOOKBACK = int(-BASELINE_OFFSETS.min())


@contextmanager
def _quiet() -> Iterator[None]:
    """Means of all-NaN slices are NaN, which is what is meant here: no warnings."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", category=RuntimeWarning)
        yield


def nanmedian_last(values: np.ndarray) -> np.ndarray:
    """The median along the last axis ignoring NaN (NaN when all are), by sorting: much
    faster than ``np.nanmedian`` for many short rows."""
    ordered = np.sort(values, axis=-1)  # NaN sorts last
    count = (~np.isnan(values)).sum(axis=-1)
    low = np.take_along_axis(ordered, ((count - 1) // 2).clip(min=0)[..., None], axis=-1)
    high = np.take_along_axis(ordered, (count // 2).clip(max=values.shape[-1] - 1)[..., None], -1)
    median = (low[..., 0] + high[..., 0]) / 2
    return np.where(count > 0, median, np.nan)


def hour_baseline(series: np.ndarray, start: int, stop: int) -> np.ndarray:
    """``[animals, stop - start]``: for each hour in ``[start, stop)``, the median of its
    17 baseline hours. ``start`` must be at least ``LOOKBACK``."""
    assert start >= LOOKBACK
    columns = np.arange(start, stop)[:, None] + BASELINE_OFFSETS[None, :]
    return nanmedian_last(series[:, columns])


def group_median(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each row's value replaced by the median of its group (NaN ignored); NaN for rows of
    group ``NO_GROUP``, animals with too few others to compare with."""
    if values.size == 0:
        return values.astype(float)
    alone = groups == NO_GROUP
    if alone.any():
        out = np.full(values.shape, np.nan)
        if not alone.all():
            out[~alone] = group_median(values[~alone], groups[~alone])
        return out
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(values.size) - np.repeat(starts, counts)
    padded = np.full((counts.size, counts.max()), np.nan)
    padded[inverse[order], rank] = values[order]
    return nanmedian_last(padded)[inverse]


class Series:
    """One hourly series with its hour-of-day baseline, read a day at a time."""

    def __init__(self, values: np.ndarray, at: np.ndarray) -> None:
        self.values = values
        self.first = int(at.min()) - DAY + 1
        self.baseline = hour_baseline(values, self.first, int(at.max()) + 1)
        self._missing = np.concatenate(
            [np.zeros((values.shape[0], 1)), np.cumsum(np.isnan(values), axis=1)], axis=1
        )

    def hours(self, row: np.ndarray, at: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Values at hours ``at + start .. at + stop - 1`` (offsets <= 0), ``[rows, n]``."""
        return self.values[row[:, None], at[:, None] + np.arange(start, stop)[None, :]]

    def base(self, row: np.ndarray, at: np.ndarray) -> np.ndarray:
        """The baseline of the current day's 24 hours, ``[rows, 24]``."""
        columns = at[:, None] - self.first + np.arange(-DAY + 1, 1)[None, :]
        base = self.baseline[row[:, None], columns]
        # A floor, so that a baseline of silent hours cannot turn an ordinary hour into a
        # tenfold rise: 5% of the day's median baseline, and never below 0.1.
        floor = np.fmax(0.05 * nanmedian_last(base), 0.1)
        floor = np.where(np.isnan(floor), 0.1, floor)[:, None]
        return np.where(base < floor, floor, base)  # NaN stays NaN

    def ratio(self, row: np.ndarray, at: np.ndarray, days_back: int = 0) -> np.ndarray:
        """The current day's hours (or those ``days_back`` days before) over the current
        day's hour baselines, ``[rows, 24]``."""
        start = -DAY + 1 - DAY * days_back
        with _quiet():
            return self.hours(row, at, start, start + DAY) / self.base(row, at)

    def missing(self, row: np.ndarray, at: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Share of hours ``at + start .. at + stop - 1`` without a value."""
        counts = self._missing[row, at + stop] - self._missing[row, at + start]
        return counts / (stop - start)


def estrus_features(
    activity: np.ndarray,
    rumination: np.ndarray,
    row: np.ndarray,
    at: np.ndarray,
    groups: np.ndarray,
    days_since_heat: np.ndarray,
    days_since_calving: np.ndarray,
    housing: np.ndarray,
) -> np.ndarray:
    """``[len(row), len(ESTRUS_FEATURES)]``.

    ``groups`` labels the rows of animals kept together at one moment (a farm's group): a
    rise the whole group shares, such as turn-out to pasture, is not a heat (``NO_GROUP``:
    nobody to compare with). ``housing``
    holds ``HOUSING_CODES``; ``days_since_*`` are NaN when unknown.
    """
    moving = Series(activity, at)
    chewing = Series(rumination, at)
    ratio = moving.ratio(row, at)
    with _quiet():
        r3 = np.nanmean(ratio[:, -3:], axis=1)
        r6 = np.nanmean(ratio[:, -6:], axis=1)
        herd3 = group_median(r3, groups)
        herd6 = group_median(r6, groups)
        rumination_ratio = chewing.ratio(row, at)
        columns = [
            ratio[:, -1],
            r3,
            r6,
            np.nanmean(ratio[:, -12:], axis=1),
            np.nanmax(ratio[:, -6:], axis=1),
            np.nanmean(ratio[:, :12], axis=1),
            np.nanmean(moving.ratio(row, at, days_back=1), axis=1),
            herd3,
            r3 / herd3,
            herd6,
            r6 / herd6,
            np.nanmean(rumination_ratio[:, -6:], axis=1),
            np.nanmean(rumination_ratio[:, -12:], axis=1),
            np.nanmean(rumination_ratio, axis=1),
            moving.missing(row, at, -5, 1),
            moving.missing(row, at, -WINDOW + 1, -DAY + 1),
            days_since_heat,
            days_since_calving,
            (housing == HOUSING_CODES["tie_stall"]).astype(float),
            (housing == HOUSING_CODES["pasture"]).astype(float),
        ]
    features = np.column_stack(columns).astype(np.float32)
    features[~np.isfinite(features)] = np.nan
    return features


def activity_ratio(activity: np.ndarray) -> np.ndarray:
    """The current day's activity over its hour baselines, ``[animals, 24]``, for series
    that end at the current hour."""
    at = np.full(activity.shape[0], activity.shape[1] - 1)
    return Series(activity, at).ratio(np.arange(activity.shape[0]), at)


def estimate_onset(ratio: np.ndarray, rise: float) -> np.ndarray:
    """Hours before the current hour at which the present rise began, per animal: the start
    of the last unbroken run of hours at or above ``rise`` (missing hours do not break it);
    0 when the current hour itself is not raised."""
    broken = ~((ratio >= rise) | np.isnan(ratio))
    width = ratio.shape[1]
    last_break = np.where(broken.any(axis=1), width - 1 - np.argmax(broken[:, ::-1], axis=1), -1)
    return (width - 2 - last_break).clip(min=0)


def calving_features(
    temperature: np.ndarray,
    row: np.ndarray,
    at: np.ndarray,
    groups: np.ndarray,
    days_to_due: np.ndarray,
) -> np.ndarray:
    """``[len(row), len(CALVING_FEATURES)]`` from the temperature series.

    The body temperature falls before calving: 0.2-0.3 °C below the day before on calving
    day, 0.6-0.7 °C below two days before (DOMAIN.md). Daily means remove the daily cycle;
    the last 6 hours against the same hours one and two days before react sooner; a change
    the whole group shares (a hot day) is weather, not calving.
    """
    body = Series(temperature, at)
    with _quiet():
        day0 = np.nanmean(body.hours(row, at, -DAY + 1, 1), axis=1)
        day1 = np.nanmean(body.hours(row, at, -2 * DAY + 1, -DAY + 1), axis=1)
        day2 = np.nanmean(body.hours(row, at, -3 * DAY + 1, -2 * DAY + 1), axis=1)
        last6 = np.nanmean(body.hours(row, at, -5, 1), axis=1)
        drop24 = day0 - day1
        drop6 = last6 - np.nanmean(body.hours(row, at, -DAY - 5, -DAY + 1), axis=1)
        herd24 = group_median(drop24, groups)
        herd6 = group_median(drop6, groups)
        base = body.base(row, at)
        columns = [
            drop24,
            day0 - day2,
            drop6,
            last6 - np.nanmean(body.hours(row, at, -2 * DAY - 5, -2 * DAY + 1), axis=1),
            day0 - np.nanmean(base, axis=1),
            last6 - np.nanmean(base[:, -6:], axis=1),
            herd24,
            drop24 - herd24,
            drop6 - herd6,
            days_to_due,
            body.missing(row, at, -DAY + 1, 1),
        ]
    features = np.column_stack(columns).astype(np.float32)
    features[~np.isfinite(features)] = np.nan
    return features
