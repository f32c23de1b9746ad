from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.cli import main
from core.identity.models import User
from core.settings import Settings
from tests.conftest import PG_URL, ROOT, World, run_in_database


def env(database_url: str) -> dict[str, str]:
    return {
        "MINORI_DATABASE_URL": database_url,
        "MINORI_PLUGINS_FILE": str(ROOT / "plugins.toml"),
        "MINORI_SECRET_KEY": "cli-test-secret-key-long-enough-for-hs256",
    }


@pytest.mark.skipif(bool(PG_URL), reason="applies migrations to a fresh SQLite file")
def test_db_migrate_applies_everything_once(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'fresh.db'}"
    runner = CliRunner()
    first = runner.invoke(main, ["db", "migrate"], env=env(url))
    assert first.exit_code == 0, first.output
    assert "applied core.0001_initial" in first.output
    assert "applied hello.0001_initial" in first.output
    second = runner.invoke(main, ["db", "migrate"], env=env(url))
    assert second.exit_code == 0
    assert "applied" not in second.output
    assert "database is up to date" in second.output


def test_users_create_reads_the_password_from_stdin(settings: Settings, world: World) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["users", "create", "tanaka", "--role", "member", "--org", world.org_ids["farm"]],
        input="ta-na-ka-2026\n",
        env=env(settings.database_url),
    )
    assert result.exit_code == 0, result.output
    assert "created member tanaka" in result.output

    async def check() -> None:
        user = await User.get(username="tanaka").prefetch_related("organizations")
        assert [str(o.id) for o in user.organizations] == [world.org_ids["farm"]]

    asyncio.run(run_in_database(settings, check))

    again = runner.invoke(
        main,
        ["users", "create", "tanaka", "--role", "advisor"],
        input="whatever-long\n",
        env=env(settings.database_url),
    )
    assert again.exit_code == 1
    assert "taken" in again.output


def test_users_create_refuses_a_short_password(settings: Settings) -> None:
    result = CliRunner().invoke(
        main,
        ["users", "create", "sato", "--role", "advisor"],
        input="short\n",
        env=env(settings.database_url),
    )
    assert result.exit_code == 1
    assert "password" in result.output


def test_plugins_list_and_check(settings: Settings) -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["plugins", "list"], env=env(settings.database_url))
    assert listed.exit_code == 0
    assert "hello" in listed.output and "loaded" in listed.output
    checked = runner.invoke(main, ["plugins", "check"], env=env(settings.database_url))
    assert checked.exit_code == 0, checked.output
    assert "max_length = 280" in checked.output


def test_plugins_check_fails_on_a_broken_plugins_file(tmp_path: Path) -> None:
    broken = tmp_path / "plugins.toml"
    broken.write_text('[plugins.ghost]\nmodule = "no.such.module:plugin"\n')
    result = CliRunner().invoke(
        main,
        ["plugins", "check"],
        env={**env("sqlite://:memory:"), "MINORI_PLUGINS_FILE": str(broken)},
    )
    assert result.exit_code == 1
    assert "plugin 'ghost'" in result.output
    assert "No module named 'no'" in result.output
