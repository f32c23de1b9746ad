"""The plugin's scheduled jobs.

- ``livestock.score`` every 15 minutes: estrus, calving and health for every monitored
  animal (scoring.py).
- ``livestock.herd_summary`` every morning at 06:00 in Japan: each farm's herd in numbers,
  stored and sent to its members.
- ``livestock.breeding_reminders`` every morning at 06:05 in Japan: heats expected a cycle
  after the last, pregnancy checks 30-40 days after insemination, calvings due in 7 days.

The mornings are fixed in Asia/Tokyo (a trigger is declared before settings are read);
within the jobs, days are the farms' local days (the city's time zone).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
from apscheduler.triggers.cron import CronTrigger

from core.plugin import JobSpec, PluginContext
from plugins.livestock import scoring, services
from plugins.livestock.i18n import _

MORNING = "Asia/Tokyo"


def _now(ctx: PluginContext, due: datetime) -> datetime:
    """The time a run is for. Scheduled runs fire on the wall clock; an accelerated demo's
    clock runs ahead of it, and its animals live on the demo's time. Everywhere else the
    two agree within moments (and a manual run is due at the clock's time)."""
    return max(due, ctx.clock.now())


async def score(ctx: PluginContext, due: datetime) -> None:
    await scoring.score(ctx, _now(ctx, due))


async def herd_summary(ctx: PluginContext, due: datetime) -> None:
    """Count each farm's herd for the local day of ``due``; tell its members once."""
    due = _now(ctx, due)
    today = ctx.local_day(due)
    midnight = ctx.day_start(today)
    overview = await services.herd_overview(ctx, None, None, now=due)
    heats = await services.heat_counts(midnight - timedelta(days=1), midnight)
    for farm in overview.organizations:
        data = msgspec.to_builtins(farm)
        data["heats_yesterday"] = heats.get(farm.organization_id, 0)
        async with services.transaction():
            if not await services.save_summary(farm.organization_id, today, data):
                continue
            await ctx.notifier.notify(
                await services.members_of(farm.organization_id),
                title=_("Herd summary for {day}", day=today.isoformat()),
                body=_(
                    "{animals} animals: {heats} in heat yesterday, {due} calvings due within "
                    "7 days, {alerts} open alerts.",
                    animals=farm.animals,
                    heats=data["heats_yesterday"],
                    due=farm.calvings_due_7_days,
                    alerts=sum(farm.open_alerts.values()),
                ),
                data={"kind": "herd_summary", "day": today.isoformat()},
            )
        ctx.notifier.wake()


REMINDER_TEXTS = {
    "expected_heat": lambda names: _("Heat expected: {animals}", animals=names),
    "pregnancy_check": lambda names: _("Pregnancy check due: {animals}", animals=names),
    "calving_due": lambda names: _("Calving due within a week: {animals}", animals=names),
}


async def breeding_reminders(ctx: PluginContext, due: datetime) -> None:
    """A message per farm and kind of reminder with what the breeding calendar expects now;
    each reminder is sent once, whenever the job runs."""
    due = _now(ctx, due)
    settings = services.settings_of(ctx)
    today = ctx.local_day(due)
    for farm in await services.farms_with_animals():
        animals = await services.active_animals_of(str(farm.id))
        wanted = []
        for animal, entry in await services.calendar_items(ctx, animals, due):
            days = (entry.day - today).days
            if (
                (entry.kind == "expected_heat" and -1 <= days <= 0)
                or (
                    entry.kind == "pregnancy_check"
                    and entry.day <= today <= (entry.until or entry.day)
                )
                or (entry.kind == "calving_due" and 0 <= days <= settings.calving_reminder_days)
            ):
                wanted.append((animal, entry.kind, entry.day))
        if not wanted:
            continue
        async with services.transaction():
            fresh = await services.claim_reminders(wanted)
            members = await services.members_of(str(farm.id)) if fresh else []
            for kind, text in REMINDER_TEXTS.items():
                names = [services.label(a) for a, k, _day in fresh if k == kind]
                if names:
                    await ctx.notifier.notify(
                        members,
                        title=_("Breeding calendar for {day}", day=today.isoformat()),
                        body=text(", ".join(names)),
                        data={"kind": kind, "day": today.isoformat()},
                    )
        ctx.notifier.wake()


jobs = [
    JobSpec(id="score", trigger=CronTrigger(minute="*/15", timezone="UTC"), run=score),
    JobSpec(
        id="herd_summary",
        trigger=CronTrigger(hour=6, minute=0, timezone=MORNING),
        run=herd_summary,
    ),
    JobSpec(
        id="breeding_reminders",
        trigger=CronTrigger(hour=6, minute=5, timezone=MORNING),
        run=breeding_reminders,
    ),
]
