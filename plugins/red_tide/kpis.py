"""The plugin's part of the city KPIs. ``fishers_using_iot`` is counted by core from the
devices of fishery organizations (this plugin's buoys and feeders included), so only the
detection sites are added here."""

from __future__ import annotations

from datetime import datetime

from core.plugin import KPI, PluginContext
from plugins.red_tide import services


async def detection_sites(ctx: PluginContext, start: datetime, end: datetime) -> int:
    return await services.detection_sites(start, end)


kpis = [KPI("redtide_detection_sites", "IoT red-tide detection sites", detection_sites)]
