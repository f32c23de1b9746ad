"""``minori demo`` (what ``make demo`` runs) on a fresh SQLite database: it serves, prints
the logins, and with an accelerated clock every plugin with a demo raises an alert within
a few minutes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from core.clock import FakeClock
from core.demo import PASSWORD
from core.registry import PluginRegistry
from tests.conftest import ROOT, base_settings
from tests.support import free_port

DEADLINE_S = 180


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    port = free_port()
    env = {
        **os.environ,
        "MINORI_DATABASE_URL": f"sqlite://{tmp_path / 'demo.db'}",
        "MINORI_PLUGINS_FILE": str(ROOT / "plugins.toml"),
        "MINORI_MODELS_DIR": str(ROOT / "models_ml" / "artifacts"),
        "MINORI_MEDIA_DIR": str(tmp_path / "media"),
        "MINORI_LOG_JSON": "0",
        "MINORI_LOG_LEVEL": "WARNING",
    }
    env.pop("MINORI_MQTT_URL", None)
    process = subprocess.Popen(  # noqa: S603 (our own console script)
        [
            str(Path(sys.executable).parent / "minori"),
            "demo",
            "--port",
            str(port),
            "--speed",
            "120",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        started = time.monotonic()
        while time.monotonic() - started < DEADLINE_S:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Every login has the password" in line:
                # The announcement ends with an empty line.
                while (line := process.stdout.readline()) not in ("", "\n"):
                    lines.append(line)
                break
        yield f"http://127.0.0.1:{port}", lines
    finally:
        process.terminate()
        process.wait(timeout=30)


def plugins_with_a_demo() -> set[str]:
    registry = PluginRegistry.load(base_settings("sqlite://:memory:"), FakeClock(datetime.now(UTC)))
    return {p.name for p in registry.active if p.plugin and p.plugin.demo}


def test_the_demo_serves_prints_logins_and_every_plugin_raises_an_alert(
    demo_server: tuple[str, list[str]],
) -> None:
    base_url, output = demo_server
    text = "".join(output)
    assert "The Minori demo city is ready." in text, text
    assert f"{base_url}/schema" in text
    assert "admin" in text and PASSWORD in text

    expected = plugins_with_a_demo()
    assert expected, "no plugin contributes to the demo"
    with httpx.Client(base_url=base_url, timeout=30) as client:
        started = time.monotonic()
        seen: set[str] = set()
        while time.monotonic() - started < DEADLINE_S and not expected <= seen:
            # At --speed 120 an access token lasts 7.5 real seconds: log in each round.
            token = client.post(
                "/api/v1/auth/token", json={"username": "admin", "password": PASSWORD}
            )
            assert token.status_code == 200, token.text
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            for plugin in expected - seen:
                for status in ("open", "acknowledged", "resolved"):
                    found = client.get(
                        f"/api/v1/alerts?plugin={plugin}&status={status}&limit=1", headers=headers
                    )
                    assert found.status_code == 200, found.text
                    if found.json()["items"]:
                        seen.add(plugin)
                        break
            time.sleep(1)
    assert expected <= seen, f"no demo alert yet from {sorted(expected - seen)}"
