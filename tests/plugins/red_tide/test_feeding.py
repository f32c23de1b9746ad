"""The feeding-stop interlock: at the warning level a cage's feeding is stopped. Logging a
feeding needs a reason, which is kept; a feeder that dispenses anyway raises a warning that
stays open until the reason is given."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.clock import FakeClock
from tests.conftest import World
from tests.core.test_ingest import ingest, reading
from tests.plugins.red_tide.support import (
    BASE,
    add_farm,
    advance,
    alerts,
    build_sea,
    count,
    created,
    drained,
)
from tests.support import Api

REASON = "Cage sunk to 12 m, below the bloom layer: a small ration for weak fry."


async def farm_with_feeder(api: Api, world: World) -> tuple[Any, dict[str, Any]]:
    sea = await build_sea(api)
    await add_farm(
        api, sea, "fisher", world.org_ids["fishery"], "Kuju 1", "Kujukushima", ("K1", "K2")
    )
    for cage in ("K1", "K2"):
        await created(
            api,
            "/feeding-plans",
            "fisher",
            {"cage_id": sea.cages[cage], "time_of_day": "07:30", "kg": 60},
        )
    feeder = await api.post(
        "/api/v1/devices",
        "fisher",
        json={
            "kind": "red_tide.feeder",
            "name": "Feeder K1",
            "organization_id": world.org_ids["fishery"],
            "external_id": "feeder-k1",
            "subject": {"kind": "red_tide.cage", "id": sea.cages["K1"]},
        },
    )
    assert feeder.status_code == 201, feeder.text
    return sea, feeder.json()


async def test_feeding_during_a_stop_needs_a_reason_which_is_kept(
    api: Api, world: World, clock: FakeClock
) -> None:
    sea, _feeder = await farm_with_feeder(api, world)
    now = clock.now()

    # No red tide: feeding is logged as usual.
    fed = await created(api, "/feedings", "fisher", {"cage_id": sea.cages["K1"], "kg": 55})
    assert (fed["advice"], fed["needs_reason"], fed["override_reason"]) == ("normal", False, None)
    assert fed["logged_by"] == {"id": world.user_ids["fisher"], "display_name": "fisher"}

    await count(api, sea, "KJ-1", 1200, now)
    cage = (await api.get(f"{BASE}/cages/{sea.cages['K1']}", "fisher")).json()
    assert (cage["advice"], cage["max_kg_today"]) == ("stop", 0.0)
    plans = (await api.get(f"{BASE}/feeding-plans?cage_id={sea.cages['K1']}", "fisher")).json()
    assert [p["suspended"] for p in plans["items"]] == [True]

    # Without a reason the feeding is refused, pointing at the reason; nothing is stored.
    refused = await api.post(
        f"{BASE}/feedings",
        "fisher",
        json={"cage_id": sea.cages["K1"], "kg": 15},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    [error] = refused.json()["errors"]
    assert error["pointer"] == "/override_reason"
    assert error["detail"] == (
        "Feeding is stopped at K1: red tide warning in Kujukushima. Give a reason to feed anyway."
    )
    assert len((await api.get(f"{BASE}/feedings", "fisher")).json()["items"]) == 1

    # With one it is stored, and the reason, who gave it and when are kept.
    overridden = await created(
        api,
        "/feedings",
        "fisher",
        {"cage_id": sea.cages["K1"], "kg": 15, "override_reason": REASON},
    )
    assert overridden["advice"] == "stop"
    assert overridden["override_reason"] == REASON
    assert overridden["override_by"]["id"] == world.user_ids["fisher"]
    assert overridden["override_at"] is not None and overridden["needs_reason"] is False
    again = (await api.get(f"{BASE}/feedings/{overridden['id']}", "fisher")).json()
    assert again["override_reason"] == REASON
    # A reason given stays as it was.
    changed = await api.post(
        f"{BASE}/feedings/{overridden['id']}/override", "fisher", json={"reason": "other words"}
    )
    assert changed.status_code == 409
    # A feeding before the stop has nothing to override.
    nothing = await api.post(
        f"{BASE}/feedings/{fed['id']}/override", "fisher", json={"reason": "just because"}
    )
    assert nothing.status_code == 409


async def test_a_feeder_dispensing_during_a_stop_raises_a_warning_until_the_reason_is_given(
    api: Api, world: World, clock: FakeClock
) -> None:
    sea, feeder = await farm_with_feeder(api, world)
    now = clock.now()
    await count(api, sea, "KJ-1", 1200, now)

    answer = await ingest(
        api,
        feeder["key"],
        [
            reading(clock, "f-1", metric="dispensed_kg", value=35),
            reading(clock, "h-1", metric="hopper_kg", value=800),
        ],
    )
    assert answer.json()["accepted"] == 2, answer.text
    await drained(api)
    warnings = [a for a in await alerts(api, "fisher") if a["type"] == "feeding_during_stop"]
    assert len(warnings) == 1
    [warning] = warnings
    assert warning["severity"] == "warning"
    assert warning["subject"] == {"kind": "red_tide.cage", "id": sea.cages["K1"], "label": "K1"}
    pending = (await api.get(f"{BASE}/feedings?needs_reason=true", "fisher")).json()["items"]
    assert [(p["kg"], p["source"], p["device_id"]) for p in pending] == [
        (35.0, "feeder", feeder["id"])
    ]
    assert warning["data"]["feedings"] == [pending[0]["id"]]

    # The same batch again changes nothing (ingest is idempotent per reading id).
    await ingest(api, feeder["key"], [reading(clock, "f-1", metric="dispensed_kg", value=35)])
    await drained(api)
    assert len((await api.get(f"{BASE}/feedings?needs_reason=true", "fisher")).json()["items"]) == 1

    # Another organization cannot explain it for them.
    stranger = await api.post(
        f"{BASE}/feedings/{pending[0]['id']}/override", "farmer", json={"reason": "not mine to say"}
    )
    assert stranger.status_code == 404

    given = await api.post(
        f"{BASE}/feedings/{pending[0]['id']}/override", "fisher", json={"reason": REASON}
    )
    assert given.status_code == 200, given.text
    assert given.json()["override_reason"] == REASON
    assert given.json()["needs_reason"] is False
    assert [a for a in await alerts(api, "fisher") if a["type"] == "feeding_during_stop"] == []
    [closed] = [
        a
        for a in await alerts(api, "fisher", "&status=resolved")
        if a["type"] == "feeding_during_stop"
    ]
    assert closed["resolution_note"] == REASON
    short = await api.post(
        f"{BASE}/feedings/{pending[0]['id']}/override", "fisher", json={"reason": ""}
    )
    assert short.status_code == 422 and short.json()["errors"][0]["pointer"] == "/reason"


async def test_at_the_advisory_level_feeding_is_restricted_not_stopped(
    api: Api, world: World, clock: FakeClock
) -> None:
    sea, feeder = await farm_with_feeder(api, world)
    now = clock.now()
    await count(api, sea, "KJ-1", 85, now)
    cage = (await api.get(f"{BASE}/cages/{sea.cages['K2']}", "fisher")).json()
    # 60 kg planned, restrict_ratio 0.5 (the default)
    assert (cage["advice"], cage["max_kg_today"]) == ("restrict", 30.0)
    fed = await created(api, "/feedings", "fisher", {"cage_id": sea.cages["K2"], "kg": 30})
    assert (fed["advice"], fed["needs_reason"]) == ("restrict", False)
    await ingest(api, feeder["key"], [reading(clock, "f-2", metric="dispensed_kg", value=30)])
    await drained(api)
    assert [a for a in await alerts(api, "fisher") if a["type"] == "feeding_during_stop"] == []


async def test_feeders_bind_only_to_their_own_cages(api: Api, world: World) -> None:
    sea, _feeder = await farm_with_feeder(api, world)
    response = await api.post(
        "/api/v1/devices",
        "farmer",
        json={
            "kind": "red_tide.feeder",
            "name": "Not mine",
            "organization_id": world.org_ids["farm"],
            "external_id": "feeder-x",
            "subject": {"kind": "red_tide.cage", "id": sea.cages["K1"]},
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/subject/id"


async def test_offline_sync_brings_areas_farms_cages_plans_and_deleted_plans(
    api: Api, world: World, clock: FakeClock
) -> None:
    await farm_with_feeder(api, world)
    advance(api, clock, timedelta(minutes=5))  # past the sync's overlap
    first = await api.get("/mobile/v1/sync", "fisher")
    assert first.status_code == 200, first.text
    mine = first.json()["changes"]["red_tide"]
    assert {a["name"] for a in mine["areas"]["upserted"]} == {"Kujukushima", "Sasebo Bay"}
    assert [f["name"] for f in mine["farms"]["upserted"]] == ["Kuju 1"]
    assert sorted(c["name"] for c in mine["cages"]["upserted"]) == ["K1", "K2"]
    plans = mine["feeding_plans"]["upserted"]
    assert len(plans) == 2 and mine["feeding_plans"]["deleted"] == []
    farmer = (await api.get("/mobile/v1/sync", "farmer")).json()["changes"]["red_tide"]
    assert farmer["farms"]["upserted"] == [] and farmer["feeding_plans"]["upserted"] == []

    advance(api, clock, timedelta(minutes=5))
    gone = await api.delete(f"{BASE}/feeding-plans/{plans[0]['id']}", "fisher")
    assert gone.status_code == 204
    advance(api, clock, timedelta(minutes=5))
    later = await api.get(f"/mobile/v1/sync?cursor={first.json()['cursor']}", "fisher")
    changed = later.json()["changes"]["red_tide"]
    assert changed["feeding_plans"]["deleted"] == [plans[0]["id"]]
    assert changed["farms"]["upserted"] == []
