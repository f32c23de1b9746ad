"""The trap rules, each driven by the clock: debounce, sprung alert and its escalation to the
backups, repeats, the 24 h welfare alert, a silent sensor, a low battery, the model's label."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import FakeClock
from core.settings import Settings
from tests.conftest import World
from tests.plugins.wildlife_traps.support import (
    BASE,
    add_members,
    add_sensor,
    alerts,
    create_trap,
    fresh,
    inbox,
    reading,
    run_job,
    send,
    timeline,
    tuned_api,
)
from tests.support import Api

NIGHT = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)  # 03:30 in Sasebo


@pytest.fixture
async def crew(settings: Settings, world: World) -> list[str]:
    """Two backup responders in the farm, in the order they are called."""
    await add_members(settings, world, "backup1", "backup2")
    return [world.user_ids["backup1"], world.user_ids["backup2"]]


async def armed_trap(
    api: Api, world: World, crew: list[str], clock: FakeClock, **overrides: Any
) -> tuple[dict, dict]:
    """A trap with a sensor, registered an hour ago (the clock moves on by an hour)."""
    clock.advance(timedelta(hours=-1))
    trap = await create_trap(api, world, backup_ids=crew, **overrides)
    sensor = await add_sensor(api, world, trap["id"], external_id=trap["name"])
    clock.advance(timedelta(hours=1))
    fresh(api, "farmer")
    return trap, sensor


async def test_a_trigger_that_reverts_within_the_debounce_is_a_bounce_and_alerts_nobody(
    api: Api, world: World, clock: FakeClock, crew: list[str]
) -> None:
    trap, sensor = await armed_trap(api, world, crew, clock)
    clock.advance(timedelta(hours=3))
    start = clock.now()
    await send(api, sensor["key"], [reading(start, "trigger", 1)])
    clock.advance(timedelta(seconds=2))
    await send(api, sensor["key"], [reading(clock.now(), "trigger", 0)])
    clock.advance(timedelta(minutes=5))
    await run_job(api, "wildlife_traps.watch")

    assert await alerts(api) == []
    assert await inbox(api, "farmer") == []
    kinds = [(e["kind"], e["data"].get("held_s")) for e in await timeline(api, trap["id"])]
    assert kinds == [("bounce", 2.0), ("created", None)]
    trap_now = (await api.get(f"{BASE}/traps/{trap['id']}", as_="farmer")).json()
    assert trap_now["state"] == "armed"


async def test_a_held_trigger_springs_the_trap_after_the_debounce_with_a_labelled_alert(
    api: Api, world: World, clock: FakeClock, crew: list[str]
) -> None:
    clock.set(NIGHT - timedelta(days=3))
    trap, sensor = await armed_trap(api, world, crew, clock)
    clock.set(NIGHT)
    await send(api, sensor["key"], [reading(NIGHT, "trigger", 1)])
    await run_job(api, "wildlife_traps.watch")
    assert await alerts(api) == []  # still within the 5 s debounce
    clock.advance(timedelta(seconds=5))
    await run_job(api, "wildlife_traps.watch")

    [alert] = await alerts(api)
    assert (alert["type"], alert["severity"]) == ("sprung", "critical")
    assert alert["subject"] == {"kind": "wildlife_traps.trap", "id": trap["id"], "label": "Trap 1"}
    assert alert["model_version"].startswith("wildlife_traps.capture_likelihood@")
    probability = alert["data"]["capture_probability"]
    assert 0.5 <= probability <= 1  # a box trap at 03:30, three days after it was set
    assert alert["data"]["label"] == "likely_capture"
    english = (
        await api.get(
            f"/api/v1/alerts/{alert['id']}", as_="farmer", headers={"Accept-Language": "en"}
        )
    ).json()
    assert english["title"] == "Trap 1 has sprung"
    assert english["body"].startswith(
        f"Likely capture, {round(probability * 100)}%. Sprung at 03:30."
    )
    assert alert["data"]["sprung_at"] == NIGHT.isoformat()

    trap_now = (await api.get(f"{BASE}/traps/{trap['id']}", as_="farmer")).json()
    assert trap_now["state"] == "sprung" and trap_now["sensors"][0]["trigger"] == 1
    [event, _created] = await timeline(api, trap["id"])
    assert event["kind"] == "sprung" and event["alert_id"] == alert["id"]
    assert event["model_version"] == alert["model_version"]
    # the owner hears at once; the backups not yet
    assert [i["alert_id"] for i in await inbox(api, "farmer")] == [alert["id"]]
    assert await inbox(api, "backup1") == []


async def test_with_no_debounce_the_reading_itself_raises_the_alert(
    settings: Settings, world: World, clock: FakeClock, crew: list[str]
) -> None:
    async with tuned_api(settings, clock, plugin={"debounce_s": 0}) as api:
        trap, sensor = await armed_trap(api, world, crew, clock)
        await send(api, sensor["key"], [reading(clock.now(), "trigger", 1)])
        [alert] = await alerts(api)  # no job ran
        assert alert["type"] == "sprung" and alert["subject"]["id"] == trap["id"]


async def test_a_timer_springs_the_trap_when_the_debounce_is_over_without_any_job(
    settings: Settings, world: World, clock: FakeClock, crew: list[str]
) -> None:
    async with tuned_api(settings, clock, plugin={"debounce_s": 1}) as api:
        trap, sensor = await armed_trap(api, world, crew, clock)
        await send(api, sensor["key"], [reading(clock.now(), "trigger", 1)])
        assert await alerts(api) == []
        clock.advance(timedelta(seconds=1))  # by the time the 1 s timer fires (real time)
        for _ in range(100):  # bounded wait for the background timer
            found = await alerts(api)
            if found:
                break
            await asyncio.sleep(0.05)
        assert [(a["type"], a["subject"]["id"]) for a in found] == [("sprung", trap["id"])]


async def test_unacknowledged_sprung_alert_goes_to_the_backups_in_order(
    api: Api, world: World, clock: FakeClock, crew: list[str]
) -> None:
    trap, sensor = await armed_trap(api, world, crew, clock)
    await send(api, sensor["key"], [reading(clock.now() - timedelta(seconds=10), "trigger", 1)])
    [alert] = await alerts(api)  # held for 10 s already when it arrived: sprung at once
    assert alert["subject"]["id"] == trap["id"]

    clock.advance(timedelta(minutes=29))
    await run_job(api, "core.escalation")
    assert await inbox(api, "backup1") == []
    clock.advance(timedelta(minutes=1))
    await run_job(api, "core.escalation")
    [first] = await inbox(api, "backup1")
    assert first["alert_id"] == alert["id"]
    assert await inbox(api, "backup2") == []
    clock.advance(timedelta(minutes=30))
    await run_job(api, "core.escalation")
    [second] = await inbox(api, "backup2")
    assert second["alert_id"] == alert["id"]


async def test_acknowledging_stops_the_escalation(
    api: Api, world: World, clock: FakeClock, crew: list[str]
) -> None:
    _trap, sensor = await armed_trap(api, world, crew, clock)
    await send(api, sensor["key"], [reading(clock.now() - timedelta(seconds=10), "trigger", 1)])
    [alert] = await alerts(api)
    acked = await api.post(f"/api/v1/alerts/{alert['id']}/ack", as_="farmer")
    assert acked.status_code == 200
    clock.advance(timedelta(hours=2))
    await run_job(api, "core.escalation")
    assert await inbox(api, "backup1") == [] and await inbox(api, "backup2") == []


async def test_repeated_triggers_update_the_open_alert(
    api: Api, world: World, clock: FakeClock, crew: list[str]
) -> None:
    trap, sensor = await armed_trap(api, world, crew, clock)
    t0 = clock.now() - timedelta(minutes=10)
    await send(api, sensor["key"], [reading(t0, "trigger", 1)])
    # The animal pulls at the snare: released, then triggered again and held.
    await send(
        api,
        sensor["key"],
        [
            reading(t0 + timedelta(minutes=2), "trigger", 0),
            reading(t0 + timedelta(minutes=3), "trigger", 1),
        ],
    )
    [alert] = await alerts(api)
    assert alert["count"] == 2
    kinds = [e["kind"] for e in await timeline(api, trap["id"])]
    assert kinds == ["sprung", "released", "sprung", "created"]
    assert len(await inbox(api, "farmer")) == 1  # a repeat notifies nobody again
    # a heartbeat repeating the trigger state changes nothing
    await send(api, sensor["key"], [reading(clock.now(), "trigger", 1, tag="beat")])
    assert [a["count"] for a in await alerts(api)] == [2]


async def test_a_trap_sprung_for_24_hours_with_nothing_recorded_raises_the_welfare_alert(
    api: Api, world: World, clock: FakeClock, crew: list[str]
) -> None:
    trap, sensor = await armed_trap(api, world, crew, clock)
    other, other_sensor = await armed_trap(api, world, crew, clock, name="Trap 2")
    sprung_at = clock.now() - timedelta(seconds=10)
    await send(api, sensor["key"], [reading(sprung_at, "trigger", 1)])
    await send(api, other_sensor["key"], [reading(sprung_at, "trigger", 1)])
    captured = await api.post(
        f"{BASE}/traps/{other['id']}/captures",
        as_="farmer",
        json={"species": "wild_boar", "sex": "male", "disposal": "processed"},
    )
    assert captured.status_code == 201

    clock.set(sprung_at + timedelta(hours=23, minutes=59))
    await run_job(api, "wildlife_traps.watch")
    assert [a["type"] for a in await alerts(api)] == ["sprung"]  # trap 2's closed by its capture

    clock.set(sprung_at + timedelta(hours=24, seconds=1))
    await run_job(api, "wildlife_traps.watch")
    await run_job(api, "wildlife_traps.watch")
    welfare = [a for a in await alerts(api) if a["type"] == "welfare"]
    assert len(welfare) == 1 and welfare[0]["count"] == 1
    assert welfare[0]["severity"] == "critical"
    assert welfare[0]["subject"]["id"] == trap["id"]  # not trap 2: its capture is on record
    for person in ("farmer", "backup1", "backup2"):  # everybody at once
        assert welfare[0]["id"] in [i["alert_id"] for i in await inbox(api, person)], person
    assert "welfare" in [e["kind"] for e in await timeline(api, trap["id"])]

    reset = await api.post(f"{BASE}/traps/{trap['id']}/reset", as_="farmer", json={"note": "empty"})
    assert reset.status_code == 200 and reset.json()["state"] == "armed"
    assert [a["type"] for a in await alerts(api)] == []  # sprung and welfare resolved


async def test_a_silent_sensor_is_offline_and_its_trap_needs_an_inspection(
    api: Api, world: World, clock: FakeClock, crew: list[str]
) -> None:
    trap, sensor = await armed_trap(api, world, crew, clock)
    await send(api, sensor["key"], [reading(clock.now(), "heartbeat", 1)])
    clock.advance(timedelta(minutes=119))
    await run_job(api, "core.liveness")
    assert await alerts(api, plugin="core") == []
    assert (await api.get(f"{BASE}/traps/{trap['id']}", as_="farmer")).json()["today"] == (
        "verified_by_sensor"
    )
    clock.advance(timedelta(minutes=2))
    await run_job(api, "core.liveness")
    [offline] = await alerts(api, plugin="core")
    assert offline["type"] == "offline" and offline["subject"]["id"] == sensor["id"]
    english = (
        await api.get(
            f"/api/v1/alerts/{offline['id']}", as_="farmer", headers={"Accept-Language": "en"}
        )
    ).json()
    assert english["body"].endswith("Check it in person.")
    read = (await api.get(f"{BASE}/traps/{trap['id']}", as_="farmer")).json()
    assert read["sensors"][0]["status"] == "offline"
    assert read["today"] == "missed"

    await send(api, sensor["key"], [reading(clock.now(), "heartbeat", 1)])

    async def recovered() -> None:
        body = (await api.get(f"/api/v1/alerts/{offline['id']}", as_="farmer")).json()
        assert body["status"] == "resolved"

    for _ in range(100):
        try:
            await recovered()
            break
        except AssertionError:
            await asyncio.sleep(0.05)
    await recovered()


async def test_a_low_battery_warns_with_the_days_left_and_clears_on_new_cells(
    api: Api, world: World, clock: FakeClock, crew: list[str]
) -> None:
    trap, sensor = await armed_trap(api, world, crew, clock)
    other, other_sensor = await armed_trap(api, world, crew, clock, name="Trap 2")
    now = clock.now()
    # Ten days falling 0.045 V a day, from 5.0 V to 4.55 V: about 12 days to 4.0 V. (A batch
    # is judged by its latest reading.)
    history = [
        reading(now - timedelta(hours=6 * i), "battery_v", round(4.55 + 0.045 * i / 4, 4))
        for i in range(40, -1, -1)
    ]
    await send(api, sensor["key"], history[:4])
    assert await alerts(api) == []  # still above 4.6 V
    await send(api, sensor["key"], history[4:])
    [warning] = await alerts(api)
    assert (warning["type"], warning["severity"]) == ("battery_low", "warning")
    assert warning["data"]["days_left"] == 12 and warning["data"]["estimate"] == "trend"
    english = (
        await api.get(
            f"/api/v1/alerts/{warning['id']}", as_="farmer", headers={"Accept-Language": "en"}
        )
    ).json()
    assert "4.55 V: about 12 days left" in english["body"]

    # Without a week of history: the nominal 10-month life of four AA cells (2.0 V over 300 days).
    await send(api, other_sensor["key"], [reading(now, "battery_v", 4.5)])
    nominal = next(a for a in await alerts(api) if a["subject"]["id"] == other["id"])
    assert nominal["data"]["days_left"] == 75 and nominal["data"]["estimate"] == "nominal"

    clock.advance(timedelta(hours=1))
    await send(api, sensor["key"], [reading(clock.now(), "battery_v", 6.1)])
    assert [a["subject"]["id"] for a in await alerts(api)] == [other["id"]]
    assert trap["id"] != other["id"]


async def test_without_a_model_the_alert_still_goes_out_unlabelled(
    settings: Settings, world: World, clock: FakeClock, crew: list[str], tmp_path: Path
) -> None:
    async with tuned_api(settings, clock, models_dir=str(tmp_path)) as api:
        _trap, sensor = await armed_trap(api, world, crew, clock)
        await send(api, sensor["key"], [reading(clock.now() - timedelta(seconds=10), "trigger", 1)])
        [alert] = await alerts(api)
        assert alert["type"] == "sprung" and alert["model_version"] is None
        assert alert["data"]["capture_probability"] is None
        english = (
            await api.get(
                f"/api/v1/alerts/{alert['id']}", as_="farmer", headers={"Accept-Language": "en"}
            )
        ).json()
        assert english["body"].startswith("Sprung at 08:59.")


async def test_a_disarmed_trap_that_triggers_alerts_nobody(
    api: Api, world: World, clock: FakeClock, crew: list[str]
) -> None:
    trap, sensor = await armed_trap(api, world, crew, clock, state="disarmed")
    await send(api, sensor["key"], [reading(clock.now() - timedelta(seconds=10), "trigger", 1)])
    await run_job(api, "wildlife_traps.watch")
    assert await alerts(api) == []
    assert [e["kind"] for e in await timeline(api, trap["id"])] == ["ignored", "created"]
