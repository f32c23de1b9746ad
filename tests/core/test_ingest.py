"""The ingest path over HTTP: authentication, per-item judgement, idempotency, limits."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from core.clock import FakeClock
from tests.conftest import World
from tests.support import Api


async def register(
    api: Api,
    world: World,
    org: str = "farm",
    external_id: str = "p1",
    kind: str = "sensors.probe",
    as_: str = "admin",
) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/devices",
        as_=as_,
        json={
            "kind": kind,
            "name": f"Probe {external_id}",
            "organization_id": world.org_ids[org],
            "external_id": external_id,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def reading(
    clock: FakeClock, message_id: str, metric: str = "temperature", value: Any = 21.5, **extra: Any
) -> dict[str, Any]:
    return {
        "id": message_id,
        "ts": clock.now().isoformat(),
        "metric": metric,
        "value": value,
        **extra,
    }


async def ingest(api: Api, key: str, readings: list[Any], scheme: str = "Device") -> Any:
    return await api.client.post(
        "/api/v1/ingest", json={"readings": readings}, headers={"Authorization": f"{scheme} {key}"}
    )


async def stored(api: Api, device_id: str) -> list[dict[str, Any]]:
    response = await api.get(f"/api/v1/devices/{device_id}/readings?limit=10000", as_="admin")
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_device_is_registered_with_a_key_shown_once(push_api: Api, world: World) -> None:
    device = await register(push_api, world)
    assert len(device["key"]) >= 43
    assert device["status"] == "never_seen"
    assert device["expected_interval_s"] == 300
    again = await push_api.get(f"/api/v1/devices/{device['id']}", as_="farmer")
    assert again.status_code == 200
    assert "key" not in again.json()
    listed = await push_api.get("/api/v1/devices", as_="farmer")
    assert [d["id"] for d in listed.json()["items"]] == [device["id"]]
    assert "key" not in listed.text
    duplicate = await push_api.post(
        "/api/v1/devices",
        as_="admin",
        json={
            "kind": "sensors.probe",
            "name": "x",
            "organization_id": world.org_ids["farm"],
            "external_id": "p1",
        },
    )
    assert duplicate.status_code == 409


async def test_device_kind_and_organization_are_checked(push_api: Api, world: World) -> None:
    body = {
        "kind": "sensors.rocket",
        "name": "x",
        "organization_id": world.org_ids["farm"],
        "external_id": "r",
    }
    unknown = await push_api.post("/api/v1/devices", as_="farmer", json=body)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "/kind"
    foreign = await push_api.post(
        "/api/v1/devices",
        as_="farmer",
        json={**body, "kind": "sensors.probe", "organization_id": world.org_ids["fishery"]},
    )
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["pointer"] == "/organization_id"
    advisor = await push_api.post(
        "/api/v1/devices", as_="advisor", json={**body, "kind": "sensors.probe"}
    )
    assert advisor.status_code == 403


async def test_the_same_batch_three_times_stores_each_reading_once(
    push_api: Api, world: World, clock: FakeClock
) -> None:
    device = await register(push_api, world)
    batch = [reading(clock, f"m-{i}", value=20 + i / 10) for i in range(25)]
    answers = [(await ingest(push_api, device["key"], batch)) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert answers[0].json() == {"accepted": 25, "duplicates": 0, "rejected": []}
    assert (
        answers[1].json() == answers[2].json() == {"accepted": 0, "duplicates": 25, "rejected": []}
    )
    rows = await stored(push_api, device["id"])
    assert len(rows) == 25
    assert sorted(r["value"] for r in rows) == sorted(r["value"] for r in batch)


async def test_overlapping_batches_sent_at_once_count_each_reading_once(
    push_api: Api, world: World, clock: FakeClock
) -> None:
    """Requests in flight together may share one commit: a reading two of them carry is
    accepted for one and a duplicate for the other, and stored once."""
    device = await register(push_api, world)
    await ingest(push_api, device["key"], [reading(clock, "m-0", value=-1)])
    batches = [
        [reading(clock, f"m-{i}", value=i) for i in range(start, start + 20)]
        for start in (0, 10, 10, 15)
    ]
    answers = await asyncio.gather(*(ingest(push_api, device["key"], b) for b in batches))
    assert [a.status_code for a in answers] == [202] * 4
    bodies = [a.json() for a in answers]
    assert sum(b["accepted"] for b in bodies) == 34  # m-1 to m-34; m-0 was stored before
    assert sum(b["duplicates"] for b in bodies) == 80 - 34
    assert all(b["accepted"] + b["duplicates"] == 20 for b in bodies)
    values = sorted(r["value"] for r in await stored(push_api, device["id"]))
    assert values == [-1.0] + [float(i) for i in range(1, 35)]


async def test_a_repeated_id_within_a_batch_is_a_duplicate(
    push_api: Api, world: World, clock: FakeClock
) -> None:
    device = await register(push_api, world)
    answer = await ingest(
        push_api, device["key"], [reading(clock, "a", value=1), reading(clock, "a", value=2)]
    )
    assert answer.json() == {"accepted": 1, "duplicates": 1, "rejected": []}
    assert [r["value"] for r in await stored(push_api, device["id"])] == [1.0]


async def test_bad_items_are_named_and_good_ones_stored(
    push_api: Api, world: World, clock: FakeClock
) -> None:
    device = await register(push_api, world)
    other = await register(push_api, world, external_id="p2")
    now = clock.now()
    batch: list[Any] = [
        reading(clock, "ok-1"),
        {"ts": now.isoformat(), "metric": "temperature", "value": 1},
        reading(clock, "x" * 65),
        {
            "id": "no-offset",
            "ts": now.replace(tzinfo=None).isoformat(),
            "metric": "temperature",
            "value": 1,
        },
        {
            "id": "future",
            "ts": (now + timedelta(minutes=6)).isoformat(),
            "metric": "temperature",
            "value": 1,
        },
        reading(clock, "unknown-metric", metric="humidity"),
        reading(clock, "text-value", value="hot"),
        reading(clock, "too-hot", value=85.5),
        reading(clock, "other-device", device=other["id"]),
        "not an object",
        reading(clock, "door-bool", metric="door", value=True),
        reading(clock, "ok-2", value=-40),
        {"id": "no-ts", "metric": "temperature", "value": 1},
        {
            "id": "soon",
            "ts": (now + timedelta(minutes=4)).isoformat(),
            "metric": "temperature",
            "value": 1,
        },
    ]
    answer = await ingest(push_api, device["key"], batch)
    assert answer.status_code == 202
    body = answer.json()
    assert body["accepted"] == 4 and body["duplicates"] == 0
    reasons = {r["index"]: r["detail"] for r in body["rejected"]}
    assert set(reasons) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 12}
    assert reasons[1] == "id is missing"
    assert "64" in reasons[2]
    assert "offset" in reasons[3]
    assert "future" in reasons[4]
    assert "temperature" in reasons[5] and "door" in reasons[5]
    assert reasons[6] == "value is not a number"
    assert "85.5" in reasons[7]
    assert reasons[8] == "device not allowed"
    assert reasons[9] == "not a JSON object"
    assert reasons[12] == "ts is missing"
    rows = await stored(push_api, device["id"])
    assert sorted((r["metric"], r["value"]) for r in rows) == [
        ("door", 1.0),
        ("temperature", -40.0),
        ("temperature", 1.0),
        ("temperature", 21.5),
    ]


async def test_gateways_post_for_their_organizations_devices_only(
    push_api: Api, world: World, clock: FakeClock
) -> None:
    mine = await register(push_api, world, external_id="g-dev")
    theirs = await register(push_api, world, org="fishery", external_id="f-dev")
    gateway = await push_api.post(
        "/api/v1/gateways",
        as_="farmer",
        json={"name": "Barn relay", "organization_id": world.org_ids["farm"]},
    )
    assert gateway.status_code == 201
    key = gateway.json()["key"]
    answer = await ingest(
        push_api,
        key,
        [
            reading(clock, "g1", device=mine["id"]),
            reading(clock, "g2", device=theirs["id"]),
            reading(clock, "g3", device="00000000-0000-4000-8000-000000000000"),
            reading(clock, "g4"),
        ],
    )
    body = answer.json()
    assert body["accepted"] == 1
    assert [(r["index"], r["detail"]) for r in body["rejected"]] == [
        (1, "device not allowed"),
        (2, "device not allowed"),
        (3, "device not allowed"),
    ]
    listed = await push_api.get("/api/v1/gateways", as_="farmer")
    assert listed.json()["items"][0]["last_seen"] is not None
    assert "key" not in listed.text


async def test_keys_rotate_and_revoke_at_once(
    push_api: Api, world: World, clock: FakeClock
) -> None:
    device = await register(push_api, world)
    assert (await ingest(push_api, device["key"], [reading(clock, "before")])).status_code == 202
    rotated = await push_api.post(f"/api/v1/devices/{device['id']}/rotate-key", as_="farmer")
    assert rotated.status_code == 200
    new_key = rotated.json()["key"]
    old = await ingest(push_api, device["key"], [reading(clock, "old-key")])
    assert old.status_code == 401
    assert old.headers["content-type"].startswith("application/problem+json")
    assert (await ingest(push_api, new_key, [reading(clock, "new-key")])).json()["accepted"] == 1

    assert (
        await push_api.delete(f"/api/v1/devices/{device['id']}", as_="farmer")
    ).status_code == 204
    assert (await ingest(push_api, new_key, [reading(clock, "revoked")])).status_code == 401
    listed = (await push_api.get("/api/v1/devices?status=revoked", as_="farmer")).json()["items"]
    assert [d["id"] for d in listed] == [device["id"]]
    assert len(await stored(push_api, device["id"])) == 2


async def test_no_or_unknown_key_is_401_before_the_body_is_read(push_api: Api) -> None:
    for headers in ({}, {"Authorization": "Device nope"}, {"Authorization": "Bearer nope"}):
        response = await push_api.client.post(
            "/api/v1/ingest",
            content=b"{not json",
            headers={**headers, "content-type": "application/json"},
        )
        assert response.status_code == 401, headers


async def test_envelope_limits(push_api: Api, world: World, clock: FakeClock) -> None:
    device = await register(push_api, world)
    headers = {"Authorization": f"Device {device['key']}"}
    empty = await push_api.client.post("/api/v1/ingest", json={"readings": []}, headers=headers)
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["pointer"] == "/readings"
    too_many = await push_api.client.post(
        "/api/v1/ingest",
        json={"readings": [reading(clock, str(i)) for i in range(1001)]},
        headers=headers,
    )
    assert too_many.status_code == 422
    not_object = await push_api.client.post(
        "/api/v1/ingest", json=[reading(clock, "1")], headers=headers
    )
    assert not_object.status_code == 422
    malformed = await push_api.client.post(
        "/api/v1/ingest",
        content=b'{"readings": [',
        headers={**headers, "content-type": "application/json"},
    )
    assert malformed.status_code == 400
    huge = json.dumps({"readings": [reading(clock, "1", pad="x" * (1024 * 1024))]})
    too_big = await push_api.client.post(
        "/api/v1/ingest",
        content=huge.encode(),
        headers={**headers, "content-type": "application/json"},
    )
    assert too_big.status_code == 413
    assert await stored(push_api, device["id"]) == []


async def test_readings_are_paged_in_time_order_with_from_and_to(
    push_api: Api, world: World, clock: FakeClock
) -> None:
    device = await register(push_api, world)
    start = clock.now() - timedelta(hours=3)
    batch = [
        {
            "id": f"h{i}",
            "ts": (start + timedelta(minutes=10 * i)).isoformat(),
            "metric": "temperature",
            "value": i,
        }
        for i in range(12)
    ]
    await ingest(push_api, device["key"], list(reversed(batch)))
    since, until = start + timedelta(minutes=20), start + timedelta(minutes=90)
    window = f"from={since.isoformat()}&to={until.isoformat()}".replace("+", "%2B")
    first = (
        await push_api.get(
            f"/api/v1/devices/{device['id']}/readings?{window}&limit=4", as_="farmer"
        )
    ).json()
    assert [r["value"] for r in first["items"]] == [2, 3, 4, 5]
    second = (
        await push_api.get(
            f"/api/v1/devices/{device['id']}/readings?{window}&limit=4&cursor={first['next_cursor']}",
            as_="farmer",
        )
    ).json()
    assert [r["value"] for r in second["items"]] == [6, 7, 8]
    assert second["next_cursor"] is None
    assert (
        await push_api.get(f"/api/v1/devices/{device['id']}/readings?limit=10001", as_="farmer")
    ).status_code == 422
    stranger = await push_api.get(f"/api/v1/devices/{device['id']}/readings", as_="fisher")
    assert stranger.status_code == 404


async def test_device_status_follows_reports(push_api: Api, world: World, clock: FakeClock) -> None:
    device = await register(push_api, world)
    await ingest(push_api, device["key"], [reading(clock, "b", battery=3.1)])
    seen = (await push_api.get(f"/api/v1/devices/{device['id']}", as_="farmer")).json()
    assert seen["status"] == "online" and seen["battery"] == 3.1
    clock.advance(timedelta(minutes=11))
    assert (await push_api.get(f"/api/v1/devices/{device['id']}", as_="farmer")).json()[
        "status"
    ] == "offline"
    offline = (await push_api.get("/api/v1/devices?status=offline", as_="farmer")).json()["items"]
    assert [d["id"] for d in offline] == [device["id"]]
