"""The plugin in the app: the evening reminder, home cards, offline sync, the KPI, its
declaration, settings and model card."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.clock import FakeClock
from core.settings import ConfigError, Settings
from tests.conftest import ROOT, World
from tests.plugins.wildlife_traps.support import (
    BASE,
    add_sensor,
    alerts,
    create_trap,
    fresh,
    inbox,
    reading,
    run_job,
    send,
    trap_settings,
)
from tests.support import Api

EN = {"Accept-Language": "en"}


async def test_owners_are_reminded_at_18_of_traps_still_missed_today(
    api: Api, world: World, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 11, 25, 23, 0, tzinfo=UTC))  # 08:00 in Sasebo
    missed = await create_trap(api, world, name="Hillside")
    inspected = await create_trap(api, world, name="Riverside")
    checked = await api.post(
        f"{BASE}/traps/{inspected['id']}/inspections", as_="farmer", json={"result": "ok"}
    )
    assert checked.status_code == 201
    clock.set(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))  # 17:00
    await run_job(api, "wildlife_traps.reminder")
    assert await inbox(api, "farmer") == []

    clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))  # 18:00
    await run_job(api, "wildlife_traps.reminder")
    await run_job(api, "wildlife_traps.reminder")  # once a day, however often it runs
    fresh(api, "farmer")
    items = (await api.get("/mobile/v1/inbox", as_="farmer", headers=EN)).json()["items"]
    assert [(i["title"], i["body"]) for i in items] == [
        (
            "Traps to inspect today: 1",
            "Not inspected and not verified by their sensors today: Hillside.",
        )
    ]
    assert missed["id"] != inspected["id"]


async def test_home_cards_for_missed_inspections_and_an_acknowledged_sprung_trap(
    api: Api, world: World, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 11, 25, 23, 0, tzinfo=UTC))
    trap = await create_trap(api, world, name="Hillside")
    sensor = await add_sensor(api, world, trap["id"])
    clock.advance(timedelta(hours=2))
    fresh(api, "farmer")
    await send(api, sensor["key"], [reading(clock.now() - timedelta(seconds=30), "trigger", 1)])
    home = (await api.get("/mobile/v1/home", as_="farmer", headers=EN)).json()
    types = [c["type"] for c in home["cards"]]
    assert types == ["alert.critical", "inspections_due"]  # the open alert is core's card
    due = home["cards"][1]
    assert due["plugin"] == "wildlife_traps" and due["title"] == "Traps to inspect today: 1"
    assert due["action"]["target"] == {"kind": "wildlife_traps.trap", "id": trap["id"]}

    [alert] = await alerts(api)
    await api.post(f"/api/v1/alerts/{alert['id']}/ack", as_="farmer")
    home = (await api.get("/mobile/v1/home", as_="farmer", headers=EN)).json()
    sprung = next(c for c in home["cards"] if c["type"] == "sprung_trap")
    assert sprung["title"] == "Hillside is sprung"
    assert sprung["body"] == "Sprung at 11/26 09:59. Record the capture or reset the trap."
    assert sprung["priority"] == 85
    assert (await api.get("/mobile/v1/home", as_="fisher", headers=EN)).json()["cards"] == []


async def test_the_missed_card_follows_new_heartbeats_and_the_clock(
    api: Api, world: World, clock: FakeClock
) -> None:
    async def due() -> list[str]:
        fresh(api, "farmer")
        home = (await api.get("/mobile/v1/home", as_="farmer", headers=EN)).json()
        return [c["title"] for c in home["cards"] if c["type"] == "inspections_due"]

    clock.set(datetime(2026, 11, 25, 23, 0, tzinfo=UTC))  # 08:00 in Sasebo
    trap = await create_trap(api, world, name="Hillside")
    sensor = await add_sensor(api, world, trap["id"])
    clock.advance(timedelta(minutes=30))
    assert await due() == ["Traps to inspect today: 1"]  # a silent sensor verifies nothing

    await send(api, sensor["key"], [reading(clock.now() - timedelta(minutes=1), "heartbeat", 1)])
    assert await due() == []  # the same day's record, read again with the new heartbeat

    clock.advance(timedelta(hours=2, minutes=1))  # longer than the gap allowed, no report
    assert await due() == ["Traps to inspect today: 1"]
    await send(api, sensor["key"], [reading(clock.now() - timedelta(minutes=1), "heartbeat", 1)])
    assert await due() == ["Traps to inspect today: 1"]  # the gap stays in today's record


async def test_sync_brings_traps_inspections_captures_and_deletions(
    api: Api, world: World, clock: FakeClock
) -> None:
    kept = await create_trap(api, world, name="Kept")
    gone = await create_trap(api, world, name="Gone")
    await api.post(f"{BASE}/traps/{kept['id']}/inspections", as_="farmer", json={"result": "ok"})
    first = (await api.get("/mobile/v1/sync", as_="farmer")).json()
    mine = first["changes"]["wildlife_traps"]
    assert sorted(t["name"] for t in mine["traps"]["upserted"]) == ["Gone", "Kept"]
    assert [i["trap_id"] for i in mine["inspections"]["upserted"]] == [kept["id"]]
    assert mine["captures"]["upserted"] == []

    clock.advance(timedelta(minutes=5))
    fresh(api, "farmer")
    assert (await api.delete(f"{BASE}/traps/{gone['id']}", as_="farmer")).status_code == 204
    later = (await api.get(f"/mobile/v1/sync?cursor={first['cursor']}", as_="farmer")).json()
    assert later["changes"]["wildlife_traps"]["traps"]["deleted"] == [gone["id"]]
    fisher = (await api.get("/mobile/v1/sync", as_="fisher")).json()
    assert fisher["changes"]["wildlife_traps"]["traps"]["upserted"] == []


async def test_the_kpi_counts_trap_sensors_that_reported_in_the_period(
    api: Api, world: World, clock: FakeClock
) -> None:
    trap = await create_trap(api, world)
    silent = await create_trap(api, world, name="Trap 2")
    sensor = await add_sensor(api, world, trap["id"])
    await add_sensor(api, world, silent["id"], external_id="s2")  # never reports
    await send(api, sensor["key"], [reading(clock.now(), "heartbeat", 1)])
    report = (await api.get("/api/v1/kpis", as_="admin")).json()
    [kpi] = [k for k in report["kpis"] if k["key"] == "wildlife_detection_sites"]
    assert kpi["value"] == 1 and kpi["parts"] == {"wildlife_traps": 1}
    last_month = (await api.get("/api/v1/kpis?from=2026-10-01&to=2026-11-01", as_="admin")).json()
    [kpi] = [k for k in last_month["kpis"] if k["key"] == "wildlife_detection_sites"]
    assert kpi["value"] == 0


async def test_the_plugin_declares_its_sensor_jobs_and_predictor(api: Api) -> None:
    plugins = (await api.get("/api/v1/plugins", as_="farmer")).json()
    [mine] = [p for p in plugins if p["name"] == "wildlife_traps"]
    assert mine["status"] == "loaded"
    [kind] = mine["device_kinds"]
    assert kind["kind"] == "wildlife_traps.sensor" and kind["expected_interval_s"] == 3600
    assert kind["subject_kind"] == "wildlife_traps.trap"  # as a device's subject names it
    assert {m["name"] for m in kind["metrics"]} == {"trigger", "heartbeat", "battery_v", "rssi_dbm"}
    assert sorted(mine["jobs"]) == [
        "wildlife_traps.permits",
        "wildlife_traps.reminder",
        "wildlife_traps.watch",
    ]
    assert mine["predictors"] == ["wildlife_traps.capture_likelihood"]


def test_bad_settings_stop_start_up_with_one_line(settings: Settings) -> None:
    from core.app import create_app

    for values, wanted in [
        ({"debounce_s": -1}, "debounce_s"),
        ({"max_backdate_days": 99}, "max_backdate_days"),
        ({"battery_low_v": 3.0}, "battery"),
        ({"debouce_s": 3}, "debouce_s"),
    ]:
        with pytest.raises(ConfigError, match=wanted) as raised:
            create_app(trap_settings(settings.database_url, plugin=values), run_jobs=False)
        assert "wildlife_traps" in str(raised.value) and "\n" not in str(raised.value)


def test_the_model_card_shows_the_metrics_of_the_shipped_artifact() -> None:
    metadata = json.loads(
        (ROOT / "models_ml/artifacts/wildlife_traps/capture_likelihood/metadata.json").read_text()
    )
    card = (ROOT / "docs/models/wildlife_traps.capture_likelihood.md").read_text()
    assert metadata["data"]["held_out"].startswith("25% of the simulated traps")
    for key in (
        "roc_auc",
        "brier",
        "accuracy",
        "precision_capture",
        "recall_capture",
        "calibration_error",
    ):
        value = metadata["metrics"][key]
        assert re.search(rf"`{key}`\s*\|\s*{value:.4f}", card), f"{key} {value:.4f} not in the card"
    assert metadata["sha256"][:8] in card


def test_the_model_retrains_on_an_organizations_exported_records(tmp_path: Path) -> None:
    from models_ml.wildlife_traps.training import CSV_COLUMNS, TrainingDataError, fit

    rows = [
        {
            "organization_id": "org",
            "trap_id": f"trap-{i % 40}",
            "event_id": f"e{i}",
            "at": "2026-11-01T00:00:00+00:00",
            "local_hour": 3.5 if i % 2 else 14.0,
            "day_of_year": 300,
            "trap_kind": "box",
            "triggers_7d": 0 if i % 2 else 3,
            "bounces_1h": 0 if i % 2 else 2,
            "hours_since_armed": 48.0,
            "label": i % 2,
        }
        for i in range(160)
    ]
    exported = tmp_path / "group.csv"
    with exported.open("w", newline="") as out:
        writer = csv.DictWriter(out, CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    fitted = fit([str(exported)])
    assert fitted.data["source"] == "synthetic and exported records"
    assert fitted.data["exported"]["rows"]["train"] + fitted.data["exported"]["rows"]["test"] == 160
    assert fitted.metrics["real_test_rows"] > 0
    assert fitted.metrics["real_roc_auc"] > 0.9  # these records are easy: night vs. day
    assert fitted.metrics["roc_auc"] > 0.9  # and the synthetic held-out traps still fine

    broken = tmp_path / "broken.csv"
    broken.write_text(exported.read_text().replace("3.5", "late", 1))
    with pytest.raises(TrainingDataError, match=r"broken.csv:\d+"):
        fit([str(broken)])
