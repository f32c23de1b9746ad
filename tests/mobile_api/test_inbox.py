"""The inbox: the caller's notifications, newest first, in cursor pages, with read state."""

from __future__ import annotations

import uuid
from datetime import timedelta

from core.clock import FakeClock
from tests.conftest import World
from tests.mobile_api.support import MOBILE, announce, press_button
from tests.support import Api

INBOX = f"{MOBILE}/inbox"


async def test_items_come_newest_first_in_pages(api: Api, world: World, clock: FakeClock) -> None:
    alerts = []
    for title in ("First", "Second", "Third", "Fourth", "Fifth"):
        alerts.append(await announce(api, world, "info", title, body=f"{title} body"))
        clock.advance(timedelta(minutes=1))
    await announce(api, world, "info", "For the fishery", org="fishery")

    first_page = await api.get(f"{INBOX}?limit=2", as_="farmer")
    assert first_page.status_code == 200, first_page.text
    page = first_page.json()
    assert [i["title"] for i in page["items"]] == ["Fifth", "Fourth"]
    item = page["items"][0]
    assert item == {
        "id": item["id"],
        "title": "Fifth",
        "body": "Fifth body",
        "created_at": item["created_at"],
        "read": False,
        "plugin": "core",
        "alert_id": alerts[-1]["id"],
    }
    titles = [i["title"] for i in page["items"]]
    while page["next_cursor"]:
        page = (await api.get(f"{INBOX}?limit=2&cursor={page['next_cursor']}", as_="farmer")).json()
        titles += [i["title"] for i in page["items"]]
    assert titles == ["Fifth", "Fourth", "Third", "Second", "First"]

    for bad in ("limit=0", "limit=201", "cursor=%25%25"):
        response = await api.get(f"{INBOX}?{bad}", as_="farmer")
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["parameter"] in ("limit", "cursor")


async def test_mark_read_is_204_every_time_and_counts(api: Api, world: World) -> None:
    await announce(api, world, "info", "One")
    await announce(api, world, "info", "Two")
    items = (await api.get(INBOX, as_="farmer")).json()["items"]
    assert (await api.get(f"{MOBILE}/home", as_="farmer")).json()["unread"] == 2

    target = items[0]["id"]
    for _ in range(2):
        marked = await api.post(f"{INBOX}/{target}/read", as_="farmer")
        assert marked.status_code == 204
        assert marked.content == b""
    read = {i["id"]: i["read"] for i in (await api.get(INBOX, as_="farmer")).json()["items"]}
    assert read == {target: True, items[1]["id"]: False}
    assert (await api.get(f"{MOBILE}/home", as_="farmer")).json()["unread"] == 1


async def test_another_users_item_answers_404_like_no_item(api: Api, world: World) -> None:
    await announce(api, world, "info", "For the farm")
    [item] = (await api.get(INBOX, as_="farmer")).json()["items"]
    assert (await api.get(INBOX, as_="fisher")).json() == {"items": [], "next_cursor": None}

    theirs = await api.post(f"{INBOX}/{item['id']}/read", as_="fisher")
    unknown = await api.post(f"{INBOX}/{uuid.uuid4()}/read", as_="fisher")
    garbage = await api.post(f"{INBOX}/not-an-id/read", as_="fisher")
    for response in (theirs, unknown, garbage):
        assert response.status_code == 404
        assert response.json()["type"] == "urn:minori:problem:not-found"
    assert theirs.json()["detail"] == f"ID {item['id']} の受信箱の項目はありません。"
    assert not (await api.get(INBOX, as_="farmer")).json()["items"][0]["read"]


async def test_items_speak_the_callers_language(api: Api, world: World, clock: FakeClock) -> None:
    await press_button(api, world, clock, name="Gate")
    for language, title in [
        ("vi", "Có lời chào tại Gate"),
        ("ja", "Gate であいさつがありました"),
        ("en", "Hello at Gate"),
    ]:
        response = await api.get(INBOX, as_="farmer", headers={"Accept-Language": language})
        [item] = response.json()["items"]
        assert (item["title"], item["plugin"]) == (title, "hello")
