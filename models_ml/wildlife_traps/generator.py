"""Synthetic trap triggers for ``wildlife_traps.capture_likelihood``: was it a real capture?

No hunting group has shared labelled trigger records yet, so the first model learns from
triggers drawn from the assumptions below, one simulated trap at a time. Facts from
docs DOMAIN.md "Wildlife traps" are marked (DOMAIN); everything marked (assumption) is an
unverified ecological or engineering assumption that real records should replace.

- **Traps.** ``N_TRAPS`` traps: box 45 %, snare 45 %, enclosure 10 % (assumption: box and
  snare traps are the common kinds around Sasebo; targets wild boar and sika deer, DOMAIN).
  Each site has an animal *pressure* (how many animals pass) and an *exposure* (wind,
  branches, a worn trigger line: a transmitter can misfire or fail, DOMAIN), both lognormal.
- **How often a trigger is a capture.** The log-odds start at a base per kind (box 0.6,
  snare -0.2: snares often spring without holding the foot, enclosure 0.8), rise with
  pressure and fall with exposure (assumption). About six triggers in ten are captures.
  Non-target catches (raccoon dog, badger, civet, cats, DOMAIN) are captures too: somebody
  must walk there to release them.
- **Time of day.** Captures are mostly at night and dawn: 45 % around 20:00 (sd 2.5 h),
  35 % around 04:00 (sd 2 h), 20 % at any hour (assumption: boar and deer are nocturnal and
  crepuscular where hunted). False triggers come at any hour (50 %), with a daytime bump of
  wind and passers-by around 14:00 (35 %, sd 3 h) and the morning rounds near 08:00 (15 %).
- **Season.** Captures peak in late summer and autumn, crop-damage season (70 % around
  20 September, sd 50 days, the rest uniform). False triggers peak with typhoons (40 %
  around 25 August, sd 25 days) and the winter monsoon (25 % around 15 January, sd 30 days)
  (assumption).
- **Time since the trap was set.** A trigger within the hour after arming is mostly the
  hunter leaving or the trap settling (30 % of false triggers, almost no captures); captures
  come after animals get used to the bait, 1 h + Gamma(2, 40 h) (assumption).
- **How the trigger looked.** Bounces (triggers that reverted within the debounce) in the
  hour before: wind and a loose line jitter (Poisson 1.2 * exposure); an animal nudging a
  box trap's bait also jitters it a little (Poisson 0.6, snares 0.15) (assumption).
- **Recent triggers.** Confirmed triggers in the last 7 days: both kinds grow with pressure;
  false ones grow with exposure (a misfiring trap misfires again) (assumption).
- **Label noise.** ``LABEL_NOISE`` of labels are flipped: records where the capture was
  logged against the wrong trigger, or a reset logged for a capture.
- **Held out by trap.** ``HELD_OUT`` of the traps never appear in training; the test set
  is all of their triggers, so the metrics measure traps the model has not seen.

Everything is drawn from one ``numpy.random.default_rng(seed)``: the same seed gives the
same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models_ml.wildlife_traps.features import TRAP_KINDS, TriggerFeatures

GENERATOR_VERSION = 1
N_TRAPS = 480
TRIGGERS_PER_TRAP = 14
HELD_OUT = 0.25
LABEL_NOISE = 0.03
KIND_SHARES = (0.45, 0.45, 0.10)
BASE_LOG_ODDS = {"box": 0.6, "snare": -0.2, "enclosure": 0.8}


@dataclass
class Split:
    rows: list[TriggerFeatures] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    traps: list[int] = field(default_factory=list)


@dataclass
class TriggerData:
    train: Split
    test: Split
    seed: int

    def describe(self) -> dict[str, Any]:
        return {
            "source": "synthetic",
            "generator": f"{__name__} v{GENERATOR_VERSION}",
            "seed": self.seed,
            "rows": {"train": len(self.train.rows), "test": len(self.test.rows)},
            "traps": {"train": len(set(self.train.traps)), "test": len(set(self.test.traps))},
            "captures_share": round(float(np.mean(self.train.labels)), 4),
            "label_noise": LABEL_NOISE,
            "held_out": f"{HELD_OUT:.0%} of the simulated traps, never seen in training",
        }


def _hours(rng: np.random.Generator, capture: bool) -> float:
    pick = rng.random()
    if capture:
        if pick < 0.45:
            return float(rng.normal(20.0, 2.5) % 24)
        if pick < 0.80:
            return float(rng.normal(4.0, 2.0) % 24)
        return float(rng.uniform(0, 24))
    if pick < 0.50:
        return float(rng.uniform(0, 24))
    if pick < 0.85:
        return float(rng.normal(14.0, 3.0) % 24)
    return float(rng.normal(8.0, 1.5) % 24)


def _day(rng: np.random.Generator, capture: bool) -> int:
    pick = rng.random()
    if capture:
        day = rng.normal(263, 50) if pick < 0.70 else rng.uniform(1, 366)
    elif pick < 0.40:
        day = rng.normal(237, 25)
    elif pick < 0.65:
        day = rng.normal(15, 30)
    else:
        day = rng.uniform(1, 366)
    return int(day - 1) % 365 + 1


def _trigger(
    rng: np.random.Generator, kind: str, pressure: float, exposure: float, capture: bool
) -> TriggerFeatures:
    if capture:
        armed = 1.0 + float(rng.gamma(2.0, 40.0))
        nudges = 0.6 if kind in ("box", "enclosure") else 0.15
        bounces = int(rng.poisson(nudges))
        recent = int(rng.poisson(0.6 * pressure + 0.2 * exposure))
    else:
        armed = float(rng.uniform(0, 1)) if rng.random() < 0.30 else float(rng.exponential(120))
        bounces = int(rng.poisson(1.2 * exposure))
        recent = int(rng.poisson(0.4 * pressure + 1.5 * exposure))
    return TriggerFeatures(
        local_hour=round(_hours(rng, capture), 3),
        day_of_year=_day(rng, capture),
        trap_kind=kind,
        triggers_7d=recent,
        bounces_1h=bounces,
        hours_since_armed=round(armed, 2),
    )


def generate(seed: int, n_traps: int = N_TRAPS) -> TriggerData:
    rng = np.random.default_rng(seed)
    held_out = set(rng.permutation(n_traps)[: round(n_traps * HELD_OUT)].tolist())
    train, test = Split(), Split()
    for trap in range(n_traps):
        kind = TRAP_KINDS[int(rng.choice(len(TRAP_KINDS), p=KIND_SHARES))]
        pressure = float(rng.lognormal(0.0, 0.5))
        exposure = float(rng.lognormal(0.0, 0.6))
        log_odds = BASE_LOG_ODDS[kind] + 0.8 * np.log(pressure) - 0.8 * np.log(exposure)
        p_capture = 1 / (1 + np.exp(-log_odds))
        split = test if trap in held_out else train
        for _ in range(max(1, int(rng.poisson(TRIGGERS_PER_TRAP)))):
            capture = bool(rng.random() < p_capture)
            row = _trigger(rng, kind, pressure, exposure, capture)
            label = capture if rng.random() >= LABEL_NOISE else not capture
            split.rows.append(row)
            split.labels.append(int(label))
            split.traps.append(trap)
    return TriggerData(train=train, test=test, seed=seed)
