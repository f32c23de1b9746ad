"""The morning bulletin: subscriptions, its composition (levels, latest counts, 3-day risk,
today's advice per cage) and its delivery once per local morning in each reader's language.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time

import msgspec
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.clock import zone_named
from core.i18n import Text
from core.identity.access import Principal
from core.identity.models import Organization, Role
from core.plugin import PluginContext
from plugins.red_tide import schemas
from plugins.red_tide.i18n import _
from plugins.red_tide.models import (
    Advice,
    BulletinDelivery,
    BulletinSubscription,
    Cage,
    FishFarm,
    SeaArea,
)
from plugins.red_tide.services.common import (
    RISK_FRESH,
    as_id,
    cage_advice,
    cells_text,
    referenced_area,
    settings_of,
)
from plugins.red_tide.services.farms import planned_kg
from plugins.red_tide.services.levels import join_lines, level_text
from plugins.red_tide.services.risk import compute_risks, latest_risks
from plugins.red_tide.thresholds import Level


def _hhmm(value: str) -> time:
    return time.fromisoformat(value)


async def get_subscription(ctx: PluginContext, principal: Principal) -> schemas.Subscription:
    sub = await BulletinSubscription.get_or_none(user_id=principal.user_id)
    return schemas.Subscription(
        active=sub.active if sub else False,
        areas=list(sub.areas) if sub else [],
        bulletin_time=settings_of(ctx).bulletin_time,
        timezone=principal.timezone,
    )


async def subscribe(
    ctx: PluginContext, principal: Principal, data: schemas.SubscriptionIn
) -> schemas.Subscription:
    areas = []
    for index, area_id in enumerate(data.areas):
        areas.append(as_id((await referenced_area(area_id, f"/areas/{index}")).id))
    await BulletinSubscription.update_or_create(
        user_id=principal.user_id,
        defaults={
            "areas": list(dict.fromkeys(areas)),
            "active": data.active,
            "updated_at": ctx.clock.now(),
        },
    )
    return await get_subscription(ctx, principal)


async def _member_areas(user_id: str, chosen: Sequence[str]) -> tuple[list[SeaArea], list[Cage]]:
    organizations = await Organization.filter(users__id=user_id).values_list("id", flat=True)
    cages = (
        await Cage.filter(organization_id__in=list(organizations))
        .prefetch_related("farm__area")
        .order_by("name")
    )
    if chosen:
        areas = await SeaArea.filter(id__in=list(chosen)).order_by("name")
    else:
        farm_areas = await FishFarm.filter(organization_id__in=list(organizations)).values_list(
            "area_id", flat=True
        )
        areas = await SeaArea.filter(id__in=list(farm_areas)).order_by("name")
    return list(areas), list(cages)


async def compose_bulletin(
    ctx: PluginContext, user_id: str, chosen: Sequence[str], day: date
) -> tuple[Text, Text, list[schemas.BulletinArea], list[schemas.BulletinCage]]:
    """The bulletin's title and body (rendered later in the reader's language) and its
    parts: the level, latest counts and 3-day risk of each area, today's advice per cage."""
    areas, cages = await _member_areas(user_id, chosen)
    if areas:
        fresh = ctx.clock.now() - RISK_FRESH
        risks = await latest_risks([a.id for a in areas])
        stale = [
            a.id
            for a in areas
            if as_id(a.id) not in risks or risks[as_id(a.id)].computed_at < fresh
        ]
        if stale:
            try:
                for risk in await compute_risks(ctx, stale):
                    risks[as_id(risk.area_id)] = risk
            except Exception:
                ctx.logger.exception("bloom risk unavailable for the bulletin")
    else:
        risks = {}
    percent = round(settings_of(ctx).restrict_ratio * 100)
    lines: list[Text] = []
    area_parts = []
    for area in areas:
        level = Level.parse(area.level)
        top = area.detail.get("findings", [None])[0] if area.detail.get("findings") else None
        risk = risks.get(as_id(area.id))
        line = _("{area}: {level}.", area=area.name, level=level_text(level))
        if top is not None:
            line = _(
                "{area}: {level}. Latest counts ({day}): {species} {cells} cells/mL.",
                area=area.name,
                level=level_text(level),
                day=area.detail.get("sampling_day") or "-",
                species=top["rule"],
                cells=cells_text(top["cells_per_ml"]),
            )
        if risk is not None and level is Level.NONE:  # over the level, the count says it all
            line = _(
                "{line} 3-day bloom risk: {risk}.",
                line=line,
                risk=f"{round(risk.probability * 100)}%",
            )
        lines.append(line)
        area_parts.append(
            schemas.BulletinArea(
                area_id=as_id(area.id),
                name=area.name,
                level=level.label,  # type: ignore[arg-type]
                sampling_day=date.fromisoformat(area.detail["sampling_day"])
                if area.detail.get("sampling_day")
                else None,
                species=top["rule"] if top else None,
                cells_per_ml=top["cells_per_ml"] if top else None,
                risk=round(risk.probability, 4) if risk else None,
                risk_high=risk.high if risk else None,
            )
        )
    planned = await planned_kg([c.id for c in cages])
    by_advice: dict[Advice, list[str]] = defaultdict(list)
    cage_parts = []
    for cage in cages:
        level = Level.parse(cage.farm.area.level)
        advice = cage_advice(cage.species, level)
        by_advice[advice].append(cage.name)
        plan = planned.get(as_id(cage.id))
        cage_parts.append(
            schemas.BulletinCage(
                cage_id=as_id(cage.id),
                name=cage.name,
                farm=cage.farm.name,
                advice=advice,
                max_kg_today=round(plan * settings_of(ctx).restrict_ratio, 1)
                if advice is Advice.RESTRICT and plan
                else (0.0 if advice is Advice.STOP else None),
            )
        )
    if by_advice.get(Advice.STOP):
        lines.append(_("Today: stop feeding at {cages}.", cages=", ".join(by_advice[Advice.STOP])))
    if by_advice.get(Advice.RESTRICT):
        lines.append(
            _(
                "Today: restrict feeding at {cages} to {percent} of the plan.",
                cages=", ".join(by_advice[Advice.RESTRICT]),
                percent=f"{percent}%",
            )
        )
    if by_advice.get(Advice.NORMAL):
        lines.append(
            _("Today: feed as planned at {cages}.", cages=", ".join(by_advice[Advice.NORMAL]))
        )
    if not areas:
        lines.append(_("No sea area is followed: subscribe to areas or add your farms."))
    worst = max((Level.parse(a.level) for a in areas), default=Level.NONE)
    title = _("Red tide bulletin {day}: {level}", day=day.isoformat(), level=level_text(worst))
    return title, join_lines(lines), area_parts, cage_parts


async def bulletin_for(ctx: PluginContext, principal: Principal, language: str) -> schemas.Bulletin:
    day = ctx.clock.now().astimezone(principal.zone).date()
    sub = await BulletinSubscription.get_or_none(user_id=principal.user_id)
    chosen = list(sub.areas) if sub else []
    if principal.role is not Role.MEMBER and not chosen:
        chosen = [as_id(a) for a in await SeaArea.all().values_list("id", flat=True)]
    title, body, areas, cages = await compose_bulletin(ctx, principal.user_id, chosen, day)
    sent = await BulletinDelivery.get_or_none(user_id=principal.user_id, local_date=day)
    return schemas.Bulletin(
        date=day,
        title=title.render(language),
        body=body.render(language),
        areas=areas,
        cages=cages,
        sent_at=sent.sent_at if sent else None,
    )


async def send_bulletins(ctx: PluginContext, due: datetime) -> int:
    """Push the morning bulletin to every subscribed member whose local time is between
    ``bulletin_time`` and ``bulletin_until`` and who has not had today's: once per morning."""
    settings = settings_of(ctx)
    start, until = _hhmm(settings.bulletin_time), _hhmm(settings.bulletin_until)
    sent = 0
    for sub in await BulletinSubscription.filter(active=True).prefetch_related("user"):
        user = sub.user
        if not user.is_active:
            continue
        local = due.astimezone(zone_named(user.timezone))
        if not start <= local.time() < until:
            continue
        day = local.date()
        if await BulletinDelivery.exists(user=user, local_date=day):
            continue
        title, body, areas, _cages = await compose_bulletin(ctx, as_id(user.id), sub.areas, day)
        if not areas:
            continue
        try:
            async with in_transaction():
                await BulletinDelivery.create(
                    user=user,
                    local_date=day,
                    sent_at=ctx.clock.now(),
                    level=max(Level.parse(a.level) for a in areas).label,
                    title=msgspec.to_builtins(title),
                    body=msgspec.to_builtins(body),
                )
                await ctx.notifier.notify(
                    [as_id(user.id)],
                    title=title,
                    body=body,
                    data={"kind": "bulletin", "date": day.isoformat()},
                )
        except IntegrityError:
            continue  # another run sent it
        sent += 1
    if sent:
        ctx.notifier.wake()
    ctx.logger.info("sent %d bulletins", sent)
    return sent


async def todays_bulletin(ctx: PluginContext, principal: Principal) -> BulletinDelivery | None:
    day = ctx.clock.now().astimezone(principal.zone).date()
    return await BulletinDelivery.get_or_none(user_id=principal.user_id, local_date=day)
