"""What the mobile app sends and receives (msgspec Structs; handlers never return ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import msgspec
from litestar.datastructures import UploadFile


class PushKind(StrEnum):
    FCM_TOKEN = "fcm_token"  # noqa: S105 - a kind of push address, not a secret
    """An FCM registration token."""
    FID = "fid"
    """A Firebase installation id."""


class Platform(StrEnum):
    ANDROID = "android"
    IOS = "ios"


class PushTokenIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    kind: PushKind
    platform: Platform
    app_version: Annotated[str, msgspec.Meta(max_length=40)] = ""


class PushToken(msgspec.Struct):
    token: str
    kind: PushKind
    platform: Platform
    app_version: str
    created_at: datetime


class Target(msgspec.Struct):
    kind: str
    """An object kind: ``alert``, ``hello.greeting``, ``wildlife_traps.trap``…"""
    id: str


class Action(msgspec.Struct):
    kind: Literal["open"]
    target: Target


class Card(msgspec.Struct):
    id: str
    plugin: str
    type: str
    priority: Annotated[int, msgspec.Meta(ge=0, le=100)]
    title: str
    body: str
    created_at: datetime
    action: Action


class Home(msgspec.Struct):
    cards: list[Card]
    """Highest priority first, then newest."""
    unread: int
    """Unread inbox items."""


class InboxItem(msgspec.Struct):
    id: str
    title: str
    body: str
    created_at: datetime
    read: bool
    plugin: str
    alert_id: str | None


class InboxPage(msgspec.Struct):
    items: list[InboxItem]
    next_cursor: str | None


class Changes(msgspec.Struct):
    upserted: list[dict[str, Any]]
    """Whole objects, new or changed."""
    deleted: list[str]
    """Ids of objects that are gone."""


class Sync(msgspec.Struct):
    changes: dict[str, dict[str, Changes]]
    """``{"<plugin>": {"<collection>": changes}}``; ``core`` holds ``alerts`` and ``inbox``."""
    cursor: str
    """Send it back as ``?cursor=`` next time."""


@dataclass
class MediaUpload:
    file: UploadFile
    location: str | None = None
    """``"lat,lon"`` in decimal degrees; kept only when sent."""
