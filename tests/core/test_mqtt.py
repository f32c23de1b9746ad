"""The MQTT consumer against the real Mosquitto: same rules as HTTP, nothing lost, nothing
stored twice, unusable messages kept with their reason."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from core.app import create_app
from core.clock import FakeClock
from core.settings import Settings
from core.telemetry.models import DeadLetter, Reading
from tests.conftest import PASSWORD, PG_URL, World, run_in_database, sensor_settings
from tests.core.test_ingest import register
from tests.e2e.test_push_e2e import publish
from tests.support import Api


def mqtt_app(settings: Settings, clock: FakeClock, overrides: dict[str, str]) -> Litestar:
    return create_app(
        sensor_settings(settings.database_url, **overrides), clock=clock, run_jobs=False
    )


async def until(check: Callable[[], Awaitable[Any]], attempts: int = 300) -> Any:
    for _ in range(attempts):
        if result := await check():
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def connected(api: Api) -> None:
    async def ok() -> bool:
        return (await api.get("/health/ready")).json()["checks"]["mqtt"] == "ok"

    await until(ok)


def consumer(api: Api) -> Any:
    return api.client.app.state.telemetry.mqtt


async def test_unusable_messages_go_to_the_dead_letter_table(
    settings: Settings, clock: FakeClock, world: World, mqtt_overrides: dict[str, str]
) -> None:
    async with AsyncTestClient(app=mqtt_app(settings, clock, mqtt_overrides)) as client:
        api = Api(client, PASSWORD)
        await connected(api)
        device = await register(api, world)
        farm = world.org_ids["farm"]
        now = clock.now().isoformat()
        await publish(f"minori/{farm}/{device['id']}/up", b"not json")
        await publish(
            f"minori/{world.org_ids['fishery']}/{device['id']}/up",
            {"id": "x", "ts": now, "metric": "door", "value": 1},
        )
        await publish(
            f"minori/{farm}/{device['id']}/up",
            {
                "readings": [
                    {"id": "good", "ts": now, "metric": "temperature", "value": 4},
                    {"id": "bad", "ts": now, "metric": "temperature", "value": 400},
                ]
            },
        )
        await until(lambda: _is(consumer(api).acknowledged == 3))

        async def check() -> None:
            letters = {d.reason for d in await DeadLetter.all()}
            assert "not valid JSON" in letters
            assert "unknown or revoked device for this organization" in letters
            assert any("item 1: value 400" in reason for reason in letters)
            assert [r.message_id for r in await Reading.all()] == ["good"]

        await run_in_database(settings, check)


async def _is(value: bool) -> bool:
    return value


async def test_redelivery_after_the_consumer_dies_before_acknowledging(
    settings: Settings, clock: FakeClock, world: World, mqtt_overrides: dict[str, str]
) -> None:
    messages = 40
    async with AsyncTestClient(app=mqtt_app(settings, clock, mqtt_overrides)) as client:
        api = Api(client, PASSWORD)
        await connected(api)
        device = await register(api, world)
        topic = f"minori/{world.org_ids['farm']}/{device['id']}/up"
        now = clock.now().isoformat()
        payloads = [
            {"id": f"r-{i}", "ts": now, "metric": "temperature", "value": i % 50}
            for i in range(messages)
        ]
        # The first ten are stored and acknowledged normally.
        await publish(topic, *payloads[:10])
        await until(lambda: _is(consumer(api).acknowledged == 10))
        # Then the database stops accepting writes and more arrive: the consumer dies with
        # some received but neither stored nor acknowledged (the broker holds back the rest
        # while too many are unacknowledged).
        async with locked_readings(settings):
            await publish(topic, *payloads[10:])
            await until(lambda: _is(consumer(api).received >= 20))
            assert consumer(api).acknowledged == 10
            await client.__aexit__(None, None, None)

    # A new instance with the same session gets the unacknowledged messages again; a few of
    # them are sent twice more, as a broker may.
    async with AsyncTestClient(app=mqtt_app(settings, clock, mqtt_overrides)) as client:
        api = Api(client, PASSWORD)
        await connected(api)
        await publish(topic, *payloads[5:15])

        async def all_stored() -> bool:
            return await run_in_database(settings, lambda: Reading.all().count()) == messages

        await until(all_stored)

    async def check() -> None:
        ids = await Reading.filter(device_id=device["id"]).values_list("message_id", flat=True)
        assert sorted(ids) == sorted(p["id"] for p in payloads)

    await run_in_database(settings, check)


class locked_readings:
    """Hold a write lock on the readings from outside the app (SQLite or PostgreSQL)."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.database_url

    async def __aenter__(self) -> None:
        if PG_URL:
            self.connection = await asyncpg.connect(
                self.url.replace("postgres://", "postgresql://", 1)
            )
            self.transaction = self.connection.transaction()
            await self.transaction.start()
            await self.connection.execute("LOCK TABLE core_reading IN EXCLUSIVE MODE")
        else:
            path = self.url.removeprefix("sqlite://").split("?")[0]
            self.sqlite = sqlite3.connect(path, isolation_level=None)
            self.sqlite.execute("BEGIN EXCLUSIVE")

    async def __aexit__(self, *exc: object) -> None:
        if PG_URL:
            await self.transaction.rollback()
            await self.connection.close()
        else:
            self.sqlite.execute("ROLLBACK")
            self.sqlite.close()
