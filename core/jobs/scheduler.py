"""Plugin jobs on APScheduler 3.11, each under its stable id ``<plugin>.<job>``.

Every process builds the same APScheduler (memory job store, jobs re-declared at start-up),
but only the leader's fires (leader.py); a standby keeps its own paused and resumes it when
it becomes the leader, so a fire time that fell due during the hand-over still runs within
its misfire grace time.

Every run is recorded (services.py). A run of a job with side effects first claims
``(job, fire time)``; when another process already holds that claim the run is skipped, so a
hand-over never runs one fire time twice. Manual runs are due at the clock's time and are
never skipped: an admin asked for them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.executors.base import run_coroutine_job
from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from core.clock import Clock, use_clock
from core.jobs import services
from core.jobs.leader import AdvisoryLock, Leadership, SingleProcess
from core.jobs.models import JobRun, RunOutcome
from core.plugin import JobSpec, PluginContext

log = logging.getLogger("minori.jobs")

POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "asyncpg"})
PRUNE_JOB = "minori.prune-job-runs"
"""The scheduler's own daily job (not a plugin job: neither listed nor recorded)."""
TRACEBACK_LINES = 8
ERROR_MAX_CHARS = 4000
CANCELLED = "CancelledError: cancelled before it finished (the process was stopping)"


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    plugin: str
    spec: JobSpec
    context: PluginContext


def describe_error(exc: BaseException) -> str:
    """``Type: message`` and the last lines of the traceback (the innermost frames)."""
    message = str(exc)
    head = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    trace = "".join(traceback.format_tb(exc.__traceback__)).rstrip().splitlines()
    text = "\n".join([head, *trace[-TRACEBACK_LINES:]])
    return text if len(text) <= ERROR_MAX_CHARS else text[: ERROR_MAX_CHARS - 1] + "…"


def this_instance() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


class _Due:
    """One fire time of an APScheduler job, in the shape ``run_coroutine_job`` reads: the
    job's function gets the fire time as its last argument."""

    __slots__ = ("args", "func", "id", "job", "kwargs", "misfire_grace_time")

    def __init__(self, job: Job, fire_time: datetime) -> None:
        self.job = job
        self.id = job.id
        self.misfire_grace_time = job.misfire_grace_time
        self.func = job.func
        self.args = (*job.args, fire_time)
        self.kwargs = job.kwargs

    def __str__(self) -> str:
        return str(self.job)


class FireTimeExecutor(AsyncIOExecutor):
    """APScheduler 3 hands a job's scheduled run times to the executor and calls the job
    function without them. This executor passes each one to the function, and leaves the
    rest to APScheduler: its misfire check, its events, its count of running instances."""

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        async def run_each() -> list[Any]:
            events: list[Any] = []
            for fire_time in run_times:
                events += await run_coroutine_job(
                    _Due(job, fire_time), job._jobstore_alias, [fire_time], self._logger.name
                )
            return events

        def done(future: asyncio.Future[list[Any]]) -> None:
            self._pending_futures.discard(future)
            try:
                events = future.result()
            except BaseException:
                self._run_job_error(job.id, *sys.exc_info()[1:])
            else:
                self._run_job_success(job.id, events)

        future = self._eventloop.create_task(run_each())
        future.add_done_callback(done)
        self._pending_futures.add(future)


class Scheduler:
    """The jobs of every loaded plugin, who runs them, and the record of their runs.

    ``bind`` enters the app's database context. ``database_url`` chooses the leadership:
    PostgreSQL elects one leader by advisory lock, anything else (SQLite) leads alone.
    ``retry_interval`` is how often a standby tries for the lock and the leader checks its
    session; it is read when the scheduler starts. Runs older than ``retention`` are deleted
    once a day by the leader.
    """

    def __init__(
        self,
        clock: Clock,
        bind: Callable[[], AbstractContextManager[object]],
        *,
        database_url: str | None = None,
        retry_interval: float = 5.0,
        shutdown_timeout: float = 10.0,
        retention: timedelta | None = timedelta(days=30),
        instance: str | None = None,
    ) -> None:
        self.clock = clock
        self.bind = bind
        self.database_url = database_url
        self.retry_interval = retry_interval
        self.shutdown_timeout = shutdown_timeout
        self.retention = retention
        self.instance = instance or this_instance()
        self.jobs: dict[str, ScheduledJob] = {}
        self._scheduler: AsyncIOScheduler | None = None
        self._leadership: Leadership | None = None
        self._running: set[asyncio.Task[Any]] = set()

    def add(self, plugin: str, spec: JobSpec, context: PluginContext) -> None:
        job_id = f"{plugin}.{spec.id}"
        if job_id in self.jobs:
            raise ValueError(f"job id {job_id!r} is declared twice")
        self.jobs[job_id] = ScheduledJob(job_id, plugin, spec, context)

    @property
    def role(self) -> str:
        """``leader`` (this process fires the jobs), ``standby`` or ``stopped``."""
        if self._scheduler is None or self._leadership is None:
            return "stopped"
        return "leader" if self._leadership.is_leader else "standby"

    @property
    def uses_election(self) -> bool:
        """PostgreSQL elects a leader; SQLite (one process by design) needs none."""
        scheme = (self.database_url or "").partition("://")[0]
        return scheme in POSTGRES_SCHEMES

    async def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": FireTimeExecutor()})
        for job in self.jobs.values():
            scheduler.add_job(
                self._fire,
                trigger=job.spec.trigger,
                args=[job.id],
                id=job.id,
                name=job.id,
                misfire_grace_time=job.spec.misfire_grace_time,
                coalesce=job.spec.coalesce,
                max_instances=1,
                replace_existing=True,
            )
        if self.retention is not None:
            scheduler.add_job(
                self._prune_fired,
                trigger=CronTrigger(hour=3, minute=17, timezone=UTC),
                id=PRUNE_JOB,
                name=PRUNE_JOB,
                misfire_grace_time=3600,
                coalesce=True,
                max_instances=1,
            )
        scheduler.start(paused=True)
        self._scheduler = scheduler
        if self.uses_election:
            assert self.database_url is not None
            self._leadership = AdvisoryLock(
                self.database_url, self._leadership_changed, interval=self.retry_interval
            )
        else:
            self._leadership = SingleProcess(self._leadership_changed)
        await self._leadership.start()
        if not self._leadership.is_leader:
            log.info("the scheduler is a standby; another process runs the jobs")

    async def shutdown(self) -> None:
        """Stop firing, give the runs in progress (scheduled or manual) ``shutdown_timeout``
        seconds to finish, cancel the rest (recorded as failed), and give up the
        leadership."""
        scheduler, leadership = self._scheduler, self._leadership
        if scheduler is None:
            return
        if scheduler.running:
            scheduler.pause()
        await self._wait_for_runs()
        for task in list(self._running):
            task.cancel()
        await self._wait_for_runs()
        if scheduler.running:
            scheduler.shutdown(wait=False)
        if leadership is not None:
            await leadership.stop()
        self._scheduler = self._leadership = None

    async def _wait_for_runs(self) -> None:
        if self._running:
            await asyncio.wait(set(self._running), timeout=self.shutdown_timeout)

    def _leadership_changed(self, leader: bool) -> None:
        scheduler = self._scheduler
        if scheduler is None or not scheduler.running:
            return
        if leader:
            self._skip_stale_fire_times(scheduler, self.retention)
            scheduler.resume()
        else:
            scheduler.pause()

    @staticmethod
    def _skip_stale_fire_times(scheduler: AsyncIOScheduler, retention: timedelta | None) -> None:
        """A standby's paused jobs keep the fire time they were waiting for. On taking
        over, the ones still within their misfire grace time run (claimed, so never twice);
        older ones move on to the first fire time within it instead of piling up misfires.
        A job without a grace time catches up at most ``retention``: older claims are gone."""
        now = datetime.now(UTC)
        for job in scheduler.get_jobs():
            grace = job.misfire_grace_time
            limit = timedelta(seconds=grace) if grace is not None else retention
            if job.next_run_time is None or limit is None:
                continue
            oldest = now - limit
            if job.next_run_time >= oldest:
                continue
            upcoming = job.trigger.get_next_fire_time(None, oldest)
            while upcoming is not None and upcoming < oldest:  # a date trigger gives its date
                upcoming = job.trigger.get_next_fire_time(upcoming, oldest)
            job.modify(next_run_time=upcoming)

    def next_run_time(self, job_id: str) -> datetime | None:
        """When the job is next due, or ``None`` when this process schedules nothing."""
        job = self._scheduler.get_job(job_id) if self._scheduler is not None else None
        when = getattr(job, "next_run_time", None)
        if job is None or when is None:
            return None
        if self.role != "leader":
            # A paused job keeps the fire time it was waiting for; say when it is next due.
            now = datetime.now(UTC)
            if when < now:
                when = job.trigger.get_next_fire_time(None, now)
        return when.astimezone(UTC) if when else None

    def next_run(self, job_id: str) -> str | None:
        when = self.next_run_time(job_id)
        return when.isoformat() if when else None

    async def prune(self) -> int:
        """Delete the runs that started more than ``retention`` ago; return how many."""
        if self.retention is None:
            return 0
        with self.bind():
            return await services.prune(self.clock.now() - self.retention)

    async def _prune_fired(self, fire_time: datetime | None = None) -> None:
        deleted = await self.prune()
        log.info("deleted %d job runs older than %s", deleted, self.retention)

    async def _fire(self, job_id: str, fire_time: datetime | None = None) -> None:
        """APScheduler's job function. :class:`FireTimeExecutor` supplies ``fire_time``;
        the default only satisfies APScheduler's check of the arguments it knows of."""
        if fire_time is None:
            raise RuntimeError("scheduled runs need the FireTimeExecutor")
        await self.run(job_id, fire_time)

    async def run(self, job_id: str, fire_time: datetime | None = None) -> JobRun | None:
        """Run one job now, in the app's database context, and record the run.

        With ``fire_time`` this is the run for that scheduled time: a job with side effects
        claims it first and returns ``None`` when it is already claimed. Without, it is a
        manual run due at the clock's time. The job receives the time it was due. A job that
        raises is recorded as failed; nothing is raised to the caller.
        """
        job = self.jobs[job_id]
        if fire_time is not None and fire_time.tzinfo is None:
            raise ValueError("a fire time must be timezone-aware")
        started_at = self.clock.now()
        due = (fire_time or started_at).astimezone(UTC)
        task = asyncio.current_task()
        # Rows written by the run, its own record included, are stamped by the app's clock.
        with self.bind(), use_clock(self.clock):
            values: dict[str, Any] = {
                "manual": fire_time is None,
                "started_at": started_at,
                "instance": self.instance,
            }
            if fire_time is not None and job.spec.side_effects:
                run = await services.claim(job_id, due, **values)
                if run is None:
                    log.info(
                        "job %s due at %s is claimed elsewhere; skipped",
                        job_id,
                        due.isoformat(),
                        extra={"job": job_id},
                    )
                    return None
            else:
                run = await services.record(job_id, due, **values)
            if task is not None:
                self._running.add(task)
            began = time.perf_counter()
            try:
                await job.spec.run(job.context, due)
            except asyncio.CancelledError:
                await self._finish(run, began, RunOutcome.FAILED, CANCELLED)
                raise
            except Exception as exc:
                log.exception("job %s failed", job_id, extra={"job": job_id})
                await self._finish(run, began, RunOutcome.FAILED, describe_error(exc))
            else:
                await self._finish(run, began, RunOutcome.SUCCEEDED)
            finally:
                self._running.discard(task)  # type: ignore[arg-type]
        return run

    async def _finish(
        self, run: JobRun, began: float, outcome: RunOutcome, error: str | None = None
    ) -> None:
        await services.finish(
            run,
            outcome=outcome,
            finished_at=self.clock.now(),
            duration_ms=round((time.perf_counter() - began) * 1000),
            error=error,
        )
