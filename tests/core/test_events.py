from __future__ import annotations

import logging
from datetime import UTC, datetime

import msgspec
import pytest

from core.clock import FakeClock
from core.events import EventBus
from core.identity.models import Organization, OrganizationKind
from core.plugin import Plugin
from core.registry import PluginRegistry
from core.settings import PluginEntry, Settings
from tests.conftest import base_settings, run_in_database


class LevelChanged(msgspec.Struct):
    area: str
    level: str


class LevelSeen(msgspec.Struct):
    """A subscriber's own view of the payload: only the fields it needs."""

    level: str


async def test_handlers_run_after_commit_and_a_failure_spares_the_others(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    bus = EventBus()
    seen: list[tuple[str, object, bool]] = []

    async def typed(ctx: str, event: LevelSeen) -> None:
        committed = await Organization.filter(name="Omura Bay Farm").exists()
        seen.append((ctx, event, committed))

    async def untyped(ctx: str, event: dict) -> None:
        seen.append((ctx, event, True))

    async def broken(ctx: str, event: dict) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe("red_tide.level_changed", "broken", "ctx-broken", broken)
    bus.subscribe("red_tide.level_changed", "fishery", "ctx-fishery", typed)
    bus.subscribe("red_tide.level_changed", "other", "ctx-other", untyped)

    async def publish() -> None:
        async with bus.transaction():
            await Organization.create(name="Omura Bay Farm", kind=OrganizationKind.FISHERY)
            await bus.publish("red_tide.level_changed", LevelChanged("omura", "warning"))
            assert seen == []  # nothing is delivered before the commit
        await bus.drain()

    with caplog.at_level(logging.ERROR, logger="minori.events"):
        await run_in_database(settings, publish)

    assert ("ctx-fishery", LevelSeen("warning"), True) in seen
    assert ("ctx-other", {"area": "omura", "level": "warning"}, True) in seen
    [failure] = [r for r in caplog.records if r.name == "minori.events"]
    assert failure.event == "red_tide.level_changed"
    assert failure.payload == {"area": "omura", "level": "warning"}
    assert "subscriber bug" in str(failure.exc_info[1])

    async def committed() -> bool:
        return await Organization.filter(name="Omura Bay Farm").exists()

    assert await run_in_database(settings, committed)


async def test_a_rolled_back_transaction_publishes_nothing(settings: Settings) -> None:
    bus = EventBus()
    seen: list[object] = []

    async def handler(ctx: object, event: dict) -> None:
        seen.append(event)

    bus.subscribe("hello.said", "x", None, handler)

    async def publish() -> None:
        with pytest.raises(ValueError):
            async with bus.transaction():
                await bus.publish("hello.said", {"text": "hi"})
                raise ValueError("abort")
        await bus.drain()
        await bus.publish("hello.said", {"text": "outside"})
        await bus.drain()

    await run_in_database(settings, publish)
    assert seen == [{"text": "outside"}]


async def on_said(ctx: object, event: dict) -> None:
    return None


listener = Plugin(name="listener", version="1", title="Listens", events={"hello.said": on_said})


def test_plugins_subscribe_through_their_declaration(database_url: str) -> None:
    settings = base_settings(
        database_url, plugins={"listener": PluginEntry(module="tests.core.test_events:listener")}
    )
    registry = PluginRegistry.load(settings, FakeClock(datetime(2026, 1, 1, tzinfo=UTC)))
    assert registry.services.events.subscribers("hello.said") == ["listener"]
