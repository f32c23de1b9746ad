"""Helpers for the wildlife trap tests: traps, sensors, readings, jobs and inboxes."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import jwt
from litestar.testing import AsyncTestClient
from PIL import Image

from core.app import create_app
from core.clock import FakeClock
from core.identity.models import Organization, Role, User
from core.settings import PluginEntry, Settings, load_plugins_file
from tests.conftest import PASSWORD, ROOT, World, base_settings, run_in_database
from tests.support import Api

BASE = "/api/v1/wildlife_traps"
SENSOR = "wildlife_traps.sensor"


def trap_body(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organization_id": world.org_ids["farm"],
        "name": "Trap 1",
        "kind": "box",
        "latitude": 33.2031,
        "longitude": 129.7302,
        "permit_number": "R8-001",
        "permit_valid_from": "2026-04-01",
        "permit_valid_until": "2027-03-31",
    }
    body.update(overrides)
    return body


async def create_trap(
    api: Api, world: World, as_: str = "farmer", **overrides: Any
) -> dict[str, Any]:
    response = await api.post(f"{BASE}/traps", as_=as_, json=trap_body(world, **overrides))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def add_sensor(
    api: Api, world: World, trap_id: str, external_id: str = "s1", as_: str = "farmer"
) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/devices",
        as_=as_,
        json={
            "kind": SENSOR,
            "name": f"Sensor {external_id}",
            "organization_id": world.org_ids["farm"],
            "external_id": external_id,
            "subject": {"kind": "wildlife_traps.trap", "id": trap_id},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def reading(at: datetime, metric: str, value: float, tag: str = "") -> dict[str, Any]:
    return {
        "id": f"{metric}-{at.isoformat()}{tag}",
        "ts": at.isoformat(),
        "metric": metric,
        "value": value,
    }


def fresh(api: Api, username: str) -> None:
    """Log in again only if the app clock moved past the token's expiry (logins cost an
    argon2 hash each)."""
    token = api._tokens.get(username)
    if token is None:
        return
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    if claims["exp"] <= api.client.app.state.clock.now().timestamp() + 1:
        api.forget(username)


async def send(api: Api, key: str, readings: list[dict[str, Any]]) -> dict[str, Any]:
    """Post readings (in batches of 1000) and wait until the plugin has handled them."""
    answer: dict[str, Any] = {"accepted": 0}
    for start in range(0, len(readings), 1000):
        response = await api.client.post(
            "/api/v1/ingest",
            json={"readings": readings[start : start + 1000]},
            headers={"Authorization": f"Device {key}"},
        )
        assert response.status_code == 202, response.text
        assert response.json()["rejected"] == [], response.text
        answer["accepted"] += response.json()["accepted"]
    await handled(api)
    return answer


async def handled(api: Api) -> None:
    handlers = api.client.app.state.telemetry.ingestor.handlers
    await asyncio.to_thread(api.client.blocking_portal.call, handlers.join)


async def run_job(api: Api, job_id: str) -> dict[str, Any]:
    fresh(api, "admin")  # the clock may have moved past the token's 15 minutes
    response = await api.post(f"/api/v1/jobs/{job_id}/run", as_="admin")
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "succeeded", response.json()
    return response.json()  # type: ignore[no-any-return]


async def alerts(api: Api, as_: str = "farmer", **params: str) -> list[dict[str, Any]]:
    fresh(api, as_)
    query = "&".join(f"{k}={v}" for k, v in {"plugin": "wildlife_traps", **params}.items())
    response = await api.get(f"/api/v1/alerts?{query}", as_=as_)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def inbox(api: Api, username: str) -> list[dict[str, Any]]:
    fresh(api, username)
    response = await api.get("/mobile/v1/inbox?limit=200", as_=username)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def timeline(api: Api, trap_id: str) -> list[dict[str, Any]]:
    fresh(api, "farmer")
    response = await api.get(f"{BASE}/traps/{trap_id}/timeline?limit=200", as_="farmer")
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def add_members(settings: Settings, world: World, *usernames: str) -> None:
    """More members of the farm (backup responders), with the test password."""

    async def work() -> None:
        farm = await Organization.get(id=world.org_ids["farm"])
        # The world's users share the test password: reuse its hash (argon2 costs ~0.2 s).
        password_hash = (await User.get(username="farmer")).password_hash
        for username in usernames:
            user = await User.create(
                username=username,
                password_hash=password_hash,
                role=Role.MEMBER,
                display_name=username,
            )
            await user.organizations.add(farm)
            world.user_ids[username] = str(user.id)

    await run_in_database(settings, work)


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 80, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


async def upload_photo(api: Api, as_: str = "farmer") -> str:
    response = await api.post(
        "/mobile/v1/media", as_=as_, files={"file": ("boar.jpg", jpeg(), "image/jpeg")}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def trap_settings(database_url: str, **values: Any) -> Settings:
    """The repository's plugins with these wildlife trap settings."""
    plugins = dict(load_plugins_file(ROOT / "plugins.toml"))
    entry = plugins["wildlife_traps"]
    plugins["wildlife_traps"] = PluginEntry(
        module=entry.module, settings={**entry.settings, **values.pop("plugin", {})}
    )
    return base_settings(database_url, plugins=plugins, **values)


@asynccontextmanager
async def tuned_api(settings: Settings, clock: FakeClock, **values: Any) -> AsyncIterator[Api]:
    """An app (and client) on the test database with other plugin or core settings."""
    app = create_app(trap_settings(settings.database_url, **values), clock=clock, run_jobs=False)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield Api(client, PASSWORD)


def hours(start: datetime, count: int, step: timedelta = timedelta(hours=1)) -> list[datetime]:
    return [start + step * i for i in range(count)]
