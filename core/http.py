"""Conventions every route shares that Litestar does not enforce by itself."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo
from typing import Any

import msgspec
from litestar import Response
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.handlers.base import BaseRouteHandler
from litestar.params import BodyKwarg
from litestar.serialization import default_serializer
from litestar.types import Serializer

from core.errors import Problem
from core.i18n import _


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


async def check_content_type(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """A guard: a body of another type than the route reads answers 415. (A coroutine: Litestar
    would run a plain function in a worker thread, on every request.)"""
    expected = body_media_type(handler)
    if expected is None:
        return
    given = connection.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if given == expected or (expected == "application/json" and given.endswith("+json")):
        return
    raise UnsupportedMediaType(_("Send the body as {media_type}.", media_type=expected))


_response_timezone: ContextVar[tzinfo] = ContextVar("response_timezone", default=UTC)


def answer_in_timezone(zone: tzinfo) -> None:
    """Times in this request's answer are shown in ``zone`` (the user's); devices and
    anonymous callers get UTC."""
    _response_timezone.set(zone)


def _localize(value: Any, zone: tzinfo) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(zone) if value.tzinfo is not None else value
    if isinstance(value, dict):
        return {k: _localize(v, zone) for k, v in value.items()}
    if isinstance(value, list):
        return [_localize(v, zone) for v in value]
    return value


class LocalTimeResponse(Response[Any]):
    """Renders every timestamp of the answer in the caller's time zone."""

    def render(
        self, content: Any, media_type: str, enc_hook: Serializer = default_serializer
    ) -> bytes:
        zone = _response_timezone.get()
        if zone is not UTC and media_type.endswith("json") and not isinstance(content, bytes):
            content = _localize(
                msgspec.to_builtins(content, builtin_types=(datetime,), enc_hook=enc_hook), zone
            )
        return super().render(content, media_type, enc_hook)
