"""Every user-facing message exists in ja, en and vi: the message ids are extracted from the
source with Babel, exactly as ``make catalogs`` does, and compared with each catalog."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import minori_hello
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from core.i18n import LANGUAGES, translations
from tests.conftest import ENABLED_PLUGINS, ROOT
from tests.support import Api

HELLO = Path(minori_hello.__file__).parent
_TRANSLATOR = re.compile(r"""translator\(\s*["'](\w+)["']""")


def enabled_packages() -> list[Path]:
    """The example and the plugins that plugins.toml enables (the others are unfinished)."""
    plugins = [p.parent for p in (ROOT / "plugins").glob("*/__init__.py")]
    return [p for p in plugins if p.name in ENABLED_PLUGINS] + [HELLO]


def plugin_domains() -> dict[str, tuple[list[Path], Path]]:
    """Each plugin package's own catalog: its domain is what it gives ``translator``, its
    catalogs are in ``locale/`` beside the module that calls it."""
    packages = enabled_packages()
    found: dict[str, tuple[list[Path], Path]] = {}
    for package in packages:
        for module in sorted(package.rglob("*.py")):
            match = _TRANSLATOR.search(module.read_text(encoding="utf-8"))
            if match:
                found[match[1]] = ([package], module.parent / "locale")
                # Importing it registers the catalog, as loading the plugin does.
                parts = module.relative_to(package.parent).with_suffix("").parts
                prefix = () if package == HELLO else ("plugins",)
                importlib.import_module(".".join((*prefix, *parts)))
    return found


DOMAINS = {
    # domain: (source folders, where its catalogs are)
    "minori": ([ROOT / "core", ROOT / "mobile_api"], ROOT / "core" / "locale"),
    **plugin_domains(),
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def extracted(folders: list[Path]) -> set[str]:
    found = set()
    for folder in folders:
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(folder), method_map=[("**.py", "python")], keywords={"_": None}
        ):
            assert isinstance(message, str), f"{_file}:{_line}: use one message id, not plurals"
            found.add(message)
    return found


def catalog(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source)


def test_plugins_that_mark_texts_have_their_own_catalog() -> None:
    for package in enabled_packages():
        if extracted([package]):
            assert any(package in folders for folders, _locale in DOMAINS.values()), (
                f"{package.name} marks texts but has no catalog: see docs/plugins.md, Languages"
            )


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_the_template_lists_exactly_the_message_ids_of_the_source(domain: str) -> None:
    folders, locale = DOMAINS[domain]
    ids = extracted(folders)
    assert ids, f"no message found for {domain}"
    template = {m.id for m in catalog(locale / f"{domain}.pot") if m.id}
    assert template == ids, "run `make catalogs` to extract the message ids again"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_every_message_is_translated(domain: str, language: str) -> None:
    folders, _locale = DOMAINS[domain]
    ids = extracted(folders)
    path = DOMAINS[domain][1] / language / "LC_MESSAGES" / f"{domain}.po"
    assert path.exists(), f"no {language} catalog for {domain}: {path}"
    messages = {m.id: m for m in catalog(path) if m.id}
    missing = sorted(ids - messages.keys())
    assert not missing, f"{path}: not in the catalog: {missing}"
    stale = sorted(messages.keys() - ids)
    assert not stale, f"{path}: no longer in the source: {stale}"
    for msgid in sorted(ids):
        message = messages[msgid]
        assert isinstance(message.string, str) and message.string.strip(), f"{path}: {msgid!r}"
        assert not message.fuzzy, f"{path}: fuzzy: {msgid!r}"
        assert set(_PLACEHOLDER.findall(message.string)) == set(_PLACEHOLDER.findall(msgid)), (
            f"{path}: the placeholders of {msgid!r} differ in {message.string!r}"
        )
        # A pure format such as "{first}, {second}" has nothing to translate.
        if language != "en" and re.search(r"[^\W\d_]", _PLACEHOLDER.sub("", msgid)):
            assert message.string != msgid, f"{path}: copied, not translated: {msgid!r}"
        # What the server renders is this catalog, compiled or not.
        assert translations(language, domain).gettext(msgid) == message.string


@pytest.mark.parametrize(
    ("language", "title", "detail"),
    [
        (None, "認証されていません", "認証が必要です。"),
        ("ja", "認証されていません", "認証が必要です。"),
        ("vi", "Chưa xác thực", "Cần xác thực."),
        ("en-US,en;q=0.8", "Unauthorized", "Authentication required."),
        ("fr", "認証されていません", "認証が必要です。"),
    ],
)
async def test_problem_titles_and_details_follow_accept_language(
    api: Api, language: str | None, title: str, detail: str
) -> None:
    headers = {"Accept-Language": language} if language else {}
    response = await api.client.get("/mobile/v1/home", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert (body["type"], body["title"], body["detail"]) == (
        "urn:minori:problem:unauthorized",
        title,
        detail,
    )


async def test_litestars_own_errors_are_translated_too(api: Api) -> None:
    for language, expected in [("vi", "Không tìm thấy"), ("en", "Not Found")]:
        response = await api.client.get("/nothing/here", headers={"Accept-Language": language})
        assert response.status_code == 404
        assert response.json()["title"] == response.json()["detail"] == expected
    wrong = await api.client.put("/mobile/v1/home", headers={"Accept-Language": "vi"})
    assert wrong.status_code == 405
    assert wrong.json()["title"] == "Phương thức không được phép"
    assert wrong.json()["type"] == "urn:minori:problem:method-not-allowed"
