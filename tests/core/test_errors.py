"""Every error is an RFC 9457 problem with a stable type; bad input loses nothing else."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest
from litestar import get
from litestar.testing import AsyncTestClient

from core.app import create_app
from core.clock import FakeClock
from core.identity.access import PUBLIC
from core.plugin import Plugin
from core.settings import PluginEntry, Settings, load_plugins_file
from tests.conftest import PASSWORD, ROOT, World, base_settings
from tests.support import Api


@get("/explode", access=PUBLIC)
async def explode() -> None:
    raise RuntimeError("secret internals: db password is hunter2")


boom = Plugin(name="boom", version="0.1", title="Raises", routes=[explode])


@pytest.fixture
async def boom_api(settings: Settings, clock: FakeClock, world: World) -> AsyncIterator[Api]:
    plugins = dict(load_plugins_file(ROOT / "plugins.toml"))
    plugins["boom"] = PluginEntry(module="tests.core.test_errors:boom")
    app = create_app(
        base_settings(settings.database_url, plugins=plugins), clock=clock, run_jobs=False
    )
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield Api(client, PASSWORD)


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["type"] == f"urn:minori:problem:{slug}"
    assert body["title"] and body["detail"]
    return body


async def test_malformed_json_is_400(api: Api) -> None:
    response = await api.post(
        "/api/v1/organizations",
        as_="admin",
        content=b'{"name": "x", ',
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 400, "malformed-request")


async def test_validation_points_into_the_body(api: Api) -> None:
    response = await api.post(
        "/api/v1/organizations", as_="admin", json={"name": "Sea Farm", "kind": "spaceship"}
    )
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"][0]["pointer"] == "/kind"
    assert "spaceship" in body["errors"][0]["detail"]

    missing = await api.post("/api/v1/organizations", as_="admin", json={"kind": "farm"})
    assert assert_problem(missing, 422, "validation-failed")["errors"][0]["pointer"] == "/name"


async def test_query_parameter_errors_name_the_parameter(api: Api) -> None:
    for query in ("limit=0", "limit=201", "limit=abc"):
        response = await api.get(f"/api/v1/organizations?{query}", as_="admin")
        body = assert_problem(response, 422, "validation-failed")
        assert body["errors"] == [{"parameter": "limit", "detail": body["errors"][0]["detail"]}]
    bad_cursor = await api.get("/api/v1/organizations?cursor=%%%", as_="admin")
    assert (
        assert_problem(bad_cursor, 422, "validation-failed")["errors"][0]["parameter"] == "cursor"
    )


async def test_unauthenticated_is_401_with_challenge(api: Api) -> None:
    response = await api.get("/api/v1/organizations")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_role_is_checked_before_the_body(api: Api) -> None:
    # A member may not create organizations: 403 even though the body is invalid too.
    response = await api.post("/api/v1/organizations", as_="farmer", json={"kind": 7})
    body = assert_problem(response, 403, "forbidden")
    assert "admin" in body["detail"]


async def test_unknown_route_is_404_and_wrong_method_405(api: Api) -> None:
    assert_problem(await api.get("/api/v1/nothing-here", as_="farmer"), 404, "not-found")
    assert_problem(await api.client.put("/api/v1/me"), 405, "method-not-allowed")


async def test_wrong_content_type_is_415(api: Api) -> None:
    response = await api.post(
        "/api/v1/organizations",
        as_="admin",
        content=b"name=x&kind=farm",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415, "unsupported-media-type")


async def test_body_over_one_mebibyte_is_413(api: Api) -> None:
    big = json.dumps({"name": "x" * (1024 * 1024), "kind": "farm"})
    response = await api.post(
        "/api/v1/organizations",
        as_="admin",
        content=big.encode(),
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")


async def test_taken_username_is_409_and_creates_nothing(api: Api, world: World) -> None:
    response = await api.post(
        "/api/v1/users",
        as_="admin",
        json={
            "username": "farmer",
            "password": "another password",
            "role": "member",
            "organization_id": world.org_ids["farm"],
        },
    )
    assert_problem(response, 409, "conflict")
    users = (await api.get("/api/v1/users?limit=200", as_="admin")).json()["items"]
    assert [u["username"] for u in users].count("farmer") == 1


async def test_unhandled_error_is_500_without_internals_and_logged_with_request_id(
    boom_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="minori.errors"):
        response = await boom_api.client.get(
            "/api/v1/boom/explode", headers={"X-Request-ID": "req-42"}
        )
    body = assert_problem(response, 500, "internal-error")
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert response.headers["x-request-id"] == "req-42"
    [record] = [r for r in caplog.records if r.name == "minori.errors"]
    assert record.request_id == "req-42"
    assert "hunter2" in str(record.exc_info[1])
    assert body["detail"]
