"""Area levels: each area's level from the latest sampling of its stations (thresholds.py)
and, when it moves, alerts to every fish farm of the area (a warning is critical), feeding
advice for every cage there, and the ``red_tide.level_changed`` event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from core.alerts.service import Subject, organization_members
from core.i18n import Text, as_text
from core.plugin import PluginContext
from plugins.red_tide import schemas, thresholds
from plugins.red_tide.i18n import _
from plugins.red_tide.models import (
    NOT_FED,
    Advice,
    Cage,
    FeedingAdvice,
    FishFarm,
    LevelChange,
    Sample,
    SeaArea,
    Station,
)
from plugins.red_tide.services.common import (
    ADVICE,
    FARM_SUBJECT,
    LEVEL_ALERT,
    LEVEL_SEVERITY,
    as_id,
    cells_text,
    rules,
    settings_of,
)
from plugins.red_tide.thresholds import Evaluation, Level


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
    today = ctx.local_day(now)
    max_age = settings_of(ctx).count_max_age_days
    areas = await (SeaArea.filter(id__in=list(area_ids)) if area_ids is not None else SeaArea.all())
    if not areas:
        return []
    area_keys = [a.id for a in areas]
    names = {
        as_id(sid): (code, name)
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
        by_station[as_id(station_id)][day][depth] = counts or {}
        area_of[as_id(station_id)] = as_id(area_id)
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
        key = as_id(area.id)
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
            unfed.add(as_id(cage.farm_id))
        else:
            cages[as_id(cage.farm_id)].append(cage)
    top = detail["findings"][0] if detail["findings"] else None
    event = schemas.LevelChanged(
        area_id=as_id(area.id),
        area=area.name,
        previous=previous.label,  # type: ignore[arg-type]
        level=level.label,  # type: ignore[arg-type]
        changed_at=now,
        species=list(top["species"]) if top else [],
        cells_per_ml=float(top["cells_per_ml"]) if top else 0.0,
        stations=[s["name"] for s in top["stations"]] if top else [],
        farms=[as_id(f.id) for f in farms],
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
            fed = cages[as_id(farm.id)]
            feeds = bool(fed) or as_id(farm.id) not in unfed  # a farm of shellfish only: no advice
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
        cells=cells_text(top["cells_per_ml"]),
        stations=", ".join(s["name"] for s in top["stations"]) or "-",
        threshold=cells_text(threshold) if threshold is not None else "-",
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
    organization_id = as_id(farm.organization_id)
    subject = Subject(FARM_SUBJECT, as_id(farm.id), farm.name)
    percent = round(settings_of(ctx).restrict_ratio * 100)
    lines = [_finding_text(top, level)]
    if feeds:
        lines.append(_advice_text(level, [c.name for c in cages], percent))
    body = join_lines(lines)
    data = {
        "area_id": as_id(area.id),
        "area": area.name,
        "level": level.label,
        "previous": previous.label,
        "advice": (ADVICE[level] if feeds else Advice.NOT_FED).value,
        "cages": [as_id(c.id) for c in cages],
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
