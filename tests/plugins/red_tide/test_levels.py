"""An area's level follows its latest counts; a change reaches every fish farm of the area and
only those (a warning is critical), advises every cage there, and is published as an event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.clock import FakeClock
from core.db import bound
from core.identity.models import User
from tests.conftest import World
from tests.plugins.red_tide.support import (
    BASE,
    add_farm,
    add_fishery,
    advance,
    alerts,
    area,
    build_sea,
    count,
    drained,
)
from tests.support import Api


async def fleet(api: Api, world: World) -> Any:
    """Kujukushima: two farms of the fishery (fisher), one of Shikamachi (nguyen).
    Sasebo Bay: one farm of the fishery and one of Hario (hario)."""
    sea = await build_sea(api)
    sea.orgs["fishery"] = world.org_ids["fishery"]
    sea.orgs["shikamachi"] = await add_fishery(api, world, "Shikamachi", "nguyen", "vi")
    sea.orgs["hario"] = await add_fishery(api, world, "Hario", "hario")
    await add_farm(api, sea, "fisher", sea.orgs["fishery"], "Kuju 1", "Kujukushima", ("K1", "K2"))
    await add_farm(api, sea, "fisher", sea.orgs["fishery"], "Kuju 2", "Kujukushima", ("K3",))
    await add_farm(api, sea, "nguyen", sea.orgs["shikamachi"], "Shika", "Kujukushima", ("S1",))
    await add_farm(api, sea, "fisher", sea.orgs["fishery"], "Bay 1", "Sasebo Bay", ("B1",))
    await add_farm(api, sea, "hario", sea.orgs["hario"], "Hario", "Sasebo Bay", ("H1",))
    return sea


def subscribe_to_levels(api: Api) -> list[dict[str, Any]]:
    """What ``red_tide.level_changed`` delivers to a subscriber, as another plugin sees it."""
    seen: list[dict[str, Any]] = []

    async def on_level(ctx: Any, event: dict[str, Any]) -> None:
        seen.append(event)

    api.client.app.state.services.events.subscribe("red_tide.level_changed", "test", None, on_level)
    return seen


async def test_a_warning_reaches_every_farm_of_the_area_and_only_those(
    api: Api, world: World, clock: FakeClock
) -> None:
    sea = await fleet(api, world)
    events = subscribe_to_levels(api)
    now = clock.now()

    # Below the advisory density: nothing happens.
    await count(api, sea, "KJ-1", 4, now - timedelta(hours=1))
    assert (await area(api, sea, "Kujukushima"))["level"] == "none"
    assert await alerts(api, "fisher") == []

    # 1,200 K. mikimotoi cells/mL at KJ-1: the default (most cautious) preset's warning.
    await count(api, sea, "KJ-1", 1200, now)
    await drained(api)
    kujuku = await area(api, sea, "Kujukushima")
    assert kujuku["level"] == "warning"
    assert kujuku["trend"] == "steady" or kujuku["trend"] == "unknown"
    assert kujuku["findings"][0]["stations"] == [
        {"id": sea.stations["KJ-1"], "code": "KJ-1", "name": "Station KJ-1"}
    ]

    fisher = await alerts(api, "fisher")
    assert sorted(a["subject"]["label"] for a in fisher) == ["Kuju 1", "Kuju 2"]
    for alert in fisher:
        assert alert["type"] == "red_tide_warning"
        assert alert["severity"] == "critical"
        assert alert["subject"]["kind"] == "red_tide.farm"
        assert alert["data"]["advice"] == "stop"
        assert alert["data"]["area"] == "Kujukushima"
    [shika] = await alerts(api, "nguyen")
    assert shika["subject"] == {"kind": "red_tide.farm", "id": sea.farms["Shika"], "label": "Shika"}
    assert shika["data"]["cages"] == [sea.cages["S1"]]
    assert await alerts(api, "hario") == []  # Sasebo Bay is another area
    assert all(a["subject"]["id"] != sea.farms["Bay 1"] for a in fisher)

    # Each farm's members were told (inbox and push outbox), in their own language later.
    told = await notified(api, world)
    assert told["fisher"] == 2 and told["nguyen"] == 1 and told["hario"] == 0

    # Every cage of the area is told to stop; the other area's cages feed as planned.
    cages = {c["name"]: c for c in (await api.get(f"{BASE}/cages", "fisher")).json()["items"]}
    assert {n: c["advice"] for n, c in cages.items()} == {
        "K1": "stop",
        "K2": "stop",
        "K3": "stop",
        "B1": "normal",
    }
    issued = (await api.get(f"{BASE}/advice", "nguyen")).json()["items"]
    assert [(a["cage_id"], a["level"], a["advice"]) for a in issued] == [
        (sea.cages["S1"], "warning", "stop")
    ]

    # Other plugins heard of it once, with the area's farms.
    assert len(events) == 1
    event = events[0]
    assert (event["area"], event["previous"], event["level"]) == ("Kujukushima", "none", "warning")
    assert event["species"] == ["karenia_mikimotoi"] and event["cells_per_ml"] == 1200
    assert sorted(event["farms"]) == sorted(
        [sea.farms["Kuju 1"], sea.farms["Kuju 2"], sea.farms["Shika"]]
    )


async def notified(api: Api, world: World) -> dict[str, int]:
    from core.alerts.models import Notification

    app = api.client.app

    async def work() -> dict[str, int]:
        with bound(app.state.db):
            out = {}
            for username in ("fisher", "nguyen", "hario"):
                user = await User.get(username=username)
                out[username] = await Notification.filter(user=user, plugin="red_tide").count()
            return out

    return api.client.blocking_portal.call(work)


async def test_advisory_then_warning_then_lifted(api: Api, world: World, clock: FakeClock) -> None:
    sea = await fleet(api, world)
    events = subscribe_to_levels(api)
    now = clock.now()

    await count(api, sea, "KJ-2", 85, now)
    await drained(api)
    [advisory, _second] = sorted(await alerts(api, "fisher"), key=lambda a: a["subject"]["label"])
    assert (advisory["type"], advisory["severity"]) == ("red_tide_advisory", "major")
    cage = (await api.get(f"{BASE}/cages/{sea.cages['K1']}", "fisher")).json()
    assert (cage["level"], cage["advice"]) == ("advisory", "restrict")

    # The next day's count is higher: warning; the advisory alert gives way to it.
    now = advance(api, clock, timedelta(days=1))
    await count(api, sea, "KJ-2", 900, now)
    await drained(api)
    current = await alerts(api, "fisher")
    assert {a["type"] for a in current} == {"red_tide_warning"}
    resolved = await alerts(api, "fisher", "&status=resolved")
    assert {a["type"] for a in resolved} == {"red_tide_advisory"}
    kujuku = await area(api, sea, "Kujukushima")
    assert (kujuku["level"], kujuku["trend"]) == ("warning", "rising")

    # Two days later the count is down to nothing: lifted, alerts resolved, members told.
    now = advance(api, clock, timedelta(days=2))
    await count(api, sea, "KJ-2", 0, now)
    await drained(api)
    assert await alerts(api, "fisher") == []
    kujuku = await area(api, sea, "Kujukushima")
    assert (kujuku["level"], kujuku["trend"]) == ("none", "falling")
    assert [(e["previous"], e["level"]) for e in events] == [
        ("none", "advisory"),
        ("advisory", "warning"),
        ("warning", "none"),
    ]
    cage = (await api.get(f"{BASE}/cages/{sea.cages['K1']}", "fisher")).json()
    assert cage["advice"] == "normal"
    issued = (await api.get(f"{BASE}/advice?cage_id={sea.cages['K1']}", "fisher")).json()
    assert [a["advice"] for a in issued["items"]] == ["normal", "stop", "restrict"]


async def test_counts_older_than_the_age_limit_stop_holding_the_level(
    api: Api, world: World, clock: FakeClock
) -> None:
    sea = await fleet(api, world)
    now = clock.now()
    await count(api, sea, "KJ-1", 85, now)
    assert (await area(api, sea, "Kujukushima"))["level"] == "advisory"
    advance(api, clock, timedelta(days=8))
    job = await api.post("/api/v1/jobs/red_tide.evaluate_levels/run", "admin")
    assert job.json()["outcome"] == "succeeded", job.text
    assert (await area(api, sea, "Kujukushima"))["level"] == "none"


async def test_samples_need_staff_and_a_known_station(
    api: Api, world: World, clock: FakeClock
) -> None:
    sea = await build_sea(api)
    body = {
        "station_id": sea.stations["KJ-1"],
        "sampled_at": clock.now().isoformat(),
        "depth_m": 0.5,
        "counts": {"karenia_mikimotoi": 3},
    }
    assert (await api.post(f"{BASE}/samples", "fisher", json=body)).status_code == 403
    unknown = await api.post(
        f"{BASE}/samples", "advisor", json={**body, "station_id": sea.areas["Kujukushima"]}
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "/station_id"
    weed = await api.post(f"{BASE}/samples", "advisor", json={**body, "counts": {"nori": 3}})
    assert weed.status_code == 422
    assert weed.json()["errors"][0]["pointer"] == "/counts/nori"
    future = await api.post(
        f"{BASE}/samples",
        "advisor",
        json={**body, "sampled_at": (clock.now() + timedelta(hours=2)).isoformat()},
    )
    assert future.json()["errors"][0]["pointer"] == "/sampled_at"
    negative = await api.post(
        f"{BASE}/samples", "advisor", json={**body, "counts": {"karenia_mikimotoi": -1}}
    )
    assert negative.status_code == 422
    assert negative.json()["errors"][0]["pointer"] == "/counts/karenia_mikimotoi"
    listed = (await api.get(f"{BASE}/samples", "fisher")).json()["items"]
    assert listed == []
    # Farms belong to fisheries: a farm organization cannot have one.
    refused = await api.post(
        f"{BASE}/farms",
        "farmer",
        json={
            "organization_id": world.org_ids["farm"],
            "area_id": sea.areas["Kujukushima"],
            "name": "rice",
        },
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/organization_id"
    foreign = await api.post(
        f"{BASE}/farms",
        "farmer",
        json={
            "organization_id": world.org_ids["fishery"],
            "area_id": sea.areas["Kujukushima"],
            "name": "theirs",
        },
    )
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["pointer"] == "/organization_id"


async def test_shellfish_hear_of_the_level_but_get_no_feeding_advice(
    api: Api, world: World, clock: FakeClock
) -> None:
    sea = await build_sea(api)
    farm = await add_farm(api, sea, "fisher", world.org_ids["fishery"], "Pearls", "Kujukushima")
    raft = await api.post(
        f"{BASE}/cages",
        "fisher",
        json={"farm_id": farm, "name": "Raft 1", "species": "pearl_oyster"},
    )
    assert raft.status_code == 201, raft.text
    now = clock.now()
    await count(api, sea, "KJ-1", 1200, now)
    await drained(api)
    [alert] = await alerts(api, "fisher")
    assert (alert["type"], alert["data"]["advice"]) == ("red_tide_warning", "not_fed")
    en = await api.get(f"/api/v1/alerts/{alert['id']}", "fisher", headers={"Accept-Language": "en"})
    assert en.json()["title"] == "Red tide warning in Kujukushima: Pearls"
    assert en.json()["body"] == (
        "Karenia mikimotoi: 1,200 cells/mL at Station KJ-1 (level 500 cells/mL)."
    )
    cage = (await api.get(f"{BASE}/cages/{raft.json()['id']}", "fisher")).json()
    assert (cage["level"], cage["advice"], cage["max_kg_today"]) == ("warning", "not_fed", None)
    assert (await api.get(f"{BASE}/advice", "fisher")).json()["items"] == []
    fed = await api.post(f"{BASE}/feedings", "fisher", json={"cage_id": raft.json()["id"], "kg": 1})
    assert fed.status_code == 201 and fed.json()["needs_reason"] is False
