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
from tortoise.expressions import Q

from core import tenancy
from core.alerts.models import Alert, AlertStatus, Notification, Severity
from core.alerts.service import AlertQueries
from core.feed import Card
from core.i18n import DEFAULT_LANGUAGE, Text, as_text
from core.identity.access import Principal
from core.plugin import PluginContext
from core.sync import Changes
from mobile_api import hot
from mobile_api.services import inbox_item

SOURCE = "core"
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


def _text(message: dict[str, Any] | None, part: str, plain: str) -> Text:
    """A stored message part as a text; a row without one shows its plain column."""
    stored = (message or {}).get(part)
    return as_text(plain) if stored is None else msgspec.convert(stored, Text)


def _message(alert: Alert, part: str) -> Text:
    return _text(alert.message, part, getattr(alert, part))


async def feed(ctx: PluginContext, principal: Principal) -> list[Card]:
    """The caller's open alerts, critical first, at most ``ALERT_CARDS``."""
    cards = []
    for alert_id, severity, message, title, body, last_seen in await hot.open_alerts(
        principal, ALERT_CARDS
    ):
        level = Severity(severity)
        cards.append(
            Card(
                id=f"alert:{alert_id}",
                type=f"alert.{level.value}",
                priority=PRIORITY[level],
                title=_text(message, "title", title),
                body=_text(message, "body", body),
                created_at=last_seen,
                target_kind="alert",
                target_id=str(alert_id),
            )
        )
    return cards


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
