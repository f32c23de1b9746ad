"""Farm-owned livestock objects for the tenancy contract test (tests/contract)."""

from __future__ import annotations

from typing import Any

from tests.conftest import World
from tests.contract.owned import Factory
from tests.support import Api

BASE = "/api/v1/livestock"


async def animal(api: Api, world: World) -> str:
    response = await api.post(
        f"{BASE}/animals",
        as_="farmer",
        json={"organization_id": world.org_ids["farm"], "ear_tag": "1234509876", "name": "barn"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def event(api: Api, world: World) -> str:
    animal_id = await animal(api, world)
    response = await api.post(
        f"{BASE}/animals/{animal_id}/events",
        as_="farmer",
        json={"kind": "heat", "at": "2026-11-25T06:00:00+09:00", "note": "barn"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


OWNED: dict[str, tuple[Factory, dict[str, dict[str, Any]]]] = {
    "animal_id": (
        animal,
        {
            "": {"name": "Renamed by a stranger"},
            "events": {"kind": "heat", "at": "2026-11-25T06:00:00+09:00", "note": "Renamed"},
        },
    ),
    "event_id": (event, {"": {"note": "Renamed by a stranger"}}),
}
