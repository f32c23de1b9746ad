"""Buoy readings: hypoxia alerts for the farms near a buoy, and FSI (Sasebo's harmful-plankton
index) telling an area's farms to expect a count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tortoise.expressions import Q

from core.alerts.models import Severity
from core.alerts.service import Subject
from core.i18n import Text
from core.plugin import PluginContext
from core.telemetry.devices import DeviceRef
from core.telemetry.ingest import NewReading
from plugins.red_tide.i18n import _
from plugins.red_tide.models import FishFarm, SeaArea, Station
from plugins.red_tide.services.common import (
    FARM_SUBJECT,
    HARMFUL_FSI,
    HYPOXIA,
    STATION_SUBJECT,
    as_id,
    settings_of,
)


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
                    organization_id=as_id(farm.organization_id),
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
                    subject=Subject(FARM_SUBJECT, as_id(farm.id), farm.name),
                    data={
                        "device_id": as_id(device.id),
                        "station_id": as_id(station.id),
                        "metric": lowest.metric,
                        "do_mg_l": lowest.value,
                        "at": lowest.ts.isoformat(),
                    },
                )
        elif lowest.value >= settings.hypoxia_recovery_mg_l:
            for farm in farms:
                await ctx.alerts.resolve(
                    organization_id=as_id(farm.organization_id),
                    type=HYPOXIA,
                    subject=Subject(FARM_SUBJECT, as_id(farm.id), farm.name),
                    note=f"{device.name}: {lowest.value:.1f} mg/L",
                )
    fsi = [r for r in readings if r.metric == "fsi"]
    if fsi:
        latest = max(fsi, key=lambda r: r.ts)
        farms = await FishFarm.filter(area_id=station.area_id).order_by("name")
        area = await SeaArea.get(id=station.area_id)
        for farm in farms:
            subject = Subject(FARM_SUBJECT, as_id(farm.id), farm.name)
            if latest.value > settings.fsi_harmful:
                await ctx.alerts.raise_(
                    organization_id=as_id(farm.organization_id),
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
                    data={"device_id": as_id(device.id), "fsi": latest.value},
                )
            else:
                await ctx.alerts.resolve(
                    organization_id=as_id(farm.organization_id),
                    type=HARMFUL_FSI,
                    subject=subject,
                    note=f"FSI {latest.value:.1f}",
                )
