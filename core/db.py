"""Persistence: one tortoise app per plugin, migrations in dependency order, and the one
place where a request is bound to the ORM.

Tortoise keeps its state in a context variable. The lifespan initialises it, but uvicorn
runs each request in a task the lifespan did not create, so :class:`BindDatabase` enters the
app's context around every request.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import tortoise.backends.sqlite.executor  # noqa: F401  (registers the adapter replaced below)
from litestar.types import ASGIApp, Receive, Scope, Send
from tortoise import Model, fields
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext, _current_context
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.executor import MigrationExecutor

from core import feed
from core.clock import now as clock_now
from core.clock import use_clock

if TYPE_CHECKING:
    from core.plugin import Plugin


def _sqlite_datetime(value: datetime) -> str:
    return (value.astimezone(UTC) if value.tzinfo else value).isoformat(" ")


# SQLite compares timestamps as text, which is right only when every stored value is in one
# zone: store UTC (tortoise's own adapter keeps whatever offset the value had).
sqlite3.register_adapter(datetime, _sqlite_datetime)

log = logging.getLogger("minori.db")

CORE_APP = "core"
CORE_MODELS = (
    "core.identity.models",
    "core.jobs.models",
    "core.media.models",
    "core.telemetry.models",
    "core.alerts.models",
    "core.sync",
    "core.idempotency",
    "core.feed",
)
CORE_MIGRATIONS = "core.migrations"
SQLITE_PRAGMAS = {"journal_mode": "WAL", "synchronous": "NORMAL", "busy_timeout": "5000"}


def table_name(model: type[Model]) -> str:
    """``<app label>_<model>``: two plugins may both have an ``Alert`` model."""
    return f"{model._meta.app}_{model.__name__.lower()}"


def database_url(url: str) -> str:
    """The URL with SQLite's pragmas added (tortoise sets WAL itself, not ``synchronous``)."""
    if not url.startswith("sqlite://"):
        return url
    parts = urlsplit(url)
    path = url.removeprefix("sqlite://").split("?", 1)[0]
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    query = {**SQLITE_PRAGMAS, **dict(parse_qsl(parts.query))}
    return urlunsplit(parts._replace(query=urlencode(query)))


def tortoise_config(url: str, plugins: Iterable[Plugin]) -> dict[str, Any]:
    apps: dict[str, Any] = {
        CORE_APP: {"models": list(CORE_MODELS), "migrations": CORE_MIGRATIONS},
    }
    for plugin in plugins:
        if plugin.models:
            apps[plugin.name] = {"models": [plugin.models], "migrations": plugin.migrations}
    connection: str | dict[str, Any] = database_url(url)
    if url.startswith("sqlite://"):
        connection = {**expand_db_url(connection), "engine": "core.db_sqlite"}
    return {
        "connections": {"default": connection},
        "apps": apps,
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_database(config: dict[str, Any], **init: Any) -> TortoiseContext:
    """Initialise tortoise for this app; the caller owns the returned context."""
    context = TortoiseContext()
    with bound(context):
        await context.init(config=config, table_name_generator=table_name, **init)
    return context


async def migrate(
    config: dict[str, Any], progress: Callable[[str, str, str], object] | None = None
) -> None:
    """Apply every pending migration, each app after those its migrations depend on.

    Tortoise's own ``migrate`` helper would initialise the models without our table names,
    so the executor is driven here directly.
    """
    context = await open_database(config)
    with bound(context):
        try:
            executor = MigrationExecutor(context.db("default"), config["apps"])
            await executor.migrate(None, progress=progress)
            assert context.apps is not None
            await feed.watch(context.db("default"), feed.watched_tables(context.apps, CORE_APP))
        finally:
            await context.close_connections()


async def make_migrations(config: dict[str, Any], labels: Iterable[str]) -> list[str]:
    """Write a migration for every change in the models of the given apps; return the files."""
    wanted = set(labels)
    unknown = wanted - set(config["apps"])
    if unknown:
        raise ValueError(f"no loaded app named {', '.join(sorted(unknown))}")
    context = await open_database(config, init_connections=False)
    with bound(context):
        assert context.apps is not None
        detector = MigrationAutodetector(context.apps, config["apps"])
        writers = [w for w in await detector.changes() if w.app_label in wanted]
        return [str(writer.write()) for writer in writers]


@contextmanager
def bound(context: TortoiseContext) -> Iterator[TortoiseContext]:
    """Make ``context`` the current one for this task.

    ``TortoiseContext.__enter__`` keeps its reset token on the instance, so concurrent
    requests sharing one context would reset each other's; the token stays local here.
    """
    token = _current_context.set(context)
    try:
        yield context
    finally:
        _current_context.reset(token)


class BindDatabase:
    """ASGI middleware: run each request inside the app's tortoise context."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        state = scope["litestar_app"].state
        with bound(state.db), use_clock(state.clock):
            await self.app(scope, receive, send)


class Record(Model):
    """Base of every stored object: an opaque id and a creation time."""

    id = fields.UUIDField(primary_key=True)
    created_at = fields.DatetimeField(default=clock_now)
    """From the app's clock, so tests and the accelerated demo date rows consistently."""

    class Meta:
        abstract = True
