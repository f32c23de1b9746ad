"""The mobile facade's objects for the tenancy contract test (tests/contract/test_tenancy.py):
one factory per path parameter, as in tests/contract/owned.py."""

from __future__ import annotations

from typing import Any

from tests.conftest import World
from tests.contract.owned import Factory, alert
from tests.support import Api

PUSH_TOKEN = {"kind": "fcm_token", "platform": "android", "app_version": "1.0.0"}


async def inbox_item(api: Api, world: World) -> str:
    """A notification of the farmer's: an announcement to the farm."""
    await alert(api, world)
    items = (await api.get("/mobile/v1/inbox", as_="farmer")).json()["items"]
    return str(items[0]["id"])


async def push_token(api: Api, world: World) -> str:
    response = await api.post(
        "/mobile/v1/push-tokens", as_="farmer", json={"token": "farmer-phone", **PUSH_TOKEN}
    )
    assert response.status_code == 201, response.text
    return "farmer-phone"


async def still_the_farmers(api: Api, world: World, token: str) -> bool:
    """Registering it again says "already yours" (200) only if nobody removed it."""
    again = await api.post(
        "/mobile/v1/push-tokens", as_="farmer", json={"token": token, **PUSH_TOKEN}
    )
    return again.status_code == 200


OWNED: dict[str, tuple[Factory, dict[str, dict[str, Any]]]] = {
    "notification_id": (inbox_item, {}),
    "token": (push_token, {}),
}

NO_CONTENT_FOR_ANYONE = {("DELETE", "/mobile/v1/push-tokens/{token:str}"): still_the_farmers}
"""Routes that answer 204 to every caller and every id, known or not, by contract (API.md):
nothing can be probed through them. A stranger's call must leave the owner's object alone."""
