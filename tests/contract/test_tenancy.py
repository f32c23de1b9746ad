"""A member of another organization gets 404 and no data from every route that takes an id.

The routes are discovered from the app, so a new route with an object id fails here until
there is a factory for its id (tests/contract/owned.py, or tests/plugins/<plugin>/owned.py).
Routes a member's role may not use at all answer 403 before any lookup.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

import pytest
from litestar.routes import HTTPRoute

import tests.plugins
from core.app import create_app
from core.clock import SystemClock
from core.identity.access import declared_access
from core.identity.models import Role
from tests.conftest import ENABLED_PLUGINS, World, base_settings
from tests.contract.owned import OWNED, Factory
from tests.mobile_api import owned as mobile
from tests.support import Api

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def owned_objects() -> dict[str, tuple[Factory, dict[str, dict[str, Any]]]]:
    found = {**OWNED, **mobile.OWNED}
    for module in pkgutil.iter_modules(tests.plugins.__path__):
        if module.name not in ENABLED_PLUGINS:
            continue
        try:
            owned = importlib.import_module(f"tests.plugins.{module.name}.owned")
        except ModuleNotFoundError:
            continue
        found.update(owned.OWNED)
    return found


def routes_with_ids() -> list[tuple[str, str, bool]]:
    """(method, path, whether members may use it) of every route with an id."""
    app = create_app(base_settings("sqlite://:memory:"), clock=SystemClock(), run_jobs=False)
    found = []
    for route in app.routes:
        if route.path.startswith("/schema") or not isinstance(route, HTTPRoute):
            continue  # the public API description is no object
        if not _PARAM.search(route.path):
            continue
        for handler in route.route_handlers:
            access = declared_access(handler)
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                members = access is not None and Role.MEMBER in access.roles
                found.append((method, route.path, members))
    return sorted(found, key=lambda r: (r[1], r[0]))  # one order in every xdist worker


@pytest.mark.parametrize(("method", "path", "members"), routes_with_ids())
async def test_other_organizations_object_answers_404_and_nothing_leaks(
    api: Api, world: World, method: str, path: str, members: bool
) -> None:
    params = _PARAM.findall(path)
    assert len(params) == 1, f"extend this test for routes with several ids: {path}"
    kwargs: dict[str, Any] = {}
    if not members:
        url = _PARAM.sub(UNKNOWN_ID, path)
        refused = await api.request(method, url, "fisher", **kwargs)
        assert refused.status_code == 403, refused.text
        return
    owned = owned_objects()
    assert params[0] in owned, f"add a farm-owned object for {{{params[0]}}} (see owned.py)"
    create, bodies = owned[params[0]]
    object_id = await create(api, world)
    url = _PARAM.sub(object_id, path)
    if method in {"POST", "PUT", "PATCH"}:
        last = path.rsplit("/", 1)[1]
        kwargs["json"] = bodies.get("" if _PARAM.fullmatch(last) else last, {})

    stranger = await api.request(method, url, "fisher", **kwargs)
    if (method, path) in mobile.NO_CONTENT_FOR_ANYONE:
        # 204 to everyone, like an unknown id: nothing to probe, and nothing was touched.
        unknown = await api.request(method, _PARAM.sub(UNKNOWN_ID, path), "fisher", **kwargs)
        assert (stranger.status_code, unknown.status_code) == (204, 204)
        assert await mobile.NO_CONTENT_FOR_ANYONE[(method, path)](api, world, object_id)
        return
    assert stranger.status_code == 404, stranger.text
    assert stranger.headers["content-type"].startswith("application/problem+json")
    assert stranger.json()["type"] == "urn:minori:problem:not-found"
    assert "Renamed" not in stranger.text and "barn" not in stranger.text

    # Exactly what a made-up id gets: ids cannot be probed.
    unknown = await api.request(method, _PARAM.sub(UNKNOWN_ID, path), "fisher", **kwargs)
    assert unknown.status_code == 404
    assert unknown.json()["title"] == stranger.json()["title"]

    # The owner's object is unchanged.
    owner_view = await api.request(method if method == "GET" else "GET", url, "farmer")
    if owner_view.status_code != 405:
        assert "Renamed" not in owner_view.text
