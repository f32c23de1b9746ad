"""Alert thresholds (cells/mL) and the evaluation of an area's level from its latest counts.

Pure functions, no database: :mod:`plugins.red_tide.services` feeds them the counts.

Presets follow the prefectures around Kyushu and the Seto Inland Sea (../shared/DOMAIN.md,
"Red tide and aquaculture"; sources: suiken.pref.kumamoto.jp/kan/akasio.htm,
pref.kagawa.jp suisanshiken akashiwo kijyun, knsk-osaka.jp akashio, the Yamaguchi and Oita
bulletins). Nagasaki publishes no numbers of its own, so the city picks a preset
(setting ``preset``) and may override species (setting ``overrides``); the default,
``most_cautious``, applies every rule of every preset, each at a single station.

Two rules go beyond "one species at one station":

- **Genus sum** (Kagawa): the Chattonella warning counts *C. antiqua*, *C. marina* and
  *C. ovata* together (note 2 of Kagawa's criteria). A rule lists the species it sums; the
  sum is taken per sample (station and depth), then the highest depth counts.
- **Several stations** (Kagawa): a level is declared when the criterion is reached at
  several stations (note 1: "沖合調査点及び漁場調査点の複数点"). A rule's ``min_stations``
  says how many; an area with fewer sampled stations than that needs all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Literal

SpeciesId = Literal[
    "chattonella_antiqua",
    "chattonella_marina",
    "chattonella_ovata",
    "karenia_mikimotoi",
    "margalefidinium_polykrikoides",
    "heterosigma_akashiwo",
]

SPECIES: dict[str, str] = {
    "chattonella_antiqua": "Chattonella antiqua",
    "chattonella_marina": "Chattonella marina",
    "chattonella_ovata": "Chattonella ovata",
    "karenia_mikimotoi": "Karenia mikimotoi",
    "margalefidinium_polykrikoides": "Margalefidinium (Cochlodinium) polykrikoides",
    "heterosigma_akashiwo": "Heterosigma akashiwo",
}
"""Harmful species counted, by id (the scientific name is the label in every language)."""

ALIASES: dict[str, str] = {
    "cochlodinium_polykrikoides": "margalefidinium_polykrikoides",
    "gymnodinium_mikimotoi": "karenia_mikimotoi",
    "シャットネラ・アンティカ": "chattonella_antiqua",
    "シャットネラ・アンティーカ": "chattonella_antiqua",
    "シャットネラ・マリーナ": "chattonella_marina",
    "シャットネラ・オバータ": "chattonella_ovata",
    "カレニア・ミキモトイ": "karenia_mikimotoi",
    "コクロディニウム・ポリクリコイデス": "margalefidinium_polykrikoides",
    "ヘテロシグマ・アカシオ": "heterosigma_akashiwo",
}
"""Other names a flash report may use for a column (older genus names, katakana)."""

CHATTONELLA = ("chattonella_antiqua", "chattonella_marina", "chattonella_ovata")


def species_id(name: str) -> str | None:
    """The species id for a column heading or an id; None when it is no harmful species."""
    key = name.strip()
    folded = key.lower().replace(" ", "_").replace(".", "").replace("-", "_")
    if folded in SPECIES:
        return folded
    return ALIASES.get(folded) or ALIASES.get(key)


class Level(IntEnum):
    NONE = 0
    ADVISORY = 1
    WARNING = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Level:
        return cls[value.upper()]


@dataclass(frozen=True, slots=True)
class Rule:
    """Advisory and warning densities (cells/mL) for the sum of ``species`` in one sample."""

    species: tuple[str, ...]
    advisory: float | None
    warning: float | None
    min_stations: int = 1
    source: str = ""

    @property
    def label(self) -> str:
        if self.species == CHATTONELLA:
            return "Chattonella spp. (antiqua + marina + ovata)"
        return " + ".join(SPECIES[s] for s in self.species)

    def threshold(self, level: Level) -> float | None:
        return self.advisory if level is Level.ADVISORY else self.warning

    @property
    def first_threshold(self) -> float:
        """The lowest density this rule acts on (the advisory, or the warning without one)."""
        value = self.advisory if self.advisory is not None else self.warning
        assert value is not None
        return value


KUMAMOTO = "suiken.pref.kumamoto.jp/kan/akasio.htm"
KAGAWA = "pref.kagawa.jp suisanshiken akashiwo kijyun (notes 1 and 2)"
OSAKA = "knsk-osaka.jp akashio"
YAMAGUCHI = "Yamaguchi prefecture red-tide bulletin"
OITA = "Oita prefecture red-tide bulletin"

PRESETS: dict[str, tuple[Rule, ...]] = {
    "kumamoto": (Rule(("chattonella_antiqua",), 5, 10, source=KUMAMOTO),),
    "kagawa": (
        Rule(CHATTONELLA, None, 10, min_stations=2, source=KAGAWA),
        Rule(("karenia_mikimotoi",), 10, 500, min_stations=2, source=KAGAWA),
        Rule(("margalefidinium_polykrikoides",), 100, 1000, min_stations=2, source=KAGAWA),
        # Kagawa gives 10,000 cells/mL as a reference density only: an advisory here.
        Rule(("heterosigma_akashiwo",), 10000, None, min_stations=2, source=KAGAWA),
    ),
    "osaka": (
        Rule(("chattonella_antiqua",), 10, 100, source=OSAKA),
        Rule(("karenia_mikimotoi",), 100, 1000, source=OSAKA),
        Rule(("margalefidinium_polykrikoides",), 100, 1000, source=OSAKA),
        Rule(("heterosigma_akashiwo",), 10000, 50000, source=OSAKA),
    ),
    "yamaguchi": (Rule(("karenia_mikimotoi",), 100, 5000, source=YAMAGUCHI),),
    "oita": (Rule(("chattonella_antiqua",), 10, 100, source=OITA),),
}

PresetName = Literal["most_cautious", "kumamoto", "kagawa", "osaka", "yamaguchi", "oita"]


def most_cautious() -> tuple[Rule, ...]:
    """Every rule of every preset, each at a single station: whatever any preset would
    declare, this declares too (and no later)."""
    seen: dict[tuple[tuple[str, ...], float | None, float | None], Rule] = {}
    for rules in PRESETS.values():
        for rule in rules:
            single = replace(rule, min_stations=1)
            seen.setdefault((single.species, single.advisory, single.warning), single)
    return tuple(seen.values())


@dataclass(frozen=True, slots=True)
class Override:
    """A city's own densities for one species: replaces every single-species rule of it
    (rules that sum a genus stay as they are)."""

    species: str
    advisory: float | None
    warning: float | None
    min_stations: int = 1


def rules_for(preset: str, overrides: Iterable[Override] = ()) -> tuple[Rule, ...]:
    rules = list(most_cautious() if preset == "most_cautious" else PRESETS[preset])
    for override in overrides:
        rules = [r for r in rules if r.species != (override.species,)]
        rules.append(
            Rule(
                (override.species,),
                override.advisory,
                override.warning,
                override.min_stations,
                source="city override",
            )
        )
    return tuple(rules)


Sample = Mapping[str, float]
"""One water sample (a station at a depth): cells/mL per species id."""


@dataclass(frozen=True, slots=True)
class Finding:
    """What one rule found in an area."""

    rule: Rule
    level: Level
    value: float
    """The highest density (summed over the rule's species) at any station."""
    stations: tuple[str, ...]
    """Stations at or over the level's density (for NONE: at or over the advisory)."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    level: Level
    findings: tuple[Finding, ...] = ()
    ratio: float = 0.0
    """The highest density relative to its rule's first threshold (1.0 = at the level)."""
    stations_sampled: int = 0
    top: Finding | None = field(default=None)
    """The finding that sets the level (the highest level, then the highest ratio)."""


def station_value(rule: Rule, samples: Sequence[Sample]) -> float:
    """The rule's density at a station: summed over its species per sample, highest sample."""
    return max((sum(s.get(sp, 0.0) for sp in rule.species) for s in samples), default=0.0)


def evaluate(rules: Sequence[Rule], stations: Mapping[str, Sequence[Sample]]) -> Evaluation:
    """The area's level from the latest samples of each of its stations."""
    sampled = [sid for sid, samples in stations.items() if samples]
    findings: list[Finding] = []
    ratio = 0.0
    for rule in rules:
        values = {sid: station_value(rule, stations[sid]) for sid in sampled}
        top_value = max(values.values(), default=0.0)
        ratio = max(ratio, top_value / rule.first_threshold)
        needed = max(1, min(rule.min_stations, len(sampled)))
        level, over = Level.NONE, ()
        for candidate in (Level.WARNING, Level.ADVISORY):
            density = rule.threshold(candidate)
            if density is None:
                continue
            reached = tuple(sorted(s for s, v in values.items() if v >= density))
            if len(reached) >= needed:
                level, over = candidate, reached
                break
        if level is Level.NONE:
            over = tuple(sorted(s for s, v in values.items() if v >= rule.first_threshold))
        if top_value > 0:
            findings.append(Finding(rule, level, top_value, over))
    findings.sort(key=lambda f: (f.level, f.value / f.rule.first_threshold), reverse=True)
    level = findings[0].level if findings else Level.NONE
    return Evaluation(
        level=level,
        findings=tuple(findings),
        ratio=ratio,
        stations_sampled=len(sampled),
        top=findings[0] if findings else None,
    )
