from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger

from core.plugin import JobSpec
from minori_hello.services import tally

tally_job = JobSpec(id="tally", trigger=CronTrigger(hour=0, minute=5, timezone="UTC"), run=tally)
