"""Text the server shows people, kept as a message id plus parameters until it is rendered
in the reader's language (ja by default, en, vi).

Write user-facing strings as ``_("Trap {trap} has sprung", trap=name)``; message ids are
English and are extracted with Babel into gettext catalogs: core's under ``core/locale``
(domain ``minori``), a plugin's in its own package (see :func:`translator`). A :class:`Text`
carries the domain it was written in, so it renders from the right catalog wherever it is
rendered later (an alert stored today, a push sent tomorrow by another replica).

Catalogs are compiled by the build (``make``); a ``.po`` newer than its ``.mo``, or one never
compiled, is compiled in memory when first used, so a stale build never shows old text.
"""

from __future__ import annotations

import gettext
import io
import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias

import msgspec
from litestar import Request
from litestar.di import NamedDependency

LANGUAGES = ("ja", "en", "vi")
DEFAULT_LANGUAGE = "ja"
LOCALE_DIR = Path(__file__).parent / "locale"
CORE_DOMAIN = "minori"

log = logging.getLogger("minori.i18n")

_catalogs: dict[str, Path] = {CORE_DOMAIN: LOCALE_DIR}


class Text(msgspec.Struct, frozen=True, omit_defaults=True):
    msgid: str
    params: dict[str, Any] = {}
    domain: str | None = None
    """The catalog the message id is in; None is core's (``minori``)."""

    def render(self, language: str) -> str:
        language = supported(language)
        translated = translations(language, self.domain).gettext(self.msgid)
        params = {k: _render_param(v, language) for k, v in self.params.items()}
        for template in (translated, self.msgid):
            try:
                return template.format(**params)
            except (KeyError, IndexError, ValueError):
                continue
        return self.msgid


def _render_param(value: Any, language: str) -> Any:
    """A parameter may itself be a text (``_("Alert: {title}", title=alert_title)``), also
    as the plain dict it becomes once stored as JSON."""
    if isinstance(value, Text):
        return value.render(language)
    if isinstance(value, dict) and isinstance(value.get("msgid"), str):
        return msgspec.convert(value, Text).render(language)
    return value


def _(msgid: str, **params: Any) -> Text:
    """Mark ``msgid`` (core's catalog) for translation; render it later with
    :meth:`Text.render`."""
    return Text(msgid, params)


def translator(domain: str, locale_dir: str | Path) -> Callable[..., Text]:
    """A plugin's own ``_``: texts marked with it render from the plugin's catalog
    ``<locale_dir>/<language>/LC_MESSAGES/<domain>.po`` (then core's, then the message id).

    Call it once at import time, in the plugin's own ``i18n.py``::

        _ = translator("hello", Path(__file__).parent / "locale")
    """
    if domain == CORE_DOMAIN:
        raise ValueError(f"{CORE_DOMAIN!r} is core's domain; give the plugin its own")
    _catalogs[domain] = Path(locale_dir)
    translations.cache_clear()

    def mark(msgid: str, **params: Any) -> Text:
        return Text(msgid, params, domain)

    mark.__doc__ = f"Mark ``msgid`` for translation from the {domain!r} catalog."
    return mark


def as_text(value: str | Text) -> Text:
    """Plain strings (a manual alert typed by an advisor) are shown as written."""
    return value if isinstance(value, Text) else Text("{text}", {"text": value})


def supported(language: str | None) -> str:
    """``language`` if Minori speaks it (``en-GB`` counts as ``en``), else the default."""
    tag = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return tag if tag in LANGUAGES else DEFAULT_LANGUAGE


def catalog_file(domain: str, language: str, suffix: str = ".po") -> Path | None:
    """Where a domain's catalog for ``language`` lives (None for an unknown domain)."""
    directory = _catalogs.get(domain)
    if directory is None:
        return None
    return directory / language / "LC_MESSAGES" / f"{domain}{suffix}"


@cache
def translations(language: str, domain: str | None = None) -> gettext.NullTranslations:
    """The catalog of ``domain`` in ``language``, falling back to core's, then to the
    message id itself."""
    core = _load(CORE_DOMAIN, language)
    if domain is None or domain == CORE_DOMAIN:
        return core
    own = _load(domain, language)
    own.add_fallback(core)
    return own


def _load(domain: str, language: str) -> gettext.NullTranslations:
    po = catalog_file(domain, language)
    if po is None:
        log.warning("no catalog registered for domain %r: texts shown untranslated", domain)
        return gettext.NullTranslations()
    mo = po.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as compiled:
            return gettext.GNUTranslations(compiled)
    if not po.exists():
        return gettext.NullTranslations()
    return gettext.GNUTranslations(io.BytesIO(compile_po(po, language, domain)))


def compile_po(po: Path, language: str, domain: str) -> bytes:
    """A ``.po`` file compiled to ``.mo`` bytes (what ``pybabel compile`` writes)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    return compiled.getvalue()


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


def compile_catalogs(root: Path) -> list[Path]:
    """Compile every ``LC_MESSAGES/*.po`` under ``root`` into its ``.mo`` (the build step).

    Babel's own compiler refuses msgids such as "{percent}% of usual", which it mistakes for
    %-formats; ours are brace formats, so they are written without that check.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(root.glob("**/LC_MESSAGES/*.po")):
        if ".venv" in po.parts:
            continue
        with po.open("rb") as source:
            catalog = read_po(source)
        with po.with_suffix(".mo").open("wb") as target:
            write_mo(target, catalog)
        written.append(po)
    return written


if __name__ == "__main__":
    compiled = compile_catalogs(Path.cwd())
    print(f"compiled {len(compiled)} message catalogs")
