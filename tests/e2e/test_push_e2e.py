"""From a device's reading to the phone, through uvicorn on loopback, firebase-admin and a
local FCM server; over HTTP and over MQTT with the real Mosquitto."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import aiomqtt
import httpx
import pytest

from core.app import create_app
from core.clock import FakeClock
from core.settings import Settings
from tests.conftest import MQTT_URL, PASSWORD, World, sensor_settings
from tests.core.test_alerts_and_push import add_token
from tests.fcm_server import FCMServer, fcm_sender
from tests.support import serve


def served_app(settings: Settings, clock: FakeClock, overrides: dict[str, Any]) -> Iterator[str]:
    with fcm_sender() as sender:
        app = create_app(
            sensor_settings(settings.database_url, **overrides),
            clock=clock,
            run_jobs=False,
            push_sender=sender,
        )
        with serve(app) as base_url:
            yield base_url


@pytest.fixture
def served(settings: Settings, clock: FakeClock, world: World, fcm: FCMServer) -> Iterator[str]:
    yield from served_app(settings, clock, {})


@pytest.fixture
def served_mqtt(
    settings: Settings,
    clock: FakeClock,
    world: World,
    fcm: FCMServer,
    mqtt_overrides: dict[str, str],
) -> Iterator[str]:
    yield from served_app(settings, clock, mqtt_overrides)


async def setup_device(
    client: httpx.AsyncClient, world: World
) -> tuple[dict[str, Any], dict[str, str]]:
    token = await client.post(
        "/api/v1/auth/token", json={"username": "farmer", "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    device = await client.post(
        "/api/v1/devices",
        headers=headers,
        json={
            "kind": "sensors.probe",
            "name": "Barn door",
            "organization_id": world.org_ids["farm"],
            "external_id": "door",
        },
    )
    assert device.status_code == 201, device.text
    return device.json(), headers


def check_push(push: Any, alert: dict[str, Any], reading_id: str) -> None:
    assert push.message["token"] == "farmer-phone"
    assert push.message["notification"] == {
        "title": "Door of Barn door opened",
        "body": f"Reading {reading_id} says the door is open.",
    }
    assert push.message["data"]["alert_id"] == alert["id"]
    assert push.message["data"]["plugin"] == "sensors"


async def test_http_reading_to_push(
    served: str, world: World, clock: FakeClock, fcm: FCMServer, settings: Settings
) -> None:
    await add_token(settings, world, "farmer", "farmer-phone")
    async with httpx.AsyncClient(base_url=served, timeout=30) as client:
        device, headers = await setup_device(client, world)
        answer = await client.post(
            "/api/v1/ingest",
            headers={"Authorization": f"Device {device['key']}"},
            json={
                "readings": [
                    {"id": "h-1", "ts": clock.now().isoformat(), "metric": "door", "value": 1}
                ]
            },
        )
        assert answer.status_code == 202
        assert answer.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
        [push] = await asyncio.to_thread(fcm.wait_for, 1)
        [alert] = (await client.get("/api/v1/alerts", headers=headers)).json()["items"]
        check_push(push, alert, "h-1")


async def test_mqtt_reading_to_push(
    served_mqtt: str, world: World, clock: FakeClock, fcm: FCMServer, settings: Settings
) -> None:
    await add_token(settings, world, "farmer", "farmer-phone")
    async with httpx.AsyncClient(base_url=served_mqtt, timeout=30) as client:
        await wait_for_mqtt(client)
        device, headers = await setup_device(client, world)
        topic = f"minori/{world.org_ids['farm']}/{device['id']}/up"
        await publish(
            topic, {"id": "m-1", "ts": clock.now().isoformat(), "metric": "door", "value": 1}
        )
        [push] = await asyncio.to_thread(fcm.wait_for, 1)
        [alert] = (await client.get("/api/v1/alerts", headers=headers)).json()["items"]
        check_push(push, alert, "m-1")
        readings = (
            await client.get(f"/api/v1/devices/{device['id']}/readings", headers=headers)
        ).json()
        assert [(r["metric"], r["value"]) for r in readings["items"]] == [("door", 1.0)]


async def wait_for_mqtt(client: httpx.AsyncClient) -> None:
    for _ in range(200):
        ready = (await client.get("/health/ready")).json()
        if ready["checks"]["mqtt"] == "ok":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"MQTT consumer not connected: {ready}")


async def publish(topic: str, *payloads: Any) -> None:
    assert MQTT_URL
    host, port = MQTT_URL.removeprefix("mqtt://").split(":")
    async with aiomqtt.Client(
        host, int(port), identifier=f"test-device-{uuid.uuid4().hex[:8]}"
    ) as device:
        for payload in payloads:
            raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            await device.publish(topic, raw, qos=1)
