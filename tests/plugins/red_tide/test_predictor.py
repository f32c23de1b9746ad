"""``red_tide.bloom_risk``: the shipped artifact's held-out metrics meet the issue's goals and
are in its model card; the model ranks a developing bloom above calm water; the job scores
each area from its buoys and counts and stores the model version."""

from __future__ import annotations

import json
import math
import re
from datetime import timedelta
from typing import Any

from core.clock import FakeClock
from models_ml.red_tide.features import FEATURES, Day, features
from tests.conftest import ROOT, World
from tests.core.test_ingest import ingest
from tests.plugins.red_tide.support import BASE, build_sea, count
from tests.plugins.red_tide.test_buoys import buoy
from tests.support import Api

ARTIFACT = ROOT / "models_ml" / "artifacts" / "red_tide" / "bloom_risk"
CARD = ROOT / "docs" / "models" / "red_tide.bloom_risk.md"


def test_held_out_metrics_meet_the_goal_and_are_in_the_model_card() -> None:
    metadata = json.loads((ARTIFACT / "metadata.json").read_text())
    metrics = metadata["metrics"]
    assert metadata["predictor"] == "red_tide.bloom_risk"
    assert metadata["features"] == list(FEATURES)
    # The goal: AUC >= 0.90 on held-out days not yet over the advisory level ...
    assert metrics["roc_auc"] >= 0.90
    # ... with precision and recall at the chosen threshold, and every day reported too.
    for key in (
        "threshold",
        "precision",
        "recall",
        "all_days_roc_auc",
        "all_days_precision",
        "all_days_recall",
        "days",
        "positive_days",
    ):
        assert key in metrics, key
    assert 0 < metrics["threshold"] < 1
    assert metadata["data"]["source"] == "synthetic"
    assert "whole area-seasons" in metadata["data"]["held_out"]
    card = CARD.read_text()
    for key in ("roc_auc", "precision", "recall", "all_days_roc_auc", "threshold"):
        assert f"| {key} | {metrics[key]:.4f} |" in card, key
    assert re.search(r"sklearn_version|scikit-learn 1\.", card)


def season(bloom: bool) -> list[Day]:
    """Two weeks of an area's daily summaries: warm, stratifying, greening after rain with
    a sub-threshold count (bloom), or mixed, salty and clear (calm)."""
    days = []
    for i in range(14):
        if bloom:
            days.append(
                Day(
                    day_of_year=230 + i,
                    temp_surface=25.5 + 0.1 * i,
                    temp_bottom=21.5,
                    salinity_surface=33.0 - (1.5 if i > 8 else 0.0),
                    salinity_bottom=33.7,
                    chlorophyll=3.0 + 0.6 * i,
                    do_bottom=4.2 - 0.1 * i,
                    do_surface=8.0,
                    count_ratio=0.6 if i == 12 else math.nan,
                )
            )
        else:
            days.append(
                Day(
                    day_of_year=300 + i,
                    temp_surface=21.0,
                    temp_bottom=20.8,
                    salinity_surface=33.4,
                    salinity_bottom=33.5,
                    chlorophyll=1.5,
                    do_bottom=7.0,
                    do_surface=7.5,
                    count_ratio=0.0 if i == 10 else math.nan,
                )
            )
    return days


async def test_a_developing_bloom_scores_above_calm_water(api: Api) -> None:
    predictor = api.client.app.state.services.predictors.get("red_tide.bloom_risk")
    bloom = predictor.predict(features(season(bloom=True)))
    calm = predictor.predict(features(season(bloom=False)))
    assert 0 <= calm < bloom <= 1
    assert calm < predictor.metadata.metrics["threshold"] <= bloom
    assert predictor.version.startswith("red_tide.bloom_risk@")


def daily_readings(clock: FakeClock, bloom: bool) -> list[dict[str, Any]]:
    readings = []
    for day in season(bloom):
        back = 13 - (day.day_of_year - season(bloom)[0].day_of_year)
        at = (clock.now() - timedelta(days=back)).replace(hour=3)
        for metric, value in (
            ("temperature_0_5m", day.temp_surface),
            ("temperature_bottom", day.temp_bottom),
            ("salinity_0_5m", day.salinity_surface),
            ("salinity_bottom", day.salinity_bottom),
            ("chlorophyll_0_5m", day.chlorophyll),
            ("do_bottom", day.do_bottom),
            ("do_0_5m", day.do_surface),
        ):
            readings.append(
                {
                    "id": f"{metric}-{at:%Y%m%d}",
                    "ts": at.isoformat(),
                    "metric": metric,
                    "value": round(value, 3),
                }
            )
    return readings


async def test_the_risk_job_scores_each_area_and_keeps_the_model_version(
    api: Api, world: World, clock: FakeClock
) -> None:
    sea = await build_sea(api)
    kujuku = await buoy(api, world, sea, "KJ-1")
    sasebo = await buoy(api, world, sea, "SB-1")
    for device, bloom in ((kujuku, True), (sasebo, False)):
        answer = await ingest(api, device["key"], daily_readings(clock, bloom))
        assert answer.json()["accepted"] == 98, answer.text
    await count(api, sea, "KJ-1", 6, clock.now() - timedelta(days=1))  # 0.6 of the advisory
    await count(api, sea, "SB-1", 0, clock.now() - timedelta(days=3))

    api.forget("admin")
    run = await api.post("/api/v1/jobs/red_tide.bloom_risk/run", "admin")
    assert run.json()["outcome"] == "succeeded", run.json()
    areas = {a["name"]: a for a in (await api.get(f"{BASE}/areas", "fisher")).json()["items"]}
    high, low = areas["Kujukushima"]["risk"], areas["Sasebo Bay"]["risk"]
    assert high["model_version"].startswith("red_tide.bloom_risk@")
    assert high["day"] == "2026-11-26"
    assert high["probability"] > low["probability"]
    assert high["high"] is True and low["high"] is False
    assert areas["Kujukushima"]["level"] == "none"  # a forecast, not yet a count over it
