"""Scheduled work: levels follow the age of counts, the bloom risk, the morning bulletin."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from core.plugin import JobSpec, PluginContext
from plugins.red_tide import services


async def evaluate_levels(ctx: PluginContext, due: datetime) -> None:
    """Every area again: a station's sampling stops counting once it is too old."""
    await services.evaluate_areas(ctx)


async def bloom_risk(ctx: PluginContext, due: datetime) -> None:
    stored = await services.compute_risks(ctx)
    ctx.logger.info("bloom risk computed for %d areas", len(stored))


async def bulletin(ctx: PluginContext, due: datetime) -> None:
    await services.send_bulletins(ctx, due)


levels_job = JobSpec(
    id="evaluate_levels", trigger=CronTrigger(minute=5, timezone="UTC"), run=evaluate_levels
)
# 21:30 UTC is 06:30 in Japan: a fresh forecast for the 07:00 bulletin, then every 6 hours.
risk_job = JobSpec(
    id="bloom_risk",
    trigger=CronTrigger(hour="3,9,15,21", minute=30, timezone="UTC"),
    run=bloom_risk,
)
# Each fisher gets the bulletin from the first run at or after their local bulletin_time.
bulletin_job = JobSpec(
    id="bulletin", trigger=CronTrigger(minute="*/5", timezone="UTC"), run=bulletin
)
