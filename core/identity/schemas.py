from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from core.identity.models import OrganizationKind, Role

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Username = Annotated[str, msgspec.Meta(min_length=3, max_length=150, pattern=r"^[\w.@+-]+$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
Locale = Annotated[str, msgspec.Meta(pattern=r"^(ja|en|vi)$")]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=150)]
    password: Annotated[str, msgspec.Meta(max_length=256)]


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, msgspec.Meta(max_length=256)]


class TokenResponse(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 (a token type, not a secret)


class OrganizationRef(msgspec.Struct):
    id: str
    name: str
    kind: OrganizationKind


class Me(msgspec.Struct):
    id: str
    username: str
    display_name: str
    role: Role
    locale: str
    timezone: str
    organizations: list[OrganizationRef]


class OrganizationCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    kind: OrganizationKind
    region: Annotated[str, msgspec.Meta(max_length=200)] = ""
    share_with_advisors: bool = False


class OrganizationPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    region: Annotated[str, msgspec.Meta(max_length=200)] | msgspec.UnsetType = msgspec.UNSET
    share_with_advisors: bool | msgspec.UnsetType = msgspec.UNSET


class Organization(msgspec.Struct):
    id: str
    name: str
    kind: OrganizationKind
    region: str
    share_with_advisors: bool
    created_at: datetime


class OrganizationList(msgspec.Struct):
    items: list[Organization]
    next_cursor: str | None


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Password
    role: Role
    display_name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    organization_id: str | None = None
    locale: Locale = "ja"
    timezone: TimeZone = "Asia/Tokyo"


class User(msgspec.Struct):
    id: str
    username: str
    display_name: str
    role: Role
    locale: str
    timezone: str
    organization_ids: list[str]
    created_at: datetime


class UserList(msgspec.Struct):
    items: list[User]
    next_cursor: str | None
