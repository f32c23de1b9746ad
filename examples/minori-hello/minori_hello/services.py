from __future__ import annotations

from datetime import datetime, timedelta

from core import tenancy
from core.errors import Invalid
from core.identity.access import Principal
from core.identity.models import Organization
from core.pagination import page
from core.plugin import PluginContext
from minori_hello import schemas
from minori_hello.models import DailyTally, Greeting


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
        organization=organization, author_id=principal.user_id, text=data.text, mood=mood
    )
    return greeting_out(greeting)


async def list_greetings(
    principal: Principal, cursor: str | None, limit: int
) -> schemas.GreetingList:
    rows, next_cursor = await page(tenancy.scope(Greeting.all(), principal), cursor, limit)
    return schemas.GreetingList(items=[greeting_out(g) for g in rows], next_cursor=next_cursor)


async def get_greeting(principal: Principal, greeting_id: str) -> schemas.Greeting:
    return greeting_out(await tenancy.get(Greeting.all(), greeting_id, principal))


async def delete_greeting(principal: Principal, greeting_id: str) -> None:
    greeting = await tenancy.get(Greeting.all(), greeting_id, principal, write=True)
    await greeting.delete()


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
