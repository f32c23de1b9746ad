"""Estrus alerts and the rules that hold them back, driven by the test clock.

Each test gives cows a collar history ending "now" (the test clock), runs the scoring job as
an admin would, and reads the alerts. A heat is activity at 4.5 times the usual for the last
hours (DOMAIN.md: +360% ± 170%), rumination down a third.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.clock import FakeClock
from tests.conftest import World
from tests.plugins.livestock.support import (
    BASE,
    DAY,
    HOUR,
    Cow,
    advance,
    alerts,
    cow,
    get_animal,
    history,
    record,
    score,
    window,
)
from tests.support import Api


def heat(clock: FakeClock, hours: int = 5) -> dict[str, Any]:
    now = clock.now().replace(minute=0, second=0, microsecond=0)
    first = now - (hours - 1) * HOUR
    return {"activity": window(first, now, 4.5), "rumination": window(first, now, 0.7)}


async def in_heat_now(api: Api, the_cow: Cow, clock: FakeClock, days: float = 8) -> None:
    await history(api, the_cow, clock, days, **heat(clock))


async def test_a_cow_in_heat_raises_one_estrus_alert_with_the_window_in_local_time(
    api: Api, world: World, clock: FakeClock
) -> None:
    clock.set(datetime.fromisoformat("2026-11-26T03:00:00+00:00"))  # 12:00 in Japan
    the_cow = await cow(api, world, "1000000001", name="はな")
    await in_heat_now(api, the_cow, clock)
    await score(api)

    [alert] = await alerts(api, "estrus")
    assert alert["severity"] == "major"
    assert alert["subject"] == {
        "kind": "livestock.animal",
        "id": the_cow.id,
        "label": "はな (1000000001)",
    }
    assert alert["model_version"].startswith("livestock.estrus@")
    onset = datetime.fromisoformat(alert["data"]["onset"])
    assert clock.now() - 6 * HOUR <= onset <= clock.now() - 3 * HOUR
    start = datetime.fromisoformat(alert["data"]["inseminate_from"])
    assert start - onset == timedelta(hours=6)
    assert datetime.fromisoformat(alert["data"]["inseminate_until"]) - onset == timedelta(hours=18)
    # The text gives the window in Japanese time (UTC+9), whatever the server's zone.
    local = (start + timedelta(hours=9)).strftime("%m/%d %H:%M")
    english = await api.get(
        f"/api/v1/alerts/{alert['id']}", "farmer", headers={"Accept-Language": "en"}
    )
    assert local in english.json()["body"], english.json()["body"]
    assert alert["data"]["icar"] == {"category": "Behaviour", "causes": ["Activity"]}

    # The heat is on record with the same window, and a second run an hour later is the same
    # heat: no new alert, no new heat.
    heats = (await api.get(f"{BASE}/heats", as_="farmer")).json()["items"]
    assert [h["alert_id"] for h in heats] == [alert["id"]]
    advance(api, clock, HOUR)
    await history(api, the_cow, clock, 0.1, activity=window(clock.now() - HOUR, clock.now(), 4.5))
    await score(api)
    assert [a["id"] for a in await alerts(api, "estrus")] == [alert["id"]]
    assert len((await api.get(f"{BASE}/heats", as_="farmer")).json()["items"]) == 1

    # Feedback is accepted on it (core route) and the insemination settles it.
    verdict = await api.post(
        f"/api/v1/alerts/{alert['id']}/feedback", "farmer", json={"verdict": "confirmed"}
    )
    assert verdict.json()["feedback"] == "confirmed"
    await record(api, the_cow.id, "insemination", clock.now(), sire="JP5H12345")
    assert await alerts(api, "estrus") == []


async def test_an_ordinary_day_raises_nothing(api: Api, world: World, clock: FakeClock) -> None:
    cows = [await cow(api, world, f"100000002{i}") for i in range(3)]
    for each in cows:
        await history(api, each, clock, 8)
    await score(api)
    assert await alerts(api) == []


async def test_a_herd_wide_pasture_day_raises_no_estrus_alert(
    api: Api, world: World, clock: FakeClock
) -> None:
    """Turn-out to pasture: every cow of the group 3.5 times as active for 6 hours."""
    herd = [await cow(api, world, f"20000000{i:02d}", group="lactating") for i in range(8)]
    for each in herd:
        await history(api, each, clock, 8, **heat(clock, hours=6))
    await score(api)
    assert await alerts(api, "estrus") == []

    # The same rise in one cow alone is a heat: the herd, not the rise, made the difference.
    advance(api, clock, 3 * DAY)
    alone = herd[0]
    for each in herd:
        await history(api, each, clock, 2.9, **(heat(clock) if each is alone else {}))
    await score(api)
    assert [a["subject"]["id"] for a in await alerts(api, "estrus")] == [alone.id]


async def test_no_estrus_alert_during_the_learning_period(
    api: Api, world: World, clock: FakeClock
) -> None:
    the_cow = await cow(api, world, "3000000001")
    await in_heat_now(api, the_cow, clock, days=5)  # the collar was fitted 5 days ago
    await score(api)
    assert await alerts(api, "estrus") == []
    assert (await get_animal(api, the_cow.id))["reproduction"]["estrus_alerts"] == "learning"

    # 21 days later she is in heat again, long past her 7 learning days.
    advance(api, clock, 21 * DAY)
    await in_heat_now(api, the_cow, clock)
    await score(api)
    assert len(await alerts(api, "estrus")) == 1
    assert (await get_animal(api, the_cow.id))["reproduction"]["estrus_alerts"] == "on"


async def test_no_estrus_alert_0_to_10_days_after_calving(
    api: Api, world: World, clock: FakeClock
) -> None:
    the_cow = await cow(api, world, "3000000002")
    await record(api, the_cow.id, "calving", clock.now() - 9 * DAY)
    await in_heat_now(api, the_cow, clock)
    await score(api)
    assert await alerts(api, "estrus") == []
    assert (await get_animal(api, the_cow.id))["reproduction"]["estrus_alerts"] == "after_calving"

    advance(api, clock, 2 * DAY)  # 11 days after calving
    await in_heat_now(api, the_cow, clock, days=2)
    await score(api)
    assert len(await alerts(api, "estrus")) == 1


async def test_no_estrus_alert_for_a_pregnant_cow(api: Api, world: World, clock: FakeClock) -> None:
    the_cow = await cow(api, world, "3000000003")
    await record(api, the_cow.id, "calving", clock.now() - 120 * DAY)
    await record(api, the_cow.id, "insemination", clock.now() - 60 * DAY)
    check = await record(api, the_cow.id, "pregnancy_check", clock.now() - 25 * DAY, pregnant=True)
    await in_heat_now(api, the_cow, clock)
    await score(api)
    assert await alerts(api, "estrus") == []
    assert (await get_animal(api, the_cow.id))["reproduction"]["estrus_alerts"] == "pregnant"

    # The check was wrong (she lost the calf): corrected, the next heat is announced.
    await api.patch(f"{BASE}/events/{check['id']}", "farmer", json={"pregnant": False})
    advance(api, clock, 21 * DAY)
    await in_heat_now(api, the_cow, clock)
    await score(api)
    assert len(await alerts(api, "estrus")) == 1


async def test_no_estrus_alert_from_gestation_day_271(
    api: Api, world: World, clock: FakeClock
) -> None:
    """Inseminated, pregnancy never checked: from day 271 she is near calving, and activity is
    no heat. Before that, a heat means the insemination did not take: it is announced."""
    late = await cow(api, world, "3000000004")
    await record(api, late.id, "insemination", clock.now() - 272 * DAY)
    early = await cow(api, world, "3000000005")
    await record(api, early.id, "insemination", clock.now() - 265 * DAY)
    for each in (late, early):
        await in_heat_now(api, each, clock)
    await score(api)
    assert [a["subject"]["id"] for a in await alerts(api, "estrus")] == [early.id]
    assert (await get_animal(api, late.id))["reproduction"]["estrus_alerts"] == "late_gestation"
