"""The home screen: cards from core and every plugin in one answer, ordered, bounded, in the
caller's language, with an ETag; a slow or broken plugin never stalls it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient

from core.app import create_app
from core.clock import FakeClock
from core.settings import Settings
from tests.conftest import PASSWORD, World
from tests.mobile_api.plugins import with_plugins
from tests.mobile_api.support import MOBILE, announce, greet, press_button
from tests.support import Api

HOME = f"{MOBILE}/home"


@pytest.fixture
async def plugged_api(settings: Settings, clock: FakeClock, world: World) -> AsyncIterator[Api]:
    """The app with a feed that never answers, one that fails and one with 30 cards."""
    app = create_app(
        with_plugins(settings.database_url, "slow", "broken", "chatty"),
        clock=clock,
        run_jobs=False,
    )
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield Api(client, PASSWORD)


async def test_cards_come_by_priority_then_newest_with_the_unread_count(
    api: Api, world: World, clock: FakeClock
) -> None:
    info = await announce(api, world, "info", "Meeting on Friday")
    clock.advance(timedelta(minutes=1))
    critical = await announce(api, world, "critical", "Pest outbreak", body="Check the rice.")
    clock.advance(timedelta(minutes=1))
    newer_info = await announce(api, world, "info", "Market prices")
    clock.advance(timedelta(minutes=1))
    greeting = await greet(api, "farmer", world, "おはようございます")
    await announce(api, world, "major", "Elsewhere", org="fishery")

    response = await api.get(HOME, as_="farmer")
    assert response.status_code == 200, response.text
    home = response.json()
    assert home["unread"] == 3
    assert [(c["plugin"], c["type"], c["priority"]) for c in home["cards"]] == [
        ("core", "alert.critical", 100),
        ("core", "alert.info", 40),
        ("core", "alert.info", 40),
        ("hello", "greetings", 20),
    ]
    first, second, third, last = home["cards"]
    assert first == {
        "id": f"alert:{critical['id']}",
        "plugin": "core",
        "type": "alert.critical",
        "priority": 100,
        "title": "Pest outbreak",
        "body": "Check the rice.",
        "created_at": critical["last_seen"],
        "action": {"kind": "open", "target": {"kind": "alert", "id": critical["id"]}},
    }
    assert [second["id"], third["id"]] == [f"alert:{newer_info['id']}", f"alert:{info['id']}"]
    assert last["action"] == {
        "kind": "open",
        "target": {"kind": "hello.greeting", "id": greeting["id"]},
    }

    # The fisher sees only the fishery's alert, and no greeting was posted there.
    theirs = (await api.get(HOME, as_="fisher")).json()
    assert [c["title"] for c in theirs["cards"]] == ["Elsewhere"]


async def test_cards_speak_the_callers_language(api: Api, world: World, clock: FakeClock) -> None:
    await greet(api, "farmer", world, "こんにちは")
    clock.advance(timedelta(seconds=1))
    await greet(api, "farmer", world, "今日は晴れ")
    await press_button(api, world, clock, name="Gate")

    def by_plugin(response: object) -> dict[str, tuple[str, str]]:
        cards = response.json()["cards"]  # type: ignore[attr-defined]
        return {c["plugin"]: (c["title"], c["body"]) for c in cards}

    assert by_plugin(await api.get(HOME, as_="farmer", headers={"Accept-Language": "vi"})) == {
        "core": ("Có lời chào tại Gate", "Có người đã nhấn Gate."),
        "hello": ("Lời chào hôm nay: 2", "Mới nhất: 今日は晴れ"),
    }
    assert by_plugin(await api.get(HOME, as_="farmer")) == {
        "core": ("Gate であいさつがありました", "誰かが Gate を押しました。"),
        "hello": ("今日のあいさつ: 2 件", "最新: 今日は晴れ"),
    }
    english = await api.get(HOME, as_="farmer", headers={"Accept-Language": "en-GB, ja;q=0.5"})
    assert by_plugin(english) == {
        "core": ("Hello at Gate", "Someone pressed Gate."),
        "hello": ("Greetings today: 2", "Latest: 今日は晴れ"),
    }


async def test_yesterdays_greetings_make_no_card(api: Api, world: World, clock: FakeClock) -> None:
    await greet(api, "farmer", world, "昨日のあいさつ")
    clock.advance(timedelta(days=1))
    api.forget("farmer")
    assert (await api.get(HOME, as_="farmer")).json()["cards"] == []


async def test_etag_answers_304_until_something_changes(api: Api, world: World) -> None:
    await greet(api, "farmer", world, "一つ目")
    first = await api.get(HOME, as_="farmer")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"

    same = await api.get(HOME, as_="farmer", headers={"If-None-Match": etag})
    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["etag"] == etag
    weak = await api.get(HOME, as_="farmer", headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304

    # Another language is another representation.
    vietnamese = await api.get(
        HOME, as_="farmer", headers={"If-None-Match": etag, "Accept-Language": "vi"}
    )
    assert vietnamese.status_code == 200
    assert vietnamese.headers["etag"] != etag

    await greet(api, "farmer", world, "二つ目")
    changed = await api.get(HOME, as_="farmer", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["cards"][0]["title"] == "今日のあいさつ: 2 件"


async def test_a_slow_or_broken_plugin_is_left_out_and_a_chatty_one_bounded(
    plugged_api: Api, world: World
) -> None:
    await announce(plugged_api, world, "critical", "Pest outbreak")
    await greet(plugged_api, "farmer", world, "こんにちは")
    response = await plugged_api.get(HOME, as_="farmer")
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    plugins = [c["plugin"] for c in cards]
    assert "slow" not in plugins and "broken" not in plugins
    assert plugins.count("core") == 1 and plugins.count("hello") == 1
    # Ten cards of the thirty, its own best: priorities 29 down to 20.
    assert [c["priority"] for c in cards if c["plugin"] == "chatty"] == list(range(29, 19, -1))
    assert cards[0]["title"] == "Pest outbreak"
