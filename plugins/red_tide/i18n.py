"""The plugin's message catalog: texts marked with this ``_`` render from
``locale/<language>/LC_MESSAGES/red_tide.po`` (ja, en, vi), wherever they are rendered."""

from __future__ import annotations

from pathlib import Path

from core.i18n import translator

_ = translator("red_tide", Path(__file__).parent / "locale")
