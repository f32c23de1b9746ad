from __future__ import annotations

from datetime import timedelta

import jwt

from core.clock import FakeClock
from tests.conftest import TEST_SECRET, World
from tests.support import Api


async def test_login_gives_short_lived_access_and_refresh_tokens(api: Api, world: World) -> None:
    tokens = await api.login("farmer")
    assert tokens["token_type"] == "bearer"
    assert 0 < tokens["expires_in"] <= 900
    claims = jwt.decode(
        tokens["access_token"], TEST_SECRET, algorithms=["HS256"], options={"verify_exp": False}
    )
    assert claims["sub"] == world.user_ids["farmer"]
    assert claims["exp"] - claims["iat"] == tokens["expires_in"]
    assert tokens["refresh_token"] and tokens["refresh_token"] != tokens["access_token"]


async def test_unknown_user_and_wrong_password_get_the_same_problem(api: Api) -> None:
    wrong = await api.client.post(
        "/api/v1/auth/token", json={"username": "farmer", "password": "nope-nope"}
    )
    unknown = await api.client.post(
        "/api/v1/auth/token", json={"username": "nobody", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json() == unknown.json()
    assert "access_token" not in wrong.text


async def test_me_describes_the_caller_and_their_organizations(api: Api, world: World) -> None:
    response = await api.get("/api/v1/me", as_="farmer")
    assert response.status_code == 200
    me = response.json()
    assert me == {
        "id": world.user_ids["farmer"],
        "username": "farmer",
        "display_name": "farmer",
        "role": "member",
        "locale": "ja",
        "timezone": "Asia/Tokyo",
        "organizations": [{"id": world.org_ids["farm"], "name": "Hinata Farm", "kind": "farm"}],
    }


async def test_refresh_rotates_and_a_spent_token_revokes_its_family(api: Api) -> None:
    first = await api.login("farmer")
    second = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    second_tokens = second.json()
    assert second_tokens["refresh_token"] != first["refresh_token"]
    me = await api.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {second_tokens['access_token']}"}
    )
    assert me.json()["username"] == "farmer"

    # Someone replays the first (spent) token: refused, and the whole login is revoked.
    replay = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 401
    after = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second_tokens["refresh_token"]}
    )
    assert after.status_code == 401

    # Another login of the same user is a different family and keeps working.
    other = await api.login("farmer")
    still = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}
    )
    assert still.status_code == 200


async def test_logout_revokes_the_family_and_answers_204_even_for_unknown_tokens(
    api: Api,
) -> None:
    tokens = await api.login("fisher")
    out = await api.client.post(
        "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}
    )
    assert out.status_code == 204
    assert out.content == b""
    refused = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refused.status_code == 401
    unknown = await api.client.post("/api/v1/auth/logout", json={"refresh_token": "x" * 43})
    assert unknown.status_code == 204


async def test_access_token_expires_after_15_minutes(api: Api, clock: FakeClock) -> None:
    tokens = await api.login("farmer")
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    clock.advance(timedelta(minutes=14, seconds=59))
    assert (await api.client.get("/api/v1/me", headers=headers)).status_code == 200
    clock.advance(timedelta(seconds=1))
    expired = await api.client.get("/api/v1/me", headers=headers)
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]


async def test_refresh_token_expires(api: Api, clock: FakeClock) -> None:
    tokens = await api.login("farmer")
    clock.advance(timedelta(days=31))
    response = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 401


async def test_login_is_rate_limited_per_username(api: Api) -> None:
    statuses = []
    for _ in range(12):
        response = await api.client.post(
            "/api/v1/auth/token", json={"username": "farmer", "password": "wrong-wrong"}
        )
        statuses.append(response.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["type"] == "urn:minori:problem:rate-limited"


async def test_garbage_and_foreign_tokens_are_refused(api: Api) -> None:
    forged = jwt.encode(
        {"typ": "access", "sub": "x", "role": "admin", "exp": 9999999999},
        "another-key-of-32-bytes-or-more!!",
        algorithm="HS256",
    )
    for header in ["Bearer nonsense", f"Bearer {forged}", "Basic abc", ""]:
        response = await api.client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["status"] == 401
