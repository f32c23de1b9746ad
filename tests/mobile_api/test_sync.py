"""Delta sync: everything first, then what changed since the cursor, deletions included; the
cursor is opaque, survives a restart, and answers 410 when it cannot be trusted."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from core.app import create_app
from core.clock import FakeClock
from core.errors import Gone
from core.identity.access import Principal
from core.identity.models import Role
from core.settings import Settings
from core.sync import Tombstone
from mobile_api import delta
from tests.conftest import PASSWORD, TEST_SECRET, World, run_in_database
from tests.mobile_api import plugins
from tests.mobile_api.plugins import with_plugins
from tests.mobile_api.support import GREETINGS, MOBILE, announce, greet, press_button
from tests.support import Api

SYNC = f"{MOBILE}/sync"
LATER = timedelta(minutes=10)
"""Well past the overlap a cursor keeps, so what did not change is not sent again."""


async def sync(api: Api, cursor: str | None = None, as_: str = "farmer", **headers: str) -> Any:
    params = {"cursor": cursor} if cursor else {}
    response = await api.get(SYNC, as_=as_, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def ids(changes: dict[str, Any], plugin: str, collection: str) -> list[str]:
    return [o["id"] for o in changes["changes"][plugin][collection]["upserted"]]


def deleted(changes: dict[str, Any], plugin: str, collection: str) -> list[str]:
    return list(changes["changes"][plugin][collection]["deleted"])


async def later(api: Api, clock: FakeClock) -> None:
    clock.advance(LATER)
    for username in ("farmer", "fisher", "admin"):
        api.forget(username)  # access tokens follow the app's clock


async def test_first_sync_brings_everything_then_only_what_changed(
    api: Api, world: World, clock: FakeClock
) -> None:
    alert = await announce(api, world, "critical", "Pest outbreak")
    kept = await greet(api, "farmer", world, "残るあいさつ")
    doomed = await greet(api, "farmer", world, "消えるあいさつ")
    await greet(api, "fisher", world, "漁港から", org="fishery")

    await later(api, clock)
    first = await sync(api)
    assert {"core", "hello"} <= set(first["changes"])
    assert ids(first, "core", "alerts") == [alert["id"]]
    assert first["changes"]["core"]["alerts"]["upserted"][0]["status"] == "open"
    assert len(ids(first, "core", "inbox")) == 1
    assert sorted(ids(first, "hello", "greetings")) == sorted([kept["id"], doomed["id"]])
    assert deleted(first, "hello", "greetings") == []

    # Nothing happened (and nothing just before the first sync): nothing comes.
    await later(api, clock)
    quiet = await sync(api, first["cursor"])
    for plugin, collections in quiet["changes"].items():
        for name, changes in collections.items():
            assert changes == {"upserted": [], "deleted": []}, (plugin, name)

    # The alert is acknowledged, an inbox item read, a greeting posted and one deleted.
    await later(api, clock)
    assert (await api.post(f"/api/v1/alerts/{alert['id']}/ack", as_="farmer")).status_code == 200
    [item] = (await api.get(f"{MOBILE}/inbox", as_="farmer")).json()["items"]
    assert (await api.post(f"{MOBILE}/inbox/{item['id']}/read", as_="farmer")).status_code == 204
    new = await greet(api, "farmer", world, "新しいあいさつ")
    assert (await api.delete(f"{GREETINGS}/{doomed['id']}", as_="farmer")).status_code == 204

    changed = await sync(api, quiet["cursor"])
    [acknowledged] = changed["changes"]["core"]["alerts"]["upserted"]
    assert (acknowledged["id"], acknowledged["status"]) == (alert["id"], "acknowledged")
    assert acknowledged["acknowledged_by"]["id"] == world.user_ids["farmer"]
    [read] = changed["changes"]["core"]["inbox"]["upserted"]
    assert (read["id"], read["read"]) == (item["id"], True)
    assert ids(changed, "hello", "greetings") == [new["id"]]
    assert deleted(changed, "hello", "greetings") == [doomed["id"]]

    # The fisher's phone hears of none of the farm's changes.
    theirs = await sync(api, as_="fisher")
    assert ids(theirs, "core", "alerts") == [] and ids(theirs, "core", "inbox") == []
    assert [g["text"] for g in theirs["changes"]["hello"]["greetings"]["upserted"]] == ["漁港から"]
    await later(api, clock)
    assert (await api.delete(f"{GREETINGS}/{kept['id']}", as_="farmer")).status_code == 204
    assert deleted(await sync(api, theirs["cursor"], as_="fisher"), "hello", "greetings") == []


async def test_tombstones_outlive_every_valid_cursor_then_are_purged(
    api: Api, world: World, clock: FakeClock, settings: Settings
) -> None:
    old = await greet(api, "farmer", world, "古いあいさつ")
    recent = await greet(api, "farmer", world, "最近のあいさつ")
    assert (await api.delete(f"{GREETINGS}/{old['id']}", as_="farmer")).status_code == 204
    clock.advance(timedelta(days=20))
    api.forget("farmer")
    cursor = (await sync(api))["cursor"]
    assert (await api.delete(f"{GREETINGS}/{recent['id']}", as_="farmer")).status_code == 204

    clock.advance(timedelta(days=12))  # the first deletion is 32 days old, the second 12
    api.forget("farmer")
    api.forget("admin")
    run = await api.post("/api/v1/jobs/core.tombstone_purge/run", as_="admin")
    assert run.status_code == 200, run.text

    async def kept() -> list[str]:
        return [t.object_id for t in await Tombstone.all().order_by("id")]

    assert await run_in_database(settings, kept) == [recent["id"]]
    # The 12-day-old cursor still learns of the deletion it has not seen.
    assert deleted(await sync(api, cursor), "hello", "greetings") == [recent["id"]]


async def test_texts_in_synced_objects_speak_the_callers_language(
    api: Api, world: World, clock: FakeClock
) -> None:
    await press_button(api, world, clock, name="Gate")
    for language, title in [("vi", "Có lời chào tại Gate"), ("ja", "Gate であいさつがありました")]:
        changes = await sync(api, **{"Accept-Language": language})
        [alert] = changes["changes"]["core"]["alerts"]["upserted"]
        [item] = changes["changes"]["core"]["inbox"]["upserted"]
        assert alert["title"] == item["title"] == title


async def test_the_cursor_survives_a_restart(
    api: Api, world: World, settings: Settings, clock: FakeClock
) -> None:
    first = await sync(api)
    await later(api, clock)
    greeting = await greet(api, "farmer", world, "再起動のあと")
    restarted = create_app(settings, clock=clock, run_jobs=False)
    async with AsyncTestClient(app=restarted, raise_server_exceptions=False) as client:
        again = await sync(Api(client, PASSWORD), first["cursor"])
    assert ids(again, "hello", "greetings") == [greeting["id"]]


def tampered(cursor: str) -> str:
    payload, _sep, signature = cursor.partition(".")
    document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    document["m"] = {name: 0 for name in document["m"]}
    forged = base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")
    return f"{forged}.{signature}"


async def test_a_cursor_that_cannot_be_trusted_answers_410(
    api: Api, world: World, clock: FakeClock
) -> None:
    mine = (await sync(api))["cursor"]
    for cursor in ("garbage", "a.b", tampered(mine), mine[:-3] + "AAA"):
        response = await api.get(SYNC, as_="farmer", params={"cursor": cursor})
        assert response.status_code == 410, (cursor, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:minori:problem:gone"

    # Another user's cursor is not this user's history.
    stolen = await api.get(SYNC, as_="fisher", params={"cursor": mine})
    assert stolen.status_code == 410

    # Deletions are kept 30 days: an older cursor cannot say what was deleted.
    clock.advance(timedelta(days=31))
    api.forget("farmer")
    expired = await api.get(
        SYNC, as_="farmer", params={"cursor": mine}, headers={"Accept-Language": "en"}
    )
    assert expired.status_code == 410
    assert expired.json()["detail"] == (
        "This sync cursor is older than 30 days; sync again without a cursor."
    )


def test_a_cursor_is_bound_to_what_the_user_may_see() -> None:
    farmer = Principal("u1", Role.MEMBER, frozenset({"farm"}))
    moment = datetime(2026, 11, 26, tzinfo=UTC)
    cursor = delta.encode_cursor(TEST_SECRET, farmer, {"core": moment})
    assert delta.decode_cursor(TEST_SECRET, farmer, cursor, moment) == {"core": moment}
    for changed in (
        Principal("u1", Role.MEMBER, frozenset({"farm", "fishery"})),  # joined an organization
        Principal("u1", Role.ADVISOR, frozenset({"farm"})),  # changed role
    ):
        with pytest.raises(Gone):
            delta.decode_cursor(TEST_SECRET, changed, cursor, moment)
    with pytest.raises(Gone):
        delta.decode_cursor("another secret", farmer, cursor, moment)


@pytest.fixture
async def flaky_api(settings: Settings, clock: FakeClock, world: World) -> AsyncIterator[Api]:
    plugins.SYNC_CALLS.clear()
    plugins.FAIL_NEXT.clear()
    app = create_app(with_plugins(settings.database_url, "flaky"), clock=clock, run_jobs=False)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield Api(client, PASSWORD)


async def test_a_failing_source_is_asked_again_from_where_it_was(
    flaky_api: Api, world: World, clock: FakeClock
) -> None:
    first = await sync(flaky_api, **{"Accept-Language": "vi"})
    things = first["changes"]["flaky"]["things"]["upserted"]
    assert things == [{"id": "t1", "label": "Không tìm thấy"}]  # a text, rendered for the app
    start = clock.now()

    await later(flaky_api, clock)
    plugins.FAIL_NEXT.append(True)
    failed = await sync(flaky_api, first["cursor"])
    assert "flaky" not in failed["changes"] and "hello" in failed["changes"]

    await later(flaky_api, clock)
    await sync(flaky_api, failed["cursor"])
    first_call, failed_call, retried_call = plugins.SYNC_CALLS
    assert first_call is None
    # The failed round did not move the plugin's mark: it is asked from the first sync on.
    assert failed_call == retried_call == start - delta.OVERLAP


async def test_a_change_just_before_a_sync_comes_again_with_the_next(
    api: Api, world: World, clock: FakeClock
) -> None:
    """A write committed just after a sync read the database, or dated by a replica whose clock
    lags, would be missed by an exact cut: the cursor looks back ``OVERLAP``."""
    greeting = await greet(api, "farmer", world, "ぎりぎり")
    clock.advance(delta.OVERLAP / 2)
    first = await sync(api)
    await later(api, clock)
    assert ids(await sync(api, first["cursor"]), "hello", "greetings") == [greeting["id"]]
