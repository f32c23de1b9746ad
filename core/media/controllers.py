"""Serving photos to the users allowed to see them (uploads go through the mobile facade)."""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from core.errors import NotFound
from core.identity.access import ANY_USER, CurrentPrincipal
from core.media.services import MediaFile, MediaService
from core.registry import PluginRegistry

CACHE_CONTROL = "private, max-age=31536000, immutable"
"""A photo's bytes never change under its URL; ``private``: shared caches must not keep it."""
NOT_MODIFIED = {
    304: ResponseSpec(None, description="Not modified: `If-None-Match` matched the ETag")
}


def _media_service(registry: NamedDependency[PluginRegistry]) -> MediaService:
    return registry.services.media


Media: TypeAlias = NamedDependency[MediaService]


def _answer(request: Request[Any, Any, Any], found: MediaFile) -> Response[bytes]:
    etag = f'"{found.sha256}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"}
    matches = _etags(request.headers.get("if-none-match"))
    if etag in matches or "*" in matches:
        return Response(b"", status_code=304, media_type=found.content_type, headers=headers)
    return Response(found.data, media_type=found.content_type, headers=headers)


def _etags(header: str | None) -> list[str]:
    if not header:
        return []
    return [tag.strip().removeprefix("W/") for tag in header.split(",")]


class MediaController(Controller):
    path = "/api/v1/media"
    tags = ["media"]
    dependencies = {"media": Provide(_media_service, sync_to_thread=False)}

    @get(
        "/{media_id:str}",
        access=ANY_USER,
        raises=[NotFound],
        media_type="image/*",
        responses=NOT_MODIFIED,
        summary="A photo",
    )
    async def photo(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[str],
        principal: CurrentPrincipal,
        media: Media,
    ) -> Response[bytes]:
        """The photo, re-encoded and without metadata, to users allowed to see the record it
        is attached to (before it is attached: its uploader). ETag is its SHA-256."""
        return _answer(request, await media.read(principal, media_id))

    @get(
        "/{media_id:str}/thumbnail",
        access=ANY_USER,
        raises=[NotFound],
        media_type="image/*",
        responses=NOT_MODIFIED,
        summary="A photo's thumbnail",
    )
    async def thumbnail(
        self,
        request: Request[Any, Any, Any],
        media_id: FromPath[str],
        principal: CurrentPrincipal,
        media: Media,
    ) -> Response[bytes]:
        """The photo scaled to at most 320 px on its longest side, same access as the photo."""
        return _answer(request, await media.read(principal, media_id, thumbnail=True))
