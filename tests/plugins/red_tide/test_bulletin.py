"""The morning bulletin: at 07:00 local, once per morning, to each subscribed fisher, through
firebase-admin, in the fisher's own language; and as a card on the app's home screen."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from core.clock import FakeClock
from core.settings import Settings
from tests.conftest import World
from tests.core.test_alerts_and_push import add_token, deliver
from tests.fcm_server import FCMServer
from tests.plugins.red_tide.support import (
    BASE,
    add_farm,
    add_fishery,
    advance,
    build_sea,
    count,
)
from tests.support import Api

JST_0650 = datetime(2026, 11, 26, 21, 50, tzinfo=UTC)  # 06:50 on the 27th in Japan


def bulletins(fcm: FCMServer) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for push in fcm.received:
        if push.message.get("data", {}).get("kind") == "bulletin":
            found.setdefault(push.token or "", []).append(push.message)
    return found


async def pushed(api: Api, fcm: FCMServer, expected: dict[str, int]) -> None:
    """Wait (bounded) until the bulletins at the FCM server are as expected: the app's own
    push sender may be delivering them at the same time as the test's round."""
    for _attempt in range(100):
        await deliver(api)
        if {token: len(m) for token, m in bulletins(fcm).items()} == expected:
            return
        await asyncio.sleep(0.05)
    assert {token: len(m) for token, m in bulletins(fcm).items()} == expected


async def run_bulletin(api: Api) -> None:
    api.forget("admin")
    response = await api.post("/api/v1/jobs/red_tide.bulletin/run", "admin")
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "succeeded", response.json()


async def subscribe(api: Api, username: str, areas: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"active": True}
    if areas is not None:
        body["areas"] = areas
    response = await api.client.put(
        f"{BASE}/bulletin/subscription", json=body, headers=await api.auth(username)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_the_bulletin_goes_out_once_per_morning_in_each_fishers_language(
    push_api: Api, world: World, clock: FakeClock, fcm: FCMServer, settings: Settings
) -> None:
    api = push_api
    sea = await build_sea(api)
    await add_fishery(api, world, "Shikamachi", "nguyen", "vi")
    await add_fishery(api, world, "Oomura Pearl", "mary", "en")
    await add_fishery(api, world, "Hario", "hario", "ja")
    await add_farm(api, sea, "fisher", world.org_ids["fishery"], "Kuju 1", "Kujukushima", ("K1",))
    await add_farm(api, sea, "nguyen", world.org_ids["Shikamachi"], "Shika", "Kujukushima", ("S1",))
    await add_farm(api, sea, "mary", world.org_ids["Oomura Pearl"], "Pearl", "Sasebo Bay", ("P1",))
    await add_farm(api, sea, "hario", world.org_ids["Hario"], "Hario", "Sasebo Bay", ("H1",))
    for username in ("fisher", "nguyen", "mary", "hario"):
        await add_token(settings, world, username, f"{username}-phone")
    assert (await subscribe(api, "fisher"))["bulletin_time"] == "07:00"
    await subscribe(api, "nguyen")
    await subscribe(api, "mary", [sea.areas["Kujukushima"], sea.areas["Sasebo Bay"]])
    # hario does not subscribe.

    await count(api, sea, "KJ-1", 1200, clock.now())

    # 06:50: too early.
    advance(api, clock, JST_0650 - clock.now())
    await run_bulletin(api)
    await deliver(api)
    assert bulletins(fcm) == {}

    # 07:00: one each, in ja, vi and en.
    advance(api, clock, timedelta(minutes=10))
    await run_bulletin(api)
    await pushed(api, fcm, {"fisher-phone": 1, "mary-phone": 1, "nguyen-phone": 1})
    sent = bulletins(fcm)
    ja, vi, en = sent["fisher-phone"][0], sent["nguyen-phone"][0], sent["mary-phone"][0]
    assert ja["notification"]["title"] == "赤潮速報 2026-11-27: 赤潮警報"
    assert ja["notification"]["body"].splitlines() == [
        "Kujukushima: 赤潮警報。最新の計数（2026-11-26）: Karenia mikimotoi 1,200 cells/mL。",
        "本日: K1 は給餌を停止してください。",
    ]
    assert vi["notification"]["title"] == "Bản tin thủy triều đỏ 2026-11-27: cảnh báo thủy triều đỏ"
    assert vi["notification"]["body"].splitlines()[-1] == "Hôm nay: ngừng cho ăn tại S1."
    assert en["notification"]["title"] == "Red tide bulletin 2026-11-27: red tide warning"
    assert en["notification"]["body"].splitlines() == [
        "Kujukushima: red tide warning. Latest counts (2026-11-26): Karenia mikimotoi 1,200 "
        "cells/mL.",
        "Sasebo Bay: no red tide alert.",
        "Today: feed as planned at P1.",
    ]
    assert en["data"]["plugin"] == "red_tide" and en["data"]["date"] == "2026-11-27"

    # Later runs the same morning send nothing more.
    for minutes in (5, 60):
        advance(api, clock, timedelta(minutes=minutes))
        await run_bulletin(api)
        await deliver(api)
    assert {token: len(m) for token, m in bulletins(fcm).items()} == {
        "fisher-phone": 1,
        "mary-phone": 1,
        "nguyen-phone": 1,
    }

    # The home screen shows this morning's bulletin, in the reader's language.
    home = await api.get("/mobile/v1/home", "nguyen", headers={"Accept-Language": "en"})
    [card] = [c for c in home.json()["cards"] if c["plugin"] == "red_tide"]
    assert card["type"] == "bulletin" and card["priority"] == 95
    assert card["title"] == "Red tide bulletin 2026-11-27: red tide warning"
    assert card["action"]["target"] == {"kind": "red_tide.bulletin", "id": "2026-11-27"}
    today = await api.get(f"{BASE}/bulletin", "mary", headers={"Accept-Language": "ja"})
    assert today.json()["sent_at"] is not None
    assert today.json()["title"] == "赤潮速報 2026-11-27: 赤潮警報"
    assert [c["advice"] for c in today.json()["cages"]] == ["normal"]

    # The next morning: one more each.
    advance(api, clock, JST_0650 + timedelta(days=1, minutes=10) - clock.now())
    await run_bulletin(api)
    await pushed(api, fcm, {"fisher-phone": 2, "mary-phone": 2, "nguyen-phone": 2})


async def test_a_fisher_who_subscribes_late_in_the_morning_gets_none_after_the_cut_off(
    api: Api, world: World, clock: FakeClock
) -> None:
    sea = await build_sea(api)
    await add_farm(api, sea, "fisher", world.org_ids["fishery"], "Kuju 1", "Kujukushima", ("K1",))
    await subscribe(api, "fisher")
    advance(api, clock, datetime(2026, 11, 27, 2, 30, tzinfo=UTC) - clock.now())  # 11:30 JST
    await run_bulletin(api)
    today = (await api.get(f"{BASE}/bulletin", "fisher")).json()
    assert today["sent_at"] is None
    assert today["areas"][0]["name"] == "Kujukushima"
    assert (await api.get("/mobile/v1/home", "fisher")).json()["cards"] == []
    # Only members subscribe; an unknown area is refused with a pointer.
    advisor = await api.client.put(
        f"{BASE}/bulletin/subscription", json={}, headers=await api.auth("advisor")
    )
    assert advisor.status_code == 403
    bad = await api.client.put(
        f"{BASE}/bulletin/subscription",
        json={"areas": [sea.areas["Kujukushima"], "nowhere"]},
        headers=await api.auth("fisher"),
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/areas/1"
