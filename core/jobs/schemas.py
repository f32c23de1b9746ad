"""What the jobs routes answer: scheduled jobs and the record of their runs."""

from __future__ import annotations

from datetime import datetime

import msgspec

from core.jobs.models import RunOutcome


class JobRun(msgspec.Struct):
    """One run of a job. ``fire_time`` is the time the run was due (the scheduled time, or
    the clock's time for a manual run); ``instance`` is the ``host:pid`` that ran it."""

    id: str
    job_id: str
    fire_time: datetime
    manual: bool
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    outcome: RunOutcome
    error: str | None
    instance: str


class JobRunList(msgspec.Struct):
    items: list[JobRun]
    next_cursor: str | None


class Job(msgspec.Struct):
    """A declared job: ``trigger`` as APScheduler describes it, ``next_run_at`` null when
    this process schedules nothing (jobs disabled or stopped)."""

    id: str
    plugin: str
    trigger: str
    next_run_at: datetime | None
    last_run: JobRun | None


class JobList(msgspec.Struct):
    items: list[Job]
    next_cursor: str | None = None
