"""Photos: upload through the pipeline, attach to a record, read under the tenancy rule.

Plugins reach this service as ``ctx.media``. A photo belongs to its uploader alone until a
record claims it with :meth:`MediaService.attach`; from then on whoever may see that record's
organization may see the photo (``core.tenancy.scope``), and nobody else: every other request
answers 404 exactly like an unknown id.

A multipart route calls it as::

    photo = await media.upload(principal, await data.file.read(), data.location)

Its ``request_max_body_size`` must leave room for :attr:`MediaService.max_upload_bytes`
(the app-wide body limit is far smaller); the service itself answers 413 above that limit.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from functools import partial
from typing import NamedTuple

import anyio.to_thread
from anyio import CapacityLimiter

from core.errors import Invalid, NotFound
from core.identity.access import Principal
from core.media import schemas
from core.media.models import Media
from core.media.pipeline import ACCEPTED, ProcessedImage, process_image
from core.media.storage import LocalDiskStorage, Storage, key_for
from core.settings import Settings
from core.tenancy import parse_id, scope

log = logging.getLogger("minori.media")

API_PREFIX = "/api/v1/media"
LOCATION_POINTER = "/location"
PROCESSING_SLOTS = 2
"""Images decoded at once: each may take hundreds of MB while decoded, and the work is CPU
bound, so more than one per core only adds memory."""

_SUFFIXES = {f.content_type: f.suffix for f in ACCEPTED}
_NUMBER = r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*"
_LOCATION = re.compile(_NUMBER + "," + _NUMBER)


class MediaFile(NamedTuple):
    """Bytes to answer, their content type, and their SHA-256 (a strong ETag)."""

    data: bytes
    content_type: str
    sha256: str


def media_url(media_id: str, *, thumbnail: bool = False) -> str:
    return f"{API_PREFIX}/{media_id}/thumbnail" if thumbnail else f"{API_PREFIX}/{media_id}"


def media_out(media: Media) -> schemas.Media:
    location = None
    if media.latitude is not None and media.longitude is not None:
        location = schemas.Location(lat=media.latitude, lon=media.longitude)
    media_id = str(media.id)
    return schemas.Media(
        id=media_id,
        width=media.width,
        height=media.height,
        url=media_url(media_id),
        thumbnail_url=media_url(media_id, thumbnail=True),
        location=location,
    )


def parse_location(raw: str | None, pointer: str = LOCATION_POINTER) -> tuple[float, float] | None:
    """``"lat,lon"`` in decimal degrees; ``None`` when not sent (absent or blank)."""
    if raw is None or not raw.strip():
        return None
    match = _LOCATION.fullmatch(raw)
    if match is None:
        raise Invalid.field(pointer, 'expected "lat,lon" in decimal degrees, e.g. "35.68,139.77"')
    lat, lon = float(match[1]), float(match[2])
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise Invalid.field(pointer, "latitude must be between -90 and 90")
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise Invalid.field(pointer, "longitude must be between -180 and 180")
    return lat, lon


class MediaService:
    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.max_upload_bytes = settings.max_upload_bytes
        self.storage: Storage = storage or LocalDiskStorage(settings.media_dir)
        self._processing = CapacityLimiter(PROCESSING_SLOTS)

    async def upload(
        self, principal: Principal, data: bytes, location: str | None = None
    ) -> schemas.Media:
        """Run ``data`` through the pipeline, store it and its thumbnail, and record it as the
        caller's unattached photo. ``location`` (``"lat,lon"``) is kept only when sent."""
        point = parse_location(location)
        processed = await anyio.to_thread.run_sync(
            partial(process_image, data, max_bytes=self.max_upload_bytes),
            limiter=self._processing,
        )
        await anyio.to_thread.run_sync(self._store, processed)
        media = await Media.create(
            uploader_id=principal.user_id,
            sha256=processed.sha256,
            thumbnail_sha256=processed.thumbnail_sha256,
            content_type=processed.content_type,
            width=processed.width,
            height=processed.height,
            size=len(processed.data),
            latitude=point[0] if point else None,
            longitude=point[1] if point else None,
        )
        return media_out(media)

    def _store(self, processed: ProcessedImage) -> None:
        suffix = processed.format.suffix
        self.storage.put(processed.data, suffix)
        self.storage.put(processed.thumbnail, suffix)

    async def attach(
        self,
        media_id: str,
        principal: Principal,
        kind: str,
        object_id: str,
        organization_id: str | uuid.UUID,
        *,
        pointer: str = "/media_id",
    ) -> schemas.Media:
        """Let a record (``kind`` like ``"livestock.animal"``, ``object_id``) of
        ``organization_id`` claim the caller's photo: from now on it is visible to whoever may
        see that organization's data.

        The calling service has already checked that the caller may change the record. Only
        the caller's own unattached photo can be claimed; anything else answers 422 at
        ``pointer`` (the body field that named the photo), with the same detail for an unknown
        id and another user's photo. Attaching again to the same record changes nothing.
        """
        if not kind or len(kind) > 100 or not object_id or len(str(object_id)) > 64:
            raise ValueError("kind must have 1 to 100 characters, object_id 1 to 64")
        key = parse_id(media_id)
        if key is None:
            raise Invalid.field(pointer, "unknown or not accessible")
        target = (kind, str(object_id), str(organization_id))
        await Media.filter(
            id=key, uploader_id=principal.user_id, attached_kind__isnull=True
        ).update(attached_kind=target[0], attached_id=target[1], organization_id=target[2])
        media = await Media.get_or_none(id=key, uploader_id=principal.user_id)
        if media is None:
            raise Invalid.field(pointer, "unknown or not accessible")
        if (media.attached_kind, media.attached_id, str(media.organization_id)) != target:
            raise Invalid.field(pointer, "this photo is already attached to another record")
        return media_out(media)

    async def get(self, principal: Principal, media_id: str) -> schemas.Media:
        """The photo's description, if the caller may see it (404 otherwise)."""
        return media_out(await self._visible(principal, media_id))

    async def read(self, principal: Principal, media_id: str, thumbnail: bool = False) -> MediaFile:
        """The photo's (or its thumbnail's) bytes, if the caller may see it (404 otherwise)."""
        media = await self._visible(principal, media_id)
        sha256 = media.thumbnail_sha256 if thumbnail else media.sha256
        key = key_for(sha256, _SUFFIXES.get(media.content_type, ""))
        data = await anyio.to_thread.run_sync(self.storage.get, key)
        return MediaFile(data, media.content_type, sha256)

    async def _visible(self, principal: Principal, media_id: str) -> Media:
        """Before attachment only the uploader; after, whoever may see the organization."""
        key = parse_id(media_id)
        media = await Media.get_or_none(id=key) if key is not None else None
        if media is not None:
            if media.attached_kind is None:
                if str(media.uploader_id) == principal.user_id:
                    return media
            elif await scope(Media.filter(id=key), principal).exists():
                return media
        raise NotFound(f"No media with id {media_id}.")
