"""Fixtures shared by every test.

One database backend per pytest process: PostgreSQL when ``MINORI_TEST_DATABASE_URL`` names
one, SQLite otherwise. Each test gets a fresh, fully migrated database copied from a template
migrated once per run, so tests never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiomqtt
import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from core.app import create_app
from core.clock import FakeClock
from core.db import bound, migrate, open_database, tortoise_config
from core.identity.models import Organization, OrganizationKind, Role, User
from core.identity.services import hash_password
from core.registry import PluginRegistry
from core.settings import PluginEntry, Settings, load_plugins_file, load_settings
from tests.fcm_server import FCMServer, fcm_sender, fcm_server
from tests.support import Api

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("MINORI_TEST_DATABASE_URL")
MQTT_URL = os.environ.get("MINORI_TEST_MQTT_URL")
ENABLED_PLUGINS = {
    name for name, entry in load_plugins_file(ROOT / "plugins.toml").items() if entry.enabled
}
TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256"
PASSWORD = "correct horse battery"


def base_settings(database_url: str, **overrides: Any) -> Settings:
    environ = {"MINORI_PLUGINS_FILE": str(ROOT / "plugins.toml"), "MINORI_LOG_JSON": "0"}
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "log_json": False,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return load_settings(environ, **values)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


class Databases:
    """Hands out fresh migrated databases, cloned from a template migrated once."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.run = uuid.uuid4().hex[:8]
        self.template: str | None = None
        self.created: list[str] = []

    def _migrate(self, url: str) -> None:
        settings = base_settings(url)
        registry = PluginRegistry.load(settings, FakeClock(datetime.now(UTC)))
        config = tortoise_config(url, [p.plugin for p in registry.active if p.plugin])
        asyncio.run(migrate(config))

    def new(self) -> str:
        if PG_URL:
            return self._new_postgres()
        if self.template is None:
            self.template = str(self.tmp / "template.db")
            self._migrate(f"sqlite://{self.template}")
        path = self.tmp / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite://{path}"

    def _new_postgres(self) -> str:
        assert PG_URL
        if self.template is None:
            self.template = f"minori_tpl_{self.run}"
            asyncio.run(self._admin(f'CREATE DATABASE "{self.template}"'))
            self.created.append(self.template)
            self._migrate(_with_database(PG_URL, self.template))
        name = f"minori_t_{self.run}_{len(self.created)}"
        asyncio.run(self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self.created.append(name)
        return _with_database(PG_URL, name)

    def drop(self, url: str) -> None:
        if PG_URL:
            name = urlsplit(url).path.lstrip("/")
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.created.remove(name)

    def drop_all(self) -> None:
        for name in reversed(list(self.created)):
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.created.clear()

    @staticmethod
    async def _admin(sql: str) -> None:
        assert PG_URL
        connection = await asyncpg.connect(_asyncpg_dsn(PG_URL))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    pool = Databases(tmp_path_factory.mktemp("db"))
    yield pool
    pool.drop_all()


@pytest.fixture
def database_url(databases: Databases) -> Iterator[str]:
    url = databases.new()
    yield url
    databases.drop(url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 26, 0, 0, tzinfo=UTC))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return base_settings(database_url)


async def run_in_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` against the test database outside any app (seeding, checking)."""
    registry = PluginRegistry.load(settings, FakeClock(datetime.now(UTC)))
    context = await open_database(
        tortoise_config(settings.database_url, [p.plugin for p in registry.active if p.plugin])
    )
    try:
        with bound(context):
            return await work()
    finally:
        await context.close_connections()


class World:
    """Two organizations, each with a member; an advisor and an admin; all with one password."""

    def __init__(self) -> None:
        self.org_ids: dict[str, str] = {}
        self.user_ids: dict[str, str] = {}

    async def build(self) -> World:
        farm = await Organization.create(name="Hinata Farm", kind=OrganizationKind.FARM)
        fishery = await Organization.create(
            name="Kujuku Fishery", kind=OrganizationKind.FISHERY, share_with_advisors=True
        )
        self.org_ids = {"farm": str(farm.id), "fishery": str(fishery.id)}
        password_hash = hash_password(PASSWORD)
        for username, role, org in [
            ("farmer", Role.MEMBER, farm),
            ("fisher", Role.MEMBER, fishery),
            ("advisor", Role.ADVISOR, None),
            ("admin", Role.ADMIN, None),
        ]:
            user = await User.create(
                username=username, password_hash=password_hash, role=role, display_name=username
            )
            if org is not None:
                await user.organizations.add(org)
            self.user_ids[username] = str(user.id)
        return self


@pytest.fixture
async def world(settings: Settings) -> World:
    return await run_in_database(settings, World().build)


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Litestar:
    return create_app(settings, clock=clock, run_jobs=False)


@pytest.fixture
async def api(app: Litestar, world: World) -> AsyncIterator[Api]:
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield Api(client, PASSWORD)


@pytest.fixture
def fcm() -> Iterator[FCMServer]:
    with fcm_server() as server:
        yield server


def sensor_settings(database_url: str, **overrides: Any) -> Settings:
    """The repo's plugins plus the test-only ``sensors`` plugin (tests/sensors.py)."""
    plugins = dict(load_plugins_file(ROOT / "plugins.toml"))
    plugins["sensors"] = PluginEntry(
        module="tests.sensors:sensors", settings=overrides.pop("sensor_settings", {})
    )
    return base_settings(database_url, plugins=plugins, **overrides)


@pytest.fixture
async def push_api(
    settings: Settings, clock: FakeClock, world: World, fcm: FCMServer
) -> AsyncIterator[Api]:
    """An app with the sensors plugin whose pushes go through firebase-admin to ``fcm``."""
    with fcm_sender() as sender:
        app = create_app(
            sensor_settings(settings.database_url), clock=clock, run_jobs=False, push_sender=sender
        )
        async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
            yield Api(client, PASSWORD)


@pytest.fixture
def mqtt_overrides() -> Iterator[dict[str, str]]:
    """Settings for an MQTT consumer with a session of its own, removed after the test so no
    stale session of the share group keeps receiving messages."""
    if not MQTT_URL:
        pytest.skip("set MINORI_TEST_MQTT_URL to test with Mosquitto")
    tag = uuid.uuid4().hex[:10]
    overrides = {
        "mqtt_url": MQTT_URL,
        "mqtt_client_id": f"minori-test-{tag}",
        "mqtt_share_group": f"test{tag}",
    }
    yield overrides

    async def forget_session() -> None:
        parts = urlsplit(MQTT_URL)
        async with aiomqtt.Client(
            parts.hostname or "127.0.0.1",
            parts.port or 1883,
            identifier=overrides["mqtt_client_id"],
            clean_session=True,
        ):
            pass

    asyncio.run(forget_session())
