"""What the mobile routes read and change: push tokens, the inbox. The only module of the
facade that queries the ORM, besides core's own feed and sync contributions (core_sources)."""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError

from core.alerts.models import Notification, PushToken
from core.alerts.outbox import rendered
from core.errors import NotFound
from core.i18n import _
from core.identity.access import Principal
from core.pagination import page
from core.tenancy import parse_id
from mobile_api import schemas


def token_out(token: PushToken) -> schemas.PushToken:
    return schemas.PushToken(
        token=token.token,
        kind=schemas.PushKind(token.kind),
        platform=schemas.Platform(token.platform),
        app_version=token.app_version,
        created_at=token.created_at,
    )


async def register_token(
    principal: Principal, data: schemas.PushTokenIn, now: datetime
) -> tuple[schemas.PushToken, bool]:
    """Register a phone's push address for the caller; True when it is new to them.

    The token is unique: registering it again updates it (app version, last seen); a token
    another user registered moves to the caller (the phone changed hands or accounts).
    """
    changes = {
        "kind": data.kind.value,
        "platform": data.platform.value,
        "app_version": data.app_version,
        "last_seen_at": now,
    }
    for _attempt in range(5):
        existing = await PushToken.get_or_none(token=data.token)
        if existing is None:
            try:
                created = await PushToken.create(
                    user_id=principal.user_id, token=data.token, created_at=now, **changes
                )
            except IntegrityError:
                continue  # registered at this very moment by another request
            return token_out(created), True
        if str(existing.user_id) == principal.user_id:
            await PushToken.filter(id=existing.id).update(**changes)
            return token_out(existing.update_from_dict(changes)), False
        moved = await PushToken.filter(id=existing.id, user_id=existing.user_id).update(
            user_id=principal.user_id, created_at=now, **changes
        )
        if moved:
            return token_out(await PushToken.get(id=existing.id)), True
    raise RuntimeError(f"push token of user {principal.user_id} kept changing hands")


async def unregister_token(principal: Principal, token: str) -> None:
    """Forget the caller's push token; another user's or an unknown one is left alone."""
    await PushToken.filter(token=token, user_id=principal.user_id).delete()


def inbox_item(notification: Notification, language: str) -> schemas.InboxItem:
    return schemas.InboxItem(
        id=str(notification.id),
        title=rendered(notification.message, "title", language),
        body=rendered(notification.message, "body", language),
        created_at=notification.created_at,
        read=notification.read_at is not None,
        plugin=notification.plugin,
        alert_id=str(notification.alert_id) if notification.alert_id else None,
    )


async def inbox(
    principal: Principal, language: str, cursor: str | None, limit: int
) -> schemas.InboxPage:
    rows, next_cursor = await page(
        Notification.filter(user_id=principal.user_id), cursor, limit, newest_first=True
    )
    return schemas.InboxPage([inbox_item(n, language) for n in rows], next_cursor)


async def mark_read(principal: Principal, notification_id: str, now: datetime) -> None:
    """Read now, unless it was read before; another user's item answers 404 like no item."""
    key = parse_id(notification_id)
    mine = Notification.filter(id=key, user_id=principal.user_id) if key else None
    if mine is None or not await mine.exists():
        raise NotFound(_("No inbox item with id {id}.", id=notification_id))
    await mine.filter(read_at__isnull=True).update(read_at=now)
