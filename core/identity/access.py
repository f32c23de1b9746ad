"""Who may call a route. Every route declares it with ``access=...`` in its decorator:

    @get("/me", access=ANY_USER)

One app-wide guard enforces the declaration (a route without one refuses every caller), and
the OpenAPI document is derived from it, so the two cannot disagree.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

import jwt
import msgspec
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler

from core.clock import DEFAULT_TIMEZONE, zone_named
from core.errors import Forbidden, Unauthorized
from core.http import answer_in_timezone
from core.identity.models import Role


@dataclass(frozen=True, slots=True)
class Access:
    name: str
    roles: frozenset[Role] = frozenset()
    public: bool = False
    device: bool = False
    metrics_token: bool = False


PUBLIC = Access("public", public=True)
DEVICE = Access("device", device=True)
ANY_USER = Access("user", frozenset(Role))
STAFF = Access("advisor or admin", frozenset({Role.ADVISOR, Role.ADMIN}))
MEMBER = Access("member", frozenset({Role.MEMBER}))
MEMBER_OR_ADMIN = Access("member or admin", frozenset({Role.MEMBER, Role.ADMIN}))
ADMIN = Access("admin", frozenset({Role.ADMIN}))
METRICS = Access("admin or the metrics token", frozenset({Role.ADMIN}), metrics_token=True)


class Principal(msgspec.Struct, frozen=True):
    """The authenticated user of a request, as the access token states it."""

    user_id: str
    role: Role
    organization_ids: frozenset[str]
    timezone: str = DEFAULT_TIMEZONE

    @property
    def zone(self) -> ZoneInfo:
        """The caller's time zone, for what they read in local time."""
        return zone_named(self.timezone)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


CurrentPrincipal: TypeAlias = NamedDependency[Principal]
"""Handler parameter ``principal: CurrentPrincipal``: the authenticated caller."""


def declared_access(handler: BaseRouteHandler) -> Access | None:
    access = handler.opt.get("access")
    return access if isinstance(access, Access) else None


async def authorize(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The app-wide guard: authenticate the caller and check the route's declared access.

    It runs before the body is read, so a wrong caller never learns anything from
    validation errors.
    """
    access = declared_access(handler)
    if access is None:
        raise Forbidden("This route declares no access rule.")
    if access.public:
        return
    header = connection.headers.get("authorization")
    state = connection.app.state
    if access.device:
        connection.scope["device_caller"] = await state.authenticate_device(header)
        return
    if (
        access.metrics_token
        and state.metrics_token
        and header
        and hmac.compare_digest(header.encode(), f"Bearer {state.metrics_token}".encode())
    ):
        return
    principal = principal_from_header(header, state.secret_key, state.clock.now().timestamp())
    connection.scope["user"] = principal
    answer_in_timezone(principal.zone)
    if principal.role not in access.roles:
        raise Forbidden(f"This route is for: {access.name}.")


def principal_from_header(header: str | None, secret_key: str, now: float) -> Principal:
    """The caller named by a ``Bearer`` access token, checked against the app's clock."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized()
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=["HS256"],
            options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False},
        )
        if claims.get("typ") != "access":
            raise jwt.InvalidTokenError("not an access token")
        if int(claims["exp"]) <= now:
            raise jwt.ExpiredSignatureError("expired")
        return Principal(
            user_id=claims["sub"],
            role=Role(claims["role"]),
            organization_ids=frozenset(claims.get("orgs", ())),
            timezone=claims.get("tz", DEFAULT_TIMEZONE),
        )
    except (jwt.InvalidTokenError, KeyError, ValueError):
        raise Unauthorized("The access token is invalid or has expired.") from None
