"""Synthetic herds for the livestock predictors (model cards: docs/models/livestock.*.md).

No labelled sensor data from the city's farms exists yet, so the models learn from herds
simulated hour by hour after the facts of DOMAIN.md "Livestock":

- Estrus recurs every 21 days (18-24; some cycles short, some long after an ovulation
  without heat), lasts 14.3 ± 4.1 h and raises collar activity by +360% ± 170% over the
  cow's own baseline; rumination falls about 17% on the day (429 -> 355 min/day).
- Tie-stalled cows show little increase in estrus: their heats are simulated, scored and
  reported apart, never promised.
- Calving: the body temperature falls 0.6-0.7 °C over the last 48 h and 0.2-0.3 °C over the
  last 24 h; gestation about 283 days from the successful insemination, give or take days.

and the confounders that fool naive detectors: herd-wide activity on turn-out and pasture
days, regrouping that excites part of a herd, single-hour disturbances, lame cows whose
activity is low for days and whose recovery looks like a rise against the low baseline,
sick cows with low activity and rumination and fever, hot days that move every cow's
temperature, cold-water drinking dips, and sensor gaps (single cows and whole herds).

Everything is drawn from ``numpy.random.default_rng(seed)`` per herd: the same seed gives the
same herds. Time is in hours from the first midnight.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from plugins.livestock.features import DAY, HOUSING_CODES

GENERATOR_VERSION = 1

HOUSING_SHARES = {"free_stall": 0.45, "pasture": 0.25, "tie_stall": 0.30}
ESTRUS_DAYS = 63
CALVING_DAYS = 24


@dataclass
class Heat:
    cow: int
    onset: int
    duration: int
    increase: float


@dataclass
class EstrusHerd:
    """One simulated herd: hourly collar series and the true heats."""

    housing: str
    activity: np.ndarray
    """``[cows, hours]``, NaN in sensor gaps."""
    rumination: np.ndarray
    heats: list[Heat]
    days_in_milk_at_start: np.ndarray
    in_heat: np.ndarray
    """``[cows, hours]`` bool."""
    recorded_heats: list[list[int]] = field(default_factory=list)
    """Per cow, the onsets a farm would have on record (most heats, not all)."""
    confounders: list[tuple[str, int, int, int]] = field(default_factory=list)
    """``(what, cow, first hour, last hour)`` of every confounding episode, for analysis."""

    @property
    def cows(self) -> int:
        return int(self.activity.shape[0])

    @property
    def hours(self) -> int:
        return int(self.activity.shape[1])

    @property
    def housing_code(self) -> int:
        return HOUSING_CODES[self.housing]


@dataclass
class CalvingHerd:
    temperature: np.ndarray
    """``[cows, hours]``, NaN in sensor gaps."""
    calving_hour: np.ndarray
    """Per cow, the hour she calves."""
    days_to_due_at_start: np.ndarray
    """Per cow, days from hour 0 to her expected calving date (NaN: no date on record)."""

    @property
    def cows(self) -> int:
        return int(self.temperature.shape[0])


def _diurnal_activity(rng: np.random.Generator, housing: str) -> np.ndarray:
    """Relative activity by hour of day: quiet nights, peaks at milking and feeding."""
    hours = np.arange(DAY)
    profile = np.where((hours >= 22) | (hours < 4), 0.55, 1.0)
    profile = profile + np.where((hours >= 9) & (hours < 16), 0.15, 0.0)
    if housing == "pasture":
        profile = profile + np.where((hours >= 7) & (hours < 18), 0.35, 0.0)
    for milking in (int(rng.integers(4, 7)), int(rng.integers(15, 18))):
        profile[milking] += 0.9
        profile[(milking + 1) % DAY] += 0.4
    return profile / profile.mean()


def _diurnal_rumination() -> np.ndarray:
    hours = np.arange(DAY)
    profile = np.where((hours >= 21) | (hours < 5), 1.35, 0.85)
    return profile / profile.mean()


def _ramp(length: int, up: int = 3, down: int = 3) -> np.ndarray:
    """Shape of an estrus rise: up over a few hours, a plateau, down again."""
    shape = np.ones(length)
    for i in range(min(up, length)):
        shape[i] = (i + 1) / (up + 1)
    for i in range(min(down, length)):
        shape[length - 1 - i] = min(shape[length - 1 - i], (i + 1) / (down + 1))
    return shape


def _cycle_length(rng: np.random.Generator) -> float:
    draw = rng.random()
    if draw < 0.05:
        return float(np.clip(rng.normal(11, 2), 7, 15))  # short cycle
    if draw < 0.12:
        return float(np.clip(rng.normal(42, 3), 36, 48))  # an ovulation without heat
    return float(np.clip(rng.normal(21, 1.5), 18, 25))


def _episode(hours: int, shape: np.ndarray, start: int) -> np.ndarray:
    """A per-hour multiplier that is 1 outside ``[start, start + len(shape))``."""
    out = np.ones(hours)
    end = min(hours, start + len(shape))
    if start < hours and end > max(start, 0):
        out[max(start, 0) : end] = shape[max(0, -start) : end - start]
    return out


def _gaps(rng: np.random.Generator, cows: int, hours: int, rate_per_day: float) -> np.ndarray:
    """``[cows, hours]`` bool: hours the sensor sent nothing."""
    missing = rng.random((cows, hours)) < 0.01
    for cow in range(cows):
        for _ in range(rng.poisson(rate_per_day * hours / DAY)):
            start = int(rng.integers(0, hours))
            missing[cow, start : start + int(rng.integers(2, 41))] = True
    for _ in range(rng.poisson(0.5 * hours / (ESTRUS_DAYS * DAY))):
        start = int(rng.integers(0, hours))
        missing[:, start : start + int(rng.integers(2, 13))] = True  # the gateway was down
    return missing


def estrus_herd(seed: int, days: int = ESTRUS_DAYS, housing: str | None = None) -> EstrusHerd:
    rng = np.random.default_rng(seed)
    if housing is None:
        names = list(HOUSING_SHARES)
        housing = str(rng.choice(names, p=[HOUSING_SHARES[n] for n in names]))
    cows = int(rng.integers(20, 46))
    hours = days * DAY
    hour_of_day = np.arange(hours) % DAY
    tie = housing == "tie_stall"

    profile = _diurnal_activity(rng, housing)[hour_of_day]
    herd_day = np.exp(np.cumsum(rng.normal(0, 0.04, days)))  # weather, feeding changes
    herd_level = np.repeat(herd_day / herd_day.mean(), DAY)

    level = np.exp(rng.normal(np.log(18.0 if tie else 40.0), 0.35, cows))
    noise_sd = rng.uniform(0.18, 0.32, cows)
    cow_days = np.exp(
        np.cumsum(rng.normal(0, 0.05, (cows, days)), axis=1)
        - np.cumsum(rng.normal(0, 0.05, (cows, days)), axis=1) * 0.5
    )
    activity = (
        level[:, None]
        * profile[None, :]
        * herd_level[None, :]
        * np.repeat(cow_days, DAY, axis=1)
        * np.exp(rng.normal(0, 1, (cows, hours)) * noise_sd[:, None])
    )
    daily_rumination = np.clip(rng.normal(429, 50, cows), 250, 600)
    rumination = daily_rumination[:, None] / DAY * _diurnal_rumination()[hour_of_day][None, :]
    rumination = rumination * np.repeat(np.exp(rng.normal(0, 0.04, (cows, days))), DAY, axis=1)
    rumination_noise = rng.normal(0, 3.5, (cows, hours))
    confounders: list[tuple[str, int, int, int]] = []

    # Herd-wide excitement: turn-out to pasture or a paddock, moving to fresh grass.
    rate = {"free_stall": 2.0, "pasture": 3.0, "tie_stall": 0.6}[housing] * days / ESTRUS_DAYS
    for _ in range(rng.poisson(rate)):
        start = int(rng.integers(0, days)) * DAY + int(rng.integers(7, 12))
        length = int(rng.integers(4, 11))
        strength = rng.uniform(1.8, 4.0)
        for cow in range(cows):
            response = strength * np.exp(rng.normal(0, 0.25))
            jitter = int(rng.integers(-1, 2))
            activity[cow] *= _episode(
                hours, 1 + (response - 1) * _ramp(length, 1, 2), start + jitter
            )
            confounders.append(("turn_out", cow, start + jitter, start + jitter + length))
    # Regrouping: part of the herd is mixed with strangers and fights for rank.
    for _ in range(rng.poisson(0.8 * days / ESTRUS_DAYS)):
        start = int(rng.integers(0, hours))
        length = int(rng.integers(4, 13))
        for cow in rng.choice(cows, size=max(2, int(cows * rng.uniform(0.15, 0.3))), replace=False):
            strength = rng.uniform(1.5, 2.6)
            activity[cow] *= _episode(hours, 1 + (strength - 1) * _ramp(length, 1, 2), start)
            confounders.append(("regrouping", int(cow), start, start + length))
    # Single-hour disturbances: hoof trimming, a vet visit, a dog in the barn.
    spikes = rng.random((cows, hours)) < 0.004
    activity[spikes] *= rng.uniform(2.0, 4.0, int(spikes.sum()))
    confounders += [
        ("disturbance", int(c), int(h), int(h) + 1)
        for c, h in zip(*np.nonzero(spikes), strict=True)
    ]

    # Lameness: days of low activity, then a recovery that looks like a rise.
    lame_factor = np.ones((cows, hours))
    for cow in np.flatnonzero(rng.random(cows) < 0.12):
        start = int(rng.integers(0, hours - DAY))
        length = int(rng.integers(4, 19)) * DAY
        depth = rng.uniform(0.35, 0.6)
        onset, recovery = int(rng.integers(DAY, 2 * DAY)), int(rng.integers(DAY, 3 * DAY))
        shape = np.full(length, depth)
        shape[:onset] = np.linspace(1, depth, onset)
        shape[-recovery:] = np.linspace(depth, 1, recovery)
        lame_factor[cow] = _episode(hours, shape, start)
        confounders.append(("lameness", int(cow), start, start + length))
        confounders.append(
            ("lameness_recovery", int(cow), start + length - recovery, start + length + 2 * DAY)
        )
    activity *= lame_factor
    rumination = rumination * (1 - (1 - lame_factor) * 0.15)
    # Sickness (mastitis, ketosis, indigestion): low activity and rumination for days.
    for cow in np.flatnonzero(rng.random(cows) < 0.08):
        start = int(rng.integers(0, hours - DAY))
        length = int(rng.integers(2, 7)) * DAY
        act_depth, rum_depth = rng.uniform(0.4, 0.7), rng.uniform(0.3, 0.6)
        ease = np.concatenate(
            [np.linspace(1, 0, 6), np.zeros(max(0, length - 6 - DAY)), np.linspace(0, 1, DAY)]
        )[:length]
        activity[cow] *= _episode(hours, act_depth + (1 - act_depth) * ease, start)
        rumination[cow] *= _episode(hours, rum_depth + (1 - rum_depth) * ease, start)
        confounders.append(("sickness", int(cow), start, start + length))

    # Estrous cycles.
    dim0 = rng.uniform(15, 150, cows)
    heats: list[Heat] = []
    recorded: list[list[int]] = [[] for _ in range(cows)]
    in_heat = np.zeros((cows, hours), dtype=bool)
    for cow in range(cows):
        first = rng.normal(35, 10)
        # Not cycling yet: her first heat comes; cycling: somewhere in her cycle.
        onset_day = first - dim0[cow] if dim0[cow] < first else -rng.uniform(0, 21)
        while onset_day < days:
            onset = int(onset_day * DAY + rng.integers(0, DAY))
            if onset >= 0:
                duration = int(np.clip(round(rng.normal(14.3, 4.1)), 4, 30))
                increase = float(np.clip(rng.normal(3.6, 1.7), 0.3, 9.0))
                if tie:
                    increase = float(np.clip(rng.normal(0.35, 0.25), 0.0, 1.5))
                if lame_factor[cow, min(onset, hours - 1)] < 0.9:
                    increase *= 0.5
                heats.append(Heat(cow, onset, duration, increase))
                activity[cow] *= _episode(hours, 1 + increase * _ramp(duration), onset)
                drop = float(np.clip(rng.normal(0.3, 0.1), 0.0, 0.6))
                around = np.full(duration + 12, drop * 0.25)
                around[6 : 6 + duration] = drop
                rumination[cow] *= _episode(hours, 1 - around, onset - 6)
                in_heat[cow, onset : onset + duration] = True
                if rng.random() < 0.9:
                    recorded[cow].append(onset)
            elif rng.random() < 0.9:
                recorded[cow].append(int(onset_day * DAY))
            onset_day += _cycle_length(rng)

    rumination = np.clip(rumination + rumination_noise, 0, 60)
    missing = _gaps(rng, cows, hours, rate_per_day=0.04)
    activity[missing] = np.nan
    rumination[missing] = np.nan
    return EstrusHerd(
        housing=housing,
        activity=activity,
        rumination=rumination,
        heats=heats,
        days_in_milk_at_start=dim0,
        in_heat=in_heat,
        recorded_heats=recorded,
        confounders=confounders,
    )


def calving_herd(seed: int, days: int = CALVING_DAYS) -> CalvingHerd:
    """Cows in the last weeks of gestation wearing a vaginal thermometer; each calves
    between day 12 and the last day."""
    rng = np.random.default_rng(seed)
    cows = int(rng.integers(6, 19))
    hours = days * DAY
    hour_of_day = np.arange(hours) % DAY

    base = rng.normal(38.95, 0.15, cows)
    amplitude = rng.uniform(0.08, 0.25, cows)
    peak = rng.uniform(15, 19, cows)
    diurnal = amplitude[:, None] * np.cos(2 * np.pi * (hour_of_day[None, :] - peak[:, None]) / DAY)
    # Weather: a slow herd-wide drift and hot days that lift every cow for a day.
    weather = np.repeat(np.cumsum(rng.normal(0, 0.06, days)) * 0.5, DAY)
    for _ in range(rng.poisson(1.5 * days / CALVING_DAYS)):
        start = int(rng.integers(0, days)) * DAY + 9
        weather[start : start + 12] += (
            rng.uniform(0.15, 0.45)
            * np.sin(np.linspace(0, np.pi, 12))[: max(0, min(12, hours - start))]
        )
    temperature = (
        base[:, None]
        + diurnal
        + weather[None, :]
        + rng.normal(0, 0.12, (cows, hours))
        + np.repeat(rng.normal(0, 0.1, (cows, days)), DAY, axis=1)
    )
    calving = rng.integers(12 * DAY, hours, cows)
    for cow in range(cows):
        # The prepartum fall: about 60% of it from 48 h to 24 h before, the rest on the day.
        total = float(np.clip(rng.normal(0.7, 0.2), 0.05, 1.3))
        start = calving[cow] - int(rng.integers(40, 57))
        middle = calving[cow] - DAY + int(rng.integers(-4, 5))
        share = float(np.clip(rng.normal(0.6, 0.1), 0.3, 0.85))
        fall = np.zeros(hours)
        fall[start:middle] = np.linspace(0, total * share, middle - start)
        fall[middle : calving[cow]] = np.linspace(total * share, total, calving[cow] - middle)
        temperature[cow] -= fall
        if rng.random() < 0.1:  # a fever some days before, then back to normal
            fever_start = int(rng.integers(0, max(1, calving[cow] - 3 * DAY)))
            length = int(rng.integers(DAY, 3 * DAY))
            height = rng.uniform(0.6, 1.4)
            shape = height * np.sin(np.linspace(0, np.pi, length))
            temperature[cow] += _episode(hours, 1 + shape, fever_start) - 1
    # Drinking cold water: a sharp dip for an hour.
    dips = rng.random((cows, hours)) < 0.01
    temperature[dips] -= rng.uniform(0.3, 1.2, int(dips.sum()))
    missing = _gaps(rng, cows, hours, rate_per_day=0.03)
    missing |= np.arange(hours)[None, :] >= calving[:, None]  # the logger is expelled
    temperature[missing] = np.nan
    due = calving / DAY + np.clip(rng.normal(1.0, 5.0, cows), -14, 14)
    due[rng.random(cows) < 0.2] = np.nan  # no insemination date on record
    return CalvingHerd(temperature=temperature, calving_hour=calving, days_to_due_at_start=due)
