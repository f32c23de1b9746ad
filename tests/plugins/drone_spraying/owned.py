"""Objects of the farm for the tenancy contract test (tests/contract/test_tenancy.py)."""

from __future__ import annotations

from typing import Any

from tests.conftest import World
from tests.contract.owned import Factory
from tests.plugins.drone_spraying.support import (
    created,
    farm,
    line,
    pesticide,
    rice_label,
    spray,
)
from tests.support import Api


async def field(api: Api, world: World) -> str:
    return str((await farm(api, world)).field["id"])


async def season(api: Api, world: World) -> str:
    return str((await farm(api, world)).season["id"])


async def drone(api: Api, world: World) -> str:
    return str((await farm(api, world)).drone["id"])


async def operator(api: Api, world: World) -> str:
    return str((await farm(api, world)).operator["id"])


async def spray_record(api: Api, world: World) -> str:
    f = await farm(api, world)
    product = await pesticide(api, "Rice Guard", "第1号", ["ジノテフラン"], [rice_label()])
    return str((await created(api, "/spray-records", spray(f, [line(product)])))["id"])


async def flight_log(api: Api, world: World) -> str:
    f = await farm(api, world)
    body = {
        "drone_id": f.drone["id"],
        "operator_id": f.operator["id"],
        "purpose": "barn",
        "takeoff_place": "barn",
        "takeoff_at": "2026-11-26T06:00:00+09:00",
        "landing_place": "barn",
        "landing_at": "2026-11-26T06:20:00+09:00",
    }
    return str((await created(api, "/flight-logs", body))["id"])


async def preflight_check(api: Api, world: World) -> str:
    f = await farm(api, world)
    body = {"drone_id": f.drone["id"], "items": {"barn": True}}
    return str((await created(api, "/preflight-checks", body))["id"])


TRACK = {
    "format": "csv",
    "swath_width_m": 5,
    "csv": "time,lat,lon,altitude,flow\n0,33.18,129.72,3,1\n10,33.1801,129.72,3,0\n",
}

OWNED: dict[str, tuple[Factory, dict[str, dict[str, Any]]]] = {
    "field_id": (field, {"": {"name": "Renamed by a stranger"}}),
    "season_id": (season, {"": {"name": "Renamed by a stranger"}}),
    "drone_id": (drone, {"": {"model": "Renamed by a stranger"}}),
    "operator_id": (operator, {"": {"name": "Renamed by a stranger"}}),
    "spray_record_id": (
        spray_record,
        {
            "corrections": {"reason": "Renamed by a stranger", "notes": "Renamed"},
            "void": {"reason": "Renamed by a stranger"},
            "track": TRACK,
        },
    ),
    "flight_log_id": (flight_log, {}),
    "preflight_check_id": (preflight_check, {}),
}
