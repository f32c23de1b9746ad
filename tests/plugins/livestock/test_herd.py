"""Herd records through the API: animals, their events, and the state derived from them."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.clock import FakeClock
from tests.conftest import World
from tests.plugins.livestock.support import BASE, DAY, bind, make_animal, record
from tests.support import Api


async def test_a_member_registers_an_animal_and_reads_it_back(api: Api, world: World) -> None:
    created = await make_animal(
        api,
        world,
        "1234567890",
        name="はな",
        breed="holstein",
        group="lactating",
        housing="tie_stall",
        birth_date="2022-04-01",
    )
    assert created["ear_tag"] == "1234567890"
    assert created["organization_id"] == world.org_ids["farm"]
    assert created["status"] == "active"
    assert created["devices"] == []
    assert created["reproduction"]["state"] == "heifer"
    assert created["reproduction"]["estrus_alerts"] == "learning"
    assert created["reproduction"]["estrus_detection"] == "limited"  # tie stall

    listed = await api.get(f"{BASE}/animals?ear_tag=1234567890", as_="farmer")
    assert [a["id"] for a in listed.json()["items"]] == [created["id"]]
    assert (await api.get(f"{BASE}/animals", as_="fisher")).json()["items"] == []

    again = await api.post(
        f"{BASE}/animals",
        "farmer",
        json={"organization_id": world.org_ids["farm"], "ear_tag": "1234567890"},
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_bad_animals_answer_422_with_a_pointer(api: Api, world: World) -> None:
    for body, pointer in [
        ({"organization_id": world.org_ids["farm"], "ear_tag": "12345"}, "/ear_tag"),
        ({"organization_id": world.org_ids["farm"], "ear_tag": "12345678AB"}, "/ear_tag"),
        (
            {"organization_id": world.org_ids["fishery"], "ear_tag": "1234567890"},
            "/organization_id",
        ),
        (
            {"organization_id": world.org_ids["farm"], "ear_tag": "1234567890", "housing": "barn"},
            "/housing",
        ),
    ]:
        response = await api.post(f"{BASE}/animals", "farmer", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["pointer"] == pointer
    # Nothing was stored by the refused requests.
    assert (await api.get(f"{BASE}/animals", as_="farmer")).json()["items"] == []


async def test_events_derive_days_in_milk_pregnancy_and_the_expected_calving(
    api: Api, world: World, clock: FakeClock
) -> None:
    animal = await make_animal(api, world, "1111111111")
    now = clock.now()
    await record(api, animal["id"], "calving", now - 80 * DAY)
    state = (await api.get(f"{BASE}/animals/{animal['id']}", as_="farmer")).json()["reproduction"]
    assert (state["state"], state["days_in_milk"]) == ("open", 80)

    inseminated = now - 35 * DAY
    await record(api, animal["id"], "insemination", inseminated, sire="JP5H12345")
    state = (await api.get(f"{BASE}/animals/{animal['id']}", as_="farmer")).json()["reproduction"]
    assert state["state"] == "inseminated"
    assert state["pregnant"] is False and state["expected_calving"] is None

    await record(api, animal["id"], "pregnancy_check", now - DAY, pregnant=True)
    state = (await api.get(f"{BASE}/animals/{animal['id']}", as_="farmer")).json()["reproduction"]
    assert state["state"] == "pregnant"
    assert state["days_pregnant"] == 35
    assert state["expected_calving"] == (inseminated + timedelta(days=283)).date().isoformat()
    assert state["estrus_alerts"] == "learning"  # no collar yet: learning comes first

    events = (await api.get(f"{BASE}/animals/{animal['id']}/events", as_="farmer")).json()
    assert [e["kind"] for e in events["items"]] == ["pregnancy_check", "insemination", "calving"]
    assert events["items"][1]["sire"] == "JP5H12345"


async def test_bad_events_answer_422_with_a_pointer_and_store_nothing(
    api: Api, world: World, clock: FakeClock
) -> None:
    animal = await make_animal(api, world, "2222222222", birth_date="2024-01-01")
    url = f"{BASE}/animals/{animal['id']}/events"
    now = clock.now()
    for body, pointer in [
        ({"kind": "pregnancy_check", "at": now.isoformat()}, "/pregnant"),
        ({"kind": "calving", "at": now.isoformat(), "pregnant": True}, "/pregnant"),
        ({"kind": "calving", "at": now.isoformat(), "sire": "JP5H1"}, "/sire"),
        ({"kind": "heat", "at": (now + timedelta(hours=2)).isoformat()}, "/at"),
        ({"kind": "heat", "at": "2023-06-01T00:00:00+09:00"}, "/at"),
        ({"kind": "heat", "at": "2026-11-25T06:00:00"}, "/at"),
        ({"kind": "milking", "at": now.isoformat()}, "/kind"),
    ]:
        response = await api.post(url, "farmer", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["pointer"] == pointer, response.json()
    assert (await api.get(url, as_="farmer")).json()["items"] == []


async def test_events_are_corrected_and_deleted_and_the_state_follows(
    api: Api, world: World, clock: FakeClock
) -> None:
    animal = await make_animal(api, world, "3333333333")
    event = await record(api, animal["id"], "calving", clock.now() - 5 * DAY)
    fixed = await api.patch(
        f"{BASE}/events/{event['id']}", "farmer", json={"at": (clock.now() - 20 * DAY).isoformat()}
    )
    assert fixed.status_code == 200, fixed.text
    state = (await api.get(f"{BASE}/animals/{animal['id']}", as_="farmer")).json()["reproduction"]
    assert state["days_in_milk"] == 20

    assert (await api.delete(f"{BASE}/events/{event['id']}", "farmer")).status_code == 204
    assert (await api.get(f"{BASE}/events/{event['id']}", as_="farmer")).status_code == 404
    state = (await api.get(f"{BASE}/animals/{animal['id']}", as_="farmer")).json()["reproduction"]
    assert state["state"] == "heifer" and state["last_calving"] is None


async def test_a_device_is_bound_to_an_animal_of_its_own_farm_only(api: Api, world: World) -> None:
    animal = await make_animal(api, world, "4444444444", name="もも")
    await bind(api, world, animal["id"], "collar")
    shown = (await api.get(f"{BASE}/animals/{animal['id']}", as_="farmer")).json()
    assert [d["kind"] for d in shown["devices"]] == ["livestock.collar"]

    foreign = await api.post(
        "/api/v1/devices",
        "fisher",
        json={
            "kind": "livestock.collar",
            "name": "stolen",
            "organization_id": world.org_ids["fishery"],
            "external_id": "x",
            "subject": {"kind": "livestock.animal", "id": animal["id"]},
        },
    )
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["pointer"] == "/subject/id"

    # An animal with a bound device is not deleted; revoke the device first.
    refused = await api.delete(f"{BASE}/animals/{animal['id']}", "farmer")
    assert refused.status_code == 409
    device_id = shown["devices"][0]["id"]
    assert (await api.delete(f"/api/v1/devices/{device_id}", "farmer")).status_code == 204
    assert (await api.delete(f"{BASE}/animals/{animal['id']}", "farmer")).status_code == 204
    assert (await api.get(f"{BASE}/animals/{animal['id']}", as_="farmer")).status_code == 404


async def test_culling_ends_the_animals_alerts_and_marks_it_culled(
    api: Api, world: World, clock: FakeClock
) -> None:
    animal = await make_animal(api, world, "5555555555")
    await record(api, animal["id"], "cull", clock.now() - timedelta(hours=1), note="lame")
    shown = (await api.get(f"{BASE}/animals/{animal['id']}", as_="farmer")).json()
    assert shown["status"] == "culled"
    assert shown["reproduction"]["state"] == "inactive"
    assert shown["reproduction"]["estrus_alerts"] == "inactive"
    changed = await api.patch(
        f"{BASE}/animals/{animal['id']}", "farmer", json={"status": "active", "name": "ふじ"}
    )
    assert changed.json()["status"] == "active" and changed.json()["name"] == "ふじ"
    unset = datetime.fromisoformat(changed.json()["updated_at"])
    assert unset >= clock.now() - timedelta(seconds=1)
