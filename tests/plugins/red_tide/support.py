"""Helpers of the red tide tests: a small sea, fisheries with farms and cages, counts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from core.app import create_app
from core.clock import FakeClock
from core.settings import PluginEntry, Settings, load_plugins_file
from tests.conftest import PASSWORD, ROOT, World, base_settings
from tests.support import Api

BASE = "/api/v1/red_tide"
KUJUKU = [[[129.55, 33.12], [129.71, 33.12], [129.71, 33.26], [129.55, 33.26], [129.55, 33.12]]]
SASEBO = [[[129.68, 33.05], [129.80, 33.05], [129.80, 33.12], [129.68, 33.12], [129.68, 33.05]]]


@dataclass
class Sea:
    areas: dict[str, str] = field(default_factory=dict)
    stations: dict[str, str] = field(default_factory=dict)
    farms: dict[str, str] = field(default_factory=dict)
    cages: dict[str, str] = field(default_factory=dict)
    orgs: dict[str, str] = field(default_factory=dict)


async def created(api: Api, path: str, as_: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(f"{BASE}{path}", as_, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def build_sea(api: Api) -> Sea:
    """Two areas: Kujukushima (stations KJ-1, KJ-2) and Sasebo Bay (SB-1)."""
    sea = Sea()
    for name, polygon in (("Kujukushima", KUJUKU), ("Sasebo Bay", SASEBO)):
        sea.areas[name] = (
            await created(api, "/areas", "admin", {"name": name, "polygon": polygon})
        )["id"]
    for code, area, lat, lon in (
        ("KJ-1", "Kujukushima", 33.165, 129.675),
        ("KJ-2", "Kujukushima", 33.175, 129.655),
        ("SB-1", "Sasebo Bay", 33.090, 129.725),
    ):
        body = {
            "area_id": sea.areas[area],
            "code": code,
            "name": f"Station {code}",
            "latitude": lat,
            "longitude": lon,
        }
        sea.stations[code] = (await created(api, "/stations", "advisor", body))["id"]
    return sea


async def add_fishery(api: Api, world: World, name: str, username: str, locale: str = "ja") -> str:
    """Another fishery organization with one member (``username``)."""
    org = await api.post(
        "/api/v1/organizations",
        "admin",
        json={"name": name, "kind": "fishery", "region": "Sasebo", "share_with_advisors": True},
    )
    assert org.status_code == 201, org.text
    user = await api.post(
        "/api/v1/users",
        "admin",
        json={
            "username": username,
            "password": PASSWORD,
            "display_name": username,
            "role": "member",
            "organization_id": org.json()["id"],
            "locale": locale,
        },
    )
    assert user.status_code == 201, user.text
    world.user_ids[username] = user.json()["id"]
    world.org_ids[name] = org.json()["id"]
    return str(org.json()["id"])


async def add_farm(
    api: Api,
    sea: Sea,
    as_: str,
    org_id: str,
    name: str,
    area: str,
    cages: tuple[str, ...] = (),
    position: tuple[float, float] | None = None,
) -> str:
    body: dict[str, Any] = {"organization_id": org_id, "area_id": sea.areas[area], "name": name}
    if position:
        body["latitude"], body["longitude"] = position
    farm = (await created(api, "/farms", as_, body))["id"]
    sea.farms[name] = farm
    for cage in cages:
        body = {"farm_id": farm, "name": cage, "species": "yellowtail"}
        sea.cages[cage] = (await created(api, "/cages", as_, body))["id"]
    return str(farm)


async def count(
    api: Api,
    sea: Sea,
    station: str,
    cells: float,
    at: datetime,
    species: str = "karenia_mikimotoi",
    depth: float = 2.5,
) -> dict[str, Any]:
    body = {
        "station_id": sea.stations[station],
        "sampled_at": at.isoformat(),
        "depth_m": depth,
        "counts": {species: cells},
    }
    return await created(api, "/samples", "advisor", body)


async def area(api: Api, sea: Sea, name: str) -> dict[str, Any]:
    items = (await api.get(f"{BASE}/areas?limit=200", "fisher")).json()["items"]
    return next(a for a in items if a["id"] == sea.areas[name])


async def alerts(api: Api, user: str, query: str = "") -> list[dict[str, Any]]:
    response = await api.get(f"/api/v1/alerts?plugin=red_tide&limit=200{query}", user)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def settings_with(database_url: str, **values: Any) -> Settings:
    """The repository's plugins with red_tide's settings replaced."""
    entries = dict(load_plugins_file(ROOT / "plugins.toml"))
    entries["red_tide"] = PluginEntry(module="plugins.red_tide:plugin", settings=values)
    return base_settings(database_url, plugins=entries)


class TunedApp:
    """An app with other red_tide settings on the test database, as ``async with``."""

    def __init__(self, database_url: str, clock: FakeClock, **values: Any) -> None:
        self.app: Litestar = create_app(
            settings_with(database_url, **values), clock=clock, run_jobs=False
        )
        self._client: AsyncTestClient[Litestar] | None = None

    async def __aenter__(self) -> Api:
        self._client = AsyncTestClient(app=self.app, raise_server_exceptions=False)
        await self._client.__aenter__()
        return Api(self._client, PASSWORD)

    async def __aexit__(self, *exc: object) -> None:
        assert self._client is not None
        await self._client.__aexit__(*exc)


async def drained(api: Api) -> None:
    """Wait for reading handlers and event handlers started so far."""
    app = api.client.app
    handlers = app.state.telemetry.ingestor.handlers
    await asyncio.to_thread(api.client.blocking_portal.call, handlers.join)
    await asyncio.to_thread(api.client.blocking_portal.call, app.state.services.events.drain)


def advance(api: Api, clock: FakeClock, delta: Any) -> datetime:
    """Move the clock; everybody logs in again (access tokens live 15 minutes)."""
    for username in list(api._tokens):
        api.forget(username)
    return clock.advance(delta)
