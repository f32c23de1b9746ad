"""Threshold evaluation per preset, Kagawa's genus-sum and several-stations rules, the most
cautious default and the city's overrides (pure functions), then the preset the city selects
reaching an area's level through the API."""

from __future__ import annotations

import msgspec
import pytest

from core.clock import FakeClock
from plugins.red_tide.settings import RedTideSettings
from plugins.red_tide.thresholds import (
    CHATTONELLA,
    PRESETS,
    Level,
    Override,
    evaluate,
    most_cautious,
    rules_for,
    species_id,
)
from tests.conftest import World
from tests.plugins.red_tide.support import TunedApp, area, build_sea, count
from tests.support import Api

KM = "karenia_mikimotoi"
CA = "chattonella_antiqua"
CM = "chattonella_marina"
CO = "chattonella_ovata"
CP = "margalefidinium_polykrikoides"
HA = "heterosigma_akashiwo"


def level(preset: str, *stations: dict[str, float], overrides: tuple[Override, ...] = ()) -> Level:
    """The level of an area whose stations each have one sample with these counts."""
    sampled = {f"st{i}": [counts] for i, counts in enumerate(stations)}
    return evaluate(rules_for(preset, overrides), sampled).level


@pytest.mark.parametrize(
    ("preset", "species", "below", "advisory", "warning"),
    [
        # DOMAIN.md "Red tide and aquaculture": advisory / warning in cells/mL.
        ("kumamoto", CA, 4.9, 5, 10),
        ("osaka", CA, 9, 10, 100),
        ("osaka", KM, 99, 100, 1000),
        ("osaka", CP, 99, 100, 1000),
        ("osaka", HA, 9999, 10000, 50000),
        ("yamaguchi", KM, 99, 100, 5000),
        ("oita", CA, 9, 10, 100),
    ],
)
def test_each_preset_gives_its_own_advisory_and_warning_densities(
    preset: str, species: str, below: float, advisory: float, warning: float
) -> None:
    assert level(preset, {species: below}) is Level.NONE
    assert level(preset, {species: advisory}) is Level.ADVISORY
    assert level(preset, {species: warning - 0.5}) is Level.ADVISORY
    assert level(preset, {species: warning}) is Level.WARNING


def test_a_species_a_preset_does_not_list_never_raises_its_level() -> None:
    assert level("kumamoto", {KM: 100000}) is Level.NONE
    assert level("yamaguchi", {CA: 1000}) is Level.NONE
    assert level("oita", {HA: 10**6}) is Level.NONE


def test_kagawa_sums_the_three_chattonella_species_for_its_warning() -> None:
    """Kagawa's Chattonella warning is 10 cells/mL of antiqua + marina + ovata together,
    summed per sample: 4 + 3 + 3 in one sample is a warning, though no species reaches 10."""
    two_stations = ({CA: 4, CM: 3, CO: 3}, {CA: 4, CM: 3, CO: 3})
    assert level("kagawa", *two_stations) is Level.WARNING
    assert level("kagawa", {CA: 4, CM: 3, CO: 2}, {CA: 4, CM: 3, CO: 2}) is Level.NONE
    # Osaka (per DOMAIN.md, C. antiqua alone) does not add them up.
    assert level("osaka", {CA: 4, CM: 3, CO: 3}) is Level.NONE
    # The sum is per sample (a station and depth): two depths do not add up.
    sampled = {
        "a": [{CA: 5}, {CM: 5}],
        "b": [{CA: 5}, {CM: 5}],
    }
    assert evaluate(PRESETS["kagawa"], sampled).level is Level.NONE
    rule = next(r for r in PRESETS["kagawa"] if r.species == CHATTONELLA)
    assert rule.advisory is None and rule.warning == 10
    assert "antiqua + marina + ovata" in rule.label


def test_kagawa_needs_several_stations_over_the_density() -> None:
    """Kagawa declares a level when several stations reach the criterion (its note 1)."""
    assert level("kagawa", {KM: 600}, {KM: 0}, {KM: 0}) is Level.NONE
    assert level("kagawa", {KM: 600}, {KM: 12}, {KM: 0}) is Level.ADVISORY
    assert level("kagawa", {KM: 600}, {KM: 500}, {KM: 0}) is Level.WARNING
    # An area with a single sampled station cannot have two: that station decides.
    assert level("kagawa", {KM: 600}) is Level.WARNING
    found = evaluate(PRESETS["kagawa"], {"a": [{KM: 600}], "b": [{KM: 12}], "c": [{KM: 0}]})
    assert found.top is not None
    assert found.top.stations == ("a", "b")
    assert found.top.value == 600
    # Other presets act on one station.
    assert level("osaka", {KM: 1000}, {KM: 0}, {KM: 0}) is Level.WARNING


def test_the_most_cautious_default_declares_whatever_any_preset_declares() -> None:
    assert RedTideSettings().preset == "most_cautious"
    cautious = most_cautious()
    assert all(rule.min_stations == 1 for rule in cautious)
    cases = [
        {KM: 10},  # Kagawa's advisory
        {KM: 500},  # Kagawa's warning
        {CA: 5},  # Kumamoto's advisory
        {CA: 10},  # Kumamoto's warning
        {CA: 4, CM: 3, CO: 3},  # Kagawa's genus sum
        {CP: 1000},
        {HA: 10000},
        {HA: 50000},
    ]
    for counts in cases:
        strictest = max(level(p, {**counts}) for p in PRESETS)
        assert level("most_cautious", counts) >= strictest, counts
    # ... each at one station, where Kagawa would wait for another.
    assert level("most_cautious", {KM: 500}, {KM: 0}) is Level.WARNING
    assert level("kagawa", {KM: 500}, {KM: 0}) is Level.NONE
    assert level("most_cautious", {KM: 9}) is Level.NONE


def test_a_city_override_replaces_a_species_rule_and_keeps_genus_sums() -> None:
    override = Override(KM, advisory=50, warning=2000)
    assert level("most_cautious", {KM: 40}, overrides=(override,)) is Level.NONE
    assert level("most_cautious", {KM: 600}, overrides=(override,)) is Level.ADVISORY
    assert level("most_cautious", {KM: 2000}, overrides=(override,)) is Level.WARNING
    only_chattonella = Override(CA, advisory=None, warning=50)
    assert level("kagawa", {CA: 20}, {CA: 20}, overrides=(only_chattonella,)) is Level.WARNING


def test_settings_refuse_bad_overrides_and_unknown_presets() -> None:
    with pytest.raises(msgspec.ValidationError, match="warning is below advisory"):
        msgspec.convert(
            {"overrides": [{"species": KM, "advisory": 100, "warning": 10}]}, RedTideSettings
        )
    with pytest.raises(msgspec.ValidationError, match="give advisory, warning or both"):
        msgspec.convert({"overrides": [{"species": KM}]}, RedTideSettings)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"overrides": [{"species": "noctiluca", "advisory": 1}]}, RedTideSettings)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"preset": "nagasaki"}, RedTideSettings)
    with pytest.raises(msgspec.ValidationError, match="HH:MM"):
        msgspec.convert({"bulletin_time": "7am"}, RedTideSettings)


def test_flash_report_names_map_to_species() -> None:
    assert species_id("Karenia mikimotoi") == KM
    assert species_id("cochlodinium_polykrikoides") == CP
    assert species_id("カレニア・ミキモトイ") == KM
    assert species_id("noctiluca_scintillans") is None


async def test_the_city_selected_preset_sets_the_level_through_the_api(
    api: Api, world: World, clock: FakeClock, database_url: str
) -> None:
    """600 K. mikimotoi cells/mL: a warning by default (Kagawa's 500 at one station), an
    advisory under Yamaguchi's preset (100 / 5,000), with both the same data."""
    sea = await build_sea(api)
    await count(api, sea, "KJ-1", 600, clock.now())
    default = await area(api, sea, "Kujukushima")
    assert default["level"] == "warning"
    assert default["findings"][0]["cells_per_ml"] == 600
    assert default["findings"][0]["warning"] == 500

    async with TunedApp(database_url, clock, preset="yamaguchi") as tuned:
        thresholds = (await tuned.get("/api/v1/red_tide/thresholds", "fisher")).json()
        assert thresholds["preset"] == "yamaguchi"
        assert thresholds["rules"] == [
            {
                "label": "Karenia mikimotoi",
                "species": [KM],
                "advisory": 100.0,
                "warning": 5000.0,
                "min_stations": 1,
                "source": "Yamaguchi prefecture red-tide bulletin",
            }
        ]
        await count(tuned, sea, "KJ-2", 5, clock.now())  # any new count re-evaluates
        yamaguchi = await area(tuned, sea, "Kujukushima")
        assert yamaguchi["level"] == "advisory"
        assert yamaguchi["findings"][0]["advisory"] == 100
