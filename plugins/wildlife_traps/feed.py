"""What the wildlife trap plugin shows on the app's home screen and keeps in the app offline.

``feed``: a card per sprung trap nobody has reset yet once its alert is no longer open (an
open alert has its own card from core), and one card listing today's traps still
``missed``: neither inspected nor verified by their sensor so far today.
``sync``: ``traps``, ``inspections`` and ``captures``; deleted traps from tombstones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from core.feed import Card
from core.identity.access import Principal
from core.plugin import PluginContext
from core.sync import Changes
from plugins.wildlife_traps import services
from plugins.wildlife_traps.i18n import _

SPRUNG_PRIORITY = 85
"""Below an open critical alert (100), above every warning (60)."""
MISSED_PRIORITY = 65
MISSED_NAMES = 5
"""Trap names listed on the missed-inspection card; the rest are counted."""


async def feed(ctx: PluginContext, principal: Principal) -> list[Card]:
    cards = []
    traps = await services.traps_in_place(principal)
    for trap in await services.sprung_unattended(traps):
        sprung_at = trap.sprung_at or trap.state_changed_at
        cards.append(
            Card(
                id=f"sprung:{trap.id}",
                type="sprung_trap",
                priority=SPRUNG_PRIORITY,
                title=_("{trap} is sprung", trap=trap.name),
                body=_(
                    "Sprung at {time}. Record the capture or reset the trap.",
                    time=services.local_time(ctx, sprung_at, "%m/%d %H:%M"),
                ),
                created_at=sprung_at,
                target_kind=services.TRAP_SUBJECT,
                target_id=str(trap.id),
            )
        )
    missed = await services.missed_today(ctx, traps)
    if missed:
        names = ", ".join(t.name for t in missed[:MISSED_NAMES])
        if len(missed) > MISSED_NAMES:
            names = _("{names} and {more} more", names=names, more=len(missed) - MISSED_NAMES)
        day = ctx.today()
        cards.append(
            Card(
                id=f"missed:{day.isoformat()}",
                type="inspections_due",
                priority=MISSED_PRIORITY,
                title=_("Traps to inspect today: {count}", count=len(missed)),
                body=_(
                    "Not inspected and not verified by their sensors today: {traps}.", traps=names
                ),
                created_at=ctx.clock.now(),
                target_kind=services.TRAP_SUBJECT,
                target_id=str(missed[0].id),
            )
        )
    return cards


async def sync(
    ctx: PluginContext, principal: Principal, since: datetime | None
) -> Mapping[str, Changes]:
    found = await services.changes_since(ctx, principal, since)
    return {name: Changes(upserted=up, deleted=gone) for name, (up, gone) in found.items()}
