"""What the livestock plugin shows on the app's home screen and keeps in the app offline.

``feed``: a card per heat the collars found today (in the user's time zone) with its
insemination window, and a card per calving due within a week. Open alerts need no card
here: core shows every open alert.
``sync``: the herd as the ``animals`` collection (with its derived reproductive state) and
its records as ``events``; deletions come from the tombstones services record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from core.feed import Card
from core.identity.access import Principal
from core.plugin import PluginContext
from core.sync import Changes
from plugins.livestock import services
from plugins.livestock.i18n import _

HEAT_PRIORITY = 80
"""Below the open alerts themselves (major: 90), above everyday news."""
CALVING_PRIORITY = 50
MAX_CALVING_CARDS = 5


def _at(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%m/%d %H:%M")


async def feed(ctx: PluginContext, principal: Principal) -> list[Card]:
    settings = services.settings_of(ctx)
    zone = principal.zone
    now = ctx.clock.now()
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    cards = []
    for heat in await services.heats_since(principal, midnight):
        start, end = services.insemination_window(settings, heat.onset)
        cards.append(
            Card(
                id=f"heat:{heat.id}",
                type="heat",
                priority=HEAT_PRIORITY,
                title=_("In heat today: {animal}", animal=services.label(heat.animal)),
                body=_(
                    "Inseminate between {start} and {end}.",
                    start=_at(start, zone),
                    end=_at(end, zone),
                ),
                created_at=heat.detected_at,
                target_kind=services.SUBJECT,
                target_id=str(heat.animal_id),
            )
        )
    due = await services.due_calvings(ctx, principal, local.date(), settings.calving_reminder_days)
    for animal, expected in due[:MAX_CALVING_CARDS]:
        days = (expected - local.date()).days
        cards.append(
            Card(
                id=f"calving_due:{animal.id}:{expected.isoformat()}",
                type="calving_due",
                priority=CALVING_PRIORITY + max(0, settings.calving_reminder_days - days),
                title=_("Calving due: {animal}", animal=services.label(animal)),
                body=_("Expected on {day} (in {days} days).", day=expected.isoformat(), days=days),
                created_at=midnight,
                target_kind=services.SUBJECT,
                target_id=str(animal.id),
            )
        )
    return cards


async def sync(
    ctx: PluginContext, principal: Principal, since: datetime | None
) -> Mapping[str, Changes]:
    animals, gone_animals = await services.animal_changes(ctx, principal, since)
    events, gone_events = await services.event_changes(principal, since)
    return {
        services.ANIMALS: Changes(upserted=animals, deleted=gone_animals),
        services.EVENTS: Changes(upserted=events, deleted=gone_events),
    }
