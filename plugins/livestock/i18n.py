"""The plugin's own message catalog: texts marked with this ``_`` render from
``locale/<language>/LC_MESSAGES/livestock.po`` (ja, en, vi), then core's catalog, then the
English message id itself, wherever and whenever they are rendered."""

from __future__ import annotations

from pathlib import Path

from core.i18n import Text, translator

_ = translator("livestock", Path(__file__).parent / "locale")


def joined(parts: list[Text]) -> Text:
    """Texts in a row, each rendered in the reader's language: "a and b and c"."""
    text = parts[0]
    for more in parts[1:]:
        text = _("{first} and {second}", first=text, second=more)
    return text
