"""The breeding calendar, its morning reminders, the daily herd summary, the herd overview,
the home-screen cards and offline sync."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.clock import FakeClock
from tests.conftest import World
from tests.plugins.livestock.support import BASE, DAY, advance, make_animal, record
from tests.support import Api


async def run_job(api: Api, job: str) -> None:
    response = await api.post(f"/api/v1/jobs/livestock.{job}/run", as_="admin")
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "succeeded", response.json()


async def inbox(api: Api) -> list[dict[str, Any]]:
    response = await api.get("/mobile/v1/inbox", "farmer", headers={"Accept-Language": "en"})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def a_herd(api: Api, world: World, clock: FakeClock) -> dict[str, dict[str, Any]]:
    """Ann: in heat 19 days ago. Bea: inseminated 33 days ago. Cho: pregnant, due in 5 days."""
    now = clock.now()
    ann = await make_animal(api, world, "8000000001", name="Ann")
    await record(api, ann["id"], "calving", now - 60 * DAY)
    await record(api, ann["id"], "heat", now - 19 * DAY)
    bea = await make_animal(api, world, "8000000002", name="Bea")
    await record(api, bea["id"], "calving", now - 90 * DAY)
    await record(api, bea["id"], "insemination", now - 33 * DAY, sire="JP5H2")
    cho = await make_animal(api, world, "8000000003", name="Cho")
    await record(api, cho["id"], "insemination", now - 278 * DAY)
    await record(api, cho["id"], "pregnancy_check", now - 240 * DAY, pregnant=True)
    return {"ann": ann, "bea": bea, "cho": cho}


async def test_the_breeding_calendar_expects_heats_checks_and_calvings(
    api: Api, world: World, clock: FakeClock
) -> None:
    herd = await a_herd(api, world, clock)
    today = (clock.now() + timedelta(hours=9)).date()  # the farm's day, in Japan
    response = await api.get(f"{BASE}/calendar", as_="farmer")
    assert response.status_code == 200, response.text
    items = [
        (i["animal"]["name"], i["kind"], i["day"], i["until"]) for i in response.json()["items"]
    ]
    assert ("Ann", "expected_heat", (today + timedelta(days=2)).isoformat(), None) in items
    assert (
        "Bea",
        "pregnancy_check",
        (today - timedelta(days=3)).isoformat(),
        (today + timedelta(days=7)).isoformat(),
    ) in items
    assert ("Cho", "calving_due", (today + timedelta(days=5)).isoformat(), None) in items
    # A pregnant cow is expected to calve, not to come into heat.
    assert not any(name == "Cho" and kind == "expected_heat" for name, kind, *_ in items)

    assert (await api.get(f"{BASE}/calendar", as_="fisher")).json()["items"] == []
    refused = await api.get(f"{BASE}/calendar?from=2026-12-01&to=2026-11-01", as_="farmer")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["parameter"] == "from"
    assert herd


async def test_morning_reminders_are_sent_once_each(
    api: Api, world: World, clock: FakeClock
) -> None:
    await a_herd(api, world, clock)
    await run_job(api, "breeding_reminders")
    messages = await inbox(api)
    assert {m["plugin"] for m in messages} == {"livestock"}
    assert sorted(m["body"] for m in messages) == [
        "Calving due within a week: Cho (8000000003)",
        "Pregnancy check due: Bea (8000000002)",
    ]
    assert messages[0]["title"].startswith("Breeding calendar for")

    await run_job(api, "breeding_reminders")  # the same morning again: nothing new
    assert len(await inbox(api)) == 2

    advance(api, clock, 2 * DAY)  # Ann's heat is expected today
    await run_job(api, "breeding_reminders")
    latest = (await inbox(api))[0]
    assert latest["body"] == "Heat expected: Ann (8000000001)"


async def test_the_daily_herd_summary_and_the_overview(
    api: Api, world: World, clock: FakeClock
) -> None:
    await a_herd(api, world, clock)
    overview = (await api.get(f"{BASE}/overview", as_="farmer")).json()
    [farm] = overview["organizations"]
    assert farm["organization_id"] == world.org_ids["farm"]
    assert farm["animals"] == 3
    assert farm["by_state"] == {"inseminated": 1, "open": 1, "pregnant": 1}
    assert farm["calvings_due_7_days"] == 1
    assert farm["monitored"] == 0 and farm["heats_today"] == 0

    await run_job(api, "herd_summary")
    await run_job(api, "herd_summary")
    [summary] = await inbox(api)
    assert summary["title"].startswith("Herd summary for")
    assert summary["body"] == (
        "3 animals: 0 in heat yesterday, 1 calvings due within 7 days, 0 open alerts."
    )


async def test_home_cards_show_due_calvings(api: Api, world: World, clock: FakeClock) -> None:
    herd = await a_herd(api, world, clock)
    home = await api.get("/mobile/v1/home", "farmer", headers={"Accept-Language": "en"})
    assert home.status_code == 200, home.text
    cards = [c for c in home.json()["cards"] if c["plugin"] == "livestock"]
    [card] = cards
    assert card["type"] == "calving_due"
    assert card["title"] == "Calving due: Cho (8000000003)"
    assert card["action"]["target"] == {"kind": "livestock.animal", "id": herd["cho"]["id"]}
    other = await api.get("/mobile/v1/home", "fisher")
    assert not [c for c in other.json()["cards"] if c["plugin"] == "livestock"]


async def test_sync_brings_the_herd_and_its_records_and_what_was_deleted(
    api: Api, world: World, clock: FakeClock
) -> None:
    herd = await a_herd(api, world, clock)
    advance(api, clock, timedelta(minutes=5))  # sync marks overlap by a minute
    first = await api.get("/mobile/v1/sync", "farmer")
    assert first.status_code == 200, first.text
    changes = first.json()["changes"]["livestock"]
    assert {a["name"] for a in changes["animals"]["upserted"]} == {"Ann", "Bea", "Cho"}
    cho = next(a for a in changes["animals"]["upserted"] if a["name"] == "Cho")
    assert cho["reproduction"]["state"] == "pregnant"
    assert len(changes["events"]["upserted"]) == 6

    advance(api, clock, timedelta(minutes=5))
    events = (await api.get(f"{BASE}/animals/{herd['ann']['id']}/events", as_="farmer")).json()
    heat = next(e for e in events["items"] if e["kind"] == "heat")
    assert (await api.delete(f"{BASE}/events/{heat['id']}", "farmer")).status_code == 204
    later = await api.get(f"/mobile/v1/sync?cursor={first.json()['cursor']}", "farmer")
    changes = later.json()["changes"]["livestock"]
    assert changes["events"]["deleted"] == [heat["id"]]
    assert [a["name"] for a in changes["animals"]["upserted"]] == ["Ann"]  # her state changed

    stranger = await api.get("/mobile/v1/sync", "fisher")
    assert stranger.json()["changes"]["livestock"]["animals"]["upserted"] == []
