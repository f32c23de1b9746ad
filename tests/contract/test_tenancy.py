"""A member of another organization gets 404 and no data from every route that takes an id.

The routes are discovered from the app, so a new route with an object id fails here until it
has an entry in ``OWNED_OBJECTS``: a way to create an object that the farm owns.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from core.app import create_app
from core.clock import SystemClock
from tests.conftest import World, base_settings
from tests.support import Api


async def _farm_itself(api: Api, world: World) -> str:
    return world.org_ids["farm"]


async def _greeting(api: Api, world: World) -> str:
    response = await api.post(
        "/api/v1/hello/greetings",
        as_="farmer",
        json={"organization_id": world.org_ids["farm"], "text": "the barn roof leaks"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


# path parameter name -> (create an object owned by the farm, a valid body for writes)
OWNED_OBJECTS: dict[str, tuple[Callable[[Api, World], Awaitable[str]], dict[str, Any]]] = {
    "organization_id": (_farm_itself, {"name": "Renamed by a stranger"}),
    "greeting_id": (_greeting, {}),
}

_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def routes_with_ids() -> list[tuple[str, str]]:
    app = create_app(base_settings("sqlite://:memory:"), clock=SystemClock(), run_jobs=False)
    found = []
    for route in app.routes:
        if route.path.startswith("/schema"):
            continue  # the public API description, not an object
        if isinstance(route, HTTPRoute) and _PARAM.search(route.path):
            for method in sorted(route.methods - {"OPTIONS", "HEAD"}):
                found.append((method, route.path))
    return found


@pytest.mark.parametrize(("method", "path"), routes_with_ids())
async def test_other_organizations_object_answers_404_and_nothing_leaks(
    api: Api, world: World, method: str, path: str
) -> None:
    params = _PARAM.findall(path)
    assert len(params) == 1, f"extend this test for routes with several ids: {path}"
    param = params[0]
    assert param in OWNED_OBJECTS, f"add a farm-owned object for {{{param}}} to OWNED_OBJECTS"
    create, body = OWNED_OBJECTS[param]
    object_id = await create(api, world)
    url = _PARAM.sub(object_id, path)
    kwargs: dict[str, Any] = {"json": body} if method in {"POST", "PUT", "PATCH"} else {}

    stranger = await api.request(method, url, "fisher", **kwargs)
    assert stranger.status_code == 404, stranger.text
    assert stranger.headers["content-type"].startswith("application/problem+json")
    assert stranger.json()["type"] == "urn:minori:problem:not-found"

    # Exactly what a made-up id gets: the id cannot be probed.
    unknown = await api.request(method, _PARAM.sub("00000000-0000-4000-8000-000000000000", path), "fisher", **kwargs)
    assert unknown.status_code == 404
    assert stranger.json()["title"] == unknown.json()["title"]
    assert "Renamed" not in stranger.text and "barn" not in stranger.text

    # The owner still sees the object unchanged.
    if method != "GET":
        owner_view = await api.get(url, as_="farmer") if "GET" in _methods(api, path) else None
        if owner_view is not None:
            assert owner_view.status_code == 200
            assert "Renamed" not in owner_view.text


def _methods(api: Api, path: str) -> set[str]:
    for route in api.client.app.routes:
        if route.path == path:
            return set(route.methods)
    return set()
