"""The home screen in one round trip: every source's cards within a time budget.

Sources are core (open alerts) and each loaded plugin with a ``feed`` slot. They run
concurrently; a source that has not answered within ``BUDGET_S`` is left out of this answer
(and logged), one that fails likewise, so a slow or broken plugin never stalls the screen.
Each source shows at most ``CARDS_PER_SOURCE`` cards (its own best), the screen at most
``MAX_CARDS``, ordered by priority, then newest first.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from weakref import WeakKeyDictionary

import msgspec

from core.feed import Card
from core.i18n import as_text
from core.identity.access import Principal
from core.plugin import PluginContext
from core.registry import PluginRegistry
from mobile_api import core_sources, hot, schemas

log = logging.getLogger("minori.mobile")

BUDGET_S = 0.5
CARDS_PER_SOURCE = 10
MAX_CARDS = 50

Feed = Callable[[PluginContext, Principal], Awaitable[Sequence[Card]]]


_sources: WeakKeyDictionary[PluginRegistry, list[tuple[str, Feed, PluginContext]]] = (
    WeakKeyDictionary()
)


def sources(registry: PluginRegistry) -> list[tuple[str, Feed, PluginContext]]:
    """Core first, then the plugins in plugins.toml order (worked out once per app)."""
    found = _sources.get(registry)
    if found is None:
        found = [("core", core_sources.feed, PluginContext.build(registry.services, "core", None))]
        for loaded in registry.active:
            if loaded.plugin is not None and loaded.plugin.feed and loaded.context is not None:
                found.append((loaded.name, loaded.plugin.feed, loaded.context))
        _sources[registry] = found
    return found


def _order(card: schemas.Card) -> tuple[Any, ...]:
    return (-card.priority, -card.created_at.timestamp(), card.plugin, card.id)


def _card_out(plugin: str, card: Card, language: str) -> schemas.Card:
    return schemas.Card(
        id=card.id,
        plugin=plugin,
        type=card.type,
        priority=max(0, min(100, int(card.priority))),
        title=as_text(card.title).render(language),
        body=as_text(card.body).render(language),
        created_at=card.created_at,
        action=schemas.Action("open", schemas.Target(card.target_kind, card.target_id)),
    )


def _forget(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("feed of %s failed after its budget", task.get_name())


async def cards(
    registry: PluginRegistry, principal: Principal, language: str
) -> list[schemas.Card]:
    tasks = {
        asyncio.create_task(feed(ctx, principal), name=name): name
        for name, feed, ctx in sources(registry)
    }
    done, late = await asyncio.wait(tasks, timeout=BUDGET_S)
    for task in late:
        log.warning("feed of %s took longer than %g s: left out", tasks[task], BUDGET_S)
        task.add_done_callback(_forget)
        task.cancel()
    shown: list[schemas.Card] = []
    for task in done:
        name = tasks[task]
        if task.exception() is not None:
            log.error("feed of %s failed", name, exc_info=task.exception())
            continue
        try:
            own = sorted((_card_out(name, c, language) for c in task.result()), key=_order)
        except Exception:
            log.exception("feed of %s returned cards that cannot be shown", name)
            continue
        shown.extend(own[:CARDS_PER_SOURCE])
    return sorted(shown, key=_order)[:MAX_CARDS]


async def home(registry: PluginRegistry, principal: Principal, language: str) -> tuple[bytes, str]:
    """The home screen as the JSON sent (times in the user's zone), and its ETag: a digest of
    exactly those bytes, so it changes with the language and the zone too."""
    shown, unread = await asyncio.gather(
        cards(registry, principal, language), hot.unread(principal)
    )
    zone = principal.zone
    local = [msgspec.structs.replace(c, created_at=c.created_at.astimezone(zone)) for c in shown]
    body = msgspec.json.encode(schemas.Home(cards=local, unread=unread))
    return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names this ETag (weak comparison, as RFC 9110 asks)."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return etag in tags or "*" in tags
