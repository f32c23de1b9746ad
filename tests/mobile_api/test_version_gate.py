"""Every ``/mobile/v1`` route reads ``X-App-Version``: too old answers 426 with the store link,
a missing header passes, a malformed one answers 422."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from core.app import create_app
from core.clock import FakeClock
from core.settings import Settings
from mobile_api.version import parse_version
from tests.conftest import PASSWORD, World, base_settings
from tests.mobile_api.support import MOBILE
from tests.support import Api

STORE = "https://play.google.com/store/apps/details?id=jp.example.minori"


@pytest.fixture
async def gated_api(settings: Settings, clock: FakeClock, world: World) -> AsyncIterator[Api]:
    gated = base_settings(settings.database_url, mobile_min_version="2.1.0", mobile_store_url=STORE)
    app = create_app(gated, clock=clock, run_jobs=False)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield Api(client, PASSWORD)


def version(value: str) -> dict[str, str]:
    return {"X-App-Version": value}


async def test_an_old_app_gets_426_with_the_store_link(gated_api: Api) -> None:
    for old in ("2.0.9", "1.99.99", "2.1.0-rc.1"):
        response = await gated_api.get(
            f"{MOBILE}/home", as_="farmer", headers={**version(old), "Accept-Language": "en"}
        )
        assert response.status_code == 426, old
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json() == {
            "type": "urn:minori:problem:upgrade-required",
            "title": "Upgrade Required",
            "status": 426,
            "detail": (
                "This version of the app is no longer supported; update it to 2.1.0 or later."
            ),
            "min_version": "2.1.0",
            "store_url": STORE,
        }
    japanese = await gated_api.get(f"{MOBILE}/home", as_="farmer", headers=version("1.0.0"))
    assert japanese.json()["title"] == "アップデートが必要です"
    assert japanese.json()["type"] == "urn:minori:problem:upgrade-required"


async def test_a_current_app_or_no_header_passes(gated_api: Api) -> None:
    for current in ("2.1.0", "2.1.1", "10.0.0", "2.1.0+build.7"):
        response = await gated_api.get(f"{MOBILE}/home", as_="farmer", headers=version(current))
        assert response.status_code == 200, current
    assert (await gated_api.get(f"{MOBILE}/home", as_="farmer")).status_code == 200


async def test_a_malformed_version_is_422(gated_api: Api) -> None:
    for bad in ("2.1", "v2.1.0", "banana", "02.1.0", ""):
        response = await gated_api.get(f"{MOBILE}/home", as_="farmer", headers=version(bad))
        assert response.status_code == 422, bad
        body = response.json()
        assert body["errors"] == [{"parameter": "X-App-Version", "detail": body["detail"]}]


async def test_every_mobile_route_is_gated_and_nothing_else(gated_api: Api) -> None:
    app = gated_api.client.app
    routes = [
        (method, route.path_format)
        for route in app.routes
        if isinstance(route, HTTPRoute) and route.path.startswith(MOBILE)
        for method in sorted(route.methods - {"OPTIONS", "HEAD"})
    ]
    assert len(routes) == 7
    for method, path in routes:
        url = path.replace("{token}", "t").replace("{notification_id}", "n")
        # Before anything else: no token needed to learn that the app must be updated.
        response = await gated_api.client.request(method, url, headers=version("1.0.0"))
        assert response.status_code == 426, (method, path, response.text)
    core = await gated_api.get("/api/v1/me", as_="farmer", headers=version("1.0.0"))
    assert core.status_code == 200


async def test_without_a_minimum_every_well_formed_version_passes(api: Api) -> None:
    response = await api.get(f"{MOBILE}/home", as_="farmer", headers=version("0.0.1"))
    assert response.status_code == 200
    assert (await api.get(f"{MOBILE}/home", as_="farmer", headers=version("x"))).status_code == 422


def test_versions_are_ordered_by_semver_precedence() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.10.0",
        "2.0.0",
    ]
    keys = []
    for value in ordered:
        parsed = parse_version(value)
        assert parsed is not None, value
        keys.append(parsed.key())
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert parse_version("1.0.0+a").key() == parse_version("1.0.0+b").key()  # type: ignore[union-attr]
