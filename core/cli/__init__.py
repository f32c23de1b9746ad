"""The ``minori`` command."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
import msgspec

from core.cli.demo import demo
from core.clock import SystemClock
from core.db import bound, make_migrations, migrate, open_database, tortoise_config
from core.errors import Problem
from core.identity import schemas
from core.identity.services import IdentityService
from core.ml.cli import ml
from core.ops.logging import configure_logging
from core.registry import PluginRegistry
from core.settings import ConfigError, Settings, load_settings

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _registry(settings: Settings) -> PluginRegistry:
    try:
        return PluginRegistry.load(settings, SystemClock())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _db_config(settings: Settings) -> dict[str, Any]:
    registry = _registry(settings)
    return tortoise_config(settings.database_url, [p.plugin for p in registry.active if p.plugin])


def run_with_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` with the ORM initialised on the configured database."""

    async def main() -> T:
        context = await open_database(_db_config(settings))
        try:
            with bound(context):
                return await work()
        finally:
            await context.close_connections()

    return asyncio.run(main())


@click.group()
def main() -> None:
    """Minori: the back end of the city's smart agriculture and fisheries service."""


main.add_command(ml)
main.add_command(demo)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the API."""
    import uvicorn

    from core.app import create_app

    settings = _settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        app = create_app(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


@main.group()
def db() -> None:
    """The database."""


@db.command("migrate")
def db_migrate() -> None:
    """Apply every pending migration, core first, then each plugin in dependency order."""
    settings = _settings()

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            click.echo(f"applied {app_label}.{name}")

    asyncio.run(migrate(_db_config(settings), progress=progress))
    click.echo("database is up to date")


@db.command("makemigrations")
@click.argument("apps", nargs=-1, required=True)
def db_makemigrations(apps: tuple[str, ...]) -> None:
    """Write migrations for changed models of the named apps (core or a plugin name)."""
    written = asyncio.run(make_migrations(_db_config(_settings()), apps))
    for path in written:
        click.echo(f"wrote {path}")
    if not written:
        click.echo("no changes")


@main.group()
def plugins() -> None:
    """The plugins listed in plugins.toml."""


@plugins.command("list")
def plugins_list() -> None:
    """Each plugin with its status."""
    registry = _registry(_settings())
    for loaded in registry.all:
        version = loaded.plugin.version if loaded.plugin else "-"
        line = f"{loaded.name:<20} {loaded.status:<9} {version:<10}"
        click.echo(line + (f" {loaded.error}" if loaded.error else ""))


@plugins.command("check")
def plugins_check() -> None:
    """Load every plugin and validate its settings; exit 1 if any failed."""
    registry = _registry(_settings())
    failed = [p for p in registry.all if p.status == "failed"]
    for loaded in registry.all:
        click.echo(
            f"{loaded.name}: {loaded.status}" + (f": {loaded.error}" if loaded.error else "")
        )
        for key, value in loaded.shown_settings.items():
            click.echo(f"    {key} = {value!r}")
    if failed:
        sys.exit(1)


@main.group()
def users() -> None:
    """People who log in."""


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["member", "advisor", "admin"]), required=True)
@click.option("--org", "organization_id", help="Organization id; required for members.")
@click.option("--display-name", default="")
@click.option("--locale", type=click.Choice(["ja", "en", "vi"]), default="ja", show_default=True)
@click.option("--timezone", default="Asia/Tokyo", show_default=True)
def users_create(
    username: str,
    role: str,
    organization_id: str | None,
    display_name: str,
    locale: str,
    timezone: str,
) -> None:
    """Create a user. The password is read from standard input when it is not a terminal."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    settings = _settings()
    try:
        data = msgspec.convert(
            {
                "username": username,
                "password": password,
                "role": role,
                "organization_id": organization_id,
                "display_name": display_name,
                "locale": locale,
                "timezone": timezone,
            },
            schemas.UserCreate,
        )
        user = run_with_database(
            settings, lambda: IdentityService(settings, SystemClock()).create_user(data)
        )
    except msgspec.ValidationError as exc:
        raise click.ClickException(str(exc)) from None
    except Problem as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(f"created {user.role} {user.username} ({user.id})")
