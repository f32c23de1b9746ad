"""Tests of plugins that plugins.toml does not enable are not collected: their code may not
even import yet, and an app never loads them."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ENABLED_PLUGINS

HERE = Path(__file__).parent
NOT_ENABLED = sorted(
    p.name
    for p in HERE.iterdir()
    if p.is_dir() and (p / "__init__.py").exists() and p.name not in ENABLED_PLUGINS
)
collect_ignore = NOT_ENABLED


def pytest_report_header() -> str:
    return (
        f"plugins not enabled in plugins.toml, tests not collected: {', '.join(NOT_ENABLED) or '-'}"
    )
