from __future__ import annotations

from typing import Any, TypeAlias

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from core.errors import Conflict
from core.identity import schemas
from core.identity.access import ADMIN, ANY_USER, MEMBER_OR_ADMIN, PUBLIC, CurrentPrincipal
from core.identity.ratelimit import AttemptLimiter
from core.identity.services import IdentityService
from core.pagination import Cursor, Limit

Identity: TypeAlias = NamedDependency[IdentityService]


def _client(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["identity"]

    @post(
        "/token",
        access=PUBLIC,
        rate_limited=True,
        problems=[401],
        status_code=200,
        summary="Log in",
    )
    async def token(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[schemas.TokenRequest],
        identity: Identity,
        auth_limiter: NamedDependency[AttemptLimiter],
    ) -> schemas.TokenResponse:
        auth_limiter.hit([f"ip:{_client(request)}", f"user:{data.username.lower()}"])
        return await identity.login(data.username, data.password)

    @post(
        "/refresh",
        access=PUBLIC,
        rate_limited=True,
        problems=[401],
        status_code=200,
        summary="Trade a refresh token",
    )
    async def refresh(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[schemas.RefreshRequest],
        identity: Identity,
        auth_limiter: NamedDependency[AttemptLimiter],
    ) -> schemas.TokenResponse:
        auth_limiter.hit([f"ip:{_client(request)}"])
        return await identity.refresh(data.refresh_token)

    @post("/logout", access=PUBLIC, status_code=204, summary="Revoke a login")
    async def logout(self, data: JSONBody[schemas.RefreshRequest], identity: Identity) -> None:
        await identity.logout(data.refresh_token)


class IdentityController(Controller):
    path = "/api/v1"
    tags = ["identity"]

    @get("/me", access=ANY_USER, summary="The caller")
    async def me(self, principal: CurrentPrincipal, identity: Identity) -> schemas.Me:
        return await identity.me(principal)

    @get("/organizations", access=ANY_USER, summary="Organizations the caller belongs to")
    async def organizations(
        self,
        principal: CurrentPrincipal,
        identity: Identity,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.OrganizationList:
        return await identity.list_organizations(principal, cursor, limit)

    @post("/organizations", access=ADMIN, summary="Create an organization")
    async def create_organization(
        self, data: JSONBody[schemas.OrganizationCreate], identity: Identity
    ) -> schemas.Organization:
        return await identity.create_organization(data)

    @patch("/organizations/{organization_id:str}", access=MEMBER_OR_ADMIN)
    async def update_organization(
        self,
        organization_id: FromPath[str],
        data: JSONBody[schemas.OrganizationPatch],
        principal: CurrentPrincipal,
        identity: Identity,
    ) -> schemas.Organization:
        """Change an organization; ``share_with_advisors`` is its consent to advisors reading."""
        return await identity.update_organization(principal, organization_id, data)

    @get("/users", access=ADMIN, summary="Users")
    async def users(
        self,
        identity: Identity,
        organization_id: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.UserList:
        return await identity.list_users(organization_id, cursor, limit)

    @post("/users", access=ADMIN, raises=[Conflict], summary="Create a user")
    async def create_user(
        self, data: JSONBody[schemas.UserCreate], identity: Identity
    ) -> schemas.User:
        return await identity.create_user(data)
