from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.interval import IntervalTrigger

from core.alerts.service import AlertService
from core.plugin import JobSpec, PluginContext


def alert_jobs(alerts: AlertService) -> list[JobSpec]:
    async def escalate(_ctx: PluginContext, _due: datetime) -> None:
        await alerts.escalate_due()

    return [
        JobSpec(
            id="escalation",
            trigger=IntervalTrigger(seconds=30),
            run=escalate,
            side_effects=False,
            misfire_grace_time=30,
        )
    ]
