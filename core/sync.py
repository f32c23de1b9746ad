"""What the mobile app needs to work offline: every plugin tells what changed since a cursor.

Plugins contribute through their ``sync`` slot and record deletions as tombstones here, so a
phone that was offline for hours learns what to drop.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from tortoise import fields
from tortoise.models import Model


class Changes(msgspec.Struct):
    """One collection's changes: whole objects that are new or changed, ids that are gone."""

    upserted: list[dict[str, Any]] = []
    deleted: list[str] = []


class Tombstone(Model):
    id = fields.BigIntField(primary_key=True)
    plugin = fields.CharField(max_length=40)
    collection = fields.CharField(max_length=60)
    object_id = fields.CharField(max_length=64)
    organization_id = fields.UUIDField(null=True)
    user_id = fields.UUIDField(null=True)
    deleted_at = fields.DatetimeField()

    class Meta:
        indexes = (("plugin", "collection", "deleted_at"),)


async def record_deletion(
    plugin: str,
    collection: str,
    object_id: str,
    deleted_at: datetime,
    *,
    organization_id: str | None = None,
    user_id: str | None = None,
) -> None:
    """Call in the transaction that deletes the object."""
    await Tombstone.create(
        plugin=plugin,
        collection=collection,
        object_id=object_id,
        organization_id=organization_id,
        user_id=user_id,
        deleted_at=deleted_at,
    )
