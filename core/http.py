"""Conventions every route shares that Litestar does not enforce by itself."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.handlers.base import BaseRouteHandler
from litestar.params import BodyKwarg

from core.errors import Problem


class UnsupportedMediaType(Problem):
    slug = "unsupported-media-type"
    status_code = 415


def body_media_type(handler: BaseRouteHandler) -> str | None:
    """The media type a route's body must have, or None for a route without a body."""
    field = handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return None
    kwarg = field.kwarg_definition
    if isinstance(kwarg, BodyKwarg) and kwarg.media_type is not None:
        return str(getattr(kwarg.media_type, "value", kwarg.media_type))
    return RequestEncodingType.JSON.value


def check_content_type(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """A guard: a body of another type than the route reads answers 415."""
    expected = body_media_type(handler)
    if expected is None:
        return
    given = connection.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if given == expected or (expected == "application/json" and given.endswith("+json")):
        return
    raise UnsupportedMediaType(f"Send the body as {expected}.")
