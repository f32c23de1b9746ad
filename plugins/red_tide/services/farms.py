"""Fish farms, cages, feeding plans and feedings, under core's tenancy rule; the feeding-stop
interlock (a feeding during a stop needs a reason, which is kept) and feeders' dispensing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import tenancy
from core.alerts.models import Severity
from core.alerts.service import Subject
from core.errors import Conflict, Invalid
from core.identity.access import Principal
from core.identity.models import Organization, OrganizationKind, User
from core.pagination import page
from core.plugin import PluginContext
from core.sync import record_deletion
from core.telemetry.devices import DeviceRef
from core.telemetry.ingest import NewReading
from plugins.red_tide import schemas
from plugins.red_tide.i18n import _
from plugins.red_tide.models import (
    Advice,
    Cage,
    FeedingAdvice,
    FeedingLog,
    FeedingPlan,
    FeedingSource,
    FishFarm,
    SeaArea,
)
from plugins.red_tide.services.common import (
    ADVICE,
    CAGE_SUBJECT,
    FEEDING_DURING_STOP,
    PLUGIN,
    SYNC_PLANS,
    as_id,
    cage_advice,
    not_in_future,
    referenced_area,
    settings_of,
)
from plugins.red_tide.thresholds import Level


def _farm_out(farm: FishFarm, cage_count: int) -> schemas.Farm:
    level = Level.parse(farm.area.level)
    return schemas.Farm(
        id=as_id(farm.id),
        organization_id=as_id(farm.organization_id),
        area_id=as_id(farm.area_id),
        area_name=farm.area.name,
        name=farm.name,
        latitude=farm.latitude,
        longitude=farm.longitude,
        level=level.label,  # type: ignore[arg-type]
        advice=ADVICE[level],
        cages=cage_count,
        created_at=farm.created_at,
    )


async def farms_out(farms: Sequence[FishFarm]) -> list[schemas.Farm]:
    counts: dict[str, int] = defaultdict(int)
    for farm_id in await Cage.filter(farm_id__in=[f.id for f in farms]).values_list(
        "farm_id", flat=True
    ):
        counts[as_id(farm_id)] += 1
    return [_farm_out(f, counts[as_id(f.id)]) for f in farms]


async def create_farm(
    ctx: PluginContext, principal: Principal, data: schemas.FarmCreate
) -> schemas.Farm:
    organization = await tenancy.referenced(
        Organization.all(), data.organization_id, principal, "/organization_id", field=None
    )
    if organization.kind is not OrganizationKind.FISHERY:
        raise Invalid.field("/organization_id", "fish farms belong to fishery organizations")
    area = await referenced_area(data.area_id, "/area_id")
    farm = await FishFarm.create(
        organization=organization,
        area=area,
        name=data.name,
        latitude=data.latitude,
        longitude=data.longitude,
        updated_at=ctx.clock.now(),
    )
    await farm.fetch_related("area")
    return _farm_out(farm, 0)


async def update_farm(
    ctx: PluginContext, principal: Principal, farm_id: str, data: schemas.FarmPatch
) -> schemas.Farm:
    farm = await tenancy.get(FishFarm.all(), farm_id, principal, write=True)
    if data.area_id is not None:
        farm.area = await referenced_area(data.area_id, "/area_id")
    for name in ("name", "latitude", "longitude"):
        value = getattr(data, name)
        if value is not None:
            setattr(farm, name, value)
    farm.updated_at = ctx.clock.now()
    await farm.save()
    await farm.fetch_related("area")
    return (await farms_out([farm]))[0]


async def get_farm(principal: Principal, farm_id: str) -> schemas.Farm:
    farm = await tenancy.get(FishFarm.all().prefetch_related("area"), farm_id, principal)
    return (await farms_out([farm]))[0]


async def list_farms(
    principal: Principal, area_id: str | None, cursor: str | None, limit: int
) -> schemas.FarmList:
    queryset = tenancy.scope(FishFarm.all().prefetch_related("area"), principal)
    if area_id is not None:
        key = tenancy.parse_id(area_id)
        if key is None:
            raise Invalid.parameter("area_id", "unknown sea area")
        queryset = queryset.filter(area_id=key)
    rows, next_cursor = await page(queryset, cursor, limit)
    return schemas.FarmList(await farms_out(rows), next_cursor)


async def planned_kg(cage_ids: Sequence[Any]) -> dict[str, float]:
    planned: dict[str, float] = defaultdict(float)
    for cage_id, kg in await FeedingPlan.filter(
        cage_id__in=list(cage_ids), active=True
    ).values_list("cage_id", "kg"):
        planned[as_id(cage_id)] += kg
    return planned


async def cages_out(ctx: PluginContext, cages: Sequence[Cage]) -> list[schemas.Cage]:
    planned = await planned_kg([c.id for c in cages])
    ratio = settings_of(ctx).restrict_ratio
    out = []
    for cage in cages:
        level = Level.parse(cage.farm.area.level)
        advice = cage_advice(cage.species, level)
        plan = planned.get(as_id(cage.id))
        out.append(
            schemas.Cage(
                id=as_id(cage.id),
                organization_id=as_id(cage.organization_id),
                farm_id=as_id(cage.farm_id),
                area_id=as_id(cage.farm.area_id),
                name=cage.name,
                species=cage.species,
                stock=cage.stock,
                level=level.label,  # type: ignore[arg-type]
                advice=advice,
                max_kg_today=round(plan * ratio, 1)
                if advice is Advice.RESTRICT and plan
                else (0.0 if advice is Advice.STOP else None),
                created_at=cage.created_at,
            )
        )
    return out


async def create_cage(
    ctx: PluginContext, principal: Principal, data: schemas.CageCreate
) -> schemas.Cage:
    farm = await tenancy.referenced(FishFarm.all(), data.farm_id, principal, "/farm_id")
    cage = await Cage.create(
        organization_id=farm.organization_id,
        farm=farm,
        name=data.name,
        species=data.species,
        stock=data.stock,
        updated_at=ctx.clock.now(),
    )
    await cage.fetch_related("farm__area")
    return (await cages_out(ctx, [cage]))[0]


async def update_cage(
    ctx: PluginContext, principal: Principal, cage_id: str, data: schemas.CagePatch
) -> schemas.Cage:
    cage = await tenancy.get(Cage.all(), cage_id, principal, write=True)
    for name in ("name", "species", "stock"):
        value = getattr(data, name)
        if value is not None:
            setattr(cage, name, value)
    cage.updated_at = ctx.clock.now()
    await cage.save()
    await cage.fetch_related("farm__area")
    return (await cages_out(ctx, [cage]))[0]


async def get_cage(ctx: PluginContext, principal: Principal, cage_id: str) -> schemas.Cage:
    cage = await tenancy.get(Cage.all().prefetch_related("farm__area"), cage_id, principal)
    return (await cages_out(ctx, [cage]))[0]


async def list_cages(
    ctx: PluginContext, principal: Principal, farm_id: str | None, cursor: str | None, limit: int
) -> schemas.CageList:
    queryset = tenancy.scope(Cage.all().prefetch_related("farm__area"), principal)
    if farm_id is not None:
        key = tenancy.parse_id(farm_id)
        if key is None:
            raise Invalid.parameter("farm_id", "unknown fish farm")
        queryset = queryset.filter(farm_id=key)
    rows, next_cursor = await page(queryset, cursor, limit)
    return schemas.CageList(await cages_out(ctx, rows), next_cursor)


def _person(user: User | None) -> schemas.Person | None:
    return schemas.Person(as_id(user.id), user.display_name) if user else None


def feeding_out(log: FeedingLog) -> schemas.Feeding:
    return schemas.Feeding(
        id=as_id(log.id),
        organization_id=as_id(log.organization_id),
        cage_id=as_id(log.cage_id),
        fed_at=log.fed_at,
        kg=log.kg,
        source=log.source,
        device_id=as_id(log.device_id) if log.device_id else None,
        logged_by=_person(log.logged_by),
        advice=log.advice,
        needs_reason=log.advice is Advice.STOP and not log.override_reason,
        override_reason=log.override_reason,
        override_by=_person(log.override_by),
        override_at=log.override_at,
        created_at=log.created_at,
    )


FEEDING_RELATED = ("logged_by", "override_by")


async def _cage_level(cage: Cage) -> tuple[Level, SeaArea]:
    farm = await FishFarm.get(id=cage.farm_id).prefetch_related("area")
    return Level.parse(farm.area.level), farm.area


async def log_feeding(
    ctx: PluginContext, principal: Principal, data: schemas.FeedingCreate
) -> schemas.Feeding:
    cage = await tenancy.referenced(Cage.all(), data.cage_id, principal, "/cage_id")
    now = ctx.clock.now()
    fed_at = data.fed_at or now
    if fed_at.tzinfo is None:
        raise Invalid.field("/fed_at", "give the time with its UTC offset")
    if not not_in_future(ctx, fed_at):
        raise Invalid.field("/fed_at", "in the future")
    level, area = await _cage_level(cage)
    advice = cage_advice(cage.species, level)
    if advice is Advice.STOP and not data.override_reason:
        raise Invalid.field(
            "/override_reason",
            _(
                "Feeding is stopped at {cage}: red tide warning in {area}. Give a reason to "
                "feed anyway.",
                cage=cage.name,
                area=area.name,
            ),
        )
    overriding = advice is Advice.STOP
    log = await FeedingLog.create(
        organization_id=cage.organization_id,
        cage=cage,
        fed_at=fed_at,
        kg=data.kg,
        source=FeedingSource.MANUAL,
        logged_by_id=principal.user_id,
        advice=advice,
        override_reason=data.override_reason if overriding else None,
        override_by_id=principal.user_id if overriding else None,
        override_at=now if overriding else None,
        updated_at=now,
    )
    await log.fetch_related(*FEEDING_RELATED)
    return feeding_out(log)


async def give_reason(
    ctx: PluginContext, principal: Principal, log_id: str, reason: str
) -> schemas.Feeding:
    log = await tenancy.get(FeedingLog.all(), log_id, principal, write=True)
    if log.advice is not Advice.STOP:
        raise Conflict("This feeding was not during a stop: there is nothing to override.")
    if log.override_reason:
        raise Conflict("A reason was given for this feeding already; it is kept as it is.")
    now = ctx.clock.now()
    log.override_reason = reason
    log.override_by_id = principal.user_id  # type: ignore[assignment]
    log.override_at = now
    log.updated_at = now
    await log.save()
    pending = await FeedingLog.filter(
        cage_id=log.cage_id, advice=Advice.STOP, override_reason=None
    ).exists()
    if not pending:
        cage = await Cage.get(id=log.cage_id)
        await ctx.alerts.resolve(
            organization_id=as_id(log.organization_id),
            type=FEEDING_DURING_STOP,
            subject=Subject(CAGE_SUBJECT, as_id(cage.id), cage.name),
            note=reason,
        )
    await log.fetch_related(*FEEDING_RELATED)
    return feeding_out(log)


async def get_feeding(principal: Principal, log_id: str) -> schemas.Feeding:
    log = await tenancy.get(FeedingLog.all().prefetch_related(*FEEDING_RELATED), log_id, principal)
    return feeding_out(log)


async def list_feedings(
    principal: Principal,
    cage_id: str | None,
    needs_reason: bool | None,
    cursor: str | None,
    limit: int,
) -> schemas.FeedingList:
    queryset = tenancy.scope(FeedingLog.all().prefetch_related(*FEEDING_RELATED), principal)
    if cage_id is not None:
        key = tenancy.parse_id(cage_id)
        if key is None:
            raise Invalid.parameter("cage_id", "unknown cage")
        queryset = queryset.filter(cage_id=key)
    if needs_reason is True:
        queryset = queryset.filter(advice=Advice.STOP, override_reason=None)
    rows, next_cursor = await page(queryset, cursor, limit, newest_first=True)
    return schemas.FeedingList([feeding_out(r) for r in rows], next_cursor)


async def record_dispensed(
    ctx: PluginContext, device: DeviceRef, readings: Sequence[NewReading]
) -> None:
    """A feeder's ``dispensed_kg`` readings become feeding logs of its cage; any during a
    stop raises a warning that stays open until someone gives the reason."""
    if device.subject_kind != CAGE_SUBJECT or not device.subject_id:
        ctx.logger.warning(
            "feeder %s is bound to no cage: readings kept, no feeding logged", device.id
        )
        return
    cage = await Cage.get_or_none(id=device.subject_id, organization_id=device.organization_id)
    if cage is None:
        return
    level, area = await _cage_level(cage)
    advice = cage_advice(cage.species, level)
    now = ctx.clock.now()
    created: list[FeedingLog] = []
    for reading in readings:
        if reading.metric != "dispensed_kg" or reading.value <= 0:
            continue
        try:
            created.append(
                await FeedingLog.create(
                    organization_id=cage.organization_id,
                    cage=cage,
                    fed_at=reading.ts,
                    kg=reading.value,
                    source=FeedingSource.FEEDER,
                    device_id=device.id,
                    message_id=reading.message_id,
                    advice=advice,
                    updated_at=now,
                )
            )
        except IntegrityError:
            continue  # the same reading, handled before
    if advice is not Advice.STOP or not created:
        return
    kg = sum(log.kg for log in created)
    await ctx.alerts.raise_(
        organization_id=as_id(cage.organization_id),
        type=FEEDING_DURING_STOP,
        severity=Severity.WARNING,
        title=_("Feeder dispensed during a feeding stop: {cage}", cage=cage.name),
        body=_(
            "{feeder} dispensed {kg} kg at {cage} while feeding is stopped (red tide warning "
            "in {area}). Give the reason in the feeding log.",
            feeder=device.name,
            kg=f"{kg:g}",
            cage=cage.name,
            area=area.name,
        ),
        subject=Subject(CAGE_SUBJECT, as_id(cage.id), cage.name),
        data={
            "feedings": [as_id(log.id) for log in created],
            "kg": kg,
            "device_id": as_id(device.id),
        },
    )


def _plan_out(plan: FeedingPlan, stopped: bool) -> schemas.Plan:
    return schemas.Plan(
        id=as_id(plan.id),
        organization_id=as_id(plan.organization_id),
        cage_id=as_id(plan.cage_id),
        time_of_day=plan.time_of_day,
        kg=plan.kg,
        active=plan.active,
        suspended=plan.active and stopped,
        created_at=plan.created_at,
    )


async def plans_out(plans: Sequence[FeedingPlan]) -> list[schemas.Plan]:
    stopped = set()
    for cage_id, species, level in await Cage.filter(id__in=[p.cage_id for p in plans]).values_list(
        "id", "species", "farm__area__level"
    ):
        if cage_advice(species, Level.parse(level)) is Advice.STOP:
            stopped.add(as_id(cage_id))
    return [_plan_out(p, as_id(p.cage_id) in stopped) for p in plans]


async def create_plan(
    ctx: PluginContext, principal: Principal, data: schemas.PlanCreate
) -> schemas.Plan:
    cage = await tenancy.referenced(Cage.all(), data.cage_id, principal, "/cage_id")
    plan = await FeedingPlan.create(
        organization_id=cage.organization_id,
        cage=cage,
        time_of_day=data.time_of_day,
        kg=data.kg,
        active=data.active,
        updated_at=ctx.clock.now(),
    )
    return (await plans_out([plan]))[0]


async def update_plan(
    ctx: PluginContext, principal: Principal, plan_id: str, data: schemas.PlanPatch
) -> schemas.Plan:
    plan = await tenancy.get(FeedingPlan.all(), plan_id, principal, write=True)
    for name in ("time_of_day", "kg", "active"):
        value = getattr(data, name)
        if value is not None:
            setattr(plan, name, value)
    plan.updated_at = ctx.clock.now()
    await plan.save()
    return (await plans_out([plan]))[0]


async def delete_plan(ctx: PluginContext, principal: Principal, plan_id: str) -> None:
    plan = await tenancy.get(FeedingPlan.all(), plan_id, principal, write=True)
    async with in_transaction():
        await plan.delete()
        await record_deletion(
            PLUGIN,
            SYNC_PLANS,
            as_id(plan.id),
            ctx.clock.now(),
            organization_id=as_id(plan.organization_id),
        )


async def list_plans(
    principal: Principal, cage_id: str | None, cursor: str | None, limit: int
) -> schemas.PlanList:
    queryset = tenancy.scope(FeedingPlan.all(), principal)
    if cage_id is not None:
        key = tenancy.parse_id(cage_id)
        if key is None:
            raise Invalid.parameter("cage_id", "unknown cage")
        queryset = queryset.filter(cage_id=key)
    rows, next_cursor = await page(queryset, cursor, limit)
    return schemas.PlanList(await plans_out(rows), next_cursor)


async def list_advice(
    principal: Principal, cage_id: str | None, cursor: str | None, limit: int
) -> schemas.AdviceList:
    queryset = tenancy.scope(FeedingAdvice.all(), principal)
    if cage_id is not None:
        key = tenancy.parse_id(cage_id)
        if key is None:
            raise Invalid.parameter("cage_id", "unknown cage")
        queryset = queryset.filter(cage_id=key)
    rows, next_cursor = await page(queryset, cursor, limit, newest_first=True)
    return schemas.AdviceList(
        [
            schemas.AdviceIssued(
                id=as_id(a.id),
                organization_id=as_id(a.organization_id),
                cage_id=as_id(a.cage_id),
                area_id=as_id(a.area_id),
                level=a.level,  # type: ignore[arg-type]
                advice=a.advice,
                issued_at=a.issued_at,
            )
            for a in rows
        ],
        next_cursor,
    )
