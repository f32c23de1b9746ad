"""``drone_sprayed_area_ha``: hectares sprayed by drone in the period (flown spray records
by their start; planned and voided ones do not count), rounded to a whole number."""

from __future__ import annotations

from datetime import datetime

from core.plugin import KPI, PluginContext
from plugins.drone_spraying import services


async def sprayed_area(ctx: PluginContext, start: datetime, end: datetime) -> int:
    return await services.sprayed_area_ha(start, end)


sprayed_area_kpi = KPI("drone_sprayed_area_ha", "Area sprayed by drone (ha)", sprayed_area)
