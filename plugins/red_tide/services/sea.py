"""The city's record of the sea: areas, stations, water samples and their cell counts (entered
or imported from a flash report), the thresholds in force, station series and the map.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import tenancy
from core.errors import Conflict, Invalid, NotFound
from core.identity.access import Principal
from core.identity.models import Organization
from core.pagination import page
from core.plugin import PluginContext
from core.telemetry.models import Reading
from plugins.red_tide import schemas, thresholds
from plugins.red_tide.models import Cage, FishFarm, Sample, SampleSource, SeaArea, Station
from plugins.red_tide.services.common import (
    MAX_CELLS,
    MAX_SERIES_DAYS,
    area_or_404,
    as_id,
    buoys_by_station,
    not_in_future,
    referenced_area,
    rules,
    settings_of,
)
from plugins.red_tide.services.levels import evaluate_areas
from plugins.red_tide.services.risk import _risk_out, latest_risks


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
    area = await area_or_404(area_id)
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


async def list_areas(ctx: PluginContext, cursor: str | None, limit: int) -> schemas.AreaList:
    rows, next_cursor = await page(SeaArea.all(), cursor, limit)
    return schemas.AreaList(await areas_out(ctx, rows), next_cursor)


def _findings_out(detail: Mapping[str, Any]) -> list[schemas.Finding]:
    return [msgspec.convert(f, schemas.Finding) for f in detail.get("findings", [])]


async def areas_out(ctx: PluginContext, areas: Sequence[SeaArea]) -> list[schemas.Area]:
    ids = [a.id for a in areas]
    stations: dict[str, list[schemas.StationRef]] = defaultdict(list)
    for s in await Station.filter(area_id__in=ids).order_by("code"):
        stations[as_id(s.area_id)].append(schemas.StationRef(as_id(s.id), s.code, s.name))
    farms: dict[str, int] = defaultdict(int)
    for area_id in await FishFarm.filter(area_id__in=ids).values_list("area_id", flat=True):
        farms[as_id(area_id)] += 1
    risks = await latest_risks(ids)
    return [
        schemas.Area(
            id=as_id(a.id),
            name=a.name,
            level=a.level,  # type: ignore[arg-type]
            level_since=a.level_since,
            trend=a.detail.get("trend", "unknown"),
            ratio=round(a.ratio, 4),
            sampling_day=date.fromisoformat(a.detail["sampling_day"])
            if a.detail.get("sampling_day")
            else None,
            findings=_findings_out(a.detail),
            risk=_risk_out(ctx, risks.get(as_id(a.id))),
            stations=stations[as_id(a.id)],
            farms=farms[as_id(a.id)],
            created_at=a.created_at,
            updated_at=a.updated_at,
        )
        for a in areas
    ]


async def stations_out(stations: Sequence[Station]) -> list[schemas.Station]:
    buoys = await buoys_by_station(s.id for s in stations)
    return [
        schemas.Station(
            id=as_id(s.id),
            area_id=as_id(s.area_id),
            code=s.code,
            name=s.name,
            latitude=s.latitude,
            longitude=s.longitude,
            operator_id=as_id(s.operator_id) if s.operator_id else None,
            buoys=[as_id(d.id) for d in buoys[as_id(s.id)]],
            created_at=s.created_at,
        )
        for s in stations
    ]


async def create_station(ctx: PluginContext, data: schemas.StationCreate) -> schemas.Station:
    area = await referenced_area(data.area_id, "/area_id")
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
    if station.operator_id is not None and as_id(station.operator_id) != organization_id:
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


def _sample_out(sample: Sample) -> schemas.Sample:
    station = sample.station
    return schemas.Sample(
        id=as_id(sample.id),
        station_id=as_id(sample.station_id),
        station_code=station.code,
        area_id=as_id(station.area_id),
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
                    sampling_day=ctx.local_day(sampled_at),
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


async def record_sample(
    ctx: PluginContext, principal: Principal, data: schemas.SampleCreate
) -> schemas.Sample:
    key = tenancy.parse_id(data.station_id)
    station = await Station.get_or_none(id=key) if key else None
    if station is None:
        raise Invalid.field("/station_id", "unknown or not accessible")
    if data.sampled_at.tzinfo is None:
        raise Invalid.field("/sampled_at", "give the time with its UTC offset")
    if not not_in_future(ctx, data.sampled_at):
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
    return datetime.combine(day, clock, tzinfo=ctx.city_zone)


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
            sampling_day=ctx.local_day(key[1]),
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
            if not not_in_future(ctx, moment):
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
            result.levels[as_id(area.id)] = area.level  # type: ignore[assignment]
    return result


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
    buoys = (await buoys_by_station([station.id]))[as_id(station.id)]
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
        station_id=as_id(station.id),
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
        latest[as_id(device_id)][metric] = value
        latest[as_id(device_id)]["_at"] = ts
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
                "id": as_id(area.id),
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
    buoys = await buoys_by_station(s.id for s in stations)
    latest = await _latest_values(
        [d.id for devices in buoys.values() for d in devices], now - timedelta(days=1)
    )
    for station in stations:
        point = {"type": "Point", "coordinates": [station.longitude, station.latitude]}
        features.append(
            {
                "type": "Feature",
                "id": as_id(station.id),
                "geometry": point,
                "properties": {
                    "kind": "station",
                    "code": station.code,
                    "name": station.name,
                    "area_id": as_id(station.area_id),
                },
            }
        )
        for device in buoys[as_id(station.id)]:
            values = dict(latest.get(as_id(device.id), {}))
            at = values.pop("_at", None)
            features.append(
                {
                    "type": "Feature",
                    "id": as_id(device.id),
                    "geometry": point,
                    "properties": {
                        "kind": "buoy",
                        "name": device.name,
                        "station_id": as_id(station.id),
                        "area_id": as_id(station.area_id),
                        "last_seen": device.last_seen.isoformat() if device.last_seen else None,
                        "latest": values,
                        "latest_at": at.isoformat() if at else None,
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}
