"""The ``/mobile/v1`` routes (thin: the work is in services, home and delta)."""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody

from core.errors import Gone, NotFound, PayloadTooLarge
from core.http import LocalTimeResponse, UnsupportedMediaType
from core.i18n import Language
from core.identity.access import ANY_USER, CurrentPrincipal
from core.media import schemas as media_schemas
from core.pagination import Cursor, Limit
from core.registry import PluginRegistry
from core.settings import UPLOAD_LIMIT
from mobile_api import delta, home, schemas, services

Registry: TypeAlias = NamedDependency[PluginRegistry]

MEDIA_BODY_LIMIT = UPLOAD_LIMIT + 256 * 1024
"""The largest accepted photo plus room for the multipart envelope (the app-wide body limit
is 1 MiB); the media service answers 413 for a photo above the limit itself."""


class MobileController(Controller):
    path = "/"
    tags = ["mobile"]

    @post(
        "/push-tokens",
        access=ANY_USER,
        status_code=201,
        responses={
            201: ResponseSpec(
                schemas.PushToken,
                generate_examples=False,
                description="Registered for the caller",
            ),
            200: ResponseSpec(
                schemas.PushToken,
                generate_examples=False,
                description="Already registered by the caller",
            ),
        },
        summary="Register this phone for pushes",
    )
    async def register_push_token(
        self, principal: CurrentPrincipal, registry: Registry, data: JSONBody[schemas.PushTokenIn]
    ) -> LocalTimeResponse:
        """Several phones per user; registering a token again updates it (200); a token
        another user registered moves to the caller (201). Tokens FCM reports dead are
        pruned when a push to them fails."""
        now = registry.services.clock.now()
        token, created = await services.register_token(principal, data, now)
        return LocalTimeResponse(token, status_code=201 if created else 200)

    @delete(
        "/push-tokens/{token:str}",
        access=ANY_USER,
        summary="Stop pushes to this phone (204 also when unknown)",
    )
    async def unregister_push_token(
        self, principal: CurrentPrincipal, token: FromPath[str]
    ) -> None:
        await services.unregister_token(principal, token)

    @get(
        "/home",
        access=ANY_USER,
        responses={
            200: ResponseSpec(schemas.Home, generate_examples=False, description="The home screen"),
            304: ResponseSpec(None, description="Not modified: `If-None-Match` matched the ETag"),
        },
        summary="The home screen in one round trip: cards and the unread count",
    )
    async def home(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        registry: Registry,
        language: Language,
    ) -> Response[bytes]:
        """Cards from core (open alerts) and every plugin, highest priority first, then
        newest. Send the ETag back as ``If-None-Match``: 304 when nothing changed."""
        body, etag = await home.home(registry, principal, language)
        headers = {
            "ETag": etag,
            "Cache-Control": "private, no-cache",
            "Vary": "Accept-Language, Authorization",
        }
        if home.matches(request.headers.get("if-none-match"), etag):
            return Response(b"", status_code=304, headers=headers)
        return Response(body, media_type=MediaType.JSON, headers=headers)

    @get("/inbox", access=ANY_USER, summary="Notifications for the caller, newest first")
    async def inbox(
        self,
        principal: CurrentPrincipal,
        language: Language,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.InboxPage:
        return await services.inbox(principal, language, cursor, limit)

    @post(
        "/inbox/{notification_id:str}/read",
        access=ANY_USER,
        status_code=204,
        raises=[NotFound],
        summary="Mark an inbox item read (204 also when it was read already)",
    )
    async def mark_read(
        self, principal: CurrentPrincipal, registry: Registry, notification_id: FromPath[str]
    ) -> None:
        await services.mark_read(principal, notification_id, registry.services.clock.now())

    @get(
        "/sync",
        access=ANY_USER,
        raises=[Gone],
        summary="What changed since the cursor, per plugin and collection (offline use)",
    )
    async def sync(
        self,
        principal: CurrentPrincipal,
        registry: Registry,
        language: Language,
        state: State,
        cursor: FromQuery[str | None] = None,
    ) -> schemas.Sync:
        """Without a cursor: everything the app keeps. With the cursor of the last answer:
        what changed since, deletions included. 410: the cursor is invalid or expired; sync
        again without one."""
        return await delta.changes(
            registry, principal, language, cursor, state.secret_key, registry.services.clock.now()
        )

    @post(
        "/media",
        access=ANY_USER,
        status_code=201,
        request_max_body_size=MEDIA_BODY_LIMIT,
        raises=[PayloadTooLarge, UnsupportedMediaType],
        summary="Upload a photo (JPEG, PNG or WebP, at most 15 MiB)",
    )
    async def upload_media(
        self,
        principal: CurrentPrincipal,
        registry: Registry,
        data: MultipartBody[schemas.MediaUpload],
    ) -> media_schemas.Media:
        """Through the core pipeline: orientation applied, metadata stripped, re-encoded,
        with a thumbnail. ``location`` is kept only when sent. The answer's ``id`` is what
        plugin records attach."""
        return await registry.services.media.upload(
            principal, await data.file.read(), data.location
        )
