"""The plugin's own message catalog: texts marked with this ``_`` render from
``locale/<language>/LC_MESSAGES/drone_spraying.po`` wherever and whenever they are rendered."""

from __future__ import annotations

from pathlib import Path

from core.i18n import translator

_ = translator("drone_spraying", Path(__file__).parent / "locale")
