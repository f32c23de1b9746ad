from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from core.db import Record


class OrganizationKind(StrEnum):
    FARM = "farm"
    FISHERY = "fishery"
    HUNTING_GROUP = "hunting_group"
    COOP = "coop"


class Role(StrEnum):
    MEMBER = "member"
    ADVISOR = "advisor"
    ADMIN = "admin"


class Organization(Record):
    name = fields.CharField(max_length=200)
    kind = fields.CharEnumField(OrganizationKind, max_length=20)
    region = fields.CharField(max_length=200, default="")
    share_with_advisors = fields.BooleanField(default=False)


class User(Record):
    username = fields.CharField(max_length=150, unique=True)
    password_hash = fields.CharField(max_length=200)
    display_name = fields.CharField(max_length=200, default="")
    role = fields.CharEnumField(Role, max_length=10)
    locale = fields.CharField(max_length=10, default="ja")
    timezone = fields.CharField(max_length=64, default="Asia/Tokyo")
    is_active = fields.BooleanField(default=True)
    quiet_start = fields.CharField(max_length=5, null=True)
    """Start of the user's quiet hours, "HH:MM" in their time zone; only critical pushes
    wake them."""
    quiet_end = fields.CharField(max_length=5, null=True)
    organizations: fields.ManyToManyRelation[Organization] = fields.ManyToManyField(
        "core.Organization", related_name="users", through="core_membership"
    )


class RefreshToken(Record):
    """A refresh token, stored as the SHA-256 of its value. Each use spends it and issues the
    next token of the same family; presenting a spent one revokes the family."""

    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "core.User", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    family = fields.UUIDField(db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    spent_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
