"""Typed in-process events between plugins.

A publisher sends ``ctx.events.publish("red_tide.level_changed", LevelChanged(...))``; a
plugin subscribes in its declaration, ``events={"red_tide.level_changed": on_level}``, with
a handler ``async def on_level(ctx, event: MyView)``. Plugins never import each other, so
each side types the payload with its own msgspec Struct: the bus converts the published
value to the type the handler's second parameter names (a plain ``dict`` if it names none).

Inside ``async with ctx.events.transaction():`` events wait for the transaction to commit
and are dropped if it rolls back. Handlers run in their own tasks: a slow or failing handler
never holds up the publisher or the other handlers; a failure is logged with the event.
"""

from __future__ import annotations

import asyncio
import logging
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import msgspec
from tortoise.transactions import in_transaction

log = logging.getLogger("minori.events")

Handler = Callable[[Any, Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Subscription:
    plugin: str
    context: Any
    handler: Handler
    payload_type: type | None


_pending: ContextVar[list[tuple[str, Any]] | None] = ContextVar("pending_events", default=None)


def _payload_type(handler: Handler) -> type | None:
    try:
        hints = typing.get_type_hints(handler)
    except Exception:
        return None
    names = [n for n in handler.__code__.co_varnames[: handler.__code__.co_argcount]]
    if len(names) < 2:
        return None
    wanted = hints.get(names[1])
    return wanted if isinstance(wanted, type) and wanted is not dict else None


class EventBus:
    def __init__(self) -> None:
        self._subscriptions: dict[str, list[Subscription]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, name: str, plugin: str, context: Any, handler: Handler) -> None:
        self._subscriptions.setdefault(name, []).append(
            Subscription(plugin, context, handler, _payload_type(handler))
        )

    def subscribers(self, name: str) -> list[str]:
        return [s.plugin for s in self._subscriptions.get(name, [])]

    async def publish(self, name: str, payload: Any) -> None:
        """Deliver now, or after the enclosing ``transaction()`` commits."""
        pending = _pending.get()
        if pending is not None:
            pending.append((name, payload))
        else:
            self._dispatch(name, payload)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A database transaction whose events are delivered once it has committed."""
        outer = _pending.get()
        events: list[tuple[str, Any]] = []
        token = _pending.set(events)
        try:
            async with in_transaction():
                yield
        finally:
            _pending.reset(token)
        if outer is not None:
            outer.extend(events)  # a nested transaction commits with the outer one
        else:
            for name, payload in events:
                self._dispatch(name, payload)

    def _dispatch(self, name: str, payload: Any) -> None:
        data = msgspec.to_builtins(payload)
        for subscription in self._subscriptions.get(name, []):
            task = asyncio.create_task(self._deliver(name, data, subscription))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, name: str, data: Any, subscription: Subscription) -> None:
        try:
            event = (
                msgspec.convert(data, subscription.payload_type)
                if subscription.payload_type
                else data
            )
            await subscription.handler(subscription.context, event)
        except Exception:
            log.exception(
                "%s failed to handle %s",
                subscription.plugin,
                name,
                extra={"event": name, "payload": data, "plugin": subscription.plugin},
            )

    async def drain(self) -> None:
        """Wait for every handler started so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
