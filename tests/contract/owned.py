"""Objects the farm owns, one factory per path parameter, for the tenancy contract test.

Each factory creates an object of the farm (``farmer`` belongs to it; ``fisher`` does not)
and returns its id. Plugins add theirs in ``tests/plugins/<plugin>/owned.py`` with a dict
named ``OWNED`` of the same shape; the contract test gathers them all.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Any

from PIL import Image

from core.db import bound
from core.identity.access import Principal
from core.identity.models import Role
from tests.conftest import World
from tests.support import Api

Factory = Callable[[Api, World], Awaitable[str]]


async def farm_itself(api: Api, world: World) -> str:
    return world.org_ids["farm"]


async def greeting(api: Api, world: World) -> str:
    response = await api.post(
        "/api/v1/hello/greetings",
        as_="farmer",
        json={"organization_id": world.org_ids["farm"], "text": "the barn roof leaks"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def button(api: Api, world: World) -> str:
    response = await api.post(
        "/api/v1/devices",
        as_="farmer",
        json={
            "kind": "hello.button",
            "name": "barn button",
            "organization_id": world.org_ids["farm"],
            "external_id": "barn-button",
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def gateway(api: Api, world: World) -> str:
    response = await api.post(
        "/api/v1/gateways",
        as_="farmer",
        json={"name": "barn relay", "organization_id": world.org_ids["farm"]},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def alert(api: Api, world: World) -> str:
    response = await api.post(
        "/api/v1/alerts",
        as_="admin",
        json={"organization_id": world.org_ids["farm"], "severity": "info", "title": "barn"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def photo(api: Api, world: World) -> str:
    app = api.client.app
    media = app.state.services.media
    farmer = Principal(world.user_ids["farmer"], Role.MEMBER, frozenset({world.org_ids["farm"]}))
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "JPEG")

    async def work() -> str:
        with bound(app.state.db):
            uploaded = await media.upload(farmer, buffer.getvalue())
            await media.attach(uploaded.id, farmer, "test.photo", "1", world.org_ids["farm"])
            return uploaded.id

    return str(api.client.blocking_portal.call(work))


# path parameter -> (factory, valid bodies for writes by the route's last path segment;
# "" for the route that ends with the id itself)
OWNED: dict[str, tuple[Factory, dict[str, dict[str, Any]]]] = {
    "organization_id": (farm_itself, {"": {"name": "Renamed by a stranger"}}),
    "greeting_id": (greeting, {}),
    "device_id": (button, {}),
    "gateway_id": (gateway, {}),
    "alert_id": (
        alert,
        {"resolve": {"note": "Renamed by a stranger"}, "feedback": {"verdict": "confirmed"}},
    ),
    "media_id": (photo, {}),
}
