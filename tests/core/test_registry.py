"""The registry's policies: discovery, order, failure, settings, secrets.

The plugins here are small module-level ``Plugin`` values, named in the plugins table as
``module = "tests.core.test_registry:<attribute>"`` exactly as plugins.toml would.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from core.app import create_app
from core.clock import FakeClock
from core.identity.access import PUBLIC
from core.plugin import Context, Plugin
from core.registry import PluginRegistry
from core.settings import ConfigError, PluginEntry, Settings, load_settings
from tests.conftest import PASSWORD, TEST_SECRET, World
from tests.support import Api

MODULE = "tests.core.test_registry"


class NeedySettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    limit: int = 5
    region: str = "hinata"
    api_key: str | None = None
    password: str = ""
    token: str = ""


class PingOut(msgspec.Struct):
    plugin: str
    limit: int


@get("/ping", access=PUBLIC, summary="Which plugin answers, and its limit")
async def ping(ctx: Context) -> PingOut:
    return PingOut(plugin=ctx.name, limit=ctx.settings.limit)


def simple(name: str, *requires: str) -> Plugin:
    return Plugin(name=name, version="0.1.0", title=name.title(), requires=requires)


needy = Plugin(name="needy", version="2.0.0", title="Needy", settings=NeedySettings, routes=[ping])
picky = Plugin(name="picky", version="1.0.0", title="Picky", settings=NeedySettings)
bare = simple("bare")
alpha, base, top, omega = simple("alpha"), simple("base"), simple("top", "base"), simple("omega")
ring_a, ring_b = simple("ring_a", "ring_b"), simple("ring_b", "ring_a")
orphan = simple("orphan", "ghost")
not_a_plugin = {"name": "impostor"}


def entry(attribute: str, **options: Any) -> PluginEntry:
    return PluginEntry(module=f"{MODULE}:{attribute}", **options)


def make_settings(
    database_url: str, plugins: dict[str, PluginEntry], environ: dict[str, str] | None = None
) -> Settings:
    return load_settings(
        environ or {},
        database_url=database_url,
        secret_key=TEST_SECRET,
        log_json=False,
        log_level="WARNING",
        plugins=plugins,
        facades={},
    )


@pytest.fixture
def nowhere(tmp_path: Path) -> str:
    """A database URL for apps that are built but never started."""
    return f"sqlite://{tmp_path / 'unused.db'}"


def start_up_error(settings: Settings) -> str:
    with pytest.raises(ConfigError) as raised:
        create_app(settings, clock=FakeClock(datetime(2026, 11, 26, tzinfo=UTC)), run_jobs=False)
    message = str(raised.value)
    assert "\n" not in message, message
    return message


def load(settings: Settings) -> PluginRegistry:
    return PluginRegistry.load(settings, FakeClock(datetime(2026, 11, 26, tzinfo=UTC)))


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def plugin_log() -> Iterator[Records]:
    """What the registry logs (the app replaces the root handlers, so pytest's caplog misses
    it)."""
    handler = Records()
    logger = logging.getLogger("minori.plugins")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
async def serve_plugins(database_url: str, world: World, clock: FakeClock) -> AsyncIterator[Any]:
    """Start an app with the given plugins table on the seeded test database."""
    clients: list[AsyncTestClient[Litestar]] = []

    async def start(plugins: dict[str, PluginEntry]) -> Api:
        app = create_app(make_settings(database_url, plugins), clock=clock, run_jobs=False)
        client = AsyncTestClient(app=app, raise_server_exceptions=False)
        await client.__aenter__()
        clients.append(client)
        return Api(client, PASSWORD)

    yield start
    for client in clients:
        await client.__aexit__(None, None, None)


# Settings


def test_a_wrongly_typed_setting_names_plugin_setting_and_expectation(nowhere: str) -> None:
    settings = make_settings(nowhere, {"needy": entry("needy", settings={"limit": "many"})})
    message = start_up_error(settings)
    assert message.startswith("plugin 'needy': ")
    assert "'limit'" in message
    assert "expected `int`" in message
    assert "got `str`" in message


def test_an_unknown_setting_is_named(nowhere: str) -> None:
    settings = make_settings(nowhere, {"needy": entry("needy", settings={"limt": 3})})
    message = start_up_error(settings)
    assert message.startswith("plugin 'needy': ")
    assert "unknown setting" in message
    assert "limt" in message


def test_settings_for_a_plugin_that_takes_none_are_refused(nowhere: str) -> None:
    settings = make_settings(nowhere, {"bare": entry("bare", settings={"limit": 3})})
    message = start_up_error(settings)
    assert message.startswith("plugin 'bare': ")
    assert "settings" in message


def test_a_missing_env_variable_is_named(nowhere: str) -> None:
    plugins = {"needy": entry("needy", settings={"api_key": {"$env": "NEEDY_API_KEY"}})}
    message = start_up_error(make_settings(nowhere, plugins, environ={"OTHER": "x"}))
    assert message.startswith("plugin 'needy': ")
    assert "NEEDY_API_KEY" in message
    assert "api_key" in message


def test_env_values_resolve_from_the_given_environ_and_are_converted(nowhere: str) -> None:
    plugins = {
        "needy": entry(
            "needy",
            settings={"api_key": {"$env": "NEEDY_API_KEY"}, "limit": {"$env": "NEEDY_LIMIT"}},
        )
    }
    environ = {"NEEDY_API_KEY": "sk-live-5f1e", "NEEDY_LIMIT": "12"}
    context = load(make_settings(nowhere, plugins, environ)).get("needy").context
    assert context is not None
    assert context.settings == NeedySettings(limit=12, api_key="sk-live-5f1e")


def test_secrets_are_redacted_where_settings_are_shown(nowhere: str) -> None:
    plugins = {
        "needy": entry(
            "needy",
            settings={
                "api_key": {"$env": "NEEDY_API_KEY"},
                "password": "hunter2-hunter2",
                "token": "tok-9c1d",
                "region": {"$env": "NEEDY_REGION"},
                "limit": 7,
            },
        )
    }
    environ = {"NEEDY_API_KEY": "sk-live-5f1e", "NEEDY_REGION": "kujuku"}
    loaded = load(make_settings(nowhere, plugins, environ)).get("needy")
    assert loaded.context is not None
    assert loaded.context.settings == NeedySettings(
        limit=7,
        region="kujuku",
        api_key="sk-live-5f1e",
        password="hunter2-hunter2",
        token="tok-9c1d",
    )
    shown = loaded.shown_settings
    assert shown["api_key"] == shown["password"] == shown["token"] == "***"
    assert shown["limit"] == 7
    # A reference is shown as written: where the value comes from, never the value.
    assert shown["region"] == {"$env": "NEEDY_REGION"}
    text = json.dumps(shown)
    for secret in ("sk-live-5f1e", "hunter2-hunter2", "tok-9c1d", "kujuku"):
        assert secret not in text


# Failure policy


def test_a_required_plugin_that_cannot_be_imported_stops_start_up(nowhere: str) -> None:
    plugins = {"ghost": PluginEntry(module="tests.core.no_such_module:plugin")}
    message = start_up_error(make_settings(nowhere, plugins))
    assert message.startswith("plugin 'ghost': ")
    assert "no_such_module" in message


def test_a_value_that_is_not_a_plugin_is_refused(nowhere: str) -> None:
    message = start_up_error(make_settings(nowhere, {"impostor": entry("not_a_plugin")}))
    assert message.startswith("plugin 'impostor': ")
    assert "Plugin" in message


def test_a_name_that_differs_from_the_plugins_own_is_refused(nowhere: str) -> None:
    message = start_up_error(make_settings(nowhere, {"other": entry("needy")}))
    assert message.startswith("plugin 'other': ")
    assert "'needy'" in message

    registry = load(make_settings(nowhere, {"other": entry("needy", required=False)}))
    other = registry.get("other")
    assert (other.status, other.plugin) == ("failed", None)
    assert other.error is not None and "'needy'" in other.error


async def test_an_optional_plugin_that_fails_is_listed_failed_and_the_rest_serves(
    serve_plugins: Any, plugin_log: Records
) -> None:
    api = await serve_plugins(
        {
            "broken": PluginEntry(module="tests.core.no_such_module:plugin", required=False),
            "picky": entry("picky", required=False, settings={"limit": "lots"}),
            "needy": entry("needy", settings={"limit": 3}),
        }
    )
    live = await api.get("/health/live")
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}
    pong = await api.get("/api/v1/needy/ping")
    assert pong.status_code == 200
    assert pong.json() == {"plugin": "needy", "limit": 3}

    response = await api.get("/api/v1/plugins", as_="farmer")
    assert response.status_code == 200
    listed = {p["name"]: p for p in response.json()}
    assert list(listed) == ["broken", "picky", "needy"]
    broken = listed["broken"]
    assert (broken["status"], broken["version"], broken["jobs"]) == ("failed", None, [])
    assert "ModuleNotFoundError" in broken["error"]
    assert "no_such_module" in broken["error"]
    picky_out = listed["picky"]
    assert picky_out["status"] == "failed"
    assert "'limit'" in picky_out["error"] and "expected `int`" in picky_out["error"]
    assert listed["needy"]["status"] == "loaded"
    assert listed["needy"]["error"] is None

    # Each failure is logged once, naming its plugin.
    errors = [r.getMessage() for r in plugin_log.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2, errors
    assert "'broken'" in errors[0] and "'picky'" in errors[1]


async def test_a_disabled_plugin_is_listed_disabled_and_not_mounted(serve_plugins: Any) -> None:
    api = await serve_plugins(
        {
            "needy": entry("needy", enabled=False),
            # Disabled means not even imported: a module that does not exist is fine.
            "ghost": PluginEntry(module="tests.core.no_such_module:plugin", enabled=False),
            "bare": entry("bare"),
        }
    )
    response = await api.get("/api/v1/plugins", as_="admin")
    assert response.status_code == 200
    statuses = {p["name"]: (p["status"], p["error"]) for p in response.json()}
    assert statuses == {
        "needy": ("disabled", None),
        "ghost": ("disabled", None),
        "bare": ("loaded", None),
    }
    missing = await api.get("/api/v1/needy/ping")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


# Order and requirements


def test_a_plugin_comes_after_the_plugin_it_requires(nowhere: str) -> None:
    registry = load(make_settings(nowhere, {"top": entry("top"), "base": entry("base")}))
    assert [p.name for p in registry.all] == ["base", "top"]


def test_requires_moves_only_what_it_must(nowhere: str) -> None:
    """plugins.toml is the order; ``requires`` moves a plugin only as far as it needs."""
    names = ["alpha", "top", "base", "omega"]
    registry = load(make_settings(nowhere, {n: entry(n) for n in names}))
    assert [p.name for p in registry.all] == ["alpha", "base", "top", "omega"]


def test_plugins_without_requirements_keep_the_file_order(nowhere: str) -> None:
    names = ["omega", "bare", "alpha"]
    registry = load(make_settings(nowhere, {n: entry(n) for n in names}))
    assert [p.name for p in registry.all] == names


def test_a_cycle_stops_start_up_naming_the_plugins(nowhere: str) -> None:
    plugins = {"bare": entry("bare"), "ring_a": entry("ring_a"), "ring_b": entry("ring_b")}
    message = start_up_error(make_settings(nowhere, plugins))
    assert "cycle" in message
    assert "ring_a" in message and "ring_b" in message
    assert "bare" not in message


def test_a_missing_requirement_stops_start_up_naming_both(nowhere: str) -> None:
    message = start_up_error(make_settings(nowhere, {"orphan": entry("orphan")}))
    assert "'orphan'" in message
    assert "ghost" in message


def test_a_plugin_whose_requirement_failed_fails_too(nowhere: str) -> None:
    plugins = {
        "top": entry("top", required=False),
        "base": entry("no_such_attribute", required=False),
    }
    registry = load(make_settings(nowhere, plugins))
    assert [(p.name, p.status) for p in registry.all] == [("base", "failed"), ("top", "failed")]
    assert registry.get("top").error is not None and "base" in registry.get("top").error

    plugins["top"] = entry("top")
    message = start_up_error(make_settings(nowhere, plugins))
    assert message.startswith("plugin 'top': ")
    assert "base" in message


def test_an_entry_point_no_package_provides_is_named_with_its_group(nowhere: str) -> None:
    plugins = {"hello": PluginEntry(entry_point="hello_not_installed")}
    message = start_up_error(make_settings(nowhere, plugins))
    assert message.startswith("plugin 'hello': ")
    assert "hello_not_installed" in message and "minori.plugins" in message


def test_an_unknown_city_time_zone_stops_start_up_with_one_line() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"MINORI_CITY_TIMEZONE": "Mars/Olympus"}, secret_key=TEST_SECRET)
    assert str(raised.value) == "MINORI_CITY_TIMEZONE: not a time zone: 'Mars/Olympus'"
    settings = load_settings({"MINORI_CITY_TIMEZONE": "Asia/Ho_Chi_Minh"}, secret_key=TEST_SECRET)
    assert load(settings).services.city_zone.key == "Asia/Ho_Chi_Minh"
