"""KPI ``wildlife_detection_sites``: trap sensors that reported in the period (DOMAIN.md:
a "site" is a device that reported within the period)."""

from __future__ import annotations

from datetime import datetime

from core.kpis import active_devices
from core.plugin import KPI, PluginContext


async def detection_sites(ctx: PluginContext, start: datetime, end: datetime) -> int:
    return len(await active_devices(start, end, f"{ctx.name}."))


kpis = [KPI("wildlife_detection_sites", "IoT wildlife detection sites", detection_sites)]
