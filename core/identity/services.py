"""Users, organizations, logins. The only identity module that touches the ORM."""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.clock import Clock
from core.errors import Conflict, Invalid, Unauthorized
from core.identity import schemas
from core.identity.access import Principal
from core.identity.models import Organization, RefreshToken, Role, User
from core.identity.tokens import issue_access_token, issue_refresh_token, token_hash
from core.pagination import page
from core.settings import Settings
from core.tenancy import get, parse_id

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def organization_out(org: Organization) -> schemas.Organization:
    return schemas.Organization(
        id=str(org.id),
        name=org.name,
        kind=org.kind,
        region=org.region,
        share_with_advisors=org.share_with_advisors,
        created_at=org.created_at,
    )


async def user_out(user: User) -> schemas.User:
    org_ids = await user.organizations.all().values_list("id", flat=True)
    return schemas.User(
        id=str(user.id),
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        locale=user.locale,
        timezone=user.timezone,
        organization_ids=sorted(str(i) for i in org_ids),
        created_at=user.created_at,
    )


class IdentityService:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    # logins

    async def _tokens(self, user: User, family: uuid.UUID | None = None) -> schemas.TokenResponse:
        now = self.clock.now()
        org_ids = [str(i) for i in await user.organizations.all().values_list("id", flat=True)]
        return schemas.TokenResponse(
            access_token=issue_access_token(
                user, org_ids, self.settings.secret_key, now, self.settings.access_token_ttl_s
            ),
            refresh_token=await issue_refresh_token(
                user, now, self.settings.refresh_token_ttl_s, family
            ),
            expires_in=self.settings.access_token_ttl_s,
        )

    async def login(self, username: str, password: str) -> schemas.TokenResponse:
        user = await User.get_or_none(username=username, is_active=True)
        try:
            # An unknown user costs the same hash as a known one: no timing oracle.
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            user = None
        if user is None:
            raise Unauthorized("Wrong username or password.")
        return await self._tokens(user)

    async def refresh(self, presented: str) -> schemas.TokenResponse:
        now = self.clock.now()
        token = await RefreshToken.get_or_none(token_hash=token_hash(presented)).prefetch_related(
            "user"
        )
        invalid = Unauthorized("The refresh token is invalid, expired or revoked.")
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            raise invalid
        # Spend it atomically: of two concurrent uses only one wins; the other is a reuse.
        spent = await RefreshToken.filter(id=token.id, spent_at__isnull=True).update(spent_at=now)
        if not spent:
            await self._revoke_family(token.family)
            raise invalid
        if not token.user.is_active:
            raise invalid
        return await self._tokens(token.user, token.family)

    async def logout(self, presented: str) -> None:
        token = await RefreshToken.get_or_none(token_hash=token_hash(presented))
        if token is not None:
            await self._revoke_family(token.family)

    async def _revoke_family(self, family: uuid.UUID) -> None:
        await RefreshToken.filter(family=family, revoked_at__isnull=True).update(
            revoked_at=self.clock.now()
        )

    # people

    async def me(self, principal: Principal) -> schemas.Me:
        user = await User.get_or_none(id=principal.user_id, is_active=True)
        if user is None:
            raise Unauthorized("This account no longer exists.")
        orgs = await user.organizations.all().order_by("name")
        return schemas.Me(
            id=str(user.id),
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            locale=user.locale,
            timezone=user.timezone,
            organizations=[
                schemas.OrganizationRef(id=str(o.id), name=o.name, kind=o.kind) for o in orgs
            ],
        )

    async def list_users(
        self, organization_id: str | None, cursor: str | None, limit: int
    ) -> schemas.UserList:
        queryset = User.all()
        if organization_id is not None:
            queryset = queryset.filter(organizations__id=parse_id(organization_id) or uuid.uuid4())
        rows, next_cursor = await page(queryset, cursor, limit)
        return schemas.UserList(items=[await user_out(u) for u in rows], next_cursor=next_cursor)

    async def create_user(self, data: schemas.UserCreate) -> schemas.User:
        try:
            ZoneInfo(data.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid.field("/timezone", f"unknown time zone {data.timezone!r}") from None
        org = None
        if data.organization_id is not None:
            org = await Organization.get_or_none(id=parse_id(data.organization_id) or uuid.uuid4())
            if org is None:
                raise Invalid.field("/organization_id", "unknown or not accessible")
        elif data.role is Role.MEMBER:
            raise Invalid.field("/organization_id", "required for members")
        try:
            async with in_transaction():
                user = await User.create(
                    username=data.username,
                    password_hash=hash_password(data.password),
                    display_name=data.display_name,
                    role=data.role,
                    locale=data.locale,
                    timezone=data.timezone,
                )
                if org is not None:
                    await user.organizations.add(org)
        except IntegrityError:
            raise Conflict(f"The username {data.username!r} is taken.") from None
        return await user_out(user)

    # organizations

    async def list_organizations(
        self, principal: Principal, cursor: str | None, limit: int
    ) -> schemas.OrganizationList:
        queryset = Organization.all()
        if not principal.is_admin:
            queryset = queryset.filter(id__in=list(principal.organization_ids))
        rows, next_cursor = await page(queryset, cursor, limit)
        return schemas.OrganizationList(
            items=[organization_out(o) for o in rows], next_cursor=next_cursor
        )

    async def create_organization(self, data: schemas.OrganizationCreate) -> schemas.Organization:
        org = await Organization.create(**msgspec.structs.asdict(data))
        return organization_out(org)

    async def update_organization(
        self, principal: Principal, organization_id: str, data: schemas.OrganizationPatch
    ) -> schemas.Organization:
        org = await get(Organization.all(), organization_id, principal, write=True, field=None)
        changes: dict[str, Any] = {
            k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET
        }
        if changes:
            await org.update_from_dict(changes).save(update_fields=list(changes))
        return organization_out(org)
