"""What the mobile app needs to work offline: every plugin tells what changed since a cursor.

Plugins contribute through their ``sync`` slot and record deletions as tombstones here, so a
phone that was offline for hours learns what to drop. Tombstones are kept ``KEEP_DELETIONS``:
a sync cursor older than that is refused (the app starts over), and the
``core.tombstone_purge`` job deletes older tombstones daily.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from core.plugin import JobSpec, PluginContext

log = logging.getLogger("minori.sync")

KEEP_DELETIONS = timedelta(days=30)


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


def jobs() -> list[JobSpec]:
    """``core.tombstone_purge``: delete the tombstones no valid cursor can ask for, daily."""
    from apscheduler.triggers.cron import CronTrigger

    from core.plugin import JobSpec

    return [
        JobSpec(
            id="tombstone_purge",
            trigger=CronTrigger(hour=3, minute=40),
            run=purge_tombstones,
            side_effects=False,
        )
    ]


async def purge_tombstones(_ctx: PluginContext | None, due: datetime) -> None:
    # A day of slack beyond the cursors' age limit, for their overlap and clock skew.
    deleted = await Tombstone.filter(
        deleted_at__lt=due - KEEP_DELETIONS - timedelta(days=1)
    ).delete()
    if deleted:
        log.info("purged %d tombstones", deleted)
