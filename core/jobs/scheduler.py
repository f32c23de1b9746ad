"""Plugin jobs on APScheduler 3.11, each under its stable id ``<plugin>.<job>``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.clock import Clock
from core.plugin import JobSpec, PluginContext

log = logging.getLogger("minori.jobs")


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    spec: JobSpec
    context: PluginContext


class Scheduler:
    def __init__(self, clock: Clock, bind: Callable[[], AbstractContextManager[object]]) -> None:
        self.clock = clock
        self.bind = bind
        self.jobs: dict[str, ScheduledJob] = {}
        self._scheduler: AsyncIOScheduler | None = None

    def add(self, plugin: str, spec: JobSpec, context: PluginContext) -> None:
        job_id = f"{plugin}.{spec.id}"
        if job_id in self.jobs:
            raise ValueError(f"job id {job_id!r} is declared twice")
        self.jobs[job_id] = ScheduledJob(job_id, spec, context)

    @property
    def role(self) -> str:
        return "leader" if self._scheduler is not None and self._scheduler.running else "stopped"

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        for job in self.jobs.values():
            self._scheduler.add_job(
                self.run,
                trigger=job.spec.trigger,
                args=[job.id],
                id=job.id,
                name=job.id,
                misfire_grace_time=job.spec.misfire_grace_time,
                coalesce=job.spec.coalesce,
                max_instances=1,
                replace_existing=True,
            )
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None

    def next_run(self, job_id: str) -> str | None:
        job = self._scheduler.get_job(job_id) if self._scheduler else None
        when = getattr(job, "next_run_time", None)
        return when.isoformat() if when else None

    async def run(self, job_id: str) -> None:
        """Run one job now, in the app's database context; a failure is logged, not raised."""
        job = self.jobs[job_id]
        with self.bind():
            try:
                await job.spec.run(job.context, self.clock.now())
            except Exception:
                log.exception("job %s failed", job_id, extra={"job": job_id})
