"""The wildlife trap jobs: ``wildlife_traps.watch``, ``.reminder`` and ``.permits``.

Scheduled runs read the time from the app clock (``ctx.clock``), which a manual run's
``due`` equals; the evening reminder uses ``due`` to tell which owners' 18:00 it is.
"""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.plugin import JobSpec, PluginContext
from plugins.wildlife_traps import services


async def watch(ctx: PluginContext, due: datetime) -> None:
    """Spring traps whose trigger held for the debounce time (what the timers missed) and
    raise the welfare alert of traps sprung too long with nothing recorded."""
    confirmed = await services.confirm_due(ctx)
    welfare = await services.check_welfare(ctx)
    if confirmed or welfare:
        ctx.logger.info("watch: %d triggers confirmed, %d welfare alerts", len(confirmed), welfare)


async def reminder(ctx: PluginContext, due: datetime) -> None:
    """Hourly: owners for whom it is ``reminder_hour`` hear which traps are still missed."""
    sent = await services.remind(ctx, due)
    if sent:
        ctx.logger.info("reminded %d owners of traps still to inspect", sent)


async def permits(ctx: PluginContext, due: datetime) -> None:
    """Hourly: warn about capture permits expiring soon or expired (once per permit)."""
    await services.check_permits(ctx)


jobs = [
    JobSpec(
        id="watch",
        trigger=IntervalTrigger(minutes=1),
        run=watch,
        side_effects=False,  # every step is idempotent: claims rows, dedupes alerts
        misfire_grace_time=30,
    ),
    JobSpec(id="reminder", trigger=CronTrigger(minute=0, timezone="UTC"), run=reminder),
    JobSpec(id="permits", trigger=CronTrigger(minute=5, timezone="UTC"), run=permits),
]
