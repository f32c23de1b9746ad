"""Push tokens: registered per phone (idempotent on the token), several per user, moved when
another user registers the same phone, removed on request or when FCM says they are dead."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core.alerts.models import PushToken
from core.clock import FakeClock
from core.settings import Settings
from tests.conftest import World, run_in_database
from tests.core.test_alerts_and_push import deliver, poll
from tests.fcm_server import FCMServer
from tests.mobile_api.support import MOBILE, announce, register_token
from tests.support import Api


async def tokens(settings: Settings) -> dict[str, tuple[str, str, str, str]]:
    """token -> (user id, kind, platform, app version), read from the database."""

    async def work() -> dict[str, tuple[str, str, str, str]]:
        return {
            t.token: (str(t.user_id), t.kind, t.platform, t.app_version)
            for t in await PushToken.all()
        }

    return await run_in_database(settings, work)


async def test_registering_is_idempotent_on_the_token(
    api: Api, world: World, clock: FakeClock, settings: Settings
) -> None:
    first = await register_token(api, "farmer", "phone-a")
    assert first.status_code == 201
    body = first.json()
    assert body == {
        "token": "phone-a",
        "kind": "fcm_token",
        "platform": "android",
        "app_version": "1.4.0",
        "created_at": body["created_at"],
    }

    clock.advance(timedelta(days=3))
    api.forget("farmer")
    again = await api.post(
        f"{MOBILE}/push-tokens",
        as_="farmer",
        json={"token": "phone-a", "kind": "fid", "platform": "ios", "app_version": "1.5.0"},
    )
    assert again.status_code == 200
    # The same registration, updated: created_at stays, the rest is what the phone says now.
    assert again.json() == {
        "token": "phone-a",
        "kind": "fid",
        "platform": "ios",
        "app_version": "1.5.0",
        "created_at": body["created_at"],
    }
    assert await tokens(settings) == {"phone-a": (world.user_ids["farmer"], "fid", "ios", "1.5.0")}


async def test_a_user_has_several_phones_and_a_phone_moves_to_its_new_user(
    api: Api, world: World, settings: Settings
) -> None:
    await register_token(api, "farmer", "phone-a")
    await register_token(api, "farmer", "tablet-b")
    assert set(await tokens(settings)) == {"phone-a", "tablet-b"}

    moved = await register_token(api, "fisher", "tablet-b")
    assert moved.status_code == 201  # new to the fisher
    owners = {token: row[0] for token, row in (await tokens(settings)).items()}
    assert owners == {"phone-a": world.user_ids["farmer"], "tablet-b": world.user_ids["fisher"]}


async def test_unregistering_answers_204_and_touches_only_the_callers_token(
    api: Api, world: World, settings: Settings
) -> None:
    await register_token(api, "farmer", "phone-a")
    await register_token(api, "fisher", "phone-f")

    assert (await api.delete(f"{MOBILE}/push-tokens/phone-f", as_="farmer")).status_code == 204
    assert (await api.delete(f"{MOBILE}/push-tokens/never-seen", as_="farmer")).status_code == 204
    assert set(await tokens(settings)) == {"phone-a", "phone-f"}

    assert (await api.delete(f"{MOBILE}/push-tokens/phone-a", as_="farmer")).status_code == 204
    assert set(await tokens(settings)) == {"phone-f"}
    # Registering it again is a new registration.
    assert (await register_token(api, "farmer", "phone-a")).status_code == 201


async def test_a_bad_registration_points_at_the_field(api: Api, world: World) -> None:
    good = {"token": "t", "kind": "fcm_token", "platform": "android", "app_version": "1.0.0"}
    for field, value in [("kind", "apns"), ("platform", "windows"), ("token", "")]:
        response = await api.post(
            f"{MOBILE}/push-tokens", as_="farmer", json={**good, field: value}
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["pointer"] == f"/{field}"
    anonymous = await api.client.post(f"{MOBILE}/push-tokens", json=good)
    assert anonymous.status_code == 401


async def test_pushes_reach_every_phone_by_its_kind_and_dead_ones_are_pruned(
    push_api: Api, world: World, settings: Settings, fcm: FCMServer
) -> None:
    await register_token(push_api, "farmer", "phone-token")
    await register_token(push_api, "farmer", "installation-id", kind="fid")
    await register_token(push_api, "farmer", "old-phone")
    fcm.fail("old-phone", "UNREGISTERED")

    await announce(push_api, world, "warning", "Frost tonight")
    received = await asyncio.to_thread(fcm.wait_for, 3)
    by_address = {r.token: r.message for r in received}
    assert set(by_address) == {"phone-token", "installation-id", "old-phone"}
    assert by_address["phone-token"]["token"] == "phone-token"
    assert by_address["installation-id"]["fid"] == "installation-id"
    assert "token" not in by_address["installation-id"]

    # FCM said the old phone is gone: it is pruned (once the round is recorded), the others stay.
    async def pruned() -> None:
        assert set(await tokens(settings)) == {"phone-token", "installation-id"}

    await poll(pruned)
    await announce(push_api, world, "warning", "Frost again")
    await asyncio.to_thread(fcm.wait_for, 5)
    await deliver(push_api)
    assert len(fcm.for_token("old-phone")) == 1
    assert len(fcm.for_token("phone-token")) == 2
