"""What the app shows and keeps offline.

``feed``: this morning's bulletin, once it was sent to the caller (the alerts of a level
change are core's cards already). ``sync``: sea areas (public), and the caller's farms, cages,
feeding plans (deletions included) and feeding logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import msgspec

from core.feed import Card
from core.i18n import Text
from core.identity.access import Principal
from core.plugin import PluginContext
from core.sync import Changes
from plugins.red_tide import services

PRIORITY = {"warning": 95, "advisory": 85, "none": 30}
"""A bulletin that says stop feeding sits with the critical alerts; a quiet one below them."""


async def feed(ctx: PluginContext, principal: Principal) -> list[Card]:
    sent = await services.todays_bulletin(ctx, principal)
    if sent is None:
        return []
    return [
        Card(
            id=f"bulletin:{sent.local_date.isoformat()}",
            type="bulletin",
            priority=PRIORITY.get(sent.level, PRIORITY["none"]),
            title=msgspec.convert(sent.title, Text),
            body=msgspec.convert(sent.body, Text),
            created_at=sent.sent_at,
            target_kind="red_tide.bulletin",
            target_id=sent.local_date.isoformat(),
        )
    ]


async def sync(
    ctx: PluginContext, principal: Principal, since: datetime | None
) -> Mapping[str, Changes]:
    found = await services.changes(ctx, principal, since)
    return {name: Changes(upserted=up, deleted=gone) for name, (up, gone) in found.items()}
