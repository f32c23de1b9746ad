from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec
from tortoise.transactions import in_transaction

from core import tenancy
from core.errors import Invalid
from core.identity.access import Principal
from core.identity.models import Organization
from core.pagination import page
from core.plugin import PluginContext
from core.sync import Tombstone, record_deletion
from minori_hello import schemas
from minori_hello.models import DailyTally, Greeting

COLLECTION = "greetings"
"""The collection the mobile app syncs greetings as (``changes.hello.greetings``)."""


def greeting_out(greeting: Greeting) -> schemas.Greeting:
    return schemas.Greeting(
        id=str(greeting.id),
        organization_id=str(greeting.organization_id),
        author_id=str(greeting.author_id),
        text=greeting.text,
        mood=greeting.mood,
        created_at=greeting.created_at,
    )


async def create_greeting(
    ctx: PluginContext, principal: Principal, data: schemas.GreetingCreate
) -> schemas.Greeting:
    if len(data.text) > ctx.settings.max_length:
        raise Invalid.field("/text", f"longer than {ctx.settings.max_length} characters")
    organization = await tenancy.referenced(
        Organization.all(), data.organization_id, principal, "/organization_id", field=None
    )
    mood = ctx.predictors.get("hello.mood").predict(data.text)
    greeting = await Greeting.create(
        organization=organization,
        author_id=principal.user_id,
        text=data.text,
        mood=mood,
        created_at=ctx.clock.now(),
    )
    return greeting_out(greeting)


async def list_greetings(
    principal: Principal, cursor: str | None, limit: int
) -> schemas.GreetingList:
    rows, next_cursor = await page(tenancy.scope(Greeting.all(), principal), cursor, limit)
    return schemas.GreetingList(items=[greeting_out(g) for g in rows], next_cursor=next_cursor)


async def get_greeting(principal: Principal, greeting_id: str) -> schemas.Greeting:
    return greeting_out(await tenancy.get(Greeting.all(), greeting_id, principal))


async def delete_greeting(ctx: PluginContext, principal: Principal, greeting_id: str) -> None:
    """Delete, leaving a tombstone in the same transaction so offline phones learn of it."""
    greeting = await tenancy.get(Greeting.all(), greeting_id, principal, write=True)
    async with in_transaction():
        await greeting.delete()
        await record_deletion(
            "hello",
            COLLECTION,
            str(greeting.id),
            ctx.clock.now(),
            organization_id=str(greeting.organization_id),
        )


async def todays_greetings(
    principal: Principal, start: datetime, at_most: int
) -> list[tuple[Any, str, datetime]]:
    """``(id, text, created_at)`` of the greetings the caller may see posted since ``start``,
    newest first, at most ``at_most`` of them: one light query, for the home screen."""
    visible = tenancy.scope(Greeting.filter(created_at__gte=start), principal)
    return (
        await visible.order_by("-created_at", "-id")
        .limit(at_most)
        .values_list("id", "text", "created_at")
    )


async def greeting_changes(
    principal: Principal, since: datetime | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Greetings posted since ``since`` (all when None) and ids of those deleted since."""
    visible = tenancy.scope(Greeting.all(), principal)
    if since is not None:
        visible = visible.filter(created_at__gte=since)
    upserted = [
        msgspec.to_builtins(greeting_out(g), builtin_types=(datetime,))
        for g in await visible.order_by("created_at", "id")
    ]
    if since is None:
        return upserted, []  # a phone starting over has nothing to drop
    gone = Tombstone.filter(plugin="hello", collection=COLLECTION, deleted_at__gte=since)
    if not principal.is_admin:
        organizations = tenancy.scope(Organization.all(), principal, field=None)
        gone = gone.filter(organization_id__in=await organizations.values_list("id", flat=True))
    deleted = await gone.order_by("deleted_at").values_list("object_id", flat=True)
    return upserted, [str(i) for i in deleted]


async def list_tallies(principal: Principal) -> list[schemas.Tally]:
    rows = await tenancy.scope(DailyTally.all(), principal).order_by("day")
    return [schemas.Tally(str(t.organization_id), t.day, t.greetings) for t in rows]


async def tally(ctx: PluginContext, due: datetime) -> None:
    """Count yesterday's greetings per organization (UTC days)."""
    day = (due - timedelta(days=1)).date()
    start = datetime(day.year, day.month, day.day, tzinfo=due.tzinfo)
    counts: dict[str, int] = {}
    for org_id in await Greeting.filter(
        created_at__gte=start, created_at__lt=start + timedelta(days=1)
    ).values_list("organization_id", flat=True):
        counts[str(org_id)] = counts.get(str(org_id), 0) + 1
    for org_id, greetings in counts.items():
        await DailyTally.update_or_create(
            organization_id=org_id, day=day, defaults={"greetings": greetings}
        )
    ctx.logger.info("tallied %d organizations for %s", len(counts), day)
