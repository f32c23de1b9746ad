"""Plugins used only by the facade's tests: feeds that are slow, broken or too chatty, and a
sync that fails once."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.feed import Card
from core.i18n import _
from core.identity.access import Principal
from core.plugin import Plugin, PluginContext
from core.settings import PluginEntry, Settings, load_plugins_file
from core.sync import Changes
from tests.conftest import ROOT, base_settings


async def slow_feed(ctx: PluginContext, principal: Principal) -> list[Card]:
    await asyncio.Event().wait()  # never answers
    return []


async def broken_feed(ctx: PluginContext, principal: Principal) -> list[Card]:
    raise RuntimeError("the slow plugin's database is down")


async def chatty_feed(ctx: PluginContext, principal: Principal) -> list[Card]:
    now = ctx.clock.now()
    return [
        Card(
            id=f"tip:{i}",
            type="tip",
            priority=i,
            title=_("Tip {number}", number=i),
            body="",
            created_at=now,
            target_kind="chatty.tip",
            target_id=str(i),
        )
        for i in range(30)
    ]


ASKED: dict[str, int] = {}
"""How many times the counting feed was asked for each user."""


async def counting_feed(ctx: PluginContext, principal: Principal) -> list[Card]:
    ASKED[principal.user_id] = ASKED.get(principal.user_id, 0) + 1
    return [
        Card(
            id="asked",
            type="asked",
            priority=1,
            title=_("Tip {number}", number=ASKED[principal.user_id]),
            body="",
            created_at=ctx.clock.now(),
            target_kind="counting.asked",
            target_id=principal.user_id,
        )
    ]


SYNC_CALLS: list[datetime | None] = []
"""The ``since`` of every call to the flaky sync, in order."""
FAIL_NEXT: list[bool] = []


async def flaky_sync(
    ctx: PluginContext, principal: Principal, since: datetime | None
) -> Mapping[str, Changes]:
    SYNC_CALLS.append(since)
    if FAIL_NEXT and FAIL_NEXT.pop(0):
        raise RuntimeError("flaky")
    return {"things": Changes(upserted=[{"id": "t1", "label": _("Not Found")}], deleted=[])}


slow = Plugin(name="slow", version="0.1", title="Slow feed", feed=slow_feed)
broken = Plugin(name="broken", version="0.1", title="Broken feed", feed=broken_feed)
chatty = Plugin(name="chatty", version="0.1", title="Chatty feed", feed=chatty_feed)
counting = Plugin(name="counting", version="0.1", title="Counting feed", feed=counting_feed)
flaky = Plugin(name="flaky", version="0.1", title="Flaky sync", sync=flaky_sync)


def with_plugins(database_url: str, *names: str, **overrides: Any) -> Settings:
    """The repository's plugins plus the named test plugins of this module."""
    plugins = dict(load_plugins_file(ROOT / "plugins.toml"))
    for name in names:
        plugins[name] = PluginEntry(module=f"tests.mobile_api.plugins:{name}")
    return base_settings(database_url, plugins=plugins, **overrides)
