"""Text the server shows people, kept as a message id plus parameters until it is rendered
in the reader's language (ja by default, en, vi).

Write user-facing strings as ``_("Trap {trap} has sprung", trap=name)``; the message ids are
extracted into gettext catalogs under core/locale.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias

import msgspec
from litestar import Request
from litestar.di import NamedDependency

LANGUAGES = ("ja", "en", "vi")
DEFAULT_LANGUAGE = "ja"
LOCALE_DIR = Path(__file__).parent / "locale"


class Text(msgspec.Struct, frozen=True):
    msgid: str
    params: dict[str, Any] = {}

    def render(self, language: str) -> str:
        translated = translations(language).gettext(self.msgid)
        try:
            return translated.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return self.msgid.format(**self.params)


def _(msgid: str, **params: Any) -> Text:
    """Mark ``msgid`` for translation; render it later with :meth:`Text.render`."""
    return Text(msgid, params)


def as_text(value: str | Text) -> Text:
    """Plain strings (a manual alert typed by an advisor) are shown as written."""
    return value if isinstance(value, Text) else Text("{text}", {"text": value})


@cache
def translations(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "minori", localedir=LOCALE_DIR, languages=[language], fallback=True
    )


def negotiate(accept_language: str | None) -> str:
    """The best of ja, en, vi for an ``Accept-Language`` header (ja when nothing matches)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _sep, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in LANGUAGES and weight > 0:
            ranked.append((-weight, position, language))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def request_language(request: Request[Any, Any, Any]) -> str:
    return negotiate(request.headers.get("accept-language"))


Language: TypeAlias = NamedDependency[str]
"""Handler parameter ``language: Language``: the caller's language from Accept-Language."""
