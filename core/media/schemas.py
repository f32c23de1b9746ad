"""What the media routes answer."""

from __future__ import annotations

import msgspec


class Location(msgspec.Struct):
    """Where the user said the photo was taken (WGS 84 degrees)."""

    lat: float
    lon: float


class Media(msgspec.Struct):
    """An uploaded photo. ``url`` and ``thumbnail_url`` are paths relative to the server."""

    id: str
    width: int
    height: int
    url: str
    thumbnail_url: str
    location: Location | None
