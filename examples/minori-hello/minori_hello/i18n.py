"""The plugin's own message catalog: texts marked with this ``_`` render from
``locale/<language>/LC_MESSAGES/hello.po``, wherever and whenever they are rendered."""

from __future__ import annotations

from pathlib import Path

from core.i18n import translator

_ = translator("hello", Path(__file__).parent / "locale")
