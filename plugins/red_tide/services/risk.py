"""The 3-day bloom risk of each area (``red_tide.bloom_risk``) from its buoys' daily
summaries and its counts, stored per area and local day with the model version.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from core.plugin import PluginContext
from core.telemetry.models import Reading
from models_ml.red_tide import features as bloom_features
from plugins.red_tide import schemas, thresholds
from plugins.red_tide.models import AreaRisk, Sample, SeaArea, Station
from plugins.red_tide.services.common import (
    as_id,
    buoys_by_station,
    rules,
    settings_of,
)


async def latest_risks(area_ids: Sequence[Any]) -> dict[str, AreaRisk]:
    latest: dict[str, AreaRisk] = {}
    for risk in await AreaRisk.filter(area_id__in=list(area_ids)).order_by("day", "computed_at"):
        latest[as_id(risk.area_id)] = risk
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


SURFACE = "0_5m"


DEEP = ("bottom", "10m", "5m")
"""Where the bottom reading comes from, in order of preference."""


async def _daily_summaries(
    ctx: PluginContext, area: SeaArea, device_ids: Sequence[Any], now: datetime
) -> list[bloom_features.Day]:
    tz = ctx.city_zone
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
        by_day[day][as_id(station_id)].append(counts or {})
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
        station_ids[as_id(aid)].append(as_id(sid))
    stored = []
    for area in areas:
        buoys = await buoys_by_station(station_ids[as_id(area.id)])
        devices = [d.id for ds in buoys.values() for d in ds]
        days = await _daily_summaries(ctx, area, devices, now)
        if not devices and all(math.isnan(d.count_ratio) for d in days):
            continue  # nothing measured: no forecast rather than a guess
        row = bloom_features.features(days)
        probability = float(predictor.predict(row))
        risk, _created = await AreaRisk.update_or_create(
            area=area,
            day=ctx.local_day(now),
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
