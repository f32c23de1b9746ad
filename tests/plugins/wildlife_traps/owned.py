"""Farm-owned wildlife trap objects for the tenancy contract test (tests/contract)."""

from __future__ import annotations

from typing import Any

from tests.conftest import World
from tests.contract.owned import Factory
from tests.plugins.wildlife_traps.support import BASE, create_trap
from tests.support import Api


async def trap(api: Api, world: World) -> str:
    return str((await create_trap(api, world, name="barn trap"))["id"])


async def inspection(api: Api, world: World) -> str:
    trap_id = await trap(api, world)
    response = await api.post(
        f"{BASE}/traps/{trap_id}/inspections", as_="farmer", json={"result": "ok", "note": "barn"}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def capture(api: Api, world: World) -> str:
    trap_id = await trap(api, world)
    response = await api.post(
        f"{BASE}/traps/{trap_id}/captures",
        as_="farmer",
        json={"species": "wild_boar", "sex": "female", "disposal": "processed", "note": "barn"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


OWNED: dict[str, tuple[Factory, dict[str, dict[str, Any]]]] = {
    "trap_id": (
        trap,
        {
            "": {"name": "Renamed by a stranger"},
            "reset": {"state": "disarmed", "note": "Renamed by a stranger"},
            "inspections": {"result": "ok", "note": "Renamed by a stranger"},
            "captures": {
                "species": "wild_boar",
                "sex": "male",
                "disposal": "culled_buried",
                "note": "Renamed by a stranger",
            },
        },
    ),
    "inspection_id": (inspection, {}),
    "capture_id": (capture, {}),
}
