"""The mentoring jobs. Each acts "as of" the later of its due time and the app clock's time:
the accelerated demo's clock runs ahead of APScheduler's wall clock, and these rules are
about the state of things now."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from core.plugin import JobSpec, PluginContext
from plugins.mentoring import services


def _at(ctx: PluginContext, due: datetime) -> datetime:
    return max(due, ctx.clock.now())


async def escalate(ctx: PluginContext, due: datetime) -> None:
    """Questions past their answer time go to the next advisor."""
    count = await services.escalate_overdue(ctx, _at(ctx, due))
    if count:
        ctx.logger.info("escalated %d unanswered questions", count)


async def remind(ctx: PluginContext, due: datetime) -> None:
    """Consultation reminders (24 h and 1 h before by default), each sent once."""
    count = await services.send_reminders(ctx, _at(ctx, due))
    if count:
        ctx.logger.info("sent %d consultation reminders", count)


async def retention(ctx: PluginContext, due: datetime) -> None:
    """Entrants inactive for a month: their mentors are asked to check in."""
    count = await services.retention_nudges(ctx, _at(ctx, due))
    ctx.logger.info("asked mentors to check in on %d inactive entrants", count)


escalate_job = JobSpec(
    id="escalate", trigger=CronTrigger(minute="*/5", timezone="UTC"), run=escalate
)
remind_job = JobSpec(id="remind", trigger=CronTrigger(minute="*/5", timezone="UTC"), run=remind)
retention_job = JobSpec(
    id="retention",
    # Mondays 09:00 in Japan.
    trigger=CronTrigger(day_of_week="mon", hour=0, minute=0, timezone="UTC"),
    run=retention,
    misfire_grace_time=6 * 3600,
)

JOBS = [escalate_job, remind_job, retention_job]
