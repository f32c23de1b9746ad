"""The app version gate: every ``/mobile/v1`` route reads ``X-App-Version``.

Below ``MINORI_MOBILE_MIN_VERSION`` the answer is 426 with ``min_version`` and ``store_url``
inside the problem, before anything else is looked at (an app that must update learns it
even with an expired token); a missing header passes; a malformed one answers 422.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from core.errors import Invalid, UpgradeRequired, send_problem
from core.i18n import _
from core.settings import ConfigError, Settings

HEADER = "X-App-Version"
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$"
)


class Version(NamedTuple):
    """A semantic version, ordered by semver precedence (build metadata ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[tuple[int, int | str], ...]
    """Empty for a release, which ranks above any of its pre-releases."""

    def key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, self.prerelease)


def parse_version(raw: str) -> Version | None:
    match = _SEMVER.match(raw.strip())
    if match is None:
        return None
    identifiers: tuple[tuple[int, int | str], ...] = ()
    if match[4]:
        # Numeric identifiers rank below alphanumeric ones and compare as numbers.
        identifiers = tuple(
            (0, int(part)) if part.isdigit() else (1, part) for part in match[4].split(".")
        )
    return Version(int(match[1]), int(match[2]), int(match[3]), identifiers)


@cache
def minimum(raw: str | None) -> Version | None:
    if raw is None or not raw.strip():
        return None
    version = parse_version(raw)
    if version is None:
        raise ConfigError(f"MINORI_MOBILE_MIN_VERSION: not a semantic version: {raw!r}")
    return version


class AppVersionGate(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        raw = next((v for k, v in scope["headers"] if k == b"x-app-version"), None)
        if raw is None:
            await next_app(scope, receive, send)
            return
        version = parse_version(raw.decode("latin-1"))
        if version is None:
            refusal: Invalid | UpgradeRequired = Invalid.parameter(
                HEADER, _("Send the app version as a semantic version, like 2.3.1.")
            )
            await send_problem(refusal, scope, receive, send)
            return
        settings: Settings = scope["litestar_app"].state.settings
        oldest = minimum(settings.mobile_min_version)
        if oldest is not None and version.key() < oldest.key():
            assert settings.mobile_min_version is not None
            refusal = UpgradeRequired(
                _(
                    "This version of the app is no longer supported; update it to "
                    "{min_version} or later.",
                    min_version=settings.mobile_min_version,
                ),
                extra={
                    "min_version": settings.mobile_min_version,
                    "store_url": settings.mobile_store_url,
                },
            )
            await send_problem(refusal, scope, receive, send)
            return
        await next_app(scope, receive, send)
