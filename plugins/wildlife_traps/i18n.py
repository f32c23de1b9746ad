"""The plugin's own message catalog: texts marked with this ``_`` render from
``locale/<language>/LC_MESSAGES/wildlife_traps.po`` (then core's catalog, then the English
message id itself)."""

from __future__ import annotations

from pathlib import Path

from core.i18n import translator

_ = translator("wildlife_traps", Path(__file__).parent / "locale")
