"""Everything the drone spraying plugin reads and writes: the only module that queries the
ORM. Tenancy goes through :mod:`core.tenancy`; the rules are in :mod:`.rules`, the geometry in
:mod:`.geometry`, the report formats in :mod:`.reports`.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
from msgspec import UNSET
from shapely.geometry import mapping
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import tenancy
from core.alerts.models import Severity
from core.alerts.service import Subject, organization_members
from core.errors import Conflict, FieldError, Invalid, NotFound
from core.i18n import Text
from core.identity.access import Principal
from core.identity.models import Organization, User
from core.pagination import page
from core.plugin import PluginContext
from plugins.drone_spraying import geometry, rules, schemas
from plugins.drone_spraying.i18n import _
from plugins.drone_spraying.models import (
    AreaSource,
    Drone,
    FarmField,
    FlightLog,
    Operator,
    Pesticide,
    PesticideLabel,
    PreflightCheck,
    Season,
    SprayRecord,
    SprayRecordVersion,
    SprayRefusal,
    SprayStatus,
    SprayTrack,
    VersionKind,
)
from plugins.drone_spraying.settings import DroneSprayingSettings

PLUGIN = "drone_spraying"
ACTIVE = (SprayStatus.PLANNED, SprayStatus.DONE)
FUTURE_SLACK = timedelta(minutes=5)


def settings_of(ctx: PluginContext) -> DroneSprayingSettings:
    return ctx.settings  # type: ignore[no-any-return]


def _json(value: Any) -> Any:
    """Plain JSON values (lists, not tuples) for JSON columns."""
    return json.loads(json.dumps(value))


def _aware(value: datetime, pointer: str) -> datetime:
    if value.tzinfo is None:
        raise Invalid.field(pointer, _("give the time with its UTC offset"))
    return value.astimezone(UTC)


async def _same_org(
    queryset: Any, object_id: str | None, principal: Principal, pointer: str, org_id: str
) -> Any:
    """An object the body refers to that must belong to ``org_id`` too; 422 otherwise."""
    if object_id is None:
        return None
    found = await tenancy.referenced(queryset, object_id, principal, pointer)
    if str(found.organization_id) != org_id:
        raise Invalid.field(pointer, _("unknown or not accessible"))
    return found


async def _organization(principal: Principal, organization_id: str, pointer: str) -> Organization:
    return await tenancy.referenced(
        Organization.all(), organization_id, principal, pointer, field=None
    )


async def readable_organization(principal: Principal, organization_id: str | None) -> Organization:
    """The organization a report is for: named, or the caller's only one."""
    if organization_id is None:
        if len(principal.organization_ids) != 1:
            raise Invalid.parameter("organization_id", _("name the organization"))
        organization_id = next(iter(principal.organization_ids))
    key = tenancy.parse_id(organization_id)
    found = None
    if key is not None:
        found = await tenancy.scope(Organization.all(), principal, field=None).get_or_none(id=key)
    if found is None:
        raise Invalid.parameter("organization_id", _("unknown or not accessible"))
    return found


# -------------------------------------------------------------------------------- fields


def field_out(row: FarmField) -> schemas.Field:
    centroid = None
    if row.centroid_lat is not None and row.centroid_lon is not None:
        centroid = schemas.Centroid(row.centroid_lat, row.centroid_lon)
    return schemas.Field(
        id=str(row.id),
        organization_id=str(row.organization_id),
        name=row.name,
        crop=row.crop,
        location=row.location,
        boundary=row.boundary,
        area_m2=round(row.area_m2, 2),
        area_a=round(row.area_m2 / 100, 3),
        area_source=str(row.area_source),
        centroid=centroid,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _boundary(value: dict[str, Any]) -> tuple[dict[str, Any], float, tuple[float, float]]:
    try:
        shape = geometry.boundary_from_geojson(value)
    except geometry.GeometryError as exc:
        raise Invalid.field(f"/boundary{exc.pointer}", exc.detail) from None
    return _json(mapping(shape)), geometry.geodesic_area_m2(shape), geometry.centroid(shape)


def _apply_area(row: FarmField, boundary: dict[str, Any] | None, area_m2: float | None) -> None:
    if boundary is not None and area_m2 is not None:
        raise Invalid.field("/area_m2", _("give a boundary or an area, not both"))
    if boundary is not None:
        row.boundary, row.area_m2, (row.centroid_lat, row.centroid_lon) = _boundary(boundary)
        row.area_source = AreaSource.BOUNDARY
    elif area_m2 is not None:
        row.boundary, row.area_m2 = None, area_m2
        row.centroid_lat = row.centroid_lon = None
        row.area_source = AreaSource.MANUAL
    else:
        raise Invalid.field("/boundary", _("give the field's boundary or its area"))


async def create_field(
    ctx: PluginContext, principal: Principal, data: schemas.FieldCreate
) -> schemas.Field:
    organization = await _organization(principal, data.organization_id, "/organization_id")
    row = FarmField(
        organization=organization,
        name=data.name,
        crop=data.crop,
        location=data.location,
        updated_at=ctx.clock.now(),
    )
    _apply_area(row, data.boundary, data.area_m2)
    await row.save()
    return field_out(row)


async def list_fields(
    principal: Principal, cursor: str | None, limit: int, organization_id: str | None = None
) -> schemas.FieldList:
    queryset = tenancy.scope(FarmField.all(), principal)
    if organization_id:
        queryset = queryset.filter(
            organization_id=tenancy.parse_id(organization_id) or uuid.uuid4()
        )
    rows, next_cursor = await page(queryset, cursor, limit)
    return schemas.FieldList([field_out(r) for r in rows], next_cursor)


async def get_field(principal: Principal, field_id: str) -> schemas.Field:
    return field_out(await tenancy.get(FarmField.all(), field_id, principal))


async def update_field(
    ctx: PluginContext, principal: Principal, field_id: str, data: schemas.FieldUpdate
) -> schemas.Field:
    row = await tenancy.get(FarmField.all(), field_id, principal, write=True)
    for name in ("name", "crop", "location"):
        value = getattr(data, name)
        if value is not UNSET:
            setattr(row, name, value)
    if data.boundary is not UNSET or data.area_m2 is not UNSET:
        boundary = None if data.boundary is UNSET else data.boundary
        area = None if data.area_m2 is UNSET else data.area_m2
        _apply_area(row, boundary, area)
    row.updated_at = ctx.clock.now()
    await row.save()
    return field_out(row)


# ------------------------------------------------------------------------------- seasons


def season_out(row: Season, field: FarmField) -> schemas.Season:
    allowed = None
    if row.planned_harvest_date is not None and row.earliest_harvest_date is not None:
        allowed = row.planned_harvest_date >= row.earliest_harvest_date
    return schemas.Season(
        id=str(row.id),
        organization_id=str(row.organization_id),
        field=schemas.Ref(str(field.id), field.name),
        name=row.name,
        crop=row.crop,
        planting_date=row.planting_date,
        planned_harvest_date=row.planned_harvest_date,
        earliest_harvest_date=row.earliest_harvest_date,
        harvest_allowed=allowed,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check_season_dates(planting: date, harvest: date | None) -> None:
    if harvest is not None and harvest < planting:
        raise Invalid.field("/planned_harvest_date", _("the harvest cannot come before planting"))


async def create_season(
    ctx: PluginContext, principal: Principal, data: schemas.SeasonCreate
) -> schemas.Season:
    field = await tenancy.referenced(FarmField.all(), data.field_id, principal, "/field_id")
    crop = data.crop if data.crop else field.crop
    if not crop:
        raise Invalid.field("/crop", _("name the crop: the field has none"))
    _check_season_dates(data.planting_date, data.planned_harvest_date)
    row = await Season.create(
        organization_id=field.organization_id,
        field=field,
        name=data.name,
        crop=crop,
        planting_date=data.planting_date,
        planned_harvest_date=data.planned_harvest_date,
        updated_at=ctx.clock.now(),
    )
    return season_out(row, field)


async def list_seasons(
    principal: Principal, cursor: str | None, limit: int, field_id: str | None = None
) -> schemas.SeasonList:
    queryset = tenancy.scope(Season.all().prefetch_related("field"), principal)
    if field_id:
        queryset = queryset.filter(field_id=tenancy.parse_id(field_id) or uuid.uuid4())
    rows, next_cursor = await page(queryset, cursor, limit)
    return schemas.SeasonList([season_out(r, r.field) for r in rows], next_cursor)


async def get_season(principal: Principal, season_id: str) -> schemas.Season:
    row = await tenancy.get(Season.all().prefetch_related("field"), season_id, principal)
    return season_out(row, row.field)


async def update_season(
    ctx: PluginContext, principal: Principal, season_id: str, data: schemas.SeasonUpdate
) -> schemas.Season:
    """Change a season. Moving the planned harvest before the earliest day its sprays allow
    is kept (it is the farmer's plan) and raises a ``harvest_inside_interval`` alert."""
    row = await tenancy.get(
        Season.all().prefetch_related("field"), season_id, principal, write=True
    )
    for name in ("name", "planting_date", "planned_harvest_date"):
        value = getattr(data, name)
        if value is not UNSET:
            setattr(row, name, value)
    _check_season_dates(row.planting_date, row.planned_harvest_date)
    row.updated_at = ctx.clock.now()
    await row.save()
    await harvest_guard(ctx, row, row.field)
    return season_out(row, row.field)


async def _season_earliest(season_id: Any, exclude: Any = None) -> date | None:
    """The latest "spray day + interval" of the season's active records."""
    queryset = SprayRecord.filter(season_id=season_id, status__in=ACTIVE)
    if exclude is not None:
        queryset = queryset.exclude(id=exclude)
    earliest: date | None = None
    for spray_day, products in await queryset.values_list("spray_day", "products"):
        for line in products:
            candidate = rules.earliest_harvest(spray_day, line.get("phi_days"))
            if candidate is not None and (earliest is None or candidate > earliest):
                earliest = candidate
    return earliest


async def refresh_season(ctx: PluginContext, season: Season) -> None:
    season.earliest_harvest_date = await _season_earliest(season.id)
    season.updated_at = ctx.clock.now()
    await season.save(update_fields=["earliest_harvest_date", "updated_at"])


def season_subject(season: Season, field: FarmField) -> Subject:
    return Subject(f"{PLUGIN}.season", str(season.id), f"{field.name} ({season.crop})")


async def harvest_guard(ctx: PluginContext, season: Season, field: FarmField) -> None:
    """Alert while the planned harvest lies before the earliest allowed day; resolve once it
    does not."""
    subject = season_subject(season, field)
    planned, earliest = season.planned_harvest_date, season.earliest_harvest_date
    if planned is not None and earliest is not None and planned < earliest:
        await ctx.alerts.raise_(
            organization_id=str(season.organization_id),
            type="harvest_inside_interval",
            severity=Severity.MAJOR,
            title=_("Harvest planned inside a pre-harvest interval"),
            body=_(
                "{field}: the harvest planned on {harvest} is before {earliest}, the first day "
                "the sprays on this crop allow.",
                field=field.name,
                harvest=planned.isoformat(),
                earliest=earliest.isoformat(),
            ),
            subject=subject,
            data={"planned_harvest": planned.isoformat(), "earliest_harvest": earliest.isoformat()},
        )
    else:
        await ctx.alerts.resolve(
            organization_id=str(season.organization_id),
            type="harvest_inside_interval",
            subject=subject,
            note="the planned harvest is no longer inside a pre-harvest interval",
        )


# ------------------------------------------------------------------ drones and operators


def inspection_due(settings: DroneSprayingSettings, drone: Drone) -> date | None:
    if drone.next_inspection_due is not None:
        return drone.next_inspection_due
    if drone.last_inspection is not None:
        return drone.last_inspection + timedelta(days=settings.inspection_interval_days)
    return None


def drone_out(ctx: PluginContext, row: Drone) -> schemas.Drone:
    return schemas.Drone(
        id=str(row.id),
        organization_id=str(row.organization_id),
        registration_number=row.registration_number,
        model=row.model,
        last_inspection=row.last_inspection,
        next_inspection_due=row.next_inspection_due,
        inspection_due=inspection_due(settings_of(ctx), row),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def create_drone(
    ctx: PluginContext, principal: Principal, data: schemas.DroneCreate
) -> schemas.Drone:
    organization = await _organization(principal, data.organization_id, "/organization_id")
    if await Drone.exists(organization=organization, registration_number=data.registration_number):
        raise Conflict(_("This organization already has a drone with that registration number."))
    try:
        row = await Drone.create(
            organization=organization,
            registration_number=data.registration_number,
            model=data.model,
            last_inspection=data.last_inspection,
            next_inspection_due=data.next_inspection_due,
            updated_at=ctx.clock.now(),
        )
    except IntegrityError:
        raise Conflict(
            _("This organization already has a drone with that registration number.")
        ) from None
    return drone_out(ctx, row)


async def list_drones(
    ctx: PluginContext, principal: Principal, cursor: str | None, limit: int
) -> schemas.DroneList:
    rows, next_cursor = await page(tenancy.scope(Drone.all(), principal), cursor, limit)
    return schemas.DroneList([drone_out(ctx, r) for r in rows], next_cursor)


async def get_drone(ctx: PluginContext, principal: Principal, drone_id: str) -> schemas.Drone:
    return drone_out(ctx, await tenancy.get(Drone.all(), drone_id, principal))


async def update_drone(
    ctx: PluginContext, principal: Principal, drone_id: str, data: schemas.DroneUpdate
) -> schemas.Drone:
    row = await tenancy.get(Drone.all(), drone_id, principal, write=True)
    for name in ("model", "last_inspection", "next_inspection_due"):
        value = getattr(data, name)
        if value is not UNSET:
            setattr(row, name, value)
    row.updated_at = ctx.clock.now()
    await row.save()
    await watch_drone(ctx, row)
    return drone_out(ctx, row)


def operator_out(row: Operator) -> schemas.Operator:
    return schemas.Operator(
        id=str(row.id),
        organization_id=str(row.organization_id),
        name=row.name,
        licence_number=row.licence_number,
        licence_expires=row.licence_expires,
        phone=row.phone,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def create_operator(
    ctx: PluginContext, principal: Principal, data: schemas.OperatorCreate
) -> schemas.Operator:
    organization = await _organization(principal, data.organization_id, "/organization_id")
    row = await Operator.create(
        organization=organization,
        name=data.name,
        licence_number=data.licence_number,
        licence_expires=data.licence_expires,
        phone=data.phone,
        updated_at=ctx.clock.now(),
    )
    return operator_out(row)


async def list_operators(
    principal: Principal, cursor: str | None, limit: int
) -> schemas.OperatorList:
    rows, next_cursor = await page(tenancy.scope(Operator.all(), principal), cursor, limit)
    return schemas.OperatorList([operator_out(r) for r in rows], next_cursor)


async def get_operator(principal: Principal, operator_id: str) -> schemas.Operator:
    return operator_out(await tenancy.get(Operator.all(), operator_id, principal))


async def update_operator(
    ctx: PluginContext, principal: Principal, operator_id: str, data: schemas.OperatorUpdate
) -> schemas.Operator:
    row = await tenancy.get(Operator.all(), operator_id, principal, write=True)
    for name in ("name", "licence_number", "licence_expires", "phone"):
        value = getattr(data, name)
        if value is not UNSET:
            setattr(row, name, value)
    row.updated_at = ctx.clock.now()
    await row.save()
    await watch_operator(ctx, row)
    return operator_out(row)


def operator_subject(row: Operator) -> Subject:
    return Subject(f"{PLUGIN}.operator", str(row.id), row.name)


def drone_subject(row: Drone) -> Subject:
    return Subject(f"{PLUGIN}.drone", str(row.id), row.registration_number)


async def watch_operator(ctx: PluginContext, row: Operator) -> bool:
    """Raise ``licence_expired`` while a pilot's licence has expired; resolve it once
    renewed. True when an alert is open. (A licence that is only expiring soon gets a home
    card, not an alert: see feed.py.)"""
    subject = operator_subject(row)
    expires = row.licence_expires
    if expires is not None and expires < ctx.today():
        await ctx.alerts.raise_(
            organization_id=str(row.organization_id),
            type="licence_expired",
            severity=Severity.MAJOR,
            title=_("Pilot licence expired"),
            body=_(
                "The licence of {operator} expired on {date}.",
                operator=row.name,
                date=expires.isoformat(),
            ),
            subject=subject,
            data={"licence_expires": expires.isoformat()},
        )
        return True
    await ctx.alerts.resolve(
        organization_id=str(row.organization_id),
        type="licence_expired",
        subject=subject,
        note="licence renewed",
    )
    return False


async def watch_drone(ctx: PluginContext, row: Drone) -> bool:
    """Raise ``inspection_overdue`` while a drone's periodic inspection is overdue; resolve
    it once inspected. (Due soon: a home card.)"""
    subject = drone_subject(row)
    due = inspection_due(settings_of(ctx), row)
    if due is not None and due < ctx.today():
        await ctx.alerts.raise_(
            organization_id=str(row.organization_id),
            type="inspection_overdue",
            severity=Severity.MINOR,
            title=_("Drone inspection overdue"),
            body=_(
                "The inspection of drone {drone} was due on {date}.",
                drone=row.registration_number,
                date=due.isoformat(),
            ),
            subject=subject,
            data={"inspection_due": due.isoformat()},
        )
        return True
    await ctx.alerts.resolve(
        organization_id=str(row.organization_id),
        type="inspection_overdue",
        subject=subject,
        note="inspected",
    )
    return False


async def expiry_watch(ctx: PluginContext, due: datetime) -> None:
    """The ``expiry_watch`` job: licence and inspection alerts for every organization."""
    alerts = 0
    for operator in await Operator.filter(licence_expires__not_isnull=True):
        alerts += await watch_operator(ctx, operator)
    for drone in await Drone.all():
        alerts += await watch_drone(ctx, drone)
    ctx.logger.info("expiry watch: %d open alerts", alerts)


# ---------------------------------------------------------------------------- pesticides


def label_out(row: PesticideLabel) -> schemas.LabelRule:
    return schemas.LabelRule(
        crop=row.crop,
        max_amount_per_10a=row.max_amount_per_10a,
        min_dilution=row.min_dilution,
        phi_days=row.phi_days,
        max_uses=row.max_uses,
        ingredient_max_uses=dict(row.ingredient_max_uses),
        target=row.target,
    )


def pesticide_out(row: Pesticide, labels: Iterable[PesticideLabel]) -> schemas.Pesticide:
    return schemas.Pesticide(
        id=str(row.id),
        registration_number=row.registration_number,
        name=row.name,
        active_ingredients=list(row.active_ingredients),
        formulation=row.formulation,
        kind=row.kind,
        amount_unit=row.amount_unit,
        labels=[label_out(label) for label in sorted(labels, key=lambda r: r.crop_key)],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check_labels(labels: list[schemas.LabelRule], ingredients: list[str]) -> None:
    seen: set[str] = set()
    known = {rules.ingredient_key(i) for i in ingredients}
    for index, label in enumerate(labels):
        key = rules.crop_key(label.crop)
        if key in seen:
            raise Invalid.field(f"/labels/{index}/crop", _("this crop is listed twice"))
        seen.add(key)
        for name in label.ingredient_max_uses:
            if rules.ingredient_key(name) not in known:
                raise Invalid.field(
                    f"/labels/{index}/ingredient_max_uses",
                    _("{ingredient} is not an active ingredient of this product", ingredient=name),
                )


async def _write_labels(
    ctx: PluginContext, pesticide: Pesticide, labels: list[schemas.LabelRule]
) -> list[PesticideLabel]:
    await PesticideLabel.filter(pesticide=pesticide).delete()
    rows = [
        PesticideLabel(
            pesticide=pesticide,
            crop=label.crop,
            crop_key=rules.crop_key(label.crop),
            min_dilution=label.min_dilution,
            max_amount_per_10a=label.max_amount_per_10a,
            phi_days=label.phi_days,
            max_uses=label.max_uses,
            ingredient_max_uses=dict(label.ingredient_max_uses),
            target=label.target,
            updated_at=ctx.clock.now(),
        )
        for label in labels
    ]
    for row in rows:
        await row.save()
    return rows


async def create_pesticide(ctx: PluginContext, data: schemas.PesticideCreate) -> schemas.Pesticide:
    _check_labels(data.labels, data.active_ingredients)
    if await Pesticide.exists(registration_number=data.registration_number):
        raise Conflict(_("A pesticide with this registration number is in the catalogue."))
    async with in_transaction():
        row = await Pesticide.create(
            registration_number=data.registration_number,
            name=data.name,
            active_ingredients=list(data.active_ingredients),
            formulation=data.formulation,
            kind=data.kind,
            amount_unit=data.amount_unit,
            updated_at=ctx.clock.now(),
        )
        labels = await _write_labels(ctx, row, data.labels)
    return pesticide_out(row, labels)


async def update_pesticide(
    ctx: PluginContext, pesticide_id: str, data: schemas.PesticideUpdate
) -> schemas.Pesticide:
    key = tenancy.parse_id(pesticide_id)
    row = await Pesticide.get_or_none(id=key) if key else None
    if row is None:
        raise NotFound(f"No pesticide with id {pesticide_id}.")
    for name in ("name", "formulation", "kind"):
        value = getattr(data, name)
        if value is not UNSET:
            setattr(row, name, value)
    row.updated_at = ctx.clock.now()
    async with in_transaction():
        await row.save()
        if data.labels is not UNSET:
            _check_labels(data.labels, row.active_ingredients)
            labels = await _write_labels(ctx, row, data.labels)
        else:
            labels = await PesticideLabel.filter(pesticide=row)
    return pesticide_out(row, labels)


async def list_pesticides(
    cursor: str | None, limit: int, crop: str | None = None
) -> schemas.PesticideList:
    queryset = Pesticide.all()
    if crop:
        ids = await PesticideLabel.filter(crop_key=rules.crop_key(crop)).values_list(
            "pesticide_id", flat=True
        )
        queryset = queryset.filter(id__in=list(ids))
    rows, next_cursor = await page(queryset, cursor, limit)
    labels: dict[str, list[PesticideLabel]] = defaultdict(list)
    for label in await PesticideLabel.filter(pesticide_id__in=[r.id for r in rows]):
        labels[str(label.pesticide_id)].append(label)
    return schemas.PesticideList([pesticide_out(r, labels[str(r.id)]) for r in rows], next_cursor)


# ------------------------------------------------------------------------ spray records


@dataclass(frozen=True)
class Draft:
    """A spraying as asked for: a new one, or a record with a correction applied."""

    season_id: str
    status: str
    started_at: datetime
    ended_at: datetime
    products: tuple[schemas.SprayProductIn, ...]
    area_m2: float | None
    drone_id: str | None
    operator_id: str | None
    purpose: str
    wind_speed_ms: float | None
    temperature_c: float | None
    contact: str
    notes: str

    @classmethod
    def of(cls, data: schemas.SprayCreate) -> Draft:
        return cls(
            season_id=data.season_id,
            status=data.status,
            started_at=data.started_at,
            ended_at=data.ended_at,
            products=tuple(data.products),
            area_m2=data.area_m2,
            drone_id=data.drone_id,
            operator_id=data.operator_id,
            purpose=data.purpose,
            wind_speed_ms=data.wind_speed_ms,
            temperature_c=data.temperature_c,
            contact=data.contact,
            notes=data.notes,
        )


@dataclass
class Prepared:
    season: Season
    field: FarmField
    draft: Draft
    started_at: datetime
    ended_at: datetime
    spray_day: date
    area_m2: float
    lines: list[dict[str, Any]]
    drone: Drone | None
    operator: Operator | None
    reasons: list[rules.Reason]
    earliest: date | None

    @property
    def rejected(self) -> bool:
        return rules.outcome(self.reasons) is rules.Outcome.REJECT


async def _prepare(
    ctx: PluginContext, principal: Principal, draft: Draft, record: SprayRecord | None = None
) -> Prepared:
    """Resolve what a draft refers to and judge it against the labels and the limits."""
    settings = settings_of(ctx)
    if record is not None:
        season = await Season.get(id=record.season_id)
    else:
        season = await tenancy.referenced(Season.all(), draft.season_id, principal, "/season_id")
    field = await FarmField.get(id=season.field_id)
    org_id = str(season.organization_id)
    started = _aware(draft.started_at, "/started_at")
    ended = _aware(draft.ended_at, "/ended_at")
    if ended <= started:
        raise Invalid.field("/ended_at", _("the spraying must end after it starts"))
    if draft.status == SprayStatus.DONE and started > ctx.clock.now() + FUTURE_SLACK:
        raise Invalid.field("/status", _("a spraying that has not started cannot be done"))
    drone = await _same_org(Drone.all(), draft.drone_id, principal, "/drone_id", org_id)
    operator = await _same_org(Operator.all(), draft.operator_id, principal, "/operator_id", org_id)
    area = draft.area_m2 if draft.area_m2 is not None else field.area_m2
    spray_day = ctx.local_day(ended)
    flight_day = ctx.local_day(started)
    crop = season.crop

    lines: list[dict[str, Any]] = []
    product_lines: list[rules.ProductLine] = []
    for index, item in enumerate(draft.products):
        key = tenancy.parse_id(item.pesticide_id)
        pesticide = await Pesticide.get_or_none(id=key) if key else None
        if pesticide is None:
            raise Invalid.field(f"/products/{index}/pesticide_id", _("unknown or not accessible"))
        label_row = await PesticideLabel.get_or_none(
            pesticide=pesticide, crop_key=rules.crop_key(crop)
        )
        label = None
        if label_row is not None:
            label = rules.LabelRule(
                crop=label_row.crop,
                min_dilution=label_row.min_dilution,
                max_amount_per_10a=label_row.max_amount_per_10a,
                phi_days=label_row.phi_days,
                max_uses=label_row.max_uses,
                ingredient_max_uses=dict(label_row.ingredient_max_uses),
            )
        product_lines.append(
            rules.ProductLine(
                pesticide_id=str(pesticide.id),
                name=pesticide.name,
                ingredients=tuple(pesticide.active_ingredients),
                unit=pesticide.amount_unit,
                dilution=item.dilution,
                amount=item.amount,
                label=label,
            )
        )
        lines.append(
            {
                "pesticide_id": str(pesticide.id),
                "name": pesticide.name,
                "registration_number": pesticide.registration_number,
                "active_ingredients": list(pesticide.active_ingredients),
                "dilution": item.dilution,
                "amount": item.amount,
                "unit": pesticide.amount_unit,
                "amount_per_10a": round(item.amount / (area / rules.AREA_PER_10A_M2), 6),
                "spray_liquid": round(item.amount * item.dilution, 6),
                "phi_days": label.phi_days if label else None,
                "target": label_row.target if label_row else "",
            }
        )

    uses = rules.SeasonUses()
    others = SprayRecord.filter(season_id=season.id, status__in=ACTIVE)
    if record is not None:
        others = others.exclude(id=record.id)
    for products in await others.values_list("products", flat=True):
        for line in products:
            uses.products[line["pesticide_id"]] = uses.products.get(line["pesticide_id"], 0) + 1
            for ingredient in line.get("active_ingredients", []):
                k = rules.ingredient_key(ingredient)
                uses.ingredients[k] = uses.ingredients.get(k, 0) + 1

    preflight: bool | None = None
    flown = draft.status == SprayStatus.DONE
    if flown and drone is not None and settings.preflight_check_required:
        preflight = await PreflightCheck.exists(
            drone=drone, checked_on__in=[flight_day, spray_day], passed=True
        )
    plan = rules.Plan(
        flown=flown,
        crop=crop,
        area_m2=area,
        spray_day=spray_day,
        planned_harvest=season.planned_harvest_date,
        wind_ms=draft.wind_speed_ms,
        products=tuple(product_lines),
        operator_name=operator.name if operator else None,
        licence_expires=operator.licence_expires if operator else None,
        drone_name=drone.registration_number if drone else None,
        inspection_due=inspection_due(settings, drone) if drone else None,
        preflight_checked=preflight,
    )
    reasons = rules.judge(plan, uses, settings)
    earliest = await _season_earliest(season.id, exclude=record.id if record else None)
    for line in product_lines:
        candidate = rules.earliest_harvest(spray_day, line.label.phi_days if line.label else None)
        if candidate is not None and (earliest is None or candidate > earliest):
            earliest = candidate
    return Prepared(
        season=season,
        field=field,
        draft=draft,
        started_at=started,
        ended_at=ended,
        spray_day=spray_day,
        area_m2=area,
        lines=lines,
        drone=drone,
        operator=operator,
        reasons=reasons,
        earliest=earliest,
    )


def stored_reasons(reasons: Iterable[rules.Reason]) -> list[dict[str, Any]]:
    return [msgspec.to_builtins(r) for r in reasons]


def reason_out(stored: dict[str, Any], language: str) -> schemas.VerdictReason:
    text = msgspec.convert(stored["text"], Text)
    return schemas.VerdictReason(
        code=stored["code"],
        severity=stored["severity"],
        message=text.render(language),
        pointer=stored["pointer"],
        data=dict(stored.get("data") or {}),
    )


def verdict_out(
    stored: list[dict[str, Any]], language: str, earliest: date | None = None
) -> schemas.Verdict:
    severities = {r["severity"] for r in stored}
    outcome = "reject" if "reject" in severities else ("warn" if stored else "ok")
    return schemas.Verdict(
        outcome=outcome,
        reasons=[reason_out(r, language) for r in stored],
        earliest_harvest_date=earliest,
    )


def _refused(prepared: Prepared, language: str) -> Invalid:
    stored = stored_reasons(prepared.reasons)
    rejects = [r for r in prepared.reasons if r.severity is rules.Severity.REJECT]
    verdict = verdict_out(stored, language, prepared.earliest)
    return Invalid(
        _(
            "Refused: this spraying breaks the label or the limits ({count} reasons).",
            count=len(rejects),
        ),
        errors=[FieldError(detail=r.text, pointer=r.pointer) for r in rejects],
        extra={"verdict": msgspec.to_builtins(verdict)},
    )


async def _record_refusal(
    principal: Principal, prepared: Prepared, attempted: dict[str, Any], record: SprayRecord | None
) -> None:
    await SprayRefusal.create(
        organization_id=prepared.season.organization_id,
        field=prepared.field,
        season=prepared.season,
        record=record,
        author_id=principal.user_id,
        started_at=prepared.started_at,
        crop=prepared.season.crop,
        reasons=stored_reasons(prepared.reasons),
        attempted=_json(attempted),
    )


def _apply(record: SprayRecord, prepared: Prepared) -> None:
    draft = prepared.draft
    record.status = SprayStatus(draft.status)
    record.started_at = prepared.started_at
    record.ended_at = prepared.ended_at
    record.spray_day = prepared.spray_day
    record.crop = prepared.season.crop
    record.area_m2 = prepared.area_m2
    record.products = prepared.lines
    record.purpose = draft.purpose
    record.drone = prepared.drone
    record.operator = prepared.operator
    record.wind_speed_ms = draft.wind_speed_ms
    record.temperature_c = draft.temperature_c
    record.contact = draft.contact
    record.notes = draft.notes
    record.verdict = stored_reasons(prepared.reasons)


def snapshot(record: SprayRecord) -> dict[str, Any]:
    """The whole record as a version keeps it (JSON)."""
    return _json(
        {
            "status": str(record.status),
            "field_id": str(record.field_id),
            "season_id": str(record.season_id),
            "started_at": record.started_at.astimezone(UTC).isoformat(),
            "ended_at": record.ended_at.astimezone(UTC).isoformat(),
            "spray_day": record.spray_day.isoformat(),
            "crop": record.crop,
            "area_m2": record.area_m2,
            "products": record.products,
            "purpose": record.purpose,
            "drone_id": str(record.drone_id) if record.drone_id else None,
            "operator_id": str(record.operator_id) if record.operator_id else None,
            "wind_speed_ms": record.wind_speed_ms,
            "temperature_c": record.temperature_c,
            "contact": record.contact,
            "notes": record.notes,
            "verdict": [{k: v for k, v in r.items() if k != "text"} for r in record.verdict],
            "track": record.track,
        }
    )


async def _version(
    record: SprayRecord, kind: VersionKind, principal: Principal | None, reason: str
) -> None:
    await SprayRecordVersion.create(
        organization_id=record.organization_id,
        record=record,
        version=record.version,
        kind=kind,
        reason=reason,
        author_id=principal.user_id if principal else None,
        snapshot=snapshot(record),
    )


async def _load_record(record_id: Any) -> SprayRecord:
    return await SprayRecord.get(id=record_id).prefetch_related("field", "drone", "operator")


def record_out(record: SprayRecord, language: str) -> schemas.SprayRecord:
    track = msgspec.convert(record.track, schemas.TrackSummary) if record.track else None
    return schemas.SprayRecord(
        id=str(record.id),
        organization_id=str(record.organization_id),
        field=schemas.Ref(str(record.field.id), record.field.name),
        season_id=str(record.season_id),
        status=str(record.status),
        started_at=record.started_at,
        ended_at=record.ended_at,
        spray_day=record.spray_day,
        crop=record.crop,
        area_m2=round(record.area_m2, 2),
        products=[msgspec.convert(line, schemas.SprayProduct) for line in record.products],
        purpose=record.purpose,
        drone=schemas.Ref(str(record.drone.id), record.drone.registration_number)
        if record.drone
        else None,
        operator=schemas.Ref(str(record.operator.id), record.operator.name)
        if record.operator
        else None,
        wind_speed_ms=record.wind_speed_ms,
        temperature_c=record.temperature_c,
        contact=record.contact,
        notes=record.notes,
        verdict=verdict_out(record.verdict, language),
        track=track,
        version=record.version,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


async def _lock_season(season_id: str) -> None:
    """Serialise writes to one season's records (PostgreSQL), so two sprayings entered at
    once cannot both take the season's last allowed use."""
    key = tenancy.parse_id(season_id)
    if key is not None:
        await Season.filter(id=key).select_for_update().first()


async def check_spray(
    ctx: PluginContext, principal: Principal, data: schemas.SprayCreate, language: str
) -> schemas.Verdict:
    """The verdict on a spraying without saving anything."""
    prepared = await _prepare(ctx, principal, Draft.of(data))
    return verdict_out(stored_reasons(prepared.reasons), language, prepared.earliest)


async def create_record(
    ctx: PluginContext, principal: Principal, data: schemas.SprayCreate, language: str
) -> schemas.SprayRecord:
    """Record a spraying; a reject answers 422 with the whole verdict and is kept as a
    refusal, warnings are kept with the record."""
    draft = Draft.of(data)
    async with in_transaction():
        await _lock_season(data.season_id)
        prepared = await _prepare(ctx, principal, draft)
        if not prepared.rejected:
            now = ctx.clock.now()
            record = SprayRecord(
                organization_id=prepared.season.organization_id,
                field=prepared.field,
                season=prepared.season,
                version=1,
                created_at=now,
                updated_at=now,
            )
            _apply(record, prepared)
            await record.save()
            await _version(record, VersionKind.CREATED, principal, "")
            await refresh_season(ctx, prepared.season)
    if prepared.rejected:
        await _record_refusal(principal, prepared, msgspec.to_builtins(data), None)
        raise _refused(prepared, language)
    await harvest_guard(ctx, prepared.season, prepared.field)
    return record_out(await _load_record(record.id), language)


async def list_records(
    principal: Principal,
    language: str,
    cursor: str | None,
    limit: int,
    *,
    season_id: str | None = None,
    field_id: str | None = None,
    status: str | None = None,
) -> schemas.SprayRecordList:
    queryset = tenancy.scope(
        SprayRecord.all().prefetch_related("field", "drone", "operator"), principal
    )
    if season_id:
        queryset = queryset.filter(season_id=tenancy.parse_id(season_id) or uuid.uuid4())
    if field_id:
        queryset = queryset.filter(field_id=tenancy.parse_id(field_id) or uuid.uuid4())
    if status:
        queryset = queryset.filter(status=status)
    rows, next_cursor = await page(queryset, cursor, limit)
    return schemas.SprayRecordList([record_out(r, language) for r in rows], next_cursor)


async def get_record(principal: Principal, record_id: str, language: str) -> schemas.SprayRecord:
    record = await tenancy.get(
        SprayRecord.all().prefetch_related("field", "drone", "operator"), record_id, principal
    )
    return record_out(record, language)


def _draft_of_record(record: SprayRecord) -> Draft:
    return Draft(
        season_id=str(record.season_id),
        status=str(record.status),
        started_at=record.started_at,
        ended_at=record.ended_at,
        products=tuple(
            schemas.SprayProductIn(line["pesticide_id"], line["dilution"], line["amount"])
            for line in record.products
        ),
        area_m2=record.area_m2,
        drone_id=str(record.drone_id) if record.drone_id else None,
        operator_id=str(record.operator_id) if record.operator_id else None,
        purpose=record.purpose,
        wind_speed_ms=record.wind_speed_ms,
        temperature_c=record.temperature_c,
        contact=record.contact,
        notes=record.notes,
    )


CORRECTABLE = (
    "started_at",
    "ended_at",
    "products",
    "status",
    "area_m2",
    "drone_id",
    "operator_id",
    "purpose",
    "wind_speed_ms",
    "temperature_c",
    "contact",
    "notes",
)


async def correct_record(
    ctx: PluginContext,
    principal: Principal,
    record_id: str,
    data: schemas.SprayCorrection,
    language: str,
) -> schemas.SprayRecord:
    """A correction is a new version (who, when, why); the earlier ones stay readable. It is
    judged like a new spraying: a reject changes nothing and answers 422."""
    record = await tenancy.get(SprayRecord.all(), record_id, principal, write=True)
    if record.status is SprayStatus.VOIDED:
        raise Conflict(_("This spray record is voided; it cannot be corrected."))
    before = _draft_of_record(record)
    changes = {
        name: getattr(data, name) for name in CORRECTABLE if getattr(data, name) is not UNSET
    }
    if "products" in changes:
        changes["products"] = tuple(changes["products"])
    draft = replace(before, **changes)
    if draft == before:
        raise Invalid.field("", _("the correction changes nothing"))
    async with in_transaction():
        await _lock_season(str(record.season_id))
        record = await SprayRecord.get(id=record.id)
        prepared = await _prepare(ctx, principal, draft, record)
        if not prepared.rejected:
            _apply(record, prepared)
            record.version += 1
            record.updated_at = ctx.clock.now()
            await record.save()
            await _version(record, VersionKind.CORRECTED, principal, data.reason)
            await refresh_season(ctx, prepared.season)
    if prepared.rejected:
        await _record_refusal(principal, prepared, msgspec.to_builtins(data), record)
        raise _refused(prepared, language)
    await harvest_guard(ctx, prepared.season, prepared.field)
    return record_out(await _load_record(record.id), language)


async def void_record(
    ctx: PluginContext, principal: Principal, record_id: str, data: schemas.SprayVoid, language: str
) -> schemas.SprayRecord:
    """Take a record out of use (a plan called off, an entry made in error): it stays, as a
    new version, and no longer counts."""
    record = await tenancy.get(SprayRecord.all(), record_id, principal, write=True)
    if record.status is SprayStatus.VOIDED:
        raise Conflict(_("This spray record is voided already."))
    async with in_transaction():
        record.status = SprayStatus.VOIDED
        record.version += 1
        record.updated_at = ctx.clock.now()
        await record.save()
        await _version(record, VersionKind.VOIDED, principal, data.reason)
        season = await Season.get(id=record.season_id)
        await refresh_season(ctx, season)
    field = await FarmField.get(id=record.field_id)
    await harvest_guard(ctx, season, field)
    return record_out(await _load_record(record.id), language)


def _changed(previous: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    if previous is None:
        return []
    return sorted(k for k in current if previous.get(k) != current.get(k))


def _snapshot_out(stored: dict[str, Any]) -> dict[str, Any]:
    """Times of a stored snapshot as times, so answers show them in the reader's zone."""
    shown = dict(stored)
    for key in ("started_at", "ended_at"):
        if isinstance(shown.get(key), str):
            shown[key] = datetime.fromisoformat(shown[key])
    return shown


async def record_history(principal: Principal, record_id: str) -> schemas.SprayHistory:
    record = await tenancy.get(SprayRecord.all(), record_id, principal)
    versions = (
        await SprayRecordVersion.filter(record=record)
        .order_by("version")
        .prefetch_related("author")
    )
    out = []
    previous = None
    for version in versions:
        author = version.author
        out.append(
            schemas.SprayVersion(
                version=version.version,
                kind=str(version.kind),
                reason=version.reason,
                author=schemas.Person(str(author.id), author.display_name) if author else None,
                at=version.created_at,
                changed=_changed(previous, version.snapshot),
                record=_snapshot_out(version.snapshot),
            )
        )
        previous = version.snapshot
    return schemas.SprayHistory(str(record.id), out)


# ------------------------------------------------------------------------------- tracks


async def import_track(
    ctx: PluginContext,
    principal: Principal,
    record_id: str,
    data: schemas.TrackImport,
    language: str,
) -> schemas.Track:
    """Measure a flight track against the record's field and keep it with the record (a new
    version). Sprayed more than the drift share outside the field: a ``drift`` alert."""
    settings = settings_of(ctx)
    record = await tenancy.get(SprayRecord.all(), record_id, principal, write=True)
    if record.status is SprayStatus.VOIDED:
        raise Conflict(_("This spray record is voided; it takes no track."))
    if data.swath_width_m > settings.max_swath_m:
        raise Invalid.field(
            "/swath_width_m",
            _("at most {maximum} m", maximum=rules.number(settings.max_swath_m)),
        )
    pointer = f"/{data.format}"
    source = data.geojson if data.format == "geojson" else data.csv
    if source is None:
        raise Invalid.field(
            pointer,
            _("give the track as GeoJSON")
            if data.format == "geojson"
            else _("give the track as CSV"),
        )
    field = await FarmField.get(id=record.field_id)
    zone = ctx.city_zone

    def parse_and_measure() -> geometry.TrackMeasure:
        if data.format == "geojson":
            track = geometry.track_from_geojson(data.geojson, settings.max_track_points)
        else:
            assert data.csv is not None
            track = geometry.track_from_csv(
                data.csv, settings.flow_threshold_l_min, zone, settings.max_track_points
            )
        boundary = geometry.boundary_geometry(field.boundary) if field.boundary else None
        return geometry.measure(track, data.swath_width_m, boundary)

    try:
        # Tens of milliseconds per thousand points: off the event loop.
        measured = await asyncio.to_thread(parse_and_measure)
    except geometry.GeometryError as exc:
        raise Invalid.field(pointer + exc.pointer, exc.detail) from None
    drift = (
        measured.outside_share is not None and measured.outside_share > settings.drift_warning_share
    )
    now = ctx.clock.now()
    track_id = uuid.uuid4()
    summary = schemas.TrackSummary(
        id=str(track_id),
        source_format=data.format,
        swath_width_m=data.swath_width_m,
        point_count=measured.point_count,
        pass_count=measured.pass_count,
        distance_m=round(measured.distance_m, 2),
        sprayed_area_m2=round(measured.sprayed_area_m2, 2),
        inside_area_m2=None
        if measured.inside_area_m2 is None
        else round(measured.inside_area_m2, 2),
        field_area_m2=None if measured.field_area_m2 is None else round(measured.field_area_m2, 2),
        coverage=None if measured.coverage is None else round(measured.coverage, 5),
        outside_share=None if measured.outside_share is None else round(measured.outside_share, 5),
        drift_warning=drift,
        started_at=measured.started_at,
        ended_at=measured.ended_at,
        duration_s=measured.duration_s,
        spraying_s=measured.spraying_s,
        imported_at=now,
    )
    paths = {"type": "MultiLineString", "coordinates": measured.sprayed_paths}
    async with in_transaction():
        await SprayTrack.create(
            id=track_id,
            organization_id=record.organization_id,
            record=record,
            author_id=principal.user_id,
            source_format=data.format,
            swath_width_m=data.swath_width_m,
            point_count=measured.point_count,
            sprayed_paths=paths,
            summary=_json(msgspec.to_builtins(summary)),
            created_at=now,
        )
        record.track = _json(msgspec.to_builtins(summary))
        record.version += 1
        record.updated_at = now
        await record.save()
        await _version(record, VersionKind.TRACK_IMPORTED, principal, "track imported")
    subject = Subject(f"{PLUGIN}.spray_record", str(record.id), field.name)
    if drift:
        await ctx.alerts.raise_(
            organization_id=str(record.organization_id),
            type="drift",
            severity=Severity.WARNING,
            title=_("Spray drift outside the field"),
            body=_(
                "{field}: {share}% of the sprayed area lies outside the field (the limit is "
                "{limit}%).",
                field=field.name,
                share=rules.number(round(measured.outside_share * 100, 1)),
                limit=rules.number(settings.drift_warning_share * 100),
            ),
            subject=subject,
            data={"outside_share": summary.outside_share, "track_id": str(track_id)},
        )
    else:
        await ctx.alerts.resolve(
            organization_id=str(record.organization_id), type="drift", subject=subject
        )
    return schemas.Track(summary=summary, sprayed_paths=paths)


async def get_track(principal: Principal, record_id: str) -> schemas.Track:
    record = await tenancy.get(SprayRecord.all(), record_id, principal)
    track = await SprayTrack.filter(record=record).order_by("-created_at").first()
    if track is None:
        raise NotFound(_("This spray record has no track yet."))
    return schemas.Track(
        summary=msgspec.convert(track.summary, schemas.TrackSummary),
        sprayed_paths=track.sprayed_paths,
    )


# ----------------------------------------------------------------------------- refusals


def refusal_out(row: SprayRefusal, language: str) -> schemas.Refusal:
    return schemas.Refusal(
        id=str(row.id),
        organization_id=str(row.organization_id),
        field_id=str(row.field_id) if row.field_id else None,
        season_id=str(row.season_id) if row.season_id else None,
        record_id=str(row.record_id) if row.record_id else None,
        author_id=str(row.author_id) if row.author_id else None,
        started_at=row.started_at,
        crop=row.crop,
        reasons=[reason_out(r, language) for r in row.reasons],
        created_at=row.created_at,
    )


async def list_refusals(
    principal: Principal, language: str, cursor: str | None, limit: int
) -> schemas.RefusalList:
    rows, next_cursor = await page(
        tenancy.scope(SprayRefusal.all(), principal), cursor, limit, newest_first=True
    )
    return schemas.RefusalList([refusal_out(r, language) for r in rows], next_cursor)


# -------------------------------------------------------------- flight logs and checks


def flight_log_out(row: FlightLog) -> schemas.FlightLog:
    return schemas.FlightLog(
        id=str(row.id),
        organization_id=str(row.organization_id),
        drone=schemas.Ref(str(row.drone.id), row.drone.registration_number),
        operator=schemas.Ref(str(row.operator.id), row.operator.name),
        spray_record_id=str(row.spray_record_id) if row.spray_record_id else None,
        purpose=row.purpose,
        takeoff_place=row.takeoff_place,
        takeoff_at=row.takeoff_at,
        landing_place=row.landing_place,
        landing_at=row.landing_at,
        flight_minutes=row.flight_minutes,
        incidents=row.incidents,
        defects=row.defects,
        created_at=row.created_at,
    )


async def create_flight_log(
    ctx: PluginContext, principal: Principal, data: schemas.FlightLogCreate
) -> schemas.FlightLog:
    drone = await tenancy.referenced(Drone.all(), data.drone_id, principal, "/drone_id")
    org_id = str(drone.organization_id)
    operator = await _same_org(Operator.all(), data.operator_id, principal, "/operator_id", org_id)
    record = await _same_org(
        SprayRecord.all(), data.spray_record_id, principal, "/spray_record_id", org_id
    )
    takeoff = _aware(data.takeoff_at, "/takeoff_at")
    landing = _aware(data.landing_at, "/landing_at")
    if landing <= takeoff:
        raise Invalid.field("/landing_at", _("the landing must come after the take-off"))
    row = await FlightLog.create(
        organization_id=drone.organization_id,
        drone=drone,
        operator=operator,
        spray_record=record,
        purpose=data.purpose,
        takeoff_place=data.takeoff_place,
        takeoff_at=takeoff,
        landing_place=data.landing_place,
        landing_at=landing,
        flight_minutes=round((landing - takeoff).total_seconds() / 60, 2),
        incidents=data.incidents,
        defects=data.defects,
    )
    row.drone, row.operator = drone, operator
    return flight_log_out(row)


async def list_flight_logs(
    principal: Principal, cursor: str | None, limit: int, drone_id: str | None = None
) -> schemas.FlightLogList:
    queryset = tenancy.scope(FlightLog.all().prefetch_related("drone", "operator"), principal)
    if drone_id:
        queryset = queryset.filter(drone_id=tenancy.parse_id(drone_id) or uuid.uuid4())
    rows, next_cursor = await page(queryset, cursor, limit)
    return schemas.FlightLogList([flight_log_out(r) for r in rows], next_cursor)


async def get_flight_log(principal: Principal, flight_log_id: str) -> schemas.FlightLog:
    row = await tenancy.get(
        FlightLog.all().prefetch_related("drone", "operator"), flight_log_id, principal
    )
    return flight_log_out(row)


def check_out(row: PreflightCheck) -> schemas.PreflightCheck:
    return schemas.PreflightCheck(
        id=str(row.id),
        organization_id=str(row.organization_id),
        drone=schemas.Ref(str(row.drone.id), row.drone.registration_number),
        operator=schemas.Ref(str(row.operator.id), row.operator.name) if row.operator else None,
        checked_on=row.checked_on,
        items=dict(row.items),
        passed=row.passed,
        notes=row.notes,
        created_at=row.created_at,
    )


async def create_preflight_check(
    ctx: PluginContext, principal: Principal, data: schemas.PreflightCheckCreate
) -> schemas.PreflightCheck:
    drone = await tenancy.referenced(Drone.all(), data.drone_id, principal, "/drone_id")
    operator = await _same_org(
        Operator.all(), data.operator_id, principal, "/operator_id", str(drone.organization_id)
    )
    row = await PreflightCheck.create(
        organization_id=drone.organization_id,
        drone=drone,
        operator=operator,
        checked_on=data.checked_on or ctx.today(),
        items=dict(data.items),
        passed=all(data.items.values()),
        notes=data.notes,
    )
    row.drone, row.operator = drone, operator
    return check_out(row)


async def list_preflight_checks(
    principal: Principal, cursor: str | None, limit: int, drone_id: str | None = None
) -> schemas.PreflightCheckList:
    queryset = tenancy.scope(PreflightCheck.all().prefetch_related("drone", "operator"), principal)
    if drone_id:
        queryset = queryset.filter(drone_id=tenancy.parse_id(drone_id) or uuid.uuid4())
    rows, next_cursor = await page(queryset, cursor, limit)
    return schemas.PreflightCheckList([check_out(r) for r in rows], next_cursor)


async def get_preflight_check(principal: Principal, check_id: str) -> schemas.PreflightCheck:
    row = await tenancy.get(
        PreflightCheck.all().prefetch_related("drone", "operator"), check_id, principal
    )
    return check_out(row)


# ------------------------------------------------------------------------------ reports


async def record_book(
    ctx: PluginContext,
    principal: Principal,
    organization_id: str | None,
    year: int | None,
    crop: str | None,
) -> schemas.RecordBook:
    """The farm's spraying record for a year: one row per product of every flown spraying."""
    organization = await readable_organization(principal, organization_id)
    year = year or ctx.today().year
    start, end = ctx.day_start(date(year, 1, 1)), ctx.day_start(date(year + 1, 1, 1))
    queryset = SprayRecord.filter(
        organization=organization,
        status=SprayStatus.DONE,
        started_at__gte=start,
        started_at__lt=end,
    ).prefetch_related("field", "drone", "operator")
    rows = []
    wanted = rules.crop_key(crop) if crop else None
    for record in await queryset.order_by("started_at", "id"):
        if wanted and rules.crop_key(record.crop) != wanted:
            continue
        for line in record.products:
            rows.append(
                schemas.RecordBookRow(
                    date=ctx.local_day(record.started_at),
                    started_at=record.started_at,
                    ended_at=record.ended_at,
                    field=record.field.name,
                    crop=record.crop,
                    pesticide=line["name"],
                    registration_number=line["registration_number"],
                    active_ingredients=list(line["active_ingredients"]),
                    purpose=record.purpose or line.get("target", ""),
                    dilution=line["dilution"],
                    amount=line["amount"],
                    unit=line["unit"],
                    amount_per_10a=line["amount_per_10a"],
                    area_a=round(record.area_m2 / 100, 2),
                    operator=record.operator.name if record.operator else "",
                    drone=record.drone.registration_number if record.drone else "",
                    wind_speed_ms=record.wind_speed_ms,
                    temperature_c=record.temperature_c,
                    record_id=str(record.id),
                    version=record.version,
                )
            )
    return schemas.RecordBook(
        organization=schemas.Ref(str(organization.id), organization.name),
        year=year,
        crop=crop,
        generated_at=ctx.clock.now(),
        rows=rows,
    )


@dataclass(frozen=True)
class NoticeItem:
    field: str
    location: str
    started_at: datetime
    ended_at: datetime
    products: list[tuple[str, str]]
    purpose: str
    contact: str


async def notice_items(
    ctx: PluginContext, principal: Principal, organization_id: str | None, day: date
) -> tuple[Organization, list[NoticeItem]]:
    """The sprayings of one day that neighbours are told about."""
    organization = await readable_organization(principal, organization_id)
    start = ctx.day_start(day)
    records = (
        await SprayRecord.filter(
            organization=organization,
            status__in=ACTIVE,
            started_at__gte=start,
            started_at__lt=start + timedelta(days=1),
        )
        .prefetch_related("field", "operator")
        .order_by("started_at", "id")
    )
    if not records:
        raise NotFound(_("No spraying is recorded or planned on {day}.", day=day.isoformat()))
    items = []
    for record in records:
        contact = record.contact or (
            f"{record.operator.name} {record.operator.phone}".strip() if record.operator else ""
        )
        items.append(
            NoticeItem(
                field=record.field.name,
                location=record.field.location,
                started_at=record.started_at,
                ended_at=record.ended_at,
                products=[(line["name"], line["registration_number"]) for line in record.products],
                purpose=record.purpose,
                contact=contact,
            )
        )
    return organization, items


def _month(ctx: PluginContext, month: str | None) -> tuple[str, datetime, datetime]:
    if month is None:
        first = ctx.today().replace(day=1)
    else:
        try:
            first = datetime.strptime(month, "%Y-%m").date()
        except ValueError:
            raise Invalid.parameter("month", _("a month as YYYY-MM")) from None
    following = (first + timedelta(days=32)).replace(day=1)
    return first.strftime("%Y-%m"), ctx.day_start(first), ctx.day_start(following)


async def city_summary(ctx: PluginContext, month: str | None) -> schemas.CitySummary:
    """What the city's drones sprayed in a month, for advisors: totals only, no farm named."""
    label, start, end = _month(ctx, month)
    records = await SprayRecord.filter(
        status=SprayStatus.DONE, started_at__gte=start, started_at__lt=end
    ).values_list("organization_id", "crop", "area_m2")
    by_crop: dict[str, list[float]] = defaultdict(list)
    for _org, crop, area in records:
        by_crop[crop].append(area)
    flights = await FlightLog.filter(takeoff_at__gte=start, takeoff_at__lt=end).values_list(
        "flight_minutes", flat=True
    )
    refused = await SprayRefusal.filter(created_at__gte=start, created_at__lt=end).count()
    return schemas.CitySummary(
        month=label,
        start=start,
        end=end,
        farms=len({org for org, _crop, _area in records}),
        spray_records=len(records),
        area_ha=round(sum(area for _o, _c, area in records) / 10_000, 2),
        by_crop=[
            schemas.CropArea(crop, round(sum(areas) / 10_000, 2), len(areas))
            for crop, areas in sorted(by_crop.items(), key=lambda item: -sum(item[1]))
        ],
        flights=len(flights),
        flight_minutes=round(sum(flights), 1),
        rejected_plans=refused,
    )


async def sprayed_area_ha(start: datetime, end: datetime) -> int:
    """Hectares sprayed (flown records) with a start in ``[start, end)``, rounded."""
    areas = await SprayRecord.filter(
        status=SprayStatus.DONE, started_at__gte=start, started_at__lt=end
    ).values_list("area_m2", flat=True)
    return round(sum(areas) / 10_000)


# ------------------------------------------------------------------- reminders and feed


async def interval_reminders(ctx: PluginContext, due: datetime) -> None:
    """The ``interval_reminders`` job: tell a farm's members on the day a season's
    pre-harvest interval ends (or on the next run, up to three days late). Once per date."""
    day = ctx.local_day(due)
    seasons = await Season.filter(
        earliest_harvest_date__lte=day, earliest_harvest_date__gte=day - timedelta(days=3)
    ).prefetch_related("field")
    sent = 0
    for season in seasons:
        if season.reminded_for == season.earliest_harvest_date:
            continue
        members = await organization_members(str(season.organization_id))
        async with in_transaction():
            # Claim the reminder against the value read, so two runs never both send it.
            unchanged = Season.filter(id=season.id)
            if season.reminded_for is None:
                unchanged = unchanged.filter(reminded_for__isnull=True)
            else:
                unchanged = unchanged.filter(reminded_for=season.reminded_for)
            claimed = await unchanged.update(reminded_for=season.earliest_harvest_date)
            if not claimed:
                continue
            await ctx.notifier.notify(
                members,
                title=_("Pre-harvest interval over: {field}", field=season.field.name),
                body=_(
                    "{crop} on {field} may be harvested from {date}: the last spraying's "
                    "interval has ended.",
                    crop=season.crop,
                    field=season.field.name,
                    date=season.earliest_harvest_date.isoformat(),
                ),
                data={"season_id": str(season.id), "subject_kind": f"{PLUGIN}.season"},
            )
        sent += 1
    if sent:
        ctx.notifier.wake()
    ctx.logger.info("interval reminders: %d seasons", sent)


async def seasons_with_interval_ending(ctx: PluginContext, principal: Principal) -> list[Season]:
    first = ctx.today()
    last = first + timedelta(days=settings_of(ctx).interval_card_days)
    return (
        await tenancy.scope(
            Season.filter(earliest_harvest_date__gte=first, earliest_harvest_date__lte=last),
            principal,
        )
        .prefetch_related("field")
        .order_by("earliest_harvest_date")
    )


async def operators_expiring(ctx: PluginContext, principal: Principal) -> list[Operator]:
    """Licences that end within the warning days but have not ended yet (ended ones have
    an alert)."""
    first = ctx.today()
    last = first + timedelta(days=settings_of(ctx).licence_warning_days)
    expiring = Operator.filter(licence_expires__gte=first, licence_expires__lte=last)
    return await tenancy.scope(expiring, principal).order_by("licence_expires")


async def drones_due(ctx: PluginContext, principal: Principal) -> list[Drone]:
    """Drones whose inspection is due within the warning days, not overdue yet (overdue
    ones have an alert)."""
    first = ctx.today()
    last = first + timedelta(days=settings_of(ctx).inspection_warning_days)
    drones = await tenancy.scope(Drone.all(), principal)
    return [
        d
        for d in drones
        if (due := inspection_due(settings_of(ctx), d)) is not None and first <= due <= last
    ]


# --------------------------------------------------------------------------------- sync


def _since(queryset: Any, since: datetime | None) -> Any:
    return queryset if since is None else queryset.filter(updated_at__gte=since)


def _plain(value: Any) -> dict[str, Any]:
    return msgspec.to_builtins(value, builtin_types=(datetime, date))


async def changes(
    ctx: PluginContext, principal: Principal, since: datetime | None
) -> dict[str, list[dict[str, Any]]]:
    """What changed since ``since`` per collection. Nothing here is ever deleted (a voided
    spray record is upserted with its status), so there are no deletions to report."""
    user = await User.get_or_none(id=tenancy.parse_id(principal.user_id) or uuid.uuid4())
    language = user.locale if user else "ja"
    fields_ = await _since(tenancy.scope(FarmField.all(), principal), since).order_by(
        "updated_at", "id"
    )
    seasons = await _since(
        tenancy.scope(Season.all().prefetch_related("field"), principal), since
    ).order_by("updated_at", "id")
    records = await _since(
        tenancy.scope(SprayRecord.all().prefetch_related("field", "drone", "operator"), principal),
        since,
    ).order_by("updated_at", "id")
    drones = await _since(tenancy.scope(Drone.all(), principal), since).order_by("updated_at", "id")
    operators = await _since(tenancy.scope(Operator.all(), principal), since).order_by(
        "updated_at", "id"
    )
    pesticides = await _since(Pesticide.all(), since).order_by("updated_at", "id")
    labels: dict[str, list[PesticideLabel]] = defaultdict(list)
    for label in await PesticideLabel.filter(pesticide_id__in=[p.id for p in pesticides]):
        labels[str(label.pesticide_id)].append(label)
    return {
        "fields": [_plain(field_out(r)) for r in fields_],
        "seasons": [_plain(season_out(r, r.field)) for r in seasons],
        "spray_records": [_plain(record_out(r, language)) for r in records],
        "drones": [_plain(drone_out(ctx, r)) for r in drones],
        "operators": [_plain(operator_out(r)) for r in operators],
        "pesticides": [_plain(pesticide_out(p, labels[str(p.id)])) for p in pesticides],
    }
