"""What the example shows on the app's home screen and keeps in the app for offline use.

``feed``: one card when greetings were posted today (in the user's time zone), opening the
latest. The alerts its buttons raise need no card here: core shows every open alert.
``sync``: greetings as the ``greetings`` collection; deletions come from the tombstones that
``services.delete_greeting`` records.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from core.feed import Card
from core.identity.access import Principal
from core.plugin import PluginContext
from core.sync import Changes
from minori_hello import services
from minori_hello.i18n import _

PRIORITY = 20
"""Below every alert: greetings are pleasant, never urgent."""
PREVIEW = 80
"""Characters of the latest greeting shown on the card."""
COUNTED = 99
"""More greetings than this today show as "99+": the card is a nudge, not a report."""


def local_midnight(now: datetime, zone: ZoneInfo) -> datetime:
    return now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)


async def feed(ctx: PluginContext, principal: Principal) -> list[Card]:
    today = local_midnight(ctx.clock.now(), principal.zone)
    greetings = await services.todays_greetings(principal, today, COUNTED + 1)
    if not greetings:
        return []
    greeting_id, text, created_at = greetings[0]
    count = f"{COUNTED}+" if len(greetings) > COUNTED else str(len(greetings))
    preview = text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"
    return [
        Card(
            id=f"greetings:{today.date().isoformat()}",
            type="greetings",
            priority=PRIORITY,
            title=_("Greetings today: {count}", count=count),
            body=_("Latest: {text}", text=preview),
            created_at=created_at,
            target_kind="hello.greeting",
            target_id=str(greeting_id),
        )
    ]


async def sync(
    ctx: PluginContext, principal: Principal, since: datetime | None
) -> Mapping[str, Changes]:
    upserted, deleted = await services.greeting_changes(principal, since)
    return {services.COLLECTION: Changes(upserted=upserted, deleted=deleted)}
