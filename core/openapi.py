"""A truthful OpenAPI document: security and error answers derived from each route's
declaration (``access=``, ``raises=``, its parameters and body), never written by hand."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.constants import RESERVED_KWARGS
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Reference,
    Schema,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.routes import HTTPRoute

from core.errors import PROBLEM_JSON
from core.identity.access import PUBLIC, Access, declared_access
from core.identity.models import Role

SCHEMA_PATH = "/schema"

openapi_config = OpenAPIConfig(
    title="Minori",
    version="1",
    description="Back end of the city's smart agriculture and fisheries service.",
    path=SCHEMA_PATH,
    components=Components(
        security_schemes={
            "BearerToken": SecurityScheme(
                type="http", scheme="bearer", bearer_format="JWT", description="Access token"
            ),
            "DeviceKey": SecurityScheme(
                type="apiKey",
                name="Authorization",
                security_scheme_in="header",
                description="`Device <key>` with a device or gateway key",
            ),
        }
    ),
)

_DESCRIPTIONS = {
    400: "Malformed request body",
    401: "Missing, invalid or expired credentials",
    403: "The caller's role may not use this route",
    404: "No such object, or one of another organization",
    409: "Conflicts with the current state",
    410: "Gone",
    413: "Request body too large",
    415: "Unsupported content type",
    422: "Well formed but invalid; `errors` points at each problem",
    426: "App version too old",
    429: "Too many attempts; see Retry-After",
}

_PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["detail"],
                properties={
                    "detail": Schema(type=OpenAPIType.STRING),
                    "pointer": Schema(type=OpenAPIType.STRING),
                    "parameter": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
    },
)


def expected_problems(handler: HTTPRouteHandler, path: str, access: Access) -> set[int]:
    """Every error status this route can answer."""
    statuses = {getattr(exc, "status_code", 500) for exc in handler.raises or ()}
    if not access.public:
        statuses.add(401)
    if access.roles and access.roles != frozenset(Role):
        statuses.add(403)
    if "{" in path:
        statuses.add(404)
    parameters = handler.parsed_fn_signature.parameters.keys()
    if parameters - RESERVED_KWARGS - handler.resolve_dependencies().keys():
        statuses.add(422)
    if "data" in parameters:
        statuses |= {400, 413, 415, 422}
    if handler.opt.get("rate_limited"):
        statuses.add(429)
    statuses.update(handler.opt.get("problems", ()))
    return statuses


_documents: dict[frozenset[tuple[str, str]], OpenAPI] = {}


def document(app: Litestar) -> None:
    """Complete the generated document from the routes' declarations, at start-up.

    Building it takes seconds for the whole API; apps with the same routes (the tests make
    hundreds) share one document.
    """
    plugin = app.plugins.get(OpenAPIPlugin)
    routes = frozenset(
        (route.path, method)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for method in route.methods
    )
    if routes not in _documents:
        openapi = plugin.provide_openapi()
        _complete(openapi, app)
        _documents[routes] = openapi
    plugin._openapi = _documents[routes]


def _complete(openapi: OpenAPI, app: Litestar) -> None:
    components = openapi.components
    assert isinstance(components, Components)
    components.schemas["Problem"] = _PROBLEM_SCHEMA
    problem = {PROBLEM_JSON: OpenAPIMediaType(schema=Reference("#/components/schemas/Problem"))}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in (openapi.paths or {}):
            continue
        item = openapi.paths[route.path_format]  # type: ignore[index]
        for handler in route.route_handlers:
            access = declared_access(handler) or PUBLIC
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if operation is None:
                    continue
                operation.security = _security(access)
                responses: dict[str, Any] = operation.responses or {}
                for status in sorted(expected_problems(handler, route.path_format, access)):
                    responses[str(status)] = OpenAPIResponse(
                        description=_DESCRIPTIONS.get(status, "Error"), content=problem
                    )
                operation.responses = responses


def _security(access: Access) -> list[dict[str, list[str]]] | None:
    if access.public:
        return None
    if access.device:
        return [{"DeviceKey": []}]
    return [{"BearerToken": []}]
