"""``online_consultations``: completed video and phone consultations plus questions answered
by an advisor, in the period. The two parts are also served apart at
``GET /api/v1/mentoring/kpis`` (core's KPI shape has one number per plugin)."""

from __future__ import annotations

from datetime import datetime

from core.plugin import KPI, PluginContext
from plugins.mentoring import services


async def online_consultations(ctx: PluginContext, start: datetime, end: datetime) -> int:
    return (await services.kpi_parts(start, end)).online_consultations


KPIS = [KPI("online_consultations", "Online consultations", online_consultations)]
