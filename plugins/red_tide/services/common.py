"""Constants and small helpers every service module shares: the plugin's names, settings,
the city's time zone, and the advice a level gives a cage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from core import tenancy
from core.alerts.models import Severity
from core.errors import Invalid, NotFound
from core.plugin import PluginContext
from core.telemetry.models import Device
from plugins.red_tide import thresholds
from plugins.red_tide.models import NOT_FED, Advice, SeaArea
from plugins.red_tide.settings import RedTideSettings
from plugins.red_tide.thresholds import Level

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


def as_id(value: Any) -> str:
    return str(value)


def cells_text(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:g}"


async def area_or_404(area_id: str) -> SeaArea:
    key = tenancy.parse_id(area_id)
    area = await SeaArea.get_or_none(id=key) if key else None
    if area is None:
        raise NotFound(f"No sea area with id {area_id}.")
    return area


async def referenced_area(area_id: str, pointer: str) -> SeaArea:
    try:
        return await area_or_404(area_id)
    except NotFound:
        raise Invalid.field(pointer, "unknown or not accessible") from None


async def buoys_by_station(station_ids: Iterable[Any]) -> dict[str, list[Device]]:
    found: dict[str, list[Device]] = defaultdict(list)
    wanted = [as_id(s) for s in station_ids]
    for device in await Device.filter(
        kind=BUOY, subject_kind=STATION_SUBJECT, subject_id__in=wanted, revoked_at=None
    ).order_by("name"):
        found[device.subject_id or ""].append(device)
    return found


def not_in_future(ctx: PluginContext, moment: datetime) -> bool:
    return moment <= ctx.clock.now() + timedelta(minutes=5)
