"""``Idempotency-Key`` on every POST of the API: replays answer the first answer and create
nothing; another body is 422; secrets are never kept; keys expire after 24 hours."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from core import idempotency
from core.clock import FakeClock
from core.idempotency import IdempotentRequest, fingerprint
from core.settings import Settings
from tests.conftest import PASSWORD, World, run_in_database
from tests.core.test_ingest import reading
from tests.core.test_media import jpeg
from tests.mobile_api.support import GREETINGS, MOBILE
from tests.support import Api, serve

REPLAYED = "idempotent-replayed"


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def greeting(world: World, text: str = "こんにちは", org: str = "farm") -> dict[str, str]:
    return {"organization_id": world.org_ids[org], "text": text}


async def greeting_texts(api: Api) -> list[str]:
    items = (await api.get(f"{GREETINGS}?limit=200", as_="admin")).json()["items"]
    return [g["text"] for g in items]


async def stored_rows(settings: Settings) -> list[IdempotentRequest]:
    async def work() -> list[IdempotentRequest]:
        return await IdempotentRequest.all().order_by("id")

    return await run_in_database(settings, work)


async def test_a_replay_answers_the_first_answer_and_creates_nothing(
    api: Api, world: World
) -> None:
    first = await api.post(GREETINGS, as_="farmer", json=greeting(world), headers=key("k-1"))
    assert first.status_code == 201
    assert REPLAYED not in first.headers

    again = await api.post(GREETINGS, as_="farmer", json=greeting(world), headers=key("k-1"))
    assert again.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert again.headers["content-type"] == "application/json"
    assert again.json() == first.json()

    # The same JSON written otherwise (member order, spacing) is the same body.
    body = greeting(world)
    reordered = {"text": body["text"], "organization_id": body["organization_id"]}
    rewritten = json.dumps(reordered, indent=2)
    third = await api.post(
        GREETINGS,
        as_="farmer",
        content=rewritten.encode(),
        headers={**key("k-1"), "Content-Type": "application/json"},
    )
    assert third.headers[REPLAYED] == "true"
    assert third.json() == first.json()
    assert await greeting_texts(api) == ["こんにちは"]


async def test_the_same_key_with_another_body_is_422(api: Api, world: World) -> None:
    await api.post(GREETINGS, as_="farmer", json=greeting(world), headers=key("k-1"))
    other = await api.post(
        GREETINGS, as_="farmer", json=greeting(world, "別の話"), headers=key("k-1")
    )
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    body = other.json()
    assert body["type"] == "urn:minori:problem:validation-failed"
    assert body["errors"] == [{"parameter": "Idempotency-Key", "detail": body["detail"]}]
    assert body["detail"] == "この Idempotency-Key は別の本文ですでに使われています。"
    assert await greeting_texts(api) == ["こんにちは"]


async def test_a_key_belongs_to_its_caller_and_path(api: Api, world: World) -> None:
    await api.post(GREETINGS, as_="farmer", json=greeting(world), headers=key("shared"))
    by_admin = await api.post(GREETINGS, as_="admin", json=greeting(world), headers=key("shared"))
    assert by_admin.status_code == 201 and REPLAYED not in by_admin.headers
    token = {"token": "t", "kind": "fid", "platform": "ios", "app_version": "1.0.0"}
    elsewhere = await api.post(
        f"{MOBILE}/push-tokens", as_="farmer", json=token, headers=key("shared")
    )
    assert elsewhere.status_code == 201 and REPLAYED not in elsewhere.headers
    assert await greeting_texts(api) == ["こんにちは", "こんにちは"]


async def test_only_2xx_answers_are_kept(api: Api, world: World, settings: Settings) -> None:
    refused = await api.post(
        GREETINGS, as_="farmer", json=greeting(world, "あ" * 281), headers=key("k-1")
    )
    assert refused.status_code == 422
    forbidden = await api.post(GREETINGS, as_="advisor", json=greeting(world), headers=key("k-1"))
    assert forbidden.status_code == 403
    assert await stored_rows(settings) == []

    # The key is still free: the corrected request runs.
    accepted = await api.post(GREETINGS, as_="farmer", json=greeting(world), headers=key("k-1"))
    assert accepted.status_code == 201 and REPLAYED not in accepted.headers
    [row] = await stored_rows(settings)
    assert (row.caller, row.method, row.path, row.key, row.status_code) == (
        f"user:{world.user_ids['farmer']}",
        "POST",
        GREETINGS,
        "k-1",
        201,
    )


async def test_keys_expire_after_24_hours_and_are_purged(
    api: Api, world: World, clock: FakeClock, settings: Settings
) -> None:
    await api.post(GREETINGS, as_="farmer", json=greeting(world), headers=key("old"))
    clock.advance(timedelta(hours=23))
    api.forget("farmer")
    assert (
        await api.post(GREETINGS, as_="farmer", json=greeting(world), headers=key("old"))
    ).headers[REPLAYED] == "true"
    await api.post(GREETINGS, as_="farmer", json=greeting(world, "新しい"), headers=key("new"))

    clock.advance(timedelta(hours=2))
    api.forget("farmer")
    fresh = await api.post(GREETINGS, as_="farmer", json=greeting(world), headers=key("old"))
    assert fresh.status_code == 201 and REPLAYED not in fresh.headers
    assert sorted(await greeting_texts(api)) == sorted(["こんにちは", "こんにちは", "新しい"])

    clock.advance(timedelta(hours=23))
    api.forget("admin")
    run = await api.post("/api/v1/jobs/core.idempotency_purge/run", as_="admin")
    assert run.status_code == 200, run.text
    assert [r.key for r in await stored_rows(settings)] == ["old"]  # the renewed one


async def test_an_answer_with_a_secret_is_kept_without_it_and_its_replay_is_409(
    api: Api, world: World, settings: Settings
) -> None:
    body = {
        "kind": "hello.button",
        "name": "Gate",
        "organization_id": world.org_ids["farm"],
        "external_id": "gate",
    }
    created = await api.post("/api/v1/devices", as_="farmer", json=body, headers=key("dev-1"))
    assert created.status_code == 201
    device = created.json()
    replay = await api.post(
        "/api/v1/devices",
        as_="farmer",
        json=body,
        headers={**key("dev-1"), "Accept-Language": "en"},
    )
    assert replay.status_code == 409
    problem = replay.json()
    assert problem["type"] == "urn:minori:problem:conflict"
    assert problem["object_id"] == device["id"]
    assert device["id"] in problem["detail"]

    rotated = await api.post(
        f"/api/v1/devices/{device['id']}/rotate-key", as_="farmer", headers=key("rot-1")
    )
    assert rotated.status_code == 200
    again = await api.post(
        f"/api/v1/devices/{device['id']}/rotate-key", as_="farmer", headers=key("rot-1")
    )
    assert again.status_code == 409
    assert again.json()["object_id"] == device["id"]

    rows = await stored_rows(settings)
    assert [r.created_object_id for r in rows] == [device["id"], device["id"]]
    for row in rows:
        stored = bytes(row.body)
        assert device["key"].encode() not in stored and rotated.json()["key"].encode() not in stored
        assert "key" not in msgspec.json.decode(stored)
    assert msgspec.json.decode(bytes(rows[0].body))["id"] == device["id"]


async def test_ingest_and_public_routes_ignore_the_header(
    api: Api, world: World, clock: FakeClock, settings: Settings
) -> None:
    device = (
        await api.post(
            "/api/v1/devices",
            as_="farmer",
            json={
                "kind": "hello.button",
                "name": "Gate",
                "organization_id": world.org_ids["farm"],
                "external_id": "gate",
            },
        )
    ).json()
    for reading_id in ("r-1", "r-2"):
        answer = await api.client.post(
            "/api/v1/ingest",
            headers={"Authorization": f"Device {device['key']}", **key("same-key")},
            json={"readings": [reading(clock, reading_id, metric="battery_v", value=3)]},
        )
        assert answer.status_code == 202
        assert answer.json()["accepted"] == 1
    for username in ("farmer", "fisher"):
        login = await api.client.post(
            "/api/v1/auth/token",
            json={"username": username, "password": PASSWORD},
            headers=key("login"),
        )
        assert login.status_code == 200 and REPLAYED not in login.headers
    assert await stored_rows(settings) == []


async def test_a_malformed_key_is_422(api: Api, world: World) -> None:
    for bad in ("x" * 201, "  "):
        response = await api.post(GREETINGS, as_="farmer", json=greeting(world), headers=key(bad))
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["parameter"] == "Idempotency-Key"
    assert await greeting_texts(api) == []


async def claim(
    settings: Settings, world: World, request: dict[str, Any], at: Any, **fields: Any
) -> None:
    """A claim as another process would have left it."""

    async def work() -> None:
        await IdempotentRequest.create(
            caller=f"user:{world.user_ids['farmer']}",
            method="POST",
            path=GREETINGS,
            key="elsewhere",
            request_hash=fingerprint("application/json", json.dumps(request).encode()),
            created_at=at,
            **{"status_code": 0, "content_type": "", "body": b"", **fields},
        )

    await run_in_database(settings, work)


async def test_a_duplicate_of_a_request_still_running_elsewhere_waits_then_answers_409(
    api: Api, world: World, clock: FakeClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "WAIT_S", 0.2)
    await claim(settings, world, greeting(world), clock.now())
    busy = await api.post(GREETINGS, as_="farmer", json=greeting(world), headers=key("elsewhere"))
    assert busy.status_code == 409
    assert busy.headers["retry-after"] == "1"
    assert await greeting_texts(api) == []


async def test_a_finished_answer_of_another_process_is_replayed(
    api: Api, world: World, clock: FakeClock, settings: Settings
) -> None:
    stored = b'{"id": "from-elsewhere"}'
    await claim(
        settings,
        world,
        greeting(world),
        clock.now(),
        status_code=201,
        content_type="application/json",
        body=stored,
    )
    replay = await api.post(GREETINGS, as_="farmer", json=greeting(world), headers=key("elsewhere"))
    assert (replay.status_code, replay.content, replay.headers[REPLAYED]) == (201, stored, "true")
    assert await greeting_texts(api) == []


async def test_a_claim_abandoned_by_a_dead_process_is_taken_over(
    api: Api, world: World, clock: FakeClock, settings: Settings
) -> None:
    await claim(settings, world, greeting(world), clock.now() - idempotency.LEASE)
    taken = await api.post(GREETINGS, as_="farmer", json=greeting(world), headers=key("elsewhere"))
    assert taken.status_code == 201 and REPLAYED not in taken.headers
    assert await greeting_texts(api) == ["こんにちは"]


async def test_racing_duplicates_through_uvicorn_create_each_record_once(
    app: Litestar, world: World
) -> None:
    with serve(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            login = await client.post(
                "/api/v1/auth/token", json={"username": "farmer", "password": PASSWORD}
            )
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}

            async def post(i: int) -> httpx.Response:
                return await client.post(
                    GREETINGS,
                    json=greeting(world, f"greeting {i}"),
                    headers={**auth, **key(f"race-{i}")},
                )

            answers = await asyncio.gather(*(post(i) for i in range(12) for _copy in range(3)))
            listed = await client.get(f"{GREETINGS}?limit=200", headers=auth)
    assert sorted(g["text"] for g in listed.json()["items"]) == sorted(
        f"greeting {i}" for i in range(12)
    )
    for i in range(12):
        copies = answers[3 * i : 3 * i + 3]
        assert [a.status_code for a in copies] == [201, 201, 201]
        assert len({a.content for a in copies}) == 1
        assert sum(REPLAYED not in a.headers for a in copies) == 1  # one ran, two replayed


async def test_a_photo_upload_replays_although_each_send_has_its_own_boundary(
    api: Api, world: World, settings: Settings
) -> None:
    photo = jpeg((40, 30))
    sent = [
        await api.post(
            f"{MOBILE}/media",
            as_="farmer",
            files={"file": ("a.jpg", photo, "image/jpeg")},
            data={"location": "35.0,139.0"},
            headers=key("photo-1"),
        )
        for _ in range(2)
    ]
    assert [s.status_code for s in sent] == [201, 201]
    assert sent[0].json() == sent[1].json() and sent[1].headers[REPLAYED] == "true"
    other = await api.post(
        f"{MOBILE}/media",
        as_="farmer",
        files={"file": ("a.jpg", jpeg((41, 30)), "image/jpeg")},
        data={"location": "35.0,139.0"},
        headers=key("photo-1"),
    )
    assert other.status_code == 422


async def test_the_openapi_document_offers_the_header_on_every_post_it_applies_to(
    api: Api,
) -> None:
    document = (await api.client.get("/schema/openapi.json")).json()
    with_header, without = set(), set()
    for path, item in document["paths"].items():
        if "post" not in item:
            continue
        names = {p["name"] for p in item["post"].get("parameters", [])}
        (with_header if "Idempotency-Key" in names else without).add(path)
        if "Idempotency-Key" in names:
            assert {"409", "422"} <= set(item["post"]["responses"])
    assert {GREETINGS, "/api/v1/devices", f"{MOBILE}/push-tokens", f"{MOBILE}/media"} <= with_header
    assert {"/api/v1/ingest", "/api/v1/auth/token", "/api/v1/auth/refresh"} <= without
