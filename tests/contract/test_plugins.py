"""The plugin contract, checked for every plugin the repository's plugins.toml lists.

A new plugin is covered by adding it to plugins.toml: one name everywhere, settings whose
defaults validate, stable job ids, routes under its own prefix that all declare who may call
them, and migrations that create its tables and match its models.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from litestar import Controller, Litestar, Router
from litestar.handlers import BaseRouteHandler
from tortoise import Model
from tortoise.fields.relational import ManyToManyFieldInstance
from tortoise.migrations.autodetector import MigrationAutodetector

from core.app import create_app
from core.clock import FakeClock
from core.db import bound, open_database, tortoise_config
from core.identity.access import declared_access
from core.plugin import Plugin
from core.registry import PluginRegistry
from core.settings import Settings, load_plugins_file
from tests.conftest import ROOT, base_settings
from tests.support import Api

ENTRIES = load_plugins_file(ROOT / "plugins.toml")
NAMES = [
    pytest.param(
        name,
        marks=[pytest.mark.skip(reason=f"{name} is disabled in plugins.toml")]
        if not entry.enabled
        else [],
    )
    for name, entry in ENTRIES.items()
]

pytestmark = pytest.mark.parametrize("name", NAMES)


def loaded_plugin(settings: Settings, name: str) -> Plugin:
    loaded = PluginRegistry.load(settings, FakeClock(datetime.now(UTC))).get(name)
    assert loaded.status == "loaded", loaded.error
    assert loaded.plugin is not None
    return loaded.plugin


def declared_functions(routes: Any) -> Iterator[Any]:
    """The functions behind a plugin's ``routes``: handlers, controllers and routers."""
    for item in routes:
        if isinstance(item, Router):
            yield from declared_functions(item.route_handlers)
        elif inspect.isclass(item) and issubclass(item, Controller):
            for value in vars(item).values():
                if isinstance(value, BaseRouteHandler):
                    yield value.fn
        elif isinstance(item, BaseRouteHandler):
            yield item.fn


def mounted_handlers(app: Litestar) -> Iterator[tuple[str, BaseRouteHandler]]:
    for route in app.routes:
        for handler in route.route_handlers:
            yield route.path, handler


def plugin_models(context: Any, name: str) -> list[type[Model]]:
    return list(context.apps[name].values()) if name in context.apps else []


def tables_of(models: list[type[Model]]) -> set[str]:
    tables = set()
    for model in models:
        tables.add(model._meta.db_table)
        for field in model._meta.fields_map.values():
            if isinstance(field, ManyToManyFieldInstance):
                tables.add(field.through)
    return tables


def test_loads_with_status_loaded(settings: Settings, name: str) -> None:
    registry = PluginRegistry.load(settings, FakeClock(datetime.now(UTC)))
    loaded = registry.get(name)
    assert (loaded.status, loaded.error) == ("loaded", None)
    assert loaded.plugin is not None and loaded.context is not None
    assert loaded.context.name == name


def test_plugin_name_is_its_plugins_toml_key(settings: Settings, name: str) -> None:
    assert loaded_plugin(settings, name).name == name


async def test_models_belong_to_the_plugins_app_and_tables_carry_its_prefix(
    settings: Settings, name: str
) -> None:
    plugin = loaded_plugin(settings, name)
    config = tortoise_config(settings.database_url, [plugin])
    context = await open_database(config, init_connections=False)
    models = plugin_models(context, name)
    if plugin.models is None:
        assert models == []
        return
    assert models, f"{plugin.models} defines no model"
    for model in models:
        assert model._meta.app == name, model
    for table in tables_of(models):
        assert table.startswith(f"{name}_"), table


async def test_migrations_are_up_to_date_with_the_models(settings: Settings, name: str) -> None:
    plugin = loaded_plugin(settings, name)
    config = tortoise_config(settings.database_url, [plugin])
    context = await open_database(config, init_connections=False)
    with bound(context):
        detector = MigrationAutodetector(context.apps, config["apps"])
        pending = [writer for writer in await detector.changes() if writer.app_label == name]
    assert pending == [], f"models of {name} changed: run `minori db makemigrations {name}`"


async def test_published_jobs_predictors_and_device_kinds_carry_the_name(
    api: Api, settings: Settings, name: str
) -> None:
    plugin = loaded_plugin(settings, name)
    response = await api.get("/api/v1/plugins", as_="admin")
    assert response.status_code == 200
    [published] = [p for p in response.json() if p["name"] == name]
    assert published["status"] == "loaded"
    assert published["version"] == plugin.version
    assert published["jobs"] == [f"{name}.{job.id}" for job in plugin.jobs]
    assert published["predictors"] == [f"{name}.{p.name}" for p in plugin.predictors]
    assert [k["kind"] for k in published["device_kinds"]] == [
        f"{name}.{kind.name}" for kind in plugin.device_kinds
    ]
    for key in ("jobs", "predictors"):
        assert all(item.startswith(f"{name}.") for item in published[key])
    assert all(k["kind"].startswith(f"{name}.") for k in published["device_kinds"])
    assert [k["subject_kind"] for k in published["device_kinds"]] == [
        f"{name}.{kind.subject_kind}" if kind.subject_kind else None for kind in plugin.device_kinds
    ]


def test_settings_defaults_validate(settings: Settings, name: str) -> None:
    plugin = loaded_plugin(settings, name)
    if plugin.settings is None:
        assert ENTRIES[name].settings == {}, f"{name} takes no settings"
        return
    defaults = msgspec.convert({}, plugin.settings)
    # msgspec does not check defaults against their constraints; a round trip does.
    again = msgspec.convert(msgspec.to_builtins(defaults), plugin.settings)
    assert again == defaults


def test_job_ids_are_stable_across_builds(settings: Settings, clock: FakeClock, name: str) -> None:
    plugin = loaded_plugin(settings, name)
    first = create_app(settings, clock=clock, run_jobs=False)
    second = create_app(settings, clock=FakeClock(datetime(2030, 1, 1, tzinfo=UTC)), run_jobs=False)
    expected = [f"{name}.{job.id}" for job in plugin.jobs]
    for app in (first, second):
        ids = [job_id for job_id in app.state.scheduler.jobs if job_id.startswith(f"{name}.")]
        assert ids == expected


def test_routes_live_under_the_prefix_and_declare_access(
    app: Litestar, settings: Settings, name: str
) -> None:
    plugin = loaded_plugin(settings, name)
    prefix = f"/api/v1/{name}"
    functions = set(declared_functions(plugin.routes))
    mounted = [
        (path, handler)
        for path, handler in mounted_handlers(app)
        if getattr(handler.fn, "__func__", handler.fn) in functions
    ]
    assert {getattr(h.fn, "__func__", h.fn) for _, h in mounted} == functions
    for path, handler in mounted:
        assert path == prefix or path.startswith(f"{prefix}/"), path
        assert declared_access(handler) is not None, (path, handler.handler_name)
    for path, handler in mounted_handlers(app):
        if path == prefix or path.startswith(f"{prefix}/"):
            assert declared_access(handler) is not None, (path, handler.handler_name)


def test_no_route_outside_the_core_and_the_plugin_prefixes(
    app: Litestar, database_url: str, name: str
) -> None:
    core_only = create_app(base_settings(database_url, plugins={}), run_jobs=False)
    core_paths = {route.path for route in core_only.routes}
    prefixes = [f"/api/v1/{n}" for n, entry in ENTRIES.items() if entry.enabled]
    strays = [
        route.path
        for route in app.routes
        if route.path not in core_paths
        and not any(route.path == p or route.path.startswith(f"{p}/") for p in prefixes)
    ]
    assert strays == []
    # The prefix itself is not a core path a plugin could shadow.
    assert not any(
        path == f"/api/v1/{name}" or path.startswith(f"/api/v1/{name}/") for path in core_paths
    )


async def test_migrations_create_the_tables(
    api: Api, app: Litestar, settings: Settings, name: str
) -> None:
    plugin = loaded_plugin(settings, name)

    async def inspect_database() -> tuple[set[str], set[str]]:
        with bound(app.state.db) as context:
            if settings.is_sqlite:
                sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
            else:
                sql = (
                    "SELECT table_name AS name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            rows = await context.db("default").execute_query_dict(sql)
            return {row["name"] for row in rows}, tables_of(plugin_models(context, name))

    existing, expected = api.client.blocking_portal.call(inspect_database)
    if plugin.models is None:
        assert expected == set()
        return
    assert expected, f"{plugin.models} defines no model"
    assert expected <= existing, f"missing tables: {sorted(expected - existing)}"
