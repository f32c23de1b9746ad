"""The record of job runs. The only jobs module that touches the ORM.

A run is a :class:`JobRun` row written before the job starts. ``(job_id, fire_time)`` is
unique, so for a job with side effects inserting the row *is* the claim: whichever process
inserts it first runs that fire time, any other one gets an integrity error and skips it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError

from core.jobs import schemas
from core.jobs.models import JobRun, RunOutcome
from core.pagination import page

if TYPE_CHECKING:
    from core.jobs.scheduler import Scheduler

_STEP = timedelta(microseconds=1)
_WINDOW = timedelta(seconds=1)
_ATTEMPTS = 5


def _utc(moment: datetime) -> datetime:
    """Fire times are compared as stored values: one instant must be written one way."""
    if moment.tzinfo is None:
        raise ValueError("fire times must be timezone-aware")
    return moment.astimezone(UTC)


async def claim(
    job_id: str, fire_time: datetime, *, manual: bool, started_at: datetime, instance: str
) -> JobRun | None:
    """Insert the run of ``job_id`` for ``fire_time``; ``None`` when that fire time is
    already taken (another process, or an earlier attempt, ran or is running it)."""
    try:
        return await JobRun.create(
            job_id=job_id,
            fire_time=_utc(fire_time),
            manual=manual,
            started_at=started_at,
            instance=instance,
            outcome=RunOutcome.RUNNING,
        )
    except IntegrityError:
        return None


async def record(
    job_id: str, fire_time: datetime, *, manual: bool, started_at: datetime, instance: str
) -> JobRun:
    """Insert a run that claims nothing: when ``fire_time`` is taken (a clock standing
    still, a job without side effects run by two processes), the run is recorded a few
    microseconds later instead, so it is never skipped."""
    wanted = _utc(fire_time)
    for _ in range(_ATTEMPTS):
        run = await claim(job_id, wanted, manual=manual, started_at=started_at, instance=instance)
        if run is not None:
            return run
        latest = (
            await JobRun.filter(
                job_id=job_id, fire_time__gte=wanted, fire_time__lt=wanted + _WINDOW
            )
            .order_by("-fire_time")
            .first()
        )
        if latest is not None:
            wanted = _utc(latest.fire_time) + _STEP
    raise RuntimeError(f"could not record a run of {job_id} near {fire_time.isoformat()}")


async def finish(
    run: JobRun,
    *,
    outcome: RunOutcome,
    finished_at: datetime,
    duration_ms: int,
    error: str | None = None,
) -> None:
    run.outcome = outcome
    run.finished_at = finished_at
    run.duration_ms = duration_ms
    run.error = error
    await run.save(update_fields=["outcome", "finished_at", "duration_ms", "error"])


def run_out(run: JobRun) -> schemas.JobRun:
    return schemas.JobRun(
        id=str(run.id),
        job_id=run.job_id,
        fire_time=run.fire_time,
        manual=run.manual,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_ms=run.duration_ms,
        outcome=RunOutcome(run.outcome),
        error=run.error,
        instance=run.instance,
    )


async def prune(before: datetime) -> int:
    """Delete the runs that started before ``before``."""
    return int(await JobRun.filter(started_at__lt=before).delete())


async def last_runs(job_ids: Iterable[str]) -> dict[str, JobRun]:
    """The newest run of each job that has one."""
    latest: dict[str, JobRun] = {}
    for job_id in job_ids:
        run = (
            await JobRun.filter(job_id=job_id).order_by("-started_at", "-created_at", "-id").first()
        )
        if run is not None:
            latest[job_id] = run
    return latest


async def list_jobs(scheduler: Scheduler) -> schemas.JobList:
    jobs = sorted(scheduler.jobs.values(), key=lambda job: job.id)
    latest = await last_runs(job.id for job in jobs)
    return schemas.JobList(
        items=[
            schemas.Job(
                id=job.id,
                plugin=job.plugin,
                trigger=str(job.spec.trigger),
                next_run_at=scheduler.next_run_time(job.id),
                last_run=run_out(latest[job.id]) if job.id in latest else None,
            )
            for job in jobs
        ]
    )


async def list_runs(job_id: str, cursor: str | None, limit: int) -> schemas.JobRunList:
    """Runs of one job, newest first."""
    rows, next_cursor = await page(JobRun.filter(job_id=job_id), cursor, limit, newest_first=True)
    return schemas.JobRunList(items=[run_out(run) for run in rows], next_cursor=next_cursor)
