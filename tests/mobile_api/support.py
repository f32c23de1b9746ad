"""Helpers of the mobile facade's tests: what the app does, one call each."""

from __future__ import annotations

from typing import Any

from core.alerts.models import Notification
from core.settings import Settings
from tests.conftest import World, run_in_database
from tests.core.test_alerts_and_push import handled
from tests.support import Api

MOBILE = "/mobile/v1"
GREETINGS = "/api/v1/hello/greetings"


async def register_token(
    api: Api, username: str, token: str, kind: str = "fcm_token", **headers: str
) -> Any:
    response = await api.post(
        f"{MOBILE}/push-tokens",
        as_=username,
        json={"token": token, "kind": kind, "platform": "android", "app_version": "1.4.0"},
        headers=headers,
    )
    assert response.status_code in (200, 201), response.text
    return response


async def announce(
    api: Api, world: World, severity: str, title: str, org: str = "farm", body: str = ""
) -> dict[str, Any]:
    """An advisor's announcement: a manual alert, notified to the organization's members."""
    response = await api.post(
        "/api/v1/alerts",
        as_="admin",
        json={
            "organization_id": world.org_ids[org],
            "severity": severity,
            "title": title,
            "body": body,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def greet(api: Api, username: str, world: World, text: str, org: str = "farm") -> Any:
    response = await api.post(
        GREETINGS, as_=username, json={"organization_id": world.org_ids[org], "text": text}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def press_button(api: Api, world: World, clock: Any, name: str = "Gate") -> dict[str, Any]:
    """A hello.button of the farm, pressed once: an info alert for the farm's members."""
    device = await api.post(
        "/api/v1/devices",
        as_="farmer",
        json={
            "kind": "hello.button",
            "name": name,
            "organization_id": world.org_ids["farm"],
            "external_id": f"button-{name}",
        },
    )
    assert device.status_code == 201, device.text
    answer = await api.client.post(
        "/api/v1/ingest",
        headers={"Authorization": f"Device {device.json()['key']}"},
        json={
            "readings": [
                {"id": "p-1", "ts": clock.now().isoformat(), "metric": "pressed", "value": 1}
            ]
        },
    )
    assert answer.json()["accepted"] == 1, answer.text
    await handled(api)
    return device.json()  # type: ignore[no-any-return]


async def notifications_of(settings: Settings, user_id: str) -> list[Notification]:
    async def work() -> list[Notification]:
        return await Notification.filter(user_id=user_id).order_by("created_at")

    return await run_in_database(settings, work)
