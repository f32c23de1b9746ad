"""The home screen in one round trip: every source's cards within a time budget.

Sources are core (open alerts) and each loaded plugin with a ``feed`` slot. They run
concurrently; a source that has not answered within ``BUDGET_S`` is left out of this answer
(and logged), one that fails likewise, so a slow or broken plugin never stalls the screen.
Each source shows at most ``CARDS_PER_SOURCE`` cards (its own best), the screen at most
``MAX_CARDS``, ordered by priority, then newest first.

A person's cards from a plugin are kept (``CardStore``) and shown again while none of the
plugin's rows they may see was written (the database counts the writes, ``core.feed.watch``:
in a member's organizations and in none; in the whole city for advisors and admins), until
their next midnight, and for at most ``KEEP_CARDS``. Core's own cards (open alerts) are read
afresh at every opening; they cost one query.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
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

KEEP_CARDS = timedelta(minutes=5)
"""The longest a person's cards from a plugin are shown again without asking it: how late the
screen may show what a feed reads outside its plugin's rows (readings, names) or what only
the passing of time changes (a consultation becoming due within the day)."""
KEPT_CARD_LISTS = 100_000
"""Card lists kept per server process (one per person and plugin), the least recently shown
dropped first."""

Feed = Callable[[PluginContext, Principal], Awaitable[Sequence[Card]]]
Stamps = tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class _Kept:
    stamps: Stamps
    until: datetime
    cards: Sequence[Card]


class CardStore:
    """The card lists of people's last openings, each with the write counts it was made at."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[tuple[str, Principal], _Kept] = OrderedDict()

    def get(
        self, source: str, principal: Principal, stamps: Stamps, now: datetime
    ) -> Sequence[Card] | None:
        key = (source, principal)
        kept = self._kept.get(key)
        if kept is None:
            return None
        if kept.stamps != stamps or now >= kept.until:
            del self._kept[key]
            return None
        self._kept.move_to_end(key)
        return kept.cards

    def put(
        self,
        source: str,
        principal: Principal,
        stamps: Stamps,
        until: datetime,
        cards: Sequence[Card],
    ) -> None:
        self._kept[(source, principal)] = _Kept(stamps, until, tuple(cards))
        self._kept.move_to_end((source, principal))
        while len(self._kept) > self._size:
            self._kept.popitem(last=False)


def _next_midnight(now: datetime, zone: tzinfo) -> datetime:
    day = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=zone)


_stores: WeakKeyDictionary[PluginRegistry, CardStore] = WeakKeyDictionary()


def store(registry: PluginRegistry) -> CardStore:
    found = _stores.get(registry)
    if found is None:
        found = _stores[registry] = CardStore(KEPT_CARD_LISTS)
    return found


_sources: WeakKeyDictionary[PluginRegistry, list[tuple[str, Feed, PluginContext]]] = (
    WeakKeyDictionary()
)


def sources(registry: PluginRegistry) -> list[tuple[str, Feed, PluginContext]]:
    """Core first, then the plugins in plugins.toml order (worked out once per app)."""
    found = _sources.get(registry)
    if found is None:
        core = PluginContext.build(registry.services, core_sources.SOURCE, None)
        found = [(core_sources.SOURCE, core_sources.feed, core)]
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


async def _feeds(registry: PluginRegistry, principal: Principal) -> dict[str, Sequence[Card]]:
    """Each source's cards, kept ones where they are still true, the others asked for."""
    kept = store(registry)
    counted = await hot.stamps(principal)
    now = registry.services.clock.now()
    until = min(
        now + KEEP_CARDS,
        _next_midnight(now, principal.zone),
        _next_midnight(now, registry.services.city_zone),
    )
    found: dict[str, Sequence[Card]] = {}
    tasks: dict[asyncio.Task[Sequence[Card]], str] = {}
    for name, feed, ctx in sources(registry):
        fresh = name == core_sources.SOURCE  # one query: read at every opening
        cards = None if fresh else kept.get(name, principal, counted.get(name, ()), now)
        if cards is not None:
            found[name] = cards
        else:
            tasks[asyncio.create_task(feed(ctx, principal), name=name)] = name
    if not tasks:
        return found
    done, late = await asyncio.wait(tasks, timeout=BUDGET_S)
    for task in late:
        log.warning("feed of %s took longer than %g s: left out", tasks[task], BUDGET_S)
        task.add_done_callback(_forget)
        task.cancel()
    for task in done:
        name = tasks[task]
        if task.exception() is not None:
            log.error("feed of %s failed", name, exc_info=task.exception())
            continue
        found[name] = task.result()
        if name != core_sources.SOURCE:
            kept.put(name, principal, counted.get(name, ()), until, found[name])
    return found


async def cards(
    registry: PluginRegistry, principal: Principal, language: str
) -> list[schemas.Card]:
    shown: list[schemas.Card] = []
    for name, cards in (await _feeds(registry, principal)).items():
        try:
            own = sorted((_card_out(name, c, language) for c in cards), key=_order)
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
