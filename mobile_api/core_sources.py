"""Core's own contributions to the home screen and to delta sync, made through the same
slots as a plugin's (``feed(ctx, principal)``, ``sync(ctx, principal, since)``), so the
facade treats ``core`` as one more source.

- Home: a card per open alert the caller may see, critical first, then by recency.
- Sync: ``core.alerts`` (every alert the caller may see that changed) and ``core.inbox``
  (the caller's notifications, new or read). Neither is ever deleted, so ``deleted`` stays
  empty; a resolved alert comes as an upsert with its new status.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import msgspec
from tortoise.expressions import Case, Q, When

from core import tenancy
from core.alerts.models import Alert, AlertStatus, Notification, Severity
from core.alerts.service import AlertQueries
from core.feed import Card
from core.i18n import DEFAULT_LANGUAGE, Text, as_text
from core.identity.access import Principal
from core.plugin import PluginContext
from core.sync import Changes
from mobile_api.services import inbox_item

ALERT_CARDS = 10
PRIORITY = {
    Severity.CRITICAL: 100,
    Severity.MAJOR: 90,
    Severity.MINOR: 75,
    Severity.WARNING: 60,
    Severity.INFO: 40,
}
INITIAL_WINDOW = timedelta(days=30)
"""A first sync brings open and acknowledged alerts, plus what was resolved, and inbox items
received, within this window; older ones stay reachable through the paged routes."""

_RANK = Case(
    *(When(severity=s.value, then=rank) for rank, s in enumerate(PRIORITY)),  # type: ignore[arg-type]
    default=len(PRIORITY),  # type: ignore[arg-type]
)
"""Severity as a number to sort by: critical 0 … info 4."""


def _message(alert: Alert, part: str) -> Text:
    stored = (alert.message or {}).get(part)
    if stored is None:
        return as_text(getattr(alert, part))
    return msgspec.convert(stored, Text)


async def feed(ctx: PluginContext, principal: Principal) -> list[Card]:
    """The caller's open alerts, critical first, at most ``ALERT_CARDS``."""
    alerts = await (
        tenancy.scope(Alert.filter(status=AlertStatus.OPEN), principal)
        .annotate(rank=_RANK)
        .order_by("rank", "-last_seen", "-id")
        .limit(ALERT_CARDS)
    )
    return [
        Card(
            id=f"alert:{alert.id}",
            type=f"alert.{Severity(alert.severity).value}",
            priority=PRIORITY[Severity(alert.severity)],
            title=_message(alert, "title"),
            body=_message(alert, "body"),
            created_at=alert.last_seen,
            target_kind="alert",
            target_id=str(alert.id),
        )
        for alert in alerts
    ]


def _alert_document(alert: Alert) -> dict[str, Any]:
    document: dict[str, Any] = msgspec.to_builtins(
        AlertQueries.alert_out(alert, DEFAULT_LANGUAGE), builtin_types=(datetime,)
    )
    # Texts: the facade renders them in the caller's language.
    document["title"], document["body"] = _message(alert, "title"), _message(alert, "body")
    return document


async def sync(
    ctx: PluginContext, principal: Principal, since: datetime | None
) -> Mapping[str, Changes]:
    alerts = tenancy.scope(Alert.all(), principal)
    inbox = Notification.filter(user_id=principal.user_id)
    if since is None:
        start = ctx.clock.now() - INITIAL_WINDOW
        alerts = alerts.filter(
            Q(status__in=[AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED]) | Q(resolved_at__gte=start)
        )
        inbox = inbox.filter(created_at__gte=start)
    else:
        alerts = alerts.filter(
            Q(first_seen__gte=since)
            | Q(last_seen__gte=since)
            | Q(acknowledged_at__gte=since)
            | Q(resolved_at__gte=since)
        )
        inbox = inbox.filter(Q(created_at__gte=since) | Q(read_at__gte=since))
    changed = await alerts.prefetch_related("acknowledged_by", "resolved_by").order_by(
        "first_seen", "id"
    )
    items = await inbox.order_by("created_at", "id")
    return {
        "alerts": Changes(upserted=[_alert_document(a) for a in changed], deleted=[]),
        "inbox": Changes(upserted=[_inbox_document(n) for n in items], deleted=[]),
    }


def _inbox_document(notification: Notification) -> dict[str, Any]:
    document: dict[str, Any] = msgspec.to_builtins(
        inbox_item(notification, DEFAULT_LANGUAGE), builtin_types=(datetime,)
    )
    document["title"] = msgspec.convert(notification.message["title"], Text)
    document["body"] = msgspec.convert(notification.message["body"], Text)
    return document
