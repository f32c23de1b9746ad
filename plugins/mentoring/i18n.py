"""The plugin's own message catalog: texts marked with this ``_`` render from
``locale/<language>/LC_MESSAGES/mentoring.po`` (then core's catalog, then the English id)."""

from __future__ import annotations

from pathlib import Path

from core.i18n import translator

_ = translator("mentoring", Path(__file__).parent / "locale")
