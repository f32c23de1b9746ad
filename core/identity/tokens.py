"""Access tokens (JWT, short-lived) and refresh tokens (random, stored hashed, rotating)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import jwt

from core.identity.models import RefreshToken, User


def issue_access_token(
    user: User, organization_ids: list[str], secret_key: str, now: datetime, ttl_s: int
) -> str:
    claims = {
        "typ": "access",
        "sub": str(user.id),
        "role": user.role.value,
        "orgs": organization_ids,
        "tz": user.timezone,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_s)).timestamp()),
    }
    return jwt.encode(claims, secret_key, algorithm="HS256")


def token_hash(token: str) -> str:
    """Refresh tokens, device keys and gateway keys are 256-bit random: SHA-256 suffices."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


async def issue_refresh_token(
    user: User, now: datetime, ttl_s: int, family: uuid.UUID | None = None
) -> str:
    token = new_secret()
    await RefreshToken.create(
        user=user,
        family=family or uuid.uuid4(),
        token_hash=token_hash(token),
        expires_at=now + timedelta(seconds=ttl_s),
    )
    return token
