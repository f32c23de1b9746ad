"""Synthetic red-tide seasons that ``red_tide.bloom_risk`` learns from.

No labelled buoy archive with cell counts is available to this project yet, so the model is
trained on seasons drawn from a small ecological model built on the precursors of
../shared/DOMAIN.md ("Red tide and aquaculture"). Each *season* is one sea area from May 1 to
November 30 (the months the Sasebo telemeter runs, May 31 - Nov 30, with a month of lead-in)
with one harmful species, *Karenia mikimotoi* or *Chattonella* (antiqua, marina and ovata
counted together), stepped one day at a time:

- **Surface temperature** follows the Kyushu coastal climatology (about 19 °C in May, 27-28 °C
  in mid-August) plus a season-long anomaly: a warm late winter and spring is a Chattonella
  precursor (FRA 2015). Day-to-day weather is an AR(1) process; rain and strong winds cool it.
- **Rain** is frequent in the rainy season, whose end varies by year: a late end of the rainy
  season is the other Chattonella precursor (FRA 2015). Rain lowers surface salinity (it
  recovers over about five days) and brings nutrients (DIN) with the runoff.
- **Stratification** (bottom minus surface density) builds with surface warming and fresh
  water on top and is destroyed by strong-wind mixing events (typhoons in late summer).
  Strong stratification with DIN above 0.3 µM is the Chattonella habitat (habitat model).
- **Nutrients**: each season has a spring total-nitrogen level; K. mikimotoi blooms follow
  spring total nitrogen and a strong Tsushima Current (Imari Bay), which here raises the seed
  population carried into the area.
- **The harmful population** grows logistically with a rate that is the product of a thermal
  window (K. mikimotoi around 24 °C, Chattonella around 27 °C), a Monod term in DIN (half
  saturation 0.3 µM) and a stratification term, minus losses; mixing events disperse it and
  the bloom draws down DIN, which ends it.
- **What a buoy sees**: surface and bottom temperature and salinity, surface chlorophyll
  (diatoms fed by the same nutrients, plus about 20 pg chlorophyll per harmful cell),
  bottom dissolved oxygen (lowered by warm water, stratification and decaying blooms) and
  surface oxygen (raised by photosynthesis), each with sensor noise, and a few percent of
  days missing per sensor.

The **label** of a day is whether the harmful species reaches the advisory density of the
plugin's default preset (the most cautious: 10 cells/mL for K. mikimotoi, Kagawa; 5 cells/mL
for Chattonella, Kumamoto) on one of the next three days. A day already over the advisory
density is marked ``over``: the metrics that matter are on the days that are not.

Everything is drawn from one ``random.Random(seed)``: the same seed gives the same seasons.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from models_ml.red_tide.features import HISTORY_DAYS, NAN, Day, row

GENERATOR_VERSION = 1
FIRST_DOY = 121  # May 1
LAST_DOY = 334  # November 30
HORIZON_DAYS = 3
MISSING = 0.03
"""Share of days on which each sensor reports nothing."""

PATCHINESS = 0.5
"""Log-scale spread between the sampled water and the area's mean density."""
ADVISORY = {"karenia_mikimotoi": 10.0, "chattonella": 5.0}
"""cells/mL: the default (most cautious) preset's advisory density per species."""


@dataclass(frozen=True, slots=True)
class Species:
    name: str
    optimum_c: float
    width_c: float
    max_growth: float
    """Divisions per day at the optimum with nutrients and stratification saturated."""


SPECIES = (
    Species("karenia_mikimotoi", optimum_c=24.0, width_c=3.5, max_growth=0.95),
    Species("chattonella", optimum_c=27.0, width_c=2.5, max_growth=1.05),
)


@dataclass
class Rows:
    x: list[list[float]] = field(default_factory=list)
    y: list[int] = field(default_factory=list)
    over: list[bool] = field(default_factory=list)
    """Whether the species was already at or over its advisory density that day."""
    season: list[int] = field(default_factory=list)

    def extend(self, other: Rows) -> None:
        self.x += other.x
        self.y += other.y
        self.over += other.over
        self.season += other.season


def _noisy(rng: random.Random, value: float, sd: float) -> float:
    return NAN if rng.random() < MISSING else value + rng.gauss(0.0, sd)


def season(rng: random.Random, index: int) -> Rows:
    """One area-season: the feature row and label of every day with a full week behind it."""
    warm_anomaly = rng.gauss(0.0, 0.8)
    rain_start = rng.gauss(160, 5)
    rain_end = rng.gauss(200, 9)
    nitrogen = math.exp(rng.gauss(0.0, 0.35))
    current = rng.gauss(0.0, 1.0)
    seeds = {
        s.name: 0.02 * math.exp(0.5 * current if s.name == "karenia_mikimotoi" else 0.0)
        for s in SPECIES
    }
    cells = {name: seed * math.exp(rng.gauss(0, 0.5)) for name, seed in seeds.items()}
    weather = 0.0
    salinity = 33.4 + rng.gauss(0, 0.2)
    din = 0.25 * nitrogen
    diatoms = 2.0
    thermal = 1.0
    history: list[Day] = []
    sample_weekday = rng.randrange(7)
    last_over = -100
    ratios: list[float] = []
    """The highest density of the day relative to its species' advisory density."""
    for doy in range(FIRST_DOY, LAST_DOY + 1):
        rainy = rain_start <= doy <= rain_end
        rain = rng.expovariate(1 / 22) if rng.random() < (0.45 if rainy else 0.12) else 0.0
        windy = rng.random() < (0.035 if 213 <= doy <= 290 else 0.012)

        climate = 20.5 + 7.0 * math.sin(2 * math.pi * (doy - 135) / 365)
        weather = 0.8 * weather + rng.gauss(0, 0.35) - 0.01 * rain - (0.8 if windy else 0.0)
        temp_surface = climate + warm_anomaly + weather

        salinity += (33.4 - salinity) / 5 - min(0.04 * rain, 2.5) + rng.gauss(0, 0.05)
        summer = max(0.0, math.sin(math.pi * (doy - 121) / 200))
        thermal += (0.4 + 3.0 * summer - thermal) / 4
        if windy:
            thermal = 0.3
            salinity += (33.4 - salinity) * 0.6
        temp_bottom = temp_surface - thermal
        salinity_bottom = 33.6 + rng.gauss(0, 0.05)
        strat = _strat(temp_surface, temp_bottom, salinity, salinity_bottom)

        din += (0.25 * nitrogen - din) / 6 + 0.012 * rain * nitrogen
        harmful = sum(cells.values())
        din = max(din - 0.00004 * harmful - 0.01 * (diatoms - 2.0), 0.01)
        diatoms += 0.3 * (1.5 + 6.0 * din / (din + 0.5) - diatoms) + rng.gauss(0, 0.15)
        diatoms = max(diatoms, 0.3)

        for species in SPECIES:
            thermal_fit = math.exp(-(((temp_surface - species.optimum_c) / species.width_c) ** 2))
            growth = (
                species.max_growth
                * thermal_fit
                * (din / (din + 0.3))
                * (strat / (strat + 1.0) if strat > 0 else 0.0)
            )
            now = cells[species.name]
            rate = growth * (1 - harmful / 20000.0) - 0.18
            now = now * math.exp(rate + rng.gauss(0, 0.08)) + seeds[species.name] * 0.1
            cells[species.name] = max(now * (0.3 if windy else 1.0), 0.001)
        harmful = sum(cells.values())
        ratios.append(max(cells[name] / ADVISORY[name] for name in cells))

        chlorophyll = (diatoms + 0.02 * harmful) * math.exp(rng.gauss(0, 0.12))
        saturation = 14.6 - 0.39 * temp_bottom + 0.007 * temp_bottom**2
        do_bottom = saturation - 0.9 * min(strat, 4.0) - 0.08 * chlorophyll - 0.5
        do_surface = 14.6 - 0.39 * temp_surface + 0.007 * temp_surface**2 + 0.08 * chlorophyll
        day_index = doy - FIRST_DOY
        sampled = day_index % 7 == sample_weekday or day_index - last_over <= 7
        count_ratio = NAN
        if sampled:
            count_ratio = max(
                _count(rng, value * math.exp(rng.gauss(0, PATCHINESS))) / ADVISORY[name]
                for name, value in cells.items()
            )
            if count_ratio >= 1.0:
                last_over = day_index
        history.append(
            Day(
                day_of_year=doy,
                temp_surface=_noisy(rng, temp_surface, 0.1),
                temp_bottom=_noisy(rng, temp_bottom, 0.1),
                salinity_surface=_noisy(rng, salinity, 0.05),
                salinity_bottom=_noisy(rng, salinity_bottom, 0.05),
                chlorophyll=_noisy(rng, chlorophyll, 0.1),
                do_bottom=_noisy(rng, max(do_bottom, 0.2), 0.25),
                do_surface=_noisy(rng, do_surface, 0.2),
                count_ratio=count_ratio,
            )
        )

    rows = Rows()
    for today in range(HISTORY_DAYS, len(history) - HORIZON_DAYS):
        ahead = ratios[today + 1 : today + 1 + HORIZON_DAYS]
        rows.x.append(row(history[today + 1 - HISTORY_DAYS : today + 1]))
        rows.y.append(int(max(ahead) >= 1.0))
        rows.over.append(ratios[today] >= 1.0)
        rows.season.append(index)
    return rows


def _count(rng: random.Random, density: float) -> float:
    """Cells counted in 1 mL (Poisson): nothing at all is common below a few cells/mL."""
    if density > 50:
        return max(0.0, round(rng.gauss(density, math.sqrt(density))))
    limit, product, found = math.exp(-density), rng.random(), 0
    while product > limit:
        product *= rng.random()
        found += 1
    return float(found)


def _strat(temp_surface: float, temp_bottom: float, sal_surface: float, sal_bottom: float) -> float:
    from models_ml.red_tide.features import sigma_t

    return sigma_t(temp_bottom, sal_bottom) - sigma_t(temp_surface, sal_surface)


@dataclass
class BloomData:
    train: Rows
    test: Rows
    seed: int
    seasons: tuple[int, int]

    def describe(self) -> dict[str, Any]:
        """The data description recorded in the artifact's metadata.json."""

        def share(rows: Rows) -> float:
            return round(sum(rows.y) / len(rows.y), 4) if rows.y else 0.0

        return {
            "source": "synthetic",
            "generator": f"{__name__} v{GENERATOR_VERSION}",
            "seed": self.seed,
            "seasons": {"train": self.seasons[0], "test": self.seasons[1]},
            "rows": {"train": len(self.train.y), "test": len(self.test.y)},
            "positive_share": {"train": share(self.train), "test": share(self.test)},
            "test_days_not_yet_over_advisory": sum(1 for o in self.test.over if not o),
            "label": (
                "the harmful species reaches the default preset's advisory density "
                f"({', '.join(f'{k} {v:g} cells/mL' for k, v in ADVISORY.items())}) "
                f"on one of the next {HORIZON_DAYS} days"
            ),
            "held_out": (
                "whole area-seasons (May 1 - Nov 30) drawn after the training seasons "
                "from the same generator; no day of a test season is seen in training"
            ),
        }


def generate(seed: int, train_seasons: int, test_seasons: int) -> BloomData:
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    train, test = Rows(), Rows()
    for index in range(train_seasons + test_seasons):
        (train if index < train_seasons else test).extend(season(rng, index))
    return BloomData(train=train, test=test, seed=seed, seasons=(train_seasons, test_seasons))
