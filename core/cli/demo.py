"""``minori demo``: the demo city on the configured database, served with its simulators."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import asyncpg
import click

from core.clock import ScaledClock, SystemClock
from core.db import database_url
from core.demo import PASSWORD, Demo, DemoCity
from core.settings import ConfigError, Settings


def wipe(settings: Settings) -> None:
    """Start over: remove the SQLite file, or empty the PostgreSQL schema."""
    url = database_url(settings.database_url)
    if settings.is_sqlite:
        path = Path(url.removeprefix("sqlite://").split("?", 1)[0])
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        shutil.rmtree(Path(settings.media_dir), ignore_errors=True)
        return

    async def drop() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        finally:
            await connection.close()

    asyncio.run(drop())


def announcer(host: str, port: int) -> Callable[[DemoCity], None]:
    def announce(city: DemoCity) -> None:
        base = f"http://{host}:{port}"
        width = max(len(login.username) for login in city.logins)
        click.echo("")
        click.secho("The Minori demo city is ready.", bold=True)
        click.echo(f"  API docs      {base}/schema")
        click.echo(f"  OpenAPI       {base}/schema/openapi.json")
        click.echo(f"  Health        {base}/health/ready")
        click.echo(f"  Every login has the password {PASSWORD!r}:")
        for login in city.logins:
            click.echo(f"    {login.username:<{width}}  {login.role:<8}  {login.note}")
        click.echo("  Try:")
        click.echo(
            f"    curl -s {base}/api/v1/auth/token -H 'content-type: application/json' "
            f'-d \'{{"username":"admin","password":"{PASSWORD}"}}\''
        )
        click.echo("")

    return announce


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--speed", default=1.0, show_default=True, help="How many times faster than real time."
)
@click.option("--reset", is_flag=True, help="Delete everything and build the city anew.")
def demo(host: str, port: int, speed: float, reset: bool) -> None:
    """Build the demo city (organizations, people, devices, history) and serve it with its
    device simulators running."""
    import uvicorn

    from core.app import create_app
    from core.cli import _db_config, _settings
    from core.db import migrate
    from core.ops.logging import configure_logging

    settings = _settings()
    configure_logging(settings.log_level, settings.log_json)
    if reset:
        wipe(settings)
        click.echo("removed the previous demo")
    asyncio.run(migrate(_db_config(settings)))
    clock = ScaledClock(speed) if speed != 1 else SystemClock()
    try:
        app = create_app(settings, clock=clock, demo=Demo(speed, announcer(host, port)))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
