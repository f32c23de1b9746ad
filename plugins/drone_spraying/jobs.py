"""Scheduled jobs: ``drone_spraying.interval_reminders`` tells farmers when a pre-harvest
interval ends; ``drone_spraying.expiry_watch`` keeps licence and inspection alerts current.
Both run every morning at 06:30 in Japan (21:30 UTC) and are safe to repeat."""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger

from core.plugin import JobSpec
from plugins.drone_spraying import services

interval_reminders_job = JobSpec(
    id="interval_reminders",
    trigger=CronTrigger(hour=21, minute=30, timezone="UTC"),
    run=services.interval_reminders,
)
expiry_watch_job = JobSpec(
    id="expiry_watch",
    trigger=CronTrigger(hour=21, minute=35, timezone="UTC"),
    run=services.expiry_watch,
)
