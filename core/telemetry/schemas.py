from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
DeviceStatus = Literal["online", "offline", "never_seen", "revoked"]


class SubjectRef(msgspec.Struct, forbid_unknown_fields=True):
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class DeviceCreate(msgspec.Struct, forbid_unknown_fields=True):
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    name: Name
    organization_id: str
    external_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    subject: SubjectRef | None = None


class Subject(msgspec.Struct):
    kind: str
    id: str


class Device(msgspec.Struct):
    id: str
    kind: str
    name: str
    organization_id: str
    external_id: str
    subject: Subject | None
    expected_interval_s: int
    status: DeviceStatus
    last_seen: datetime | None
    battery: float | None
    created_at: datetime


class DeviceWithKey(Device, kw_only=True):
    key: str


class DeviceList(msgspec.Struct):
    items: list[Device]
    next_cursor: str | None


class Key(msgspec.Struct):
    key: str


class GatewayCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    organization_id: str


class Gateway(msgspec.Struct):
    id: str
    name: str
    organization_id: str
    status: Literal["active", "revoked"]
    last_seen: datetime | None
    created_at: datetime


class GatewayWithKey(Gateway, kw_only=True):
    key: str


class GatewayList(msgspec.Struct):
    items: list[Gateway]
    next_cursor: str | None


class ReadingOut(msgspec.Struct):
    ts: datetime
    metric: str
    value: float
    received_at: datetime


class ReadingPage(msgspec.Struct):
    items: list[ReadingOut]
    next_cursor: str | None


class Rejected(msgspec.Struct):
    index: int
    detail: str


class IngestResult(msgspec.Struct):
    accepted: int
    duplicates: int
    rejected: list[Rejected]
