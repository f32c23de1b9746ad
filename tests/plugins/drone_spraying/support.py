"""Builders for the drone spraying tests: a catalogue, a field with a known polygon, a
season, a drone and a pilot, and spray bodies, all made through the API."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.conftest import World
from tests.support import Api

BASE = "/api/v1/drone_spraying"
JST = ZoneInfo("Asia/Tokyo")
RICE = "水稲"

# WGS84, and the radii of curvature at the test latitude: metres east/north -> degrees,
# independent of the plugin's own geometry code.
_A, _F = 6378137.0, 1 / 298.257223563
_E2 = _F * (2 - _F)
LAT0, LON0 = 33.18, 129.72
_PHI = math.radians(LAT0)
_M = _A * (1 - _E2) / (1 - _E2 * math.sin(_PHI) ** 2) ** 1.5
_N = _A / math.sqrt(1 - _E2 * math.sin(_PHI) ** 2)


def lonlat(east: float, north: float) -> list[float]:
    return [LON0 + math.degrees(east / (_N * math.cos(_PHI))), LAT0 + math.degrees(north / _M)]


def rectangle(width: float, height: float) -> dict[str, Any]:
    """A field ``width`` m east-west by ``height`` m north-south, south-west corner at the
    origin: its true area is width x height."""
    ring = [lonlat(0, 0), lonlat(width, 0), lonlat(width, height), lonlat(0, height), lonlat(0, 0)]
    return {"type": "Polygon", "coordinates": [ring]}


async def created(api: Api, path: str, body: dict[str, Any], as_: str = "farmer") -> dict[str, Any]:
    response = await api.post(f"{BASE}{path}", as_, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def pesticide(
    api: Api,
    name: str,
    registration: str,
    ingredients: list[str],
    labels: list[dict[str, Any]],
    unit: str = "L",
) -> dict[str, Any]:
    return await created(
        api,
        "/pesticides",
        {
            "registration_number": registration,
            "name": name,
            "active_ingredients": ingredients,
            "formulation": "フロアブル",
            "kind": "殺虫剤",
            "amount_unit": unit,
            "labels": labels,
        },
        as_="admin",
    )


def rice_label(**overrides: Any) -> dict[str, Any]:
    label = {
        "crop": RICE,
        "max_amount_per_10a": 0.1,
        "min_dilution": 8,
        "phi_days": 7,
        "max_uses": 3,
        "ingredient_max_uses": {},
        "target": "ウンカ類",
    }
    label.update(overrides)
    return label


@dataclass
class Farm:
    """One farm ready to spray: a 100 m x 100 m (10,000 m² = 100 a) rice field, its season
    planted in June with the harvest planned on 2026-12-20, a drone inspected recently, a
    pilot with a licence valid for a year, and a passed pre-flight check today."""

    org_id: str
    field: dict[str, Any]
    season: dict[str, Any]
    drone: dict[str, Any]
    operator: dict[str, Any]


async def farm(api: Api, world: World, *, harvest: date = date(2026, 12, 20)) -> Farm:
    org_id = world.org_ids["farm"]
    field = await created(
        api,
        "/fields",
        {
            "organization_id": org_id,
            "name": "北の田",
            "crop": RICE,
            "boundary": rectangle(100, 100),
        },
    )
    season = await created(
        api,
        "/seasons",
        {
            "field_id": field["id"],
            "planting_date": "2026-06-10",
            "planned_harvest_date": harvest.isoformat(),
        },
    )
    drone = await created(
        api,
        "/drones",
        {
            "organization_id": org_id,
            "registration_number": "JU0000000001",
            "model": "AGRAS T30",
            "last_inspection": "2026-10-01",
        },
    )
    operator = await created(
        api,
        "/operators",
        {
            "organization_id": org_id,
            "name": "早岐 誠",
            "licence_number": "2-SB-000123",
            "licence_expires": "2027-11-30",
            "phone": "0956-00-1234",
        },
    )
    await created(
        api,
        "/preflight-checks",
        {"drone_id": drone["id"], "operator_id": operator["id"], "items": {"propellers": True}},
    )
    return Farm(org_id, field, season, drone, operator)


def spray(
    farm: Farm,
    products: list[dict[str, Any]],
    *,
    start: datetime | None = None,
    status: str = "done",
    **overrides: Any,
) -> dict[str, Any]:
    """A spraying of the whole field (10,000 m²), 06:00-06:30 in Japan on 2026-11-26 by
    default (the test clock's day), wind 1.5 m/s."""
    start = start or datetime(2026, 11, 26, 6, 0, tzinfo=JST)
    body = {
        "season_id": farm.season["id"],
        "status": status,
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=30)).isoformat(),
        "products": products,
        "drone_id": farm.drone["id"],
        "operator_id": farm.operator["id"],
        "purpose": "ウンカ類防除",
        "wind_speed_ms": 1.5,
        "temperature_c": 18.0,
    }
    body.update(overrides)
    return body


def line(product: dict[str, Any], dilution: float = 8, amount: float = 0.9) -> dict[str, Any]:
    """0.9 L of product on 100 a: 0.09 L per 10 a, under the usual 0.1 maximum."""
    return {"pesticide_id": product["id"], "dilution": dilution, "amount": amount}


def codes(verdict: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in verdict["reasons"]]
