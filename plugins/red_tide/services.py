"""Everything of the red tide plugin that reads or writes the database.

- **Levels**: :func:`evaluate_areas` sets each area's level from the latest sampling of its
  stations (thresholds.py) and, when it moves, :func:`_change_level` tells every fish farm in
  the area (alerts; a warning is critical), records feeding advice for every cage there and
  publishes ``red_tide.level_changed``.
- **Feeding**: a cage's advice follows its area's level (none: normal, advisory: restrict,
  warning: stop). Logging a feeding during a stop needs a reason; a feeder that dispenses
  during a stop raises a warning alert until someone gives the reason. Reasons are kept.
- **Buoys**: low dissolved oxygen warns the farms near the buoy; a high FSI tells the area's
  farms harmful plankton is likely before a count confirms it.
- **Risk** and the **bulletin**: see :func:`compute_risks` and :func:`send_bulletins`.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core import tenancy
from core.alerts.models import Severity
from core.alerts.service import Subject, organization_members
from core.errors import Conflict, Invalid, NotFound
from core.i18n import Text, as_text
from core.identity.access import Principal
from core.identity.models import Organization, OrganizationKind, Role, User
from core.pagination import page
from core.plugin import PluginContext
from core.sync import Tombstone, record_deletion
from core.telemetry.devices import DeviceRef
from core.telemetry.ingest import NewReading
from core.telemetry.models import Device, Reading
from models_ml.red_tide import features as bloom_features
from plugins.red_tide import schemas, thresholds
from plugins.red_tide.i18n import _
from plugins.red_tide.models import (
    NOT_FED,
    Advice,
    AreaRisk,
    BulletinDelivery,
    BulletinSubscription,
    Cage,
    FeedingAdvice,
    FeedingLog,
    FeedingPlan,
    FeedingSource,
    FishFarm,
    LevelChange,
    Sample,
    SampleSource,
    SeaArea,
    Station,
)
from plugins.red_tide.settings import RedTideSettings
from plugins.red_tide.thresholds import Evaluation, Level

PLUGIN = "red_tide"
BUOY = "red_tide.buoy"
FEEDER = "red_tide.feeder"
STATION_SUBJECT = "red_tide.station"
CAGE_SUBJECT = "red_tide.cage"
FARM_SUBJECT = "red_tide.farm"

ADVICE = {Level.NONE: Advice.NORMAL, Level.ADVISORY: Advice.RESTRICT, Level.WARNING: Advice.STOP}
LEVEL_ALERT = {Level.ADVISORY: "red_tide_advisory", Level.WARNING: "red_tide_warning"}
LEVEL_SEVERITY = {Level.ADVISORY: Severity.MAJOR, Level.WARNING: Severity.CRITICAL}
FEEDING_DURING_STOP = "feeding_during_stop"
HYPOXIA = "hypoxia"
HARMFUL_FSI = "harmful_plankton_suspected"

MAX_SERIES_DAYS = 31
MAX_CELLS = 10_000_000
SYNC_PLANS = "feeding_plans"
RISK_FRESH = timedelta(hours=12)
"""A bloom risk older than this is computed again before a bulletin uses it."""


def cage_advice(species: str, level: Level) -> Advice:
    """A cage's feeding advice at its area's level (none for shellfish, which are not fed)."""
    return Advice.NOT_FED if species in NOT_FED else ADVICE[level]


def settings_of(ctx: PluginContext) -> RedTideSettings:
    settings: RedTideSettings = ctx.settings
    return settings


def rules(ctx: PluginContext) -> tuple[thresholds.Rule, ...]:
    settings = settings_of(ctx)
    return thresholds.rules_for(settings.preset, (o.as_override() for o in settings.overrides))


def zone(ctx: PluginContext) -> ZoneInfo:
    return ZoneInfo(settings_of(ctx).timezone)


def local_day(ctx: PluginContext, moment: datetime) -> date:
    return moment.astimezone(zone(ctx)).date()


def _id(value: Any) -> str:
    return str(value)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:g}"


# Sea areas and stations


def _check_polygon(polygon: list[list[list[float]]], pointer: str) -> None:
    for r, ring in enumerate(polygon):
        for p, (lon, lat) in enumerate(ring):
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise Invalid.field(f"{pointer}/{r}/{p}", "not a [longitude, latitude] position")
        if ring[0] != ring[-1]:
            raise Invalid.field(f"{pointer}/{r}", "a ring must end where it starts")


async def create_area(ctx: PluginContext, data: schemas.AreaCreate) -> schemas.Area:
    _check_polygon(data.polygon, "/polygon")
    if await SeaArea.exists(name=data.name):
        raise Conflict(f"An area named {data.name} exists already.")
    area = await SeaArea.create(name=data.name, polygon=data.polygon, updated_at=ctx.clock.now())
    return (await areas_out(ctx, [area]))[0]


async def update_area(ctx: PluginContext, area_id: str, data: schemas.AreaPatch) -> schemas.Area:
    area = await _area(area_id)
    if data.polygon is not None:
        _check_polygon(data.polygon, "/polygon")
        area.polygon = data.polygon
    if data.name is not None and data.name != area.name:
        if await SeaArea.exists(name=data.name):
            raise Conflict(f"An area named {data.name} exists already.")
        area.name = data.name
    area.updated_at = ctx.clock.now()
    await area.save()
    return (await areas_out(ctx, [area]))[0]


async def _area(area_id: str) -> SeaArea:
    key = tenancy.parse_id(area_id)
    area = await SeaArea.get_or_none(id=key) if key else None
    if area is None:
        raise NotFound(f"No sea area with id {area_id}.")
    return area


async def _referenced_area(area_id: str, pointer: str) -> SeaArea:
    try:
        return await _area(area_id)
    except NotFound:
        raise Invalid.field(pointer, "unknown or not accessible") from None


async def list_areas(ctx: PluginContext, cursor: str | None, limit: int) -> schemas.AreaList:
    rows, next_cursor = await page(SeaArea.all(), cursor, limit)
    return schemas.AreaList(await areas_out(ctx, rows), next_cursor)


async def _latest_risks(area_ids: Sequence[Any]) -> dict[str, AreaRisk]:
    latest: dict[str, AreaRisk] = {}
    for risk in await AreaRisk.filter(area_id__in=list(area_ids)).order_by("day", "computed_at"):
        latest[_id(risk.area_id)] = risk
    return latest


def risk_threshold(ctx: PluginContext) -> float:
    configured = settings_of(ctx).risk_threshold
    if configured is not None:
        return configured
    try:
        return float(ctx.predictors.get("red_tide.bloom_risk").metadata.metrics["threshold"])
    except Exception:
        return 0.5


def _risk_out(ctx: PluginContext, risk: AreaRisk | None) -> schemas.Risk | None:
    if risk is None:
        return None
    return schemas.Risk(
        day=risk.day,
        probability=round(risk.probability, 4),
        high=risk.high,
        threshold=round(risk_threshold(ctx), 4),
        model_version=risk.model_version,
        computed_at=risk.computed_at,
    )


def _findings_out(detail: Mapping[str, Any]) -> list[schemas.Finding]:
    return [msgspec.convert(f, schemas.Finding) for f in detail.get("findings", [])]


async def areas_out(ctx: PluginContext, areas: Sequence[SeaArea]) -> list[schemas.Area]:
    ids = [a.id for a in areas]
    stations: dict[str, list[schemas.StationRef]] = defaultdict(list)
    for s in await Station.filter(area_id__in=ids).order_by("code"):
        stations[_id(s.area_id)].append(schemas.StationRef(_id(s.id), s.code, s.name))
    farms: dict[str, int] = defaultdict(int)
    for area_id in await FishFarm.filter(area_id__in=ids).values_list("area_id", flat=True):
        farms[_id(area_id)] += 1
    risks = await _latest_risks(ids)
    return [
        schemas.Area(
            id=_id(a.id),
            name=a.name,
            level=a.level,  # type: ignore[arg-type]
            level_since=a.level_since,
            trend=a.detail.get("trend", "unknown"),
            ratio=round(a.ratio, 4),
            sampling_day=date.fromisoformat(a.detail["sampling_day"])
            if a.detail.get("sampling_day")
            else None,
            findings=_findings_out(a.detail),
            risk=_risk_out(ctx, risks.get(_id(a.id))),
            stations=stations[_id(a.id)],
            farms=farms[_id(a.id)],
            created_at=a.created_at,
            updated_at=a.updated_at,
        )
        for a in areas
    ]


async def _buoys_by_station(station_ids: Iterable[Any]) -> dict[str, list[Device]]:
    found: dict[str, list[Device]] = defaultdict(list)
    wanted = [_id(s) for s in station_ids]
    for device in await Device.filter(
        kind=BUOY, subject_kind=STATION_SUBJECT, subject_id__in=wanted, revoked_at=None
    ).order_by("name"):
        found[device.subject_id or ""].append(device)
    return found


async def stations_out(stations: Sequence[Station]) -> list[schemas.Station]:
    buoys = await _buoys_by_station(s.id for s in stations)
    return [
        schemas.Station(
            id=_id(s.id),
            area_id=_id(s.area_id),
            code=s.code,
            name=s.name,
            latitude=s.latitude,
            longitude=s.longitude,
            operator_id=_id(s.operator_id) if s.operator_id else None,
            buoys=[_id(d.id) for d in buoys[_id(s.id)]],
            created_at=s.created_at,
        )
        for s in stations
    ]


async def create_station(ctx: PluginContext, data: schemas.StationCreate) -> schemas.Station:
    area = await _referenced_area(data.area_id, "/area_id")
    operator = None
    if data.operator_id is not None:
        key = tenancy.parse_id(data.operator_id)
        operator = await Organization.get_or_none(id=key) if key else None
        if operator is None:
            raise Invalid.field("/operator_id", "unknown or not accessible")
    if await Station.exists(code=data.code):
        raise Conflict(f"A station with code {data.code} exists already.")
    station = await Station.create(
        area=area,
        code=data.code,
        name=data.name,
        latitude=data.latitude,
        longitude=data.longitude,
        operator=operator,
        updated_at=ctx.clock.now(),
    )
    return (await stations_out([station]))[0]


async def update_station(
    ctx: PluginContext, station_id: str, data: schemas.StationPatch
) -> schemas.Station:
    station = await _station(station_id)
    for name in ("name", "latitude", "longitude"):
        value = getattr(data, name)
        if value is not None:
            setattr(station, name, value)
    station.updated_at = ctx.clock.now()
    await station.save()
    return (await stations_out([station]))[0]


async def _station(station_id: str) -> Station:
    key = tenancy.parse_id(station_id)
    station = await Station.get_or_none(id=key) if key else None
    if station is None:
        raise NotFound(f"No station with id {station_id}.")
    return station


async def list_stations(area_id: str | None, cursor: str | None, limit: int) -> schemas.StationList:
    queryset = Station.all()
    if area_id is not None:
        key = tenancy.parse_id(area_id)
        if key is None or not await SeaArea.exists(id=key):
            raise Invalid.parameter("area_id", "unknown sea area")
        queryset = queryset.filter(area_id=key)
    rows, next_cursor = await page(queryset, cursor, limit)
    return schemas.StationList(await stations_out(rows), next_cursor)


async def station_label(ctx: PluginContext, organization_id: str, station_id: str) -> str | None:
    """Subject resolver: a buoy may report for a station its organization operates, or for
    a station nobody operates."""
    key = tenancy.parse_id(station_id)
    station = await Station.get_or_none(id=key) if key else None
    if station is None:
        return None
    if station.operator_id is not None and _id(station.operator_id) != organization_id:
        return None
    return f"{station.code} {station.name}"


async def cage_label(ctx: PluginContext, organization_id: str, cage_id: str) -> str | None:
    """Subject resolver: a feeder feeds a cage of its own organization."""
    key = tenancy.parse_id(cage_id)
    cage = (
        await Cage.get_or_none(id=key, organization_id=organization_id).prefetch_related("farm")
        if key
        else None
    )
    return f"{cage.farm.name} {cage.name}" if cage else None


def thresholds_out(ctx: PluginContext) -> schemas.Thresholds:
    return schemas.Thresholds(
        preset=settings_of(ctx).preset,
        presets=["most_cautious", *thresholds.PRESETS],
        rules=[
            schemas.Rule(
                label=r.label,
                species=list(r.species),
                advisory=r.advisory,
                warning=r.warning,
                min_stations=r.min_stations,
                source=r.source,
            )
            for r in rules(ctx)
        ],
        species=dict(thresholds.SPECIES),
    )


# Samples, counts and the import


def _sample_out(sample: Sample) -> schemas.Sample:
    station = sample.station
    return schemas.Sample(
        id=_id(sample.id),
        station_id=_id(sample.station_id),
        station_code=station.code,
        area_id=_id(station.area_id),
        sampled_at=sample.sampled_at,
        sampling_day=sample.sampling_day,
        depth_m=sample.depth_m,
        temperature_c=sample.temperature_c,
        salinity=sample.salinity,
        counts=dict(sample.counts),
        source=sample.source,
        created_at=sample.created_at,
    )


def _counts(raw: Mapping[str, float], pointer: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    for name, value in raw.items():
        species = thresholds.species_id(name)
        if species is None:
            raise Invalid.field(
                f"{pointer}/{name}",
                f"not a harmful species this plugin counts ({', '.join(thresholds.SPECIES)})",
            )
        if not (math.isfinite(value) and 0 <= value <= MAX_CELLS):
            raise Invalid.field(f"{pointer}/{name}", f"cells/mL must be 0 to {MAX_CELLS:,}")
        counts[species] = float(value)
    return counts


async def _upsert_sample(
    ctx: PluginContext,
    station: Station,
    sampled_at: datetime,
    depth_m: float,
    counts: dict[str, float],
    temperature_c: float | None,
    salinity: float | None,
    source: SampleSource,
    user_id: str | None,
) -> tuple[Sample, str]:
    """Create the sample, or update the one of the same station, time and depth:
    ``created``, ``updated`` or ``unchanged``."""
    sampled_at = sampled_at.astimezone(UTC)
    existing = await Sample.get_or_none(station=station, sampled_at=sampled_at, depth_m=depth_m)
    if existing is None:
        try:
            async with in_transaction():
                sample = await Sample.create(
                    station=station,
                    sampled_at=sampled_at,
                    sampling_day=local_day(ctx, sampled_at),
                    depth_m=depth_m,
                    temperature_c=temperature_c,
                    salinity=salinity,
                    counts=counts,
                    source=source,
                    entered_by_id=user_id,
                    updated_at=ctx.clock.now(),
                )
            return sample, "created"
        except IntegrityError:
            # Another request stored the same sample first: update that one.
            existing = await Sample.get_or_none(
                station=station, sampled_at=sampled_at, depth_m=depth_m
            )
            if existing is None:
                raise
    return existing, await _merge(ctx, existing, counts, temperature_c, salinity)


async def _merge(
    ctx: PluginContext,
    existing: Sample,
    counts: dict[str, float],
    temperature_c: float | None,
    salinity: float | None,
) -> str:
    """Add what a re-entered sample says to the stored one: ``updated`` or ``unchanged``."""
    merged = {**existing.counts, **counts}
    changed = (
        merged != existing.counts
        or (temperature_c is not None and temperature_c != existing.temperature_c)
        or (salinity is not None and salinity != existing.salinity)
    )
    if not changed:
        return "unchanged"
    existing.counts = merged
    existing.temperature_c = temperature_c if temperature_c is not None else existing.temperature_c
    existing.salinity = salinity if salinity is not None else existing.salinity
    existing.updated_at = ctx.clock.now()
    await existing.save()
    return "updated"


def _not_in_future(ctx: PluginContext, moment: datetime) -> bool:
    return moment <= ctx.clock.now() + timedelta(minutes=5)


async def record_sample(
    ctx: PluginContext, principal: Principal, data: schemas.SampleCreate
) -> schemas.Sample:
    key = tenancy.parse_id(data.station_id)
    station = await Station.get_or_none(id=key) if key else None
    if station is None:
        raise Invalid.field("/station_id", "unknown or not accessible")
    if data.sampled_at.tzinfo is None:
        raise Invalid.field("/sampled_at", "give the time with its UTC offset")
    if not _not_in_future(ctx, data.sampled_at):
        raise Invalid.field("/sampled_at", "in the future")
    counts = _counts(data.counts, "/counts")
    sample, _outcome = await _upsert_sample(
        ctx,
        station,
        data.sampled_at,
        data.depth_m,
        counts,
        data.temperature_c,
        data.salinity,
        SampleSource.MANUAL,
        principal.user_id,
    )
    await evaluate_areas(ctx, [station.area_id])
    await sample.fetch_related("station")
    return _sample_out(sample)


async def list_samples(
    station_id: str | None,
    area_id: str | None,
    start: datetime | None,
    end: datetime | None,
    cursor: str | None,
    limit: int,
) -> schemas.SampleList:
    queryset = Sample.all().prefetch_related("station")
    if station_id is not None:
        key = tenancy.parse_id(station_id)
        if key is None or not await Station.exists(id=key):
            raise Invalid.parameter("station_id", "unknown station")
        queryset = queryset.filter(station_id=key)
    if area_id is not None:
        key = tenancy.parse_id(area_id)
        if key is None or not await SeaArea.exists(id=key):
            raise Invalid.parameter("area_id", "unknown sea area")
        queryset = queryset.filter(station__area_id=key)
    if start is not None:
        queryset = queryset.filter(sampled_at__gte=start)
    if end is not None:
        queryset = queryset.filter(sampled_at__lt=end)
    rows, next_cursor = await page(queryset, cursor, limit, newest_first=True)
    return schemas.SampleList([_sample_out(s) for s in rows], next_cursor)


IMPORT_COLUMNS = ("station", "date", "time", "depth_m", "temperature_c", "salinity")
"""The fixed columns of the import; every other column names a species (see docs)."""
MAX_IMPORT_ROWS = 20000
NOT_DETECTED = frozenset({"-", "－", "ND", "nd", "n.d."})
"""How flash reports write "counted, none found" (0 cells/mL); an empty cell is not counted."""


class _RowProblem(Exception):
    def __init__(self, column: str | None, detail: str) -> None:
        super().__init__(detail)
        self.column = column
        self.detail = detail


def _float(row: Mapping[str, str], column: str, low: float, high: float) -> float | None:
    raw = (row.get(column) or "").strip().replace(",", "")
    if raw == "" or raw in NOT_DETECTED:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise _RowProblem(column, f"{raw!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise _RowProblem(column, f"{value:g} is outside [{low:g}, {high:g}]")
    return value


def _moment(ctx: PluginContext, row: Mapping[str, str]) -> datetime:
    raw_date = (row.get("date") or "").strip().replace("/", "-")
    try:
        day = date.fromisoformat(raw_date)
    except ValueError:
        raise _RowProblem("date", f"{raw_date!r} is not a date (YYYY-MM-DD)") from None
    raw_time = (row.get("time") or "").strip() or "09:00"
    try:
        clock = time.fromisoformat(raw_time)
    except ValueError:
        raise _RowProblem("time", f"{raw_time!r} is not a time (HH:MM)") from None
    return datetime.combine(day, clock, tzinfo=zone(ctx))


_Parsed = tuple[Station, dict[str, float], float | None, float | None]
"""A sample read from an import: station, counts, temperature, salinity."""


async def _store_imported(
    ctx: PluginContext,
    principal: Principal,
    parsed: Mapping[tuple[Any, datetime, float], _Parsed],
    result: schemas.ImportResult,
) -> None:
    """Store an import's samples in a few statements: the new ones in bulk, the changed ones
    one by one, the rest untouched (a re-import changes nothing)."""
    if not parsed:
        return
    existing: dict[tuple[Any, datetime, float], Sample] = {}
    for sample in await Sample.filter(
        station_id__in=list({key[0] for key in parsed}),
        sampled_at__in=list({key[1] for key in parsed}),
    ):
        existing[(sample.station_id, sample.sampled_at.astimezone(UTC), sample.depth_m)] = sample
    now = ctx.clock.now()
    new = [
        Sample(
            station=station,
            sampled_at=key[1],
            sampling_day=local_day(ctx, key[1]),
            depth_m=key[2],
            temperature_c=temperature,
            salinity=salinity,
            counts=counts,
            source=SampleSource.IMPORT,
            entered_by_id=principal.user_id,
            updated_at=now,
        )
        for key, (station, counts, temperature, salinity) in parsed.items()
        if key not in existing
    ]
    try:
        async with in_transaction():
            await Sample.bulk_create(new, batch_size=500)
        result.created += len(new)
    except IntegrityError:
        # Another import stored some of them meanwhile: one at a time, each upserted.
        for sample in new:
            _stored, outcome = await _upsert_sample(
                ctx,
                sample.station,
                sample.sampled_at,
                sample.depth_m,
                sample.counts,
                sample.temperature_c,
                sample.salinity,
                SampleSource.IMPORT,
                principal.user_id,
            )
            setattr(result, outcome, getattr(result, outcome) + 1)
    for key, (_station, counts, temperature, salinity) in parsed.items():
        if key in existing:
            outcome = await _merge(ctx, existing[key], counts, temperature, salinity)
            setattr(result, outcome, getattr(result, outcome) + 1)


async def import_samples(
    ctx: PluginContext, principal: Principal, body: bytes
) -> schemas.ImportResult:
    """A flash-report CSV: one row per station, date and depth (docs in the plugin README)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid.field("", "the file is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in ("station", "date", "depth_m") if c not in header]
    if missing:
        raise Invalid.field("", f"the header lacks the column(s) {', '.join(missing)}")
    species_columns: dict[str, str] = {}
    unknown: list[str] = []
    for column in header:
        if column in IMPORT_COLUMNS or not column:
            continue
        species = thresholds.species_id(column)
        if species is None:
            unknown.append(column)
        else:
            species_columns[column] = species
    if unknown:
        raise Invalid.field(
            "",
            f"unknown column(s) {', '.join(unknown)}: columns are {', '.join(IMPORT_COLUMNS)} "
            f"and species ({', '.join(thresholds.SPECIES)})",
        )
    stations = {s.code: s for s in await Station.all()}
    result = schemas.ImportResult(0, 0, 0, 0, [], {})
    touched: set[Any] = set()
    parsed: dict[tuple[Any, datetime, float], _Parsed] = {}
    for line, row in enumerate(reader, start=2):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        result.rows += 1
        if result.rows > MAX_IMPORT_ROWS:
            raise Invalid.field("", f"more than {MAX_IMPORT_ROWS} rows: split the file")
        try:
            code = (row.get("station") or "").strip()
            station = stations.get(code)
            if station is None:
                raise _RowProblem("station", f"no station with code {code!r}")
            moment = _moment(ctx, row)
            if not _not_in_future(ctx, moment):
                raise _RowProblem("date", "in the future")
            depth = _float(row, "depth_m", 0, 200)
            if depth is None:
                raise _RowProblem("depth_m", "missing")
            counts: dict[str, float] = {}
            for column, species in species_columns.items():
                if (row.get(column) or "").strip() in NOT_DETECTED:
                    counts[species] = 0.0
                    continue
                value = _float(row, column, 0, MAX_CELLS)
                if value is not None:
                    counts[species] = value
            temperature = _float(row, "temperature_c", -2, 40)
            salinity = _float(row, "salinity", 0, 45)
        except _RowProblem as problem:
            result.errors.append(schemas.RowError(line, problem.column, problem.detail))
            continue
        key = (station.id, moment.astimezone(UTC), depth)
        earlier = parsed.get(key)
        if earlier is not None:  # the same sample twice in one file: the later row adds to it
            counts = {**earlier[1], **counts}
            temperature = temperature if temperature is not None else earlier[2]
            salinity = salinity if salinity is not None else earlier[3]
        parsed[key] = (station, counts, temperature, salinity)
        touched.add(station.area_id)
    await _store_imported(ctx, principal, parsed, result)
    if touched:
        await evaluate_areas(ctx, list(touched))
        for area in await SeaArea.filter(id__in=list(touched)):
            result.levels[_id(area.id)] = area.level  # type: ignore[assignment]
    return result


# Levels


def _finding_out(
    finding: thresholds.Finding, names: Mapping[str, tuple[str, str]]
) -> dict[str, Any]:
    return {
        "rule": finding.rule.label,
        "species": list(finding.rule.species),
        "level": finding.level.label,
        "cells_per_ml": finding.value,
        "advisory": finding.rule.advisory,
        "warning": finding.rule.warning,
        "min_stations": finding.rule.min_stations,
        "stations": [{"id": s, "code": names[s][0], "name": names[s][1]} for s in finding.stations],
    }


def _trend(current: Evaluation, previous: Evaluation | None) -> str:
    if previous is None or previous.stations_sampled == 0:
        return "unknown"
    if current.ratio > max(previous.ratio * 1.25, previous.ratio + 0.05):
        return "rising"
    if current.ratio < previous.ratio * 0.8 - 0.01:
        return "falling"
    return "steady"


async def evaluate_areas(
    ctx: PluginContext, area_ids: Sequence[Any] | None = None
) -> list[schemas.LevelChanged]:
    """Set the level of the given areas (all when None) from their latest counts."""
    now = ctx.clock.now()
    today = local_day(ctx, now)
    max_age = settings_of(ctx).count_max_age_days
    areas = await (SeaArea.filter(id__in=list(area_ids)) if area_ids is not None else SeaArea.all())
    if not areas:
        return []
    area_keys = [a.id for a in areas]
    names = {
        _id(sid): (code, name)
        for sid, code, name in await Station.filter(area_id__in=area_keys).values_list(
            "id", "code", "name"
        )
    }
    # station -> day -> depth -> counts: the latest sample of each depth and day (rows come
    # oldest first), for the last two samplings within twice the age limit
    by_station: dict[str, dict[date, dict[float, Mapping[str, float]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    area_of: dict[str, str] = {}
    for station_id, area_id, day, depth, counts in (
        await Sample.filter(
            station__area_id__in=area_keys,
            sampling_day__gt=today - timedelta(days=2 * max_age),
            sampled_at__lte=now,
        )
        .order_by("sampled_at")
        .values_list("station_id", "station__area_id", "sampling_day", "depth_m", "counts")
    ):
        by_station[_id(station_id)][day][depth] = counts or {}
        area_of[_id(station_id)] = _id(area_id)
    current: dict[str, dict[str, list[Mapping[str, float]]]] = defaultdict(dict)
    previous: dict[str, dict[str, list[Mapping[str, float]]]] = defaultdict(dict)
    latest_day: dict[str, date] = {}
    for station_id, by_day in by_station.items():
        days = {day: list(depths.values()) for day, depths in by_day.items()}
        ordered = sorted(days, reverse=True)
        area_id = area_of[station_id]
        if ordered[0] > today - timedelta(days=max_age):
            current[area_id][station_id] = days[ordered[0]]
            latest_day[area_id] = max(latest_day.get(area_id, ordered[0]), ordered[0])
            if len(ordered) > 1:
                previous[area_id][station_id] = days[ordered[1]]
        else:
            previous[area_id][station_id] = days[ordered[0]]
    active_rules = rules(ctx)
    changes: list[schemas.LevelChanged] = []
    for area in areas:
        key = _id(area.id)
        result = thresholds.evaluate(active_rules, current.get(key, {}))
        before = thresholds.evaluate(active_rules, previous[key]) if previous.get(key) else None
        detail = {
            "sampling_day": latest_day[key].isoformat() if key in latest_day else None,
            "stations_sampled": result.stations_sampled,
            "trend": _trend(result, before),
            "findings": [_finding_out(f, names) for f in result.findings[:6]],
        }
        if Level.parse(area.level) is not result.level:
            change = await _change_level(ctx, area, result, detail, now)
            if change is not None:
                changes.append(change)
        elif detail != area.detail or abs(area.ratio - result.ratio) > 1e-9:
            area.detail = detail
            area.ratio = result.ratio
            area.updated_at = now
            await area.save(update_fields=["detail", "ratio", "updated_at"])
    return changes


async def _change_level(
    ctx: PluginContext, area: SeaArea, result: Evaluation, detail: dict[str, Any], now: datetime
) -> schemas.LevelChanged | None:
    previous = Level.parse(area.level)
    level = result.level
    farms = await FishFarm.filter(area=area).order_by("name")
    cages: dict[str, list[Cage]] = defaultdict(list)
    unfed: set[str] = set()
    for cage in await Cage.filter(farm__area=area).order_by("name"):
        if cage.species in NOT_FED:
            unfed.add(_id(cage.farm_id))
        else:
            cages[_id(cage.farm_id)].append(cage)
    top = detail["findings"][0] if detail["findings"] else None
    event = schemas.LevelChanged(
        area_id=_id(area.id),
        area=area.name,
        previous=previous.label,  # type: ignore[arg-type]
        level=level.label,  # type: ignore[arg-type]
        changed_at=now,
        species=list(top["species"]) if top else [],
        cells_per_ml=float(top["cells_per_ml"]) if top else 0.0,
        stations=[s["name"] for s in top["stations"]] if top else [],
        farms=[_id(f.id) for f in farms],
    )
    async with ctx.events.transaction():
        # Claim the change: of two evaluations racing (two replicas, two imports), only the
        # one that moves the stored level tells the farms.
        claimed = await SeaArea.filter(id=area.id, level=previous.label).update(
            level=level.label,
            level_since=now,
            detail=detail,
            ratio=result.ratio,
            updated_at=now,
        )
        if not claimed:
            return None
        await LevelChange.create(
            area=area, previous=previous.label, level=level.label, changed_at=now, detail=detail
        )
        advice = ADVICE[level]
        await FeedingAdvice.bulk_create(
            [
                FeedingAdvice(
                    organization_id=cage.organization_id,
                    cage=cage,
                    area=area,
                    level=level.label,
                    advice=advice,
                    issued_at=now,
                )
                for farm_cages in cages.values()
                for cage in farm_cages
            ]
        )
        for farm in farms:
            fed = cages[_id(farm.id)]
            feeds = bool(fed) or _id(farm.id) not in unfed  # a farm of shellfish only: no advice
            await _tell_farm(ctx, farm, fed, feeds, area, previous, level, top)
        await ctx.events.publish("red_tide.level_changed", event)
    ctx.notifier.wake()
    ctx.logger.info(
        "area %s: %s -> %s (%d farms)", area.name, previous.label, level.label, len(farms)
    )
    return event


def level_text(level: Level) -> Text:
    if level is Level.WARNING:
        return _("red tide warning")
    if level is Level.ADVISORY:
        return _("red tide advisory")
    return _("no red tide alert")


def _finding_text(top: Mapping[str, Any] | None, level: Level) -> Text:
    if top is None:
        return _("No harmful plankton in the latest counts.")
    threshold = top["warning"] if level is Level.WARNING else top["advisory"]
    return _(
        "{species}: {cells} cells/mL at {stations} (level {threshold} cells/mL).",
        species=top["rule"],
        cells=_number(top["cells_per_ml"]),
        stations=", ".join(s["name"] for s in top["stations"]) or "-",
        threshold=_number(threshold) if threshold is not None else "-",
    )


def join_lines(lines: Sequence[Text]) -> Text:
    """Texts one per line, each rendered in the reader's language."""
    if not lines:
        return as_text("")
    text = lines[-1]
    for line in reversed(lines[:-1]):
        text = Text("{first}\n{rest}", {"first": line, "rest": text})  # no words to translate
    return text


def _advice_text(level: Level, cage_names: Sequence[str], restrict_percent: int) -> Text:
    cages = ", ".join(cage_names)
    if level is Level.WARNING:
        if cages:
            return _("Stop feeding now at {cages}.", cages=cages)
        return _("Stop feeding now.")
    if level is Level.ADVISORY:
        if cages:
            return _(
                "Restrict feeding at {cages} to {percent} of the planned ration.",
                cages=cages,
                percent=f"{restrict_percent}%",
            )
        return _(
            "Restrict feeding to {percent} of the planned ration.", percent=f"{restrict_percent}%"
        )
    return _("Feeding may resume as planned.")


async def _tell_farm(
    ctx: PluginContext,
    farm: FishFarm,
    cages: Sequence[Cage],
    feeds: bool,
    area: SeaArea,
    previous: Level,
    level: Level,
    top: Mapping[str, Any] | None,
) -> None:
    organization_id = _id(farm.organization_id)
    subject = Subject(FARM_SUBJECT, _id(farm.id), farm.name)
    percent = round(settings_of(ctx).restrict_ratio * 100)
    lines = [_finding_text(top, level)]
    if feeds:
        lines.append(_advice_text(level, [c.name for c in cages], percent))
    body = join_lines(lines)
    data = {
        "area_id": _id(area.id),
        "area": area.name,
        "level": level.label,
        "previous": previous.label,
        "advice": (ADVICE[level] if feeds else Advice.NOT_FED).value,
        "cages": [_id(c.id) for c in cages],
        "species": list(top["species"]) if top else [],
        "cells_per_ml": top["cells_per_ml"] if top else 0.0,
    }
    if level is not Level.NONE:
        await ctx.alerts.raise_(
            organization_id=organization_id,
            type=LEVEL_ALERT[level],
            severity=LEVEL_SEVERITY[level],
            title=(
                _("Red tide warning in {area}: {farm}", area=area.name, farm=farm.name)
                if level is Level.WARNING
                else _("Red tide advisory in {area}: {farm}", area=area.name, farm=farm.name)
            ),
            body=body,
            subject=subject,
            data=data,
        )
    for other, alert_type in LEVEL_ALERT.items():
        if other is not level:
            await ctx.alerts.resolve(
                organization_id=organization_id,
                type=alert_type,
                subject=subject,
                note=f"the level of {area.name} is now {level.label}",
            )
    if level is Level.NONE:
        await ctx.notifier.notify(
            await organization_members(organization_id),
            title=_("Red tide alert lifted in {area}: {farm}", area=area.name, farm=farm.name),
            body=body,
            data=data,
        )


# Farms and cages


def _farm_out(farm: FishFarm, cage_count: int) -> schemas.Farm:
    level = Level.parse(farm.area.level)
    return schemas.Farm(
        id=_id(farm.id),
        organization_id=_id(farm.organization_id),
        area_id=_id(farm.area_id),
        area_name=farm.area.name,
        name=farm.name,
        latitude=farm.latitude,
        longitude=farm.longitude,
        level=level.label,  # type: ignore[arg-type]
        advice=ADVICE[level],
        cages=cage_count,
        created_at=farm.created_at,
    )


async def _farms_out(farms: Sequence[FishFarm]) -> list[schemas.Farm]:
    counts: dict[str, int] = defaultdict(int)
    for farm_id in await Cage.filter(farm_id__in=[f.id for f in farms]).values_list(
        "farm_id", flat=True
    ):
        counts[_id(farm_id)] += 1
    return [_farm_out(f, counts[_id(f.id)]) for f in farms]


async def create_farm(
    ctx: PluginContext, principal: Principal, data: schemas.FarmCreate
) -> schemas.Farm:
    organization = await tenancy.referenced(
        Organization.all(), data.organization_id, principal, "/organization_id", field=None
    )
    if organization.kind is not OrganizationKind.FISHERY:
        raise Invalid.field("/organization_id", "fish farms belong to fishery organizations")
    area = await _referenced_area(data.area_id, "/area_id")
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
        farm.area = await _referenced_area(data.area_id, "/area_id")
    for name in ("name", "latitude", "longitude"):
        value = getattr(data, name)
        if value is not None:
            setattr(farm, name, value)
    farm.updated_at = ctx.clock.now()
    await farm.save()
    await farm.fetch_related("area")
    return (await _farms_out([farm]))[0]


async def get_farm(principal: Principal, farm_id: str) -> schemas.Farm:
    farm = await tenancy.get(FishFarm.all().prefetch_related("area"), farm_id, principal)
    return (await _farms_out([farm]))[0]


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
    return schemas.FarmList(await _farms_out(rows), next_cursor)


async def _planned_kg(cage_ids: Sequence[Any]) -> dict[str, float]:
    planned: dict[str, float] = defaultdict(float)
    for cage_id, kg in await FeedingPlan.filter(
        cage_id__in=list(cage_ids), active=True
    ).values_list("cage_id", "kg"):
        planned[_id(cage_id)] += kg
    return planned


async def _cages_out(ctx: PluginContext, cages: Sequence[Cage]) -> list[schemas.Cage]:
    planned = await _planned_kg([c.id for c in cages])
    ratio = settings_of(ctx).restrict_ratio
    out = []
    for cage in cages:
        level = Level.parse(cage.farm.area.level)
        advice = cage_advice(cage.species, level)
        plan = planned.get(_id(cage.id))
        out.append(
            schemas.Cage(
                id=_id(cage.id),
                organization_id=_id(cage.organization_id),
                farm_id=_id(cage.farm_id),
                area_id=_id(cage.farm.area_id),
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
    return (await _cages_out(ctx, [cage]))[0]


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
    return (await _cages_out(ctx, [cage]))[0]


async def get_cage(ctx: PluginContext, principal: Principal, cage_id: str) -> schemas.Cage:
    cage = await tenancy.get(Cage.all().prefetch_related("farm__area"), cage_id, principal)
    return (await _cages_out(ctx, [cage]))[0]


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
    return schemas.CageList(await _cages_out(ctx, rows), next_cursor)


# Feeding: plans, logs, the stop interlock


def _person(user: User | None) -> schemas.Person | None:
    return schemas.Person(_id(user.id), user.display_name) if user else None


def _feeding_out(log: FeedingLog) -> schemas.Feeding:
    return schemas.Feeding(
        id=_id(log.id),
        organization_id=_id(log.organization_id),
        cage_id=_id(log.cage_id),
        fed_at=log.fed_at,
        kg=log.kg,
        source=log.source,
        device_id=_id(log.device_id) if log.device_id else None,
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
    if not _not_in_future(ctx, fed_at):
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
    return _feeding_out(log)


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
            organization_id=_id(log.organization_id),
            type=FEEDING_DURING_STOP,
            subject=Subject(CAGE_SUBJECT, _id(cage.id), cage.name),
            note=reason,
        )
    await log.fetch_related(*FEEDING_RELATED)
    return _feeding_out(log)


async def get_feeding(principal: Principal, log_id: str) -> schemas.Feeding:
    log = await tenancy.get(FeedingLog.all().prefetch_related(*FEEDING_RELATED), log_id, principal)
    return _feeding_out(log)


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
    return schemas.FeedingList([_feeding_out(r) for r in rows], next_cursor)


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
        organization_id=_id(cage.organization_id),
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
        subject=Subject(CAGE_SUBJECT, _id(cage.id), cage.name),
        data={"feedings": [_id(log.id) for log in created], "kg": kg, "device_id": _id(device.id)},
    )


def _plan_out(plan: FeedingPlan, stopped: bool) -> schemas.Plan:
    return schemas.Plan(
        id=_id(plan.id),
        organization_id=_id(plan.organization_id),
        cage_id=_id(plan.cage_id),
        time_of_day=plan.time_of_day,
        kg=plan.kg,
        active=plan.active,
        suspended=plan.active and stopped,
        created_at=plan.created_at,
    )


async def _plans_out(plans: Sequence[FeedingPlan]) -> list[schemas.Plan]:
    stopped = set()
    for cage_id, species, level in await Cage.filter(id__in=[p.cage_id for p in plans]).values_list(
        "id", "species", "farm__area__level"
    ):
        if cage_advice(species, Level.parse(level)) is Advice.STOP:
            stopped.add(_id(cage_id))
    return [_plan_out(p, _id(p.cage_id) in stopped) for p in plans]


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
    return (await _plans_out([plan]))[0]


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
    return (await _plans_out([plan]))[0]


async def delete_plan(ctx: PluginContext, principal: Principal, plan_id: str) -> None:
    plan = await tenancy.get(FeedingPlan.all(), plan_id, principal, write=True)
    async with in_transaction():
        await plan.delete()
        await record_deletion(
            PLUGIN,
            SYNC_PLANS,
            _id(plan.id),
            ctx.clock.now(),
            organization_id=_id(plan.organization_id),
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
    return schemas.PlanList(await _plans_out(rows), next_cursor)


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
                id=_id(a.id),
                organization_id=_id(a.organization_id),
                cage_id=_id(a.cage_id),
                area_id=_id(a.area_id),
                level=a.level,  # type: ignore[arg-type]
                advice=a.advice,
                issued_at=a.issued_at,
            )
            for a in rows
        ],
        next_cursor,
    )


# Buoys: hypoxia and FSI


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


async def _farms_near(ctx: PluginContext, station: Station) -> list[FishFarm]:
    radius = settings_of(ctx).hypoxia_radius_km
    near = []
    for farm in await FishFarm.filter(
        Q(area_id=station.area_id) | Q(latitude__not_isnull=True)
    ).order_by("name"):
        if farm.latitude is None or farm.longitude is None:
            near.append(farm)  # no position: the farms of the buoy's area
        elif (
            distance_km(station.latitude, station.longitude, farm.latitude, farm.longitude)
            <= radius
        ):
            near.append(farm)
    return near


def _depth(metric: str) -> Text | str:
    depth = metric.split("_", 1)[1]
    return _("the bottom") if depth == "bottom" else depth.replace("_", ".").replace("m", " m")


async def buoy_readings(
    ctx: PluginContext, device: DeviceRef, readings: Sequence[NewReading]
) -> None:
    if device.subject_kind != STATION_SUBJECT or not device.subject_id:
        return  # a buoy bound to no station has no place: its readings are only stored
    station = await Station.get_or_none(id=device.subject_id)
    if station is None:
        return
    settings = settings_of(ctx)
    oxygen = [r for r in readings if r.metric.startswith("do_")]
    if oxygen:
        lowest = min(oxygen, key=lambda r: r.value)
        farms = await _farms_near(ctx, station)
        if lowest.value < settings.hypoxia_do_mg_l:
            for farm in farms:
                await ctx.alerts.raise_(
                    organization_id=_id(farm.organization_id),
                    type=HYPOXIA,
                    severity=Severity.MAJOR,
                    title=_("Low oxygen near {farm}", farm=farm.name),
                    body=_(
                        "{buoy} at {station} reads {value} mg/L dissolved oxygen at {depth} "
                        "(alert below {limit} mg/L). Watch the fish and reduce feeding.",
                        buoy=device.name,
                        station=station.name,
                        value=f"{lowest.value:.1f}",
                        depth=_depth(lowest.metric),
                        limit=f"{settings.hypoxia_do_mg_l:g}",
                    ),
                    subject=Subject(FARM_SUBJECT, _id(farm.id), farm.name),
                    data={
                        "device_id": _id(device.id),
                        "station_id": _id(station.id),
                        "metric": lowest.metric,
                        "do_mg_l": lowest.value,
                        "at": lowest.ts.isoformat(),
                    },
                )
        elif lowest.value >= settings.hypoxia_recovery_mg_l:
            for farm in farms:
                await ctx.alerts.resolve(
                    organization_id=_id(farm.organization_id),
                    type=HYPOXIA,
                    subject=Subject(FARM_SUBJECT, _id(farm.id), farm.name),
                    note=f"{device.name}: {lowest.value:.1f} mg/L",
                )
    fsi = [r for r in readings if r.metric == "fsi"]
    if fsi:
        latest = max(fsi, key=lambda r: r.ts)
        farms = await FishFarm.filter(area_id=station.area_id).order_by("name")
        area = await SeaArea.get(id=station.area_id)
        for farm in farms:
            subject = Subject(FARM_SUBJECT, _id(farm.id), farm.name)
            if latest.value > settings.fsi_harmful:
                await ctx.alerts.raise_(
                    organization_id=_id(farm.organization_id),
                    type=HARMFUL_FSI,
                    severity=Severity.MINOR,
                    title=_("Harmful plankton suspected in {area}", area=area.name),
                    body=_(
                        "The telemeter {buoy} at {station} reads FSI {value} (above {limit}): "
                        "harmful plankton is likely. A cell count will confirm it.",
                        buoy=device.name,
                        station=station.name,
                        value=f"{latest.value:.1f}",
                        limit=f"{settings.fsi_harmful:g}",
                    ),
                    subject=subject,
                    data={"device_id": _id(device.id), "fsi": latest.value},
                )
            else:
                await ctx.alerts.resolve(
                    organization_id=_id(farm.organization_id),
                    type=HARMFUL_FSI,
                    subject=subject,
                    note=f"FSI {latest.value:.1f}",
                )


# Charts and the map


UNITS = {
    "temperature": "°C",
    "salinity": "PSU",
    "do": "mg/L",
    "chlorophyll": "µg/L",
    "turbidity": "NTU",
    "fsi": "",
}


def _unit(metric: str) -> str:
    return UNITS.get(metric.split("_", 1)[0], "")


async def station_series(
    station_id: str,
    start: datetime | None,
    end: datetime | None,
    metrics: Sequence[str] | None,
    resolution: str,
    now: datetime,
) -> schemas.StationSeries:
    key = tenancy.parse_id(station_id)
    station = await Station.get_or_none(id=key) if key else None
    if station is None:
        raise Invalid.parameter("station_id", "unknown station")
    end = end or now
    start = start or end - timedelta(days=7)
    if start >= end:
        raise Invalid.parameter("from", "from must be before to")
    if end - start > timedelta(days=MAX_SERIES_DAYS):
        raise Invalid.parameter("from", f"at most {MAX_SERIES_DAYS} days at a time")
    buoys = (await _buoys_by_station([station.id]))[_id(station.id)]
    queryset = Reading.filter(device_id__in=[d.id for d in buoys], ts__gte=start, ts__lt=end)
    if metrics:
        queryset = queryset.filter(metric__in=list(metrics))
    points: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for ts, metric, value in await queryset.order_by("ts").values_list("ts", "metric", "value"):
        points[metric].append((ts, value))
    telemetry = []
    for metric in sorted(points):
        series = points[metric]
        if resolution == "hour":
            buckets: dict[datetime, list[float]] = defaultdict(list)
            for ts, value in series:
                buckets[ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)].append(value)
            series = [(ts, sum(v) / len(v)) for ts, v in sorted(buckets.items())]
        telemetry.append(
            schemas.Series(
                metric, _unit(metric), [schemas.Point(t, round(v, 4)) for t, v in series]
            )
        )
    counts: dict[str, dict[datetime, float]] = defaultdict(dict)
    for sampled_at, values in (
        await Sample.filter(station=station, sampled_at__gte=start, sampled_at__lt=end)
        .order_by("sampled_at")
        .values_list("sampled_at", "counts")
    ):
        for species, value in (values or {}).items():
            at = counts[species]
            at[sampled_at] = max(at.get(sampled_at, 0.0), value)
    return schemas.StationSeries(
        station_id=_id(station.id),
        start=start,
        end=end,
        resolution=resolution,  # type: ignore[arg-type]
        telemetry=telemetry,
        counts=[
            schemas.Series(
                species, "cells/mL", [schemas.Point(t, v) for t, v in sorted(by.items())]
            )
            for species, by in sorted(counts.items())
        ],
    )


async def _latest_values(device_ids: Sequence[Any], since: datetime) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = defaultdict(dict)
    for device_id, ts, metric, value in (
        await Reading.filter(device_id__in=list(device_ids), ts__gte=since)
        .order_by("ts")
        .values_list("device_id", "ts", "metric", "value")
    ):
        latest[_id(device_id)][metric] = value
        latest[_id(device_id)]["_at"] = ts
    return latest


async def geojson(ctx: PluginContext) -> schemas.GeoJSON:
    """The map: areas (polygons, with their level), stations and buoys (points)."""
    now = ctx.clock.now()
    features: list[dict[str, Any]] = []
    areas = await SeaArea.all().order_by("name")
    for area in areas:
        features.append(
            {
                "type": "Feature",
                "id": _id(area.id),
                "geometry": {"type": "Polygon", "coordinates": area.polygon},
                "properties": {
                    "kind": "area",
                    "name": area.name,
                    "level": area.level,
                    "trend": area.detail.get("trend", "unknown"),
                    "ratio": round(area.ratio, 4),
                },
            }
        )
    stations = await Station.all().order_by("code")
    buoys = await _buoys_by_station(s.id for s in stations)
    latest = await _latest_values(
        [d.id for devices in buoys.values() for d in devices], now - timedelta(days=1)
    )
    for station in stations:
        point = {"type": "Point", "coordinates": [station.longitude, station.latitude]}
        features.append(
            {
                "type": "Feature",
                "id": _id(station.id),
                "geometry": point,
                "properties": {
                    "kind": "station",
                    "code": station.code,
                    "name": station.name,
                    "area_id": _id(station.area_id),
                },
            }
        )
        for device in buoys[_id(station.id)]:
            values = dict(latest.get(_id(device.id), {}))
            at = values.pop("_at", None)
            features.append(
                {
                    "type": "Feature",
                    "id": _id(device.id),
                    "geometry": point,
                    "properties": {
                        "kind": "buoy",
                        "name": device.name,
                        "station_id": _id(station.id),
                        "area_id": _id(station.area_id),
                        "last_seen": device.last_seen.isoformat() if device.last_seen else None,
                        "latest": values,
                        "latest_at": at.isoformat() if at else None,
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


# Bloom risk


SURFACE = "0_5m"
DEEP = ("bottom", "10m", "5m")
"""Where the bottom reading comes from, in order of preference."""


async def _daily_summaries(
    ctx: PluginContext, area: SeaArea, device_ids: Sequence[Any], now: datetime
) -> list[bloom_features.Day]:
    tz = zone(ctx)
    today = now.astimezone(tz).date()
    first = today - timedelta(days=bloom_features.HISTORY_DAYS - 1)
    start = datetime.combine(first, time(), tzinfo=tz)
    wanted = [f"{q}_{SURFACE}" for q in ("temperature", "salinity", "chlorophyll", "do")]
    wanted += [f"{q}_{d}" for q in ("temperature", "salinity", "do") for d in DEEP]
    values: dict[date, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    if device_ids:
        for ts, metric, value in await Reading.filter(
            device_id__in=list(device_ids), ts__gte=start, ts__lte=now, metric__in=wanted
        ).values_list("ts", "metric", "value"):
            values[ts.astimezone(tz).date()][metric].append(value)
    by_day: dict[date, dict[str, list[Mapping[str, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for station_id, day, counts in await Sample.filter(
        station__area=area, sampling_day__gte=first, sampling_day__lte=today
    ).values_list("station_id", "sampling_day", "counts"):
        by_day[day][_id(station_id)].append(counts or {})
    active_rules = rules(ctx)
    ratio_of = {day: thresholds.evaluate(active_rules, st).ratio for day, st in by_day.items()}

    def mean(day: dict[str, list[float]], metric: str) -> float:
        got = day.get(metric)
        return sum(got) / len(got) if got else math.nan

    def deep(day: dict[str, list[float]], quantity: str, pick: Any = None) -> float:
        for depth in DEEP:
            got = day.get(f"{quantity}_{depth}")
            if got:
                return (pick or (lambda v: sum(v) / len(v)))(got)
        return math.nan

    days = []
    for offset in range(bloom_features.HISTORY_DAYS):
        day = first + timedelta(days=offset)
        seen = values.get(day, {})
        days.append(
            bloom_features.Day(
                day_of_year=day.timetuple().tm_yday,
                temp_surface=mean(seen, f"temperature_{SURFACE}"),
                temp_bottom=deep(seen, "temperature"),
                salinity_surface=mean(seen, f"salinity_{SURFACE}"),
                salinity_bottom=deep(seen, "salinity"),
                chlorophyll=mean(seen, f"chlorophyll_{SURFACE}"),
                do_bottom=deep(seen, "do", min),
                do_surface=mean(seen, f"do_{SURFACE}"),
                count_ratio=ratio_of.get(day, math.nan),
            )
        )
    return days


async def compute_risks(
    ctx: PluginContext, area_ids: Sequence[Any] | None = None
) -> list[AreaRisk]:
    """Today's 3-day bloom probability for each area (all when None), stored per day."""
    now = ctx.clock.now()
    predictor = ctx.predictors.get("red_tide.bloom_risk")
    threshold = risk_threshold(ctx)
    areas = await (SeaArea.filter(id__in=list(area_ids)) if area_ids is not None else SeaArea.all())
    station_ids: dict[str, list[str]] = defaultdict(list)
    for sid, aid in await Station.filter(area_id__in=[a.id for a in areas]).values_list(
        "id", "area_id"
    ):
        station_ids[_id(aid)].append(_id(sid))
    stored = []
    for area in areas:
        buoys = await _buoys_by_station(station_ids[_id(area.id)])
        devices = [d.id for ds in buoys.values() for d in ds]
        days = await _daily_summaries(ctx, area, devices, now)
        if not devices and all(math.isnan(d.count_ratio) for d in days):
            continue  # nothing measured: no forecast rather than a guess
        row = bloom_features.features(days)
        probability = float(predictor.predict(row))
        risk, _created = await AreaRisk.update_or_create(
            area=area,
            day=local_day(ctx, now),
            defaults={
                "computed_at": now,
                "probability": probability,
                "high": probability >= threshold,
                "model_version": predictor.version,
                "features": {k: (None if math.isnan(v) else round(v, 4)) for k, v in row.items()},
            },
        )
        stored.append(risk)
    return stored


# The daily bulletin


def _hhmm(value: str) -> time:
    return time.fromisoformat(value)


def _zone_named(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "Asia/Tokyo")
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Tokyo")


def _user_zone(user: User) -> ZoneInfo:
    return _zone_named(user.timezone)


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
        areas.append(_id((await _referenced_area(area_id, f"/areas/{index}")).id))
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
        risks = await _latest_risks([a.id for a in areas])
        stale = [
            a.id for a in areas if _id(a.id) not in risks or risks[_id(a.id)].computed_at < fresh
        ]
        if stale:
            try:
                for risk in await compute_risks(ctx, stale):
                    risks[_id(risk.area_id)] = risk
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
        risk = risks.get(_id(area.id))
        line = _("{area}: {level}.", area=area.name, level=level_text(level))
        if top is not None:
            line = _(
                "{area}: {level}. Latest counts ({day}): {species} {cells} cells/mL.",
                area=area.name,
                level=level_text(level),
                day=area.detail.get("sampling_day") or "-",
                species=top["rule"],
                cells=_number(top["cells_per_ml"]),
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
                area_id=_id(area.id),
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
    planned = await _planned_kg([c.id for c in cages])
    by_advice: dict[Advice, list[str]] = defaultdict(list)
    cage_parts = []
    for cage in cages:
        level = Level.parse(cage.farm.area.level)
        advice = cage_advice(cage.species, level)
        by_advice[advice].append(cage.name)
        plan = planned.get(_id(cage.id))
        cage_parts.append(
            schemas.BulletinCage(
                cage_id=_id(cage.id),
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
    day = ctx.clock.now().astimezone(_zone_named(principal.timezone)).date()
    sub = await BulletinSubscription.get_or_none(user_id=principal.user_id)
    chosen = list(sub.areas) if sub else []
    if principal.role is not Role.MEMBER and not chosen:
        chosen = [_id(a) for a in await SeaArea.all().values_list("id", flat=True)]
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
        local = due.astimezone(_user_zone(user))
        if not start <= local.time() < until:
            continue
        day = local.date()
        if await BulletinDelivery.exists(user=user, local_date=day):
            continue
        title, body, areas, _cages = await compose_bulletin(ctx, _id(user.id), sub.areas, day)
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
                    [_id(user.id)],
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
    day = ctx.clock.now().astimezone(_zone_named(principal.timezone)).date()
    return await BulletinDelivery.get_or_none(user_id=principal.user_id, local_date=day)


# Sync, KPIs


def _builtins(value: Any) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(value, builtin_types=(datetime, date))
    return result


async def changes(
    ctx: PluginContext, principal: Principal, since: datetime | None
) -> dict[str, tuple[list[dict[str, Any]], list[str]]]:
    """What changed since ``since`` per collection: areas (public), and the caller's farms,
    cages, feeding plans and feeding logs."""

    def changed(queryset: Any) -> Any:
        return queryset.filter(updated_at__gte=since) if since is not None else queryset

    areas = await changed(SeaArea.all()).order_by("updated_at", "id")
    farms = await changed(tenancy.scope(FishFarm.all(), principal)).prefetch_related("area")
    cages = await changed(tenancy.scope(Cage.all(), principal)).prefetch_related("farm__area")
    plans = await changed(tenancy.scope(FeedingPlan.all(), principal))
    logs = await changed(tenancy.scope(FeedingLog.all(), principal)).prefetch_related(
        *FEEDING_RELATED
    )
    deleted_plans: list[str] = []
    if since is not None:
        gone = Tombstone.filter(plugin=PLUGIN, collection=SYNC_PLANS, deleted_at__gte=since)
        if not principal.is_admin:
            gone = gone.filter(organization_id__in=list(principal.organization_ids))
        deleted_plans = [_id(i) for i in await gone.values_list("object_id", flat=True)]
    return {
        "areas": ([_builtins(a) for a in await areas_out(ctx, areas)], []),
        "farms": ([_builtins(f) for f in await _farms_out(farms)], []),
        "cages": ([_builtins(c) for c in await _cages_out(ctx, cages)], []),
        SYNC_PLANS: ([_builtins(p) for p in await _plans_out(plans)], deleted_plans),
        "feeding_logs": ([_builtins(_feeding_out(log)) for log in logs], []),
    }


async def detection_sites(start: datetime, end: datetime) -> int:
    """Buoys that reported in the period (the city KPI ``redtide_detection_sites``)."""
    from core.kpis import active_devices

    return len(await active_devices(start, end, BUOY))
