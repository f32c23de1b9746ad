"""The scheduler: every run recorded, failures contained, one run per fire time, one leader.

The jobs here belong to a small module-level plugin, ``jobtest``, named in the plugins table
as ``module = "tests.core.test_jobs:jobtest"``. Its jobs write what they were given into
``calls``, so a test sees exactly which runs happened and with which due time. Time never
passes by waiting: runs are started through the API or the scheduler's ``run``, and the one
APScheduler-fired job is due at a fixed moment in the past.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from litestar import Litestar
from litestar.testing import AsyncTestClient

from core.app import create_app
from core.clock import FakeClock
from core.jobs.leader import LOCK_KEY
from core.jobs.models import JobRun
from core.jobs.scheduler import Scheduler
from core.plugin import JobSpec, Plugin, PluginContext
from core.settings import PluginEntry, Settings, load_plugins_file
from tests.conftest import PASSWORD, PG_URL, ROOT, World, base_settings, run_in_database
from tests.support import Api

calls: list[tuple[str, datetime]] = []
ONCE_DUE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
"""When ``jobtest.once`` is due: any app that runs jobs fires it as soon as it leads."""


async def effect(ctx: PluginContext, due: datetime) -> None:
    calls.append(("effect", due))


async def quiet(ctx: PluginContext, due: datetime) -> None:
    calls.append(("quiet", due))


async def explode(ctx: PluginContext, due: datetime) -> None:
    calls.append(("explode", due))
    raise ValueError("the barn is on fire")


async def once(ctx: PluginContext, due: datetime) -> None:
    calls.append(("once", due))


async def hang(ctx: PluginContext, due: datetime) -> None:
    calls.append(("hang", due))
    await asyncio.sleep(3600)


YEARLY = IntervalTrigger(days=365)
"""Never due while a test runs."""

jobtest = Plugin(
    name="jobtest",
    version="1",
    title="t",
    jobs=[
        JobSpec(id="effect", trigger=YEARLY, run=effect),
        JobSpec(id="quiet", trigger=YEARLY, run=quiet, side_effects=False),
        JobSpec(id="explode", trigger=YEARLY, run=explode),
        JobSpec(id="hang", trigger=YEARLY, run=hang),
        JobSpec(
            id="once", trigger=DateTrigger(run_date=ONCE_DUE), run=once, misfire_grace_time=None
        ),
    ],
)

JOBS = "/api/v1/jobs"


@pytest.fixture(autouse=True)
def _no_calls() -> None:
    calls.clear()


def jobtest_settings(database_url: str) -> Settings:
    plugins = dict(load_plugins_file(ROOT / "plugins.toml"))
    plugins["jobtest"] = PluginEntry(module="tests.core.test_jobs:jobtest")
    return base_settings(database_url, plugins=plugins)


def jobs_app(database_url: str, clock: FakeClock, *, run_jobs: bool) -> Litestar:
    app = create_app(jobtest_settings(database_url), clock=clock, run_jobs=run_jobs)
    app.state.scheduler.retry_interval = 0.2
    return app


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Litestar:
    """The conftest ``api`` fixture's app, with the ``jobtest`` plugin and no scheduling."""
    return jobs_app(settings.database_url, clock, run_jobs=False)


async def until(check: Callable[[], Awaitable[Any]], within: float = 15.0) -> Any:
    """Poll ``check`` until it answers something true; fail after ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {result!r} after {within} s")
        await asyncio.sleep(0.05)


async def run_now(api: Api, job_id: str) -> dict[str, Any]:
    response = await api.post(f"{JOBS}/{job_id}/run", as_="admin")
    assert response.status_code == 200, response.text
    return response.json()


async def runs_of(api: Api, job_id: str, query: str = "") -> dict[str, Any]:
    response = await api.get(f"{JOBS}/{job_id}/runs{query}", as_="admin")
    assert response.status_code == 200, response.text
    return response.json()


def instant(text: str) -> datetime:
    """An answered timestamp (in the caller's time zone) as an aware datetime."""
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


async def test_a_failing_job_is_recorded_as_failed_and_the_next_runs_still_work(
    api: Api, app: Litestar, clock: FakeClock
) -> None:
    failed = await run_now(api, "jobtest.explode")
    assert failed["outcome"] == "failed"
    assert failed["job_id"] == "jobtest.explode"
    assert failed["manual"] is True
    assert instant(failed["fire_time"]) == instant(failed["started_at"]) == clock.now()
    assert failed["finished_at"] is not None and isinstance(failed["duration_ms"], int)
    assert failed["instance"].endswith(f":{os.getpid()}")
    error = failed["error"].splitlines()
    assert error[0] == "ValueError: the barn is on fire"
    # The last lines of the traceback: where in the job it was raised.
    assert any(", in explode" in line for line in error[1:])
    assert 'raise ValueError("the barn is on fire")' in error[-1]

    # The scheduler goes on: another job, and the same one again at the same instant.
    succeeded = await run_now(api, "jobtest.effect")
    assert succeeded["outcome"] == "succeeded" and succeeded["error"] is None
    again = await run_now(api, "jobtest.explode")
    assert again["outcome"] == "failed" and again["id"] != failed["id"]
    assert calls == [
        ("explode", clock.now()),
        ("effect", clock.now()),
        ("explode", clock.now()),
    ]

    # A scheduled fire time of a failing job is recorded the same way.
    clock.advance(timedelta(minutes=1))  # the newest run is the one started last
    fire = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    run = api.client.blocking_portal.call(app.state.scheduler.run, "jobtest.explode", fire)
    assert run is not None and run.outcome == "failed" and run.manual is False
    listed = await runs_of(api, "jobtest.explode")
    assert [r["outcome"] for r in listed["items"]] == ["failed"] * 3
    assert instant(listed["items"][0]["fire_time"]) == fire
    assert instant(listed["items"][0]["started_at"]) == clock.now()


async def test_runs_are_listed_newest_first_with_outcome_and_duration(
    api: Api, clock: FakeClock
) -> None:
    made = []
    for _ in range(3):
        made.append(await run_now(api, "jobtest.effect"))
        clock.advance(timedelta(minutes=1))
    assert [call[1] for call in calls] == [
        clock.now() - timedelta(minutes=3),
        clock.now() - timedelta(minutes=2),
        clock.now() - timedelta(minutes=1),
    ]

    first = await runs_of(api, "jobtest.effect", "?limit=2")
    assert [r["id"] for r in first["items"]] == [made[2]["id"], made[1]["id"]]
    assert first["next_cursor"]
    second = await runs_of(api, "jobtest.effect", f"?limit=2&cursor={first['next_cursor']}")
    assert second == {"items": [made[0]], "next_cursor": None}
    for run in first["items"] + second["items"]:
        assert run["outcome"] == "succeeded"
        assert isinstance(run["duration_ms"], int) and run["duration_ms"] >= 0
        assert run["finished_at"] is not None

    assert await runs_of(api, "jobtest.quiet") == {"items": [], "next_cursor": None}
    too_many = await api.get(f"{JOBS}/jobtest.effect/runs?limit=201", as_="admin")
    assert too_many.status_code == 422


async def test_the_job_list_shows_each_job_with_its_last_run(api: Api, clock: FakeClock) -> None:
    listed = await api.get(JOBS, as_="admin")
    assert listed.status_code == 200
    body = listed.json()
    assert body["next_cursor"] is None
    jobs = {job["id"]: job for job in body["items"]}
    assert {"hello.tally", "jobtest.effect", "jobtest.once"} <= set(jobs)
    assert jobs["jobtest.effect"] == {
        "id": "jobtest.effect",
        "plugin": "jobtest",
        "trigger": str(YEARLY),
        # This app runs no jobs, so nothing is scheduled here.
        "next_run_at": None,
        "last_run": None,
    }
    assert jobs["hello.tally"]["plugin"] == "hello"
    assert jobs["hello.tally"]["trigger"].startswith("cron[")

    ran = await run_now(api, "jobtest.effect")
    after = {job["id"]: job for job in (await api.get(JOBS, as_="admin")).json()["items"]}
    assert after["jobtest.effect"]["last_run"] == ran
    assert after["jobtest.quiet"]["last_run"] is None

    clock.advance(timedelta(minutes=1))
    newer = await run_now(api, "jobtest.effect")
    again = {job["id"]: job for job in (await api.get(JOBS, as_="admin")).json()["items"]}
    assert again["jobtest.effect"]["last_run"] == newer


async def test_jobs_are_for_admins_and_unknown_jobs_answer_404(api: Api) -> None:
    for user in ("farmer", "advisor"):
        assert (await api.get(JOBS, as_=user)).status_code == 403
        assert (await api.get(f"{JOBS}/jobtest.effect/runs", as_=user)).status_code == 403
        assert (await api.post(f"{JOBS}/jobtest.effect/run", as_=user)).status_code == 403
    assert (await api.get(JOBS)).status_code == 401
    assert calls == []

    for method, path in (("POST", f"{JOBS}/nope.nothing/run"), ("GET", f"{JOBS}/nope/runs")):
        response = await api.request(method, path, "admin")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"] == "urn:minori:problem:not-found"

    document = (await api.get("/schema/openapi.json")).json()["paths"]
    run = document["/api/v1/jobs/{job_id}/run"]["post"]
    assert run["security"] == [{"BearerToken": []}]
    assert {"200", "401", "403", "404"} <= set(run["responses"])
    assert {"200", "401", "403", "404", "422"} <= set(
        document["/api/v1/jobs/{job_id}/runs"]["get"]["responses"]
    )


async def test_a_side_effect_job_runs_once_per_fire_time(api: Api, app: Litestar) -> None:
    """Two processes that both fire 03:00 (a leader hand-over): the first claims the run,
    the second finds it claimed and skips it, also when it names the instant another way."""
    scheduler = app.state.scheduler
    portal = api.client.blocking_portal
    fire = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)

    first = portal.call(scheduler.run, "jobtest.effect", fire)
    second = portal.call(scheduler.run, "jobtest.effect", fire)
    in_tokyo = portal.call(scheduler.run, "jobtest.effect", fire.astimezone(ZoneInfo("Asia/Tokyo")))
    assert first is not None and first.outcome == "succeeded"
    assert second is None and in_tokyo is None, (
        "one fire time was claimed twice: does the migrated database still have the unique "
        "constraint on core_jobrun (job_id, fire_time)?"
    )
    assert calls == [("effect", fire)]
    runs = (await runs_of(api, "jobtest.effect"))["items"]
    assert len(runs) == 1
    assert instant(runs[0]["fire_time"]) == fire and runs[0]["manual"] is False

    # The next fire time is a run of its own.
    later = fire + timedelta(hours=1)
    assert portal.call(scheduler.run, "jobtest.effect", later) is not None
    assert calls == [("effect", fire), ("effect", later)]


async def test_a_job_without_side_effects_is_recorded_but_never_skipped(
    api: Api, app: Litestar
) -> None:
    portal = api.client.blocking_portal
    fire = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    first = portal.call(app.state.scheduler.run, "jobtest.quiet", fire)
    second = portal.call(app.state.scheduler.run, "jobtest.quiet", fire)
    assert first is not None and second is not None
    assert calls == [("quiet", fire), ("quiet", fire)]
    runs = (await runs_of(api, "jobtest.quiet"))["items"]
    assert len(runs) == 2
    assert {r["outcome"] for r in runs} == {"succeeded"}
    assert len({r["fire_time"] for r in runs}) == 2


async def test_apscheduler_fires_a_due_job_with_its_fire_time(
    database_url: str, clock: FakeClock, world: World
) -> None:
    app = jobs_app(database_url, clock, run_jobs=True)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        api = Api(client, PASSWORD)
        ready = (await client.get("/health/ready")).json()
        assert ready["checks"]["scheduler"] == "leader"

        runs = await until(lambda: _items(api, "jobtest.once"))
        assert len(runs) == 1
        assert instant(runs[0]["fire_time"]) == ONCE_DUE
        assert runs[0]["manual"] is False and instant(runs[0]["started_at"]) == clock.now()
        await until(lambda: _finished(api, "jobtest.once"))
        assert calls == [("once", ONCE_DUE)]

        jobs = {job["id"]: job for job in (await api.get(JOBS, as_="admin")).json()["items"]}
        assert jobs["jobtest.once"]["next_run_at"] is None  # fired, nothing left to fire
        assert jobs["jobtest.once"]["last_run"]["outcome"] == "succeeded"
        next_effect = instant(jobs["jobtest.effect"]["next_run_at"])
        assert next_effect > datetime.now(UTC) + timedelta(days=364)
    assert app.state.scheduler.role == "stopped"


async def _items(api: Api, job_id: str) -> list[dict[str, Any]]:
    return list((await runs_of(api, job_id))["items"])


async def _finished(api: Api, job_id: str) -> bool:
    items = await _items(api, job_id)
    return bool(items) and all(r["outcome"] != "running" for r in items)


async def test_stopping_cancels_a_run_that_does_not_finish_and_records_it(
    database_url: str, clock: FakeClock, world: World
) -> None:
    app = jobs_app(database_url, clock, run_jobs=True)
    app.state.scheduler.shutdown_timeout = 0.2
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        api = Api(client, PASSWORD)
        client.blocking_portal.start_task_soon(app.state.scheduler.run, "jobtest.hang")
        running = await until(lambda: _items(api, "jobtest.hang"))
        assert running[0]["outcome"] == "running"

    async def stored() -> list[JobRun]:
        return await JobRun.filter(job_id="jobtest.hang")

    (run,) = await run_in_database(jobtest_settings(database_url), stored)
    assert run.outcome == "failed"
    assert run.error is not None and run.error.startswith("CancelledError")
    assert run.finished_at is not None


# PostgreSQL: two instances, one leader.


async def _role(client: AsyncTestClient[Litestar]) -> str:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    return str(response.json()["checks"]["scheduler"])


async def _kill_leader_session(database_url: str) -> None:
    """End the session holding the scheduler's advisory lock, from another connection."""
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        killed = await connection.fetch(
            """
            SELECT pg_terminate_backend(pid, 5000) AS done FROM pg_locks
            WHERE locktype = 'advisory' AND granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1
            """,
            LOCK_KEY >> 32,
            LOCK_KEY & 0xFFFFFFFF,
        )
    finally:
        await connection.close()
    assert [row["done"] for row in killed] == [True]


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set MINORI_TEST_DATABASE_URL")
async def test_two_instances_elect_one_leader_and_a_standby_takes_over(
    database_url: str, clock: FakeClock, world: World
) -> None:
    first, second = (jobs_app(database_url, clock, run_jobs=True) for _ in range(2))
    async with (
        AsyncTestClient(app=first, raise_server_exceptions=False) as one,
        AsyncTestClient(app=second, raise_server_exceptions=False) as two,
    ):
        clients = {"first": one, "second": two}
        schedulers = {"first": first.state.scheduler, "second": second.state.scheduler}
        roles = {name: await _role(client) for name, client in clients.items()}
        assert sorted(roles.values()) == ["leader", "standby"]
        leader = next(name for name, role in roles.items() if role == "leader")
        standby = next(name for name in clients if name != leader)

        # Only the leader fired the job that was due: the standby's APScheduler is paused.
        api = Api(clients[standby], PASSWORD)
        await until(lambda: _finished(api, "jobtest.once"))
        assert calls == [("once", ONCE_DUE)]
        (fired,) = await _items(api, "jobtest.once")
        assert fired["instance"] == schedulers[leader].instance
        pending = {
            name: clients[name].blocking_portal.call(schedulers[name].next_run_time, "jobtest.once")
            for name in clients
        }
        assert pending == {leader: None, standby: ONCE_DUE}

        # Both instances fire 03:00 of the same day: it runs once.
        fire = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
        results = [
            clients[name].blocking_portal.call(schedulers[name].run, "jobtest.effect", fire)
            for name in (leader, standby)
        ]
        assert sum(result is not None for result in results) == 1
        assert calls[1:] == [("effect", fire)]

        # An admin may still run a job by hand on the standby.
        manual = await api.post(f"{JOBS}/jobtest.effect/run", as_="admin")
        assert manual.status_code == 200 and manual.json()["outcome"] == "succeeded"
        assert manual.json()["instance"] == schedulers[standby].instance

        # The leader's database session dies: the standby takes over, the old leader
        # steps down, and the standby's resumed APScheduler does not run the once-job again.
        await _kill_leader_session(database_url)

        async def swapped() -> bool:
            return (await _role(clients[standby]), await _role(clients[leader])) == (
                "leader",
                "standby",
            )

        await until(swapped)

        async def once_is_done() -> bool:
            portal = clients[standby].blocking_portal
            return portal.call(schedulers[standby].next_run_time, "jobtest.once") is None

        await until(once_is_done)
        assert [call for call in calls if call[0] == "once"] == [("once", ONCE_DUE)]
        assert len(await _items(api, "jobtest.once")) == 1

        # After the hand-over, both fire 04:00: it still runs once.
        later = fire + timedelta(hours=1)
        results = [
            clients[name].blocking_portal.call(schedulers[name].run, "jobtest.effect", later)
            for name in (standby, leader)
        ]
        assert sum(result is not None for result in results) == 1
        assert [c for c in calls if c[0] == "effect" and c[1] != clock.now()] == [
            ("effect", fire),
            ("effect", later),
        ]
    assert first.state.scheduler.role == second.state.scheduler.role == "stopped"


async def test_runs_older_than_the_retention_are_deleted(
    api: Api, app: Litestar, clock: FakeClock
) -> None:
    scheduler = app.state.scheduler
    portal = api.client.blocking_portal
    assert scheduler.retention == timedelta(days=30)
    portal.call(scheduler.run, "jobtest.effect")
    clock.advance(timedelta(days=20))
    portal.call(scheduler.run, "jobtest.quiet")
    clock.advance(timedelta(days=11))

    assert portal.call(scheduler.prune) == 1
    assert portal.call(scheduler.prune) == 0
    tokens = await api.login("admin")  # a token issued at the clock's new time
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    effect_runs = await api.client.get(f"{JOBS}/jobtest.effect/runs", headers=headers)
    quiet_runs = await api.client.get(f"{JOBS}/jobtest.quiet/runs", headers=headers)
    assert effect_runs.json()["items"] == []
    assert len(quiet_runs.json()["items"]) == 1


async def test_taking_over_runs_late_fire_times_only_within_their_grace_time() -> None:
    """A standby's paused APScheduler still waits for old fire times when it takes over."""
    aps = AsyncIOScheduler(timezone="UTC")
    aps.start(paused=True)
    try:
        now = datetime.now(UTC)
        minutely = aps.add_job(print, CronTrigger(minute="*"), misfire_grace_time=300)
        recent = aps.add_job(print, CronTrigger(minute="*"), misfire_grace_time=3600)
        ancient = aps.add_job(print, DateTrigger(now - timedelta(days=40)), misfire_grace_time=None)
        minutely.modify(next_run_time=now - timedelta(days=2))
        recent.modify(next_run_time=now - timedelta(minutes=30))

        Scheduler._skip_stale_fire_times(aps, timedelta(days=30))

        moved = aps.get_job(minutely.id).next_run_time
        assert now - timedelta(seconds=300) <= moved <= now + timedelta(minutes=1)
        assert aps.get_job(recent.id).next_run_time == now - timedelta(minutes=30)
        assert aps.get_job(ancient.id).next_run_time is None  # its claim may be pruned
    finally:
        aps.shutdown(wait=False)
