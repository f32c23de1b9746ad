"""The scheduled jobs and their runs, for admins."""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from core.errors import NotFound
from core.identity.access import ADMIN
from core.jobs import schemas, services
from core.jobs.scheduler import Scheduler
from core.pagination import Cursor, Limit


def _scheduler(state: State) -> Any:
    return state.scheduler


Jobs: TypeAlias = NamedDependency[Scheduler]


def _known(scheduler: Scheduler, job_id: str) -> str:
    if job_id not in scheduler.jobs:
        raise NotFound(f"There is no job {job_id!r}.")
    return job_id


class JobsController(Controller):
    path = "/api/v1/jobs"
    tags = ["jobs"]
    dependencies = {"scheduler": Provide(_scheduler, sync_to_thread=False)}

    @get("/", access=ADMIN, summary="Scheduled jobs, with their next and last run")
    async def jobs(self, scheduler: Jobs) -> schemas.JobList:
        return await services.list_jobs(scheduler)

    @get("/{job_id:str}/runs", access=ADMIN, raises=[NotFound], summary="Runs, newest first")
    async def runs(
        self,
        job_id: FromPath[str],
        scheduler: Jobs,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.JobRunList:
        return await services.list_runs(_known(scheduler, job_id), cursor, limit)

    @post(
        "/{job_id:str}/run",
        access=ADMIN,
        raises=[NotFound],
        status_code=200,
        summary="Run a job now",
    )
    async def run(self, job_id: FromPath[str], scheduler: Jobs) -> schemas.JobRun:
        """Runs the job in this process, leader or standby, and answers once it finished;
        a job that raises answers 200 with outcome ``failed`` and its error."""
        run = await scheduler.run(_known(scheduler, job_id))
        assert run is not None, "a manual run is never skipped"
        return services.run_out(run)
