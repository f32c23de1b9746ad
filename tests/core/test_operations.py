from __future__ import annotations

import json
import logging

from litestar.testing import AsyncTestClient

from core.app import create_app
from core.clock import FakeClock
from core.ops.logging import JSONFormatter
from tests.conftest import base_settings
from tests.support import Api


async def test_live_and_ready(api: Api) -> None:
    live = await api.get("/health/live")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = await api.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "checks": {"database": "ok", "scheduler": "stopped", "mqtt": "disabled"},
    }


async def test_ready_is_503_when_the_database_is_unreachable(clock: FakeClock) -> None:
    app = create_app(
        base_settings("postgres://nobody@127.0.0.1:1/none"), clock=clock, run_jobs=False
    )
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("error")


async def test_metrics_for_admins_and_the_metrics_token(
    api: Api, database_url: str, clock: FakeClock
) -> None:
    await api.get("/health/live")
    response = await api.get("/metrics", as_="admin")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "minori_requests_total" in response.text
    assert (await api.get("/metrics", as_="farmer")).status_code == 403
    assert (await api.get("/metrics")).status_code == 401

    app = create_app(
        base_settings(database_url, metrics_token="scrape-me"), clock=clock, run_jobs=False
    )
    async with AsyncTestClient(app=app) as client:
        ok = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert ok.status_code == 200 and "minori_requests_total" in ok.text
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer scrape-you"})
        assert wrong.status_code == 401


async def test_request_id_is_echoed_or_made(api: Api) -> None:
    given = await api.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await api.get("/health/live", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces"
    assert len(made.headers["x-request-id"]) == 32


def test_json_log_lines_carry_the_request_id_and_extras() -> None:
    record = logging.getLogRecordFactory()(
        "minori.test", logging.INFO, __file__, 1, "hello %s", ("world",), None
    )
    record.request_id = "r-1"
    record.plugin = "hello"
    line = json.loads(JSONFormatter().format(record))
    assert line["message"] == "hello world"
    assert line["request_id"] == "r-1"
    assert line["plugin"] == "hello"
    assert line["level"] == "info" and line["logger"] == "minori.test"


async def test_openapi_is_truthful_about_security_and_errors(api: Api) -> None:
    document = (await api.get("/schema/openapi.json")).json()
    paths = document["paths"]
    assert "security" not in paths["/health/live"]["get"]
    assert "security" not in paths["/api/v1/auth/token"]["post"]
    assert paths["/api/v1/me"]["get"]["security"] == [{"BearerToken": []}]
    token = paths["/api/v1/auth/token"]["post"]["responses"]
    assert {"200", "400", "401", "413", "415", "422", "429"} <= set(token)
    users = paths["/api/v1/users"]["post"]["responses"]
    assert {"201", "401", "403", "409", "422"} <= set(users)
    patch = paths["/api/v1/organizations/{organization_id}"]["patch"]["responses"]
    assert {"200", "401", "403", "404", "422"} <= set(patch)
    assert "403" not in paths["/api/v1/me"]["get"]["responses"]
    problem = token["401"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert set(document["components"]["securitySchemes"]) >= {"BearerToken"}
    # Every operation in the document says who may call it.
    for path, item in paths.items():
        for method, operation in item.items():
            if path.startswith("/schema") or method not in {
                "get",
                "post",
                "patch",
                "put",
                "delete",
            }:
                continue
            public = "security" not in operation
            assert public or "401" in operation["responses"], (method, path)
