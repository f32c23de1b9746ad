"""Traps: registration, validation with pointers, permits, state changes, the map."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.clock import FakeClock
from core.settings import Settings
from tests.conftest import World
from tests.plugins.wildlife_traps.support import (
    BASE,
    add_members,
    add_sensor,
    alerts,
    create_trap,
    reading,
    run_job,
    send,
    trap_body,
)
from tests.support import Api


async def test_a_member_registers_a_trap_with_backups_and_reads_it_back(
    api: Api, world: World, settings: Settings, clock: FakeClock
) -> None:
    await add_members(settings, world, "backup1", "backup2")
    backups = [world.user_ids["backup1"], world.user_ids["backup2"]]
    trap = await create_trap(api, world, backup_ids=backups, kind="snare")
    assert trap["owner_id"] == world.user_ids["farmer"]
    assert trap["backup_ids"] == backups
    assert trap["state"] == "armed" and trap["kind"] == "snare"
    assert trap["target_species"] == ["wild_boar", "sika_deer"]
    assert trap["sensors"] == [] and trap["today"] is None  # registered this very moment

    sensor = await add_sensor(api, world, trap["id"])
    assert sensor["subject"] == {"kind": "wildlife_traps.trap", "id": trap["id"]}
    clock.advance(timedelta(minutes=10))
    api.forget("farmer")
    read = (await api.get(f"{BASE}/traps/{trap['id']}", as_="farmer")).json()
    assert read["today"] == "missed"  # a sensor that never reported verifies nothing
    assert [s["id"] for s in read["sensors"]] == [sensor["id"]]
    assert read["sensors"][0]["status"] == "never_seen"

    listed = (await api.get(f"{BASE}/traps", as_="farmer")).json()
    assert [t["id"] for t in listed["items"]] == [trap["id"]]
    assert (await api.get(f"{BASE}/traps", as_="fisher")).json()["items"] == []
    assert (await api.get(f"{BASE}/traps?state=disarmed", as_="farmer")).json()["items"] == []


async def test_bad_bodies_answer_422_with_a_pointer_and_store_nothing(
    api: Api, world: World, settings: Settings
) -> None:
    cases = [
        ({"latitude": 95}, "/latitude"),
        ({"kind": "pit"}, "/kind"),
        ({"organization_id": world.org_ids["fishery"]}, "/organization_id"),
        ({"owner_id": world.user_ids["fisher"]}, "/owner_id"),
        ({"backup_ids": [world.user_ids["farmer"]]}, "/backup_ids/0"),
        ({"backup_ids": [world.user_ids["advisor"]]}, "/backup_ids/0"),
        ({"permit_valid_from": "2027-04-01"}, "/permit_valid_until"),
        ({"state": "sprung"}, "/state"),
        ({"target_species": []}, "/target_species"),
    ]
    for change, pointer in cases:
        response = await api.post(f"{BASE}/traps", as_="farmer", json=trap_body(world, **change))
        assert response.status_code == 422, (change, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["pointer"] == pointer, (change, response.json())
    missing = dict(trap_body(world))
    del missing["permit_number"]
    response = await api.post(f"{BASE}/traps", as_="farmer", json=missing)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/permit_number"
    # an admin must name the owner
    response = await api.post(f"{BASE}/traps", as_="admin", json=trap_body(world))
    assert response.json()["errors"][0]["pointer"] == "/owner_id"
    assert (await api.get(f"{BASE}/traps", as_="admin")).json()["items"] == []


async def test_a_trap_cannot_be_armed_on_an_expired_permit(
    api: Api, world: World, clock: FakeClock
) -> None:
    expired = {"permit_valid_from": "2025-04-01", "permit_valid_until": "2026-03-31"}
    refused = await api.post(f"{BASE}/traps", as_="farmer", json=trap_body(world, **expired))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/state"
    assert "2026-03-31" in refused.json()["errors"][0]["detail"]

    trap = await create_trap(api, world, state="disarmed", **expired)
    [warning] = await alerts(api)
    assert (warning["type"], warning["severity"]) == ("permit_expired", "warning")
    assert warning["subject"] == {
        "kind": "wildlife_traps.trap",
        "id": trap["id"],
        "label": "Trap 1",
    }

    arm = await api.patch(f"{BASE}/traps/{trap['id']}", as_="farmer", json={"state": "armed"})
    assert arm.status_code == 422 and arm.json()["errors"][0]["pointer"] == "/state"

    renewed = await api.patch(
        f"{BASE}/traps/{trap['id']}",
        as_="farmer",
        json={
            "permit_valid_from": "2026-04-01",
            "permit_valid_until": "2027-03-31",
            "state": "armed",
        },
    )
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["state"] == "armed"
    assert await alerts(api) == []  # the expired-permit warning was resolved


async def test_permits_warn_before_and_after_they_expire(
    api: Api, world: World, clock: FakeClock
) -> None:
    # 2026-11-26 09:00 in Tokyo; the permit ends in 10 days (the warning starts at 14).
    trap = await create_trap(api, world, permit_valid_until="2026-12-06")
    [expiring] = await alerts(api)
    assert expiring["type"] == "permit_expiring"
    assert expiring["data"]["days_left"] == 10
    await run_job(api, "wildlife_traps.permits")
    assert [a["count"] for a in await alerts(api)] == [1]  # warned once, not every hour

    clock.set(datetime(2026, 12, 7, 0, 0, tzinfo=UTC))
    await run_job(api, "wildlife_traps.permits")
    [expired] = await alerts(api)
    assert expired["type"] == "permit_expired"
    assert (
        "Disarm the trap"
        in (
            await api.get(
                f"/api/v1/alerts/{expired['id']}", as_="farmer", headers={"Accept-Language": "en"}
            )
        ).json()["body"]
    )
    assert trap["id"] == expired["subject"]["id"]


async def test_state_changes_are_on_the_timeline_and_delete_keeps_records(
    api: Api, world: World, clock: FakeClock
) -> None:
    trap = await create_trap(api, world)
    clock.advance(timedelta(minutes=5))
    api.forget("farmer")
    off = await api.patch(f"{BASE}/traps/{trap['id']}", as_="farmer", json={"state": "disarmed"})
    assert off.json()["state"] == "disarmed"
    assert off.json()["state_changed_at"].startswith("2026-11-26T09:05:00")  # in the user's zone
    sprung = await api.patch(f"{BASE}/traps/{trap['id']}", as_="farmer", json={"state": "sprung"})
    assert sprung.status_code == 422
    reset = await api.post(f"{BASE}/traps/{trap['id']}/reset", as_="farmer", json={})
    assert reset.status_code == 409  # only a sprung trap is reset
    events = (await api.get(f"{BASE}/traps/{trap['id']}/timeline", as_="farmer")).json()["items"]
    assert [(e["kind"], e["state_after"]) for e in events] == [
        ("disarmed", "disarmed"),
        ("created", "armed"),
    ]
    page = (await api.get(f"{BASE}/traps/{trap['id']}/timeline?limit=1", as_="farmer")).json()
    assert page["next_cursor"] is not None
    rest = await api.get(
        f"{BASE}/traps/{trap['id']}/timeline?limit=1&cursor={page['next_cursor']}", as_="farmer"
    )
    assert [e["kind"] for e in rest.json()["items"]] == ["created"]

    # A trap with an inspection on record is kept: it is set removed instead.
    inspected = await api.post(
        f"{BASE}/traps/{trap['id']}/inspections", as_="farmer", json={"result": "ok"}
    )
    assert inspected.status_code == 201
    assert (await api.delete(f"{BASE}/traps/{trap['id']}", as_="farmer")).status_code == 409
    removed = await api.patch(f"{BASE}/traps/{trap['id']}", as_="farmer", json={"state": "removed"})
    assert removed.json()["state"] == "removed"

    fresh = await create_trap(api, world, name="Trap 2")
    assert (await api.delete(f"{BASE}/traps/{fresh['id']}", as_="farmer")).status_code == 204
    assert (await api.get(f"{BASE}/traps/{fresh['id']}", as_="farmer")).status_code == 404


async def test_the_map_is_a_geojson_feature_collection_with_state(
    api: Api, world: World, clock: FakeClock
) -> None:
    trap = await create_trap(api, world)
    sensor = await add_sensor(api, world, trap["id"])
    await send(api, sensor["key"], [reading(clock.now(), "battery_v", 5.8)])
    gone = await create_trap(api, world, name="Gone", state="disarmed")
    await api.patch(f"{BASE}/traps/{gone['id']}", as_="farmer", json={"state": "removed"})

    response = await api.get(f"{BASE}/traps.geojson", as_="farmer")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    [feature] = body["features"]  # the removed trap is no longer on the map
    assert feature["type"] == "Feature" and feature["id"] == trap["id"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [129.7302, 33.2031]}
    assert feature["properties"]["state"] == "armed"
    assert feature["properties"]["sensor"] == "online"
    assert feature["properties"]["battery_v"] == 5.8
    assert (await api.get(f"{BASE}/traps.geojson", as_="fisher")).json()["features"] == []
