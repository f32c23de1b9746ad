from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from core.alerts.models import AlertStatus, Severity, Verdict


class Person(msgspec.Struct):
    id: str
    display_name: str


class AlertSubject(msgspec.Struct):
    kind: str
    id: str
    label: str


class Alert(msgspec.Struct):
    id: str
    plugin: str
    type: str
    severity: Severity
    status: AlertStatus
    title: str
    body: str
    subject: AlertSubject
    organization_id: str
    count: int
    first_seen: datetime
    last_seen: datetime
    acknowledged_by: Person | None
    acknowledged_at: datetime | None
    resolved_by: Person | None
    resolved_at: datetime | None
    resolution_note: str | None
    feedback: Verdict | None
    model_version: str | None
    data: dict[str, Any]


class AlertList(msgspec.Struct):
    items: list[Alert]
    next_cursor: str | None


class ManualAlert(msgspec.Struct, forbid_unknown_fields=True):
    organization_id: str
    severity: Severity
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    body: Annotated[str, msgspec.Meta(max_length=4000)] = ""


class Resolution(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=4000)] | None = None


class Feedback(msgspec.Struct, forbid_unknown_fields=True):
    verdict: Verdict
    note: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
