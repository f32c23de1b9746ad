"""The example plugin of docs/plugins.md (examples/minori-hello), end to end.

It reaches Minori through its ``minori.plugins`` entry point like any third-party package, so
these tests also prove that an installed plugin gets its routes, tables, job and predictor.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from core.app import create_app
from core.clock import FakeClock
from core.db import bound
from core.jobs.models import RunOutcome
from core.settings import Settings, load_plugins_file
from tests.conftest import PASSWORD, ROOT, World, base_settings
from tests.support import Api

GREETINGS = "/api/v1/hello/greetings"
TALLIES = "/api/v1/hello/tallies"
THANKS = "ありがとう！"


async def greet(api: Api, username: str, organization_id: str, text: str) -> Any:
    response = await api.post(
        GREETINGS, username, json={"organization_id": organization_id, "text": text}
    )
    assert response.status_code == 201, response.text
    return response.json()


def table_names(api: Api, app: Litestar) -> set[str]:
    """The tables of the app's database, read on the app's own event loop."""

    async def query() -> set[str]:
        with bound(app.state.db) as context:
            if app.state.settings.is_sqlite:
                sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
            else:
                sql = (
                    "SELECT table_name AS name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            rows = await context.db("default").execute_query_dict(sql)
            return {row["name"] for row in rows}

    return api.client.blocking_portal.call(query)


def hello_settings(database_url: str, **values: Any) -> Settings:
    """The repository's plugins.toml with the hello plugin's settings replaced."""
    entries = load_plugins_file(ROOT / "plugins.toml")
    hello = msgspec.structs.replace(entries["hello"], settings=values)
    return base_settings(database_url, plugins={**entries, "hello": hello})


@pytest.fixture
async def tuned_api(database_url: str, world: World, clock: FakeClock) -> AsyncIterator[Api]:
    """The app with ``max_length = 12`` and one cheerful word, on the same seeded database."""
    settings = hello_settings(database_url, max_length=12, cheerful_words=["会議"])
    app = create_app(settings, clock=clock, run_jobs=False)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield Api(client, PASSWORD)


async def test_hello_is_listed_as_loaded_with_its_job_and_predictor(api: Api) -> None:
    response = await api.get("/api/v1/plugins", as_="farmer")
    assert response.status_code == 200
    listed = {p["name"]: p for p in response.json()}
    hello = listed["hello"]
    assert [kind["kind"] for kind in hello.pop("device_kinds")] == ["hello.button"]
    assert hello == {
        "name": "hello",
        "version": "1.0.0",
        "title": "Hello (example)",
        "status": "loaded",
        "error": None,
        "jobs": ["hello.tally"],
        "predictors": ["hello.mood"],
    }


async def test_member_posts_a_greeting_and_reads_it_back(
    api: Api, world: World, clock: FakeClock
) -> None:
    created = await greet(api, "farmer", world.org_ids["farm"], THANKS)
    assert uuid.UUID(created["id"])
    assert created == {
        "id": created["id"],
        "organization_id": world.org_ids["farm"],
        "author_id": world.user_ids["farmer"],
        "text": THANKS,
        "mood": "cheerful",
        "created_at": created["created_at"],
    }
    # Time comes from the app's clock (DESIGN.md), so a stored greeting is dated by it.
    assert datetime.fromisoformat(created["created_at"]) == clock.now()

    fetched = await api.get(f"{GREETINGS}/{created['id']}", as_="farmer")
    assert fetched.status_code == 200
    assert fetched.json() == created

    clock.advance(timedelta(minutes=1))
    plain = await greet(api, "farmer", world.org_ids["farm"], "今日は雨です")
    assert plain["mood"] == "plain"

    listed = await api.get(GREETINGS, as_="farmer")
    assert listed.status_code == 200
    assert listed.json() == {"items": [created, plain], "next_cursor": None}


async def test_another_organization_gets_404_for_a_greeting_it_does_not_own(
    api: Api, world: World
) -> None:
    created = await greet(api, "farmer", world.org_ids["farm"], "こんにちは")
    theirs = f"{GREETINGS}/{created['id']}"
    missing_id = str(uuid.uuid4())
    nobody = f"{GREETINGS}/{missing_id}"

    for method in ("GET", "DELETE"):
        foreign = await api.request(method, theirs, "fisher")
        missing = await api.request(method, nobody, "fisher")
        assert foreign.status_code == 404, (method, foreign.text)
        assert foreign.headers["content-type"] == "application/problem+json"
        body = foreign.json()
        assert body["type"] == "urn:minori:problem:not-found"
        assert body["status"] == 404
        # Indistinguishable from an id that does not exist: ids cannot be probed.
        assert body == {**missing.json(), "detail": body["detail"]}
        assert body["detail"] == missing.json()["detail"].replace(missing_id, created["id"])

    still_there = await api.get(theirs, as_="farmer")
    assert still_there.status_code == 200
    assert still_there.json() == created

    fisher_list = await api.get(GREETINGS, as_="fisher")
    assert fisher_list.status_code == 200
    assert fisher_list.json() == {"items": [], "next_cursor": None}

    # The farm does not share with advisors; an admin sees everything.
    advisor_list = await api.get(GREETINGS, as_="advisor")
    assert advisor_list.json()["items"] == []
    admin_list = await api.get(GREETINGS, as_="admin")
    assert [g["id"] for g in admin_list.json()["items"]] == [created["id"]]

    deleted = await api.delete(theirs, as_="farmer")
    assert deleted.status_code == 204
    assert (await api.get(theirs, as_="farmer")).status_code == 404


@pytest.mark.parametrize("organization", ["not-an-id", "fishery", "unknown"])
async def test_an_organization_the_member_cannot_use_answers_422_at_organization_id(
    api: Api, world: World, organization: str
) -> None:
    organization_id = {
        "fishery": world.org_ids["fishery"],
        "unknown": str(uuid.uuid4()),
    }.get(organization, organization)
    response = await api.post(
        GREETINGS, "farmer", json={"organization_id": organization_id, "text": "こんにちは"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:minori:problem:validation-failed"
    assert [e["pointer"] for e in body["errors"]] == ["/organization_id"]
    assert (await api.get(GREETINGS, as_="admin")).json()["items"] == []


async def test_text_longer_than_the_default_max_length_answers_422_at_text(
    api: Api, world: World
) -> None:
    accepted = await greet(api, "farmer", world.org_ids["farm"], "あ" * 280)
    assert len(accepted["text"]) == 280
    response = await api.post(
        GREETINGS, "farmer", json={"organization_id": world.org_ids["farm"], "text": "あ" * 281}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["pointer"] for e in response.json()["errors"]] == ["/text"]
    assert "280" in response.json()["detail"]


async def test_the_plugin_settings_from_plugins_toml_reach_the_service_and_predictor(
    tuned_api: Api, world: World
) -> None:
    farm = world.org_ids["farm"]
    # The model calls this plain; the configured word makes it cheerful.
    assert (await greet(tuned_api, "farmer", farm, "会議は3時です"))["mood"] == "cheerful"
    assert len((await greet(tuned_api, "farmer", farm, "x" * 12))["text"]) == 12
    too_long = await tuned_api.post(
        GREETINGS, "farmer", json={"organization_id": farm, "text": "x" * 13}
    )
    assert too_long.status_code == 422
    assert too_long.json()["errors"] == [
        {"detail": "longer than 12 characters", "pointer": "/text"}
    ]


async def test_tally_job_is_registered_under_its_stable_id(app: Litestar) -> None:
    scheduled = app.state.scheduler.jobs["hello.tally"]
    assert scheduled.id == "hello.tally"
    assert scheduled.context.name == "hello"
    # The api fixture's app runs no jobs: nothing is scheduled in APScheduler.
    assert app.state.scheduler.next_run("hello.tally") is None


async def test_a_serving_app_schedules_the_tally_for_five_past_midnight_utc(
    settings: Settings, clock: FakeClock
) -> None:
    app = create_app(settings, clock=clock, run_jobs=True)
    async with AsyncTestClient(app=app) as client:
        assert app.state.scheduler.role == "leader"
        next_run = app.state.scheduler.next_run("hello.tally")
        assert next_run is not None
        when = datetime.fromisoformat(next_run)
        # APScheduler fires on the wall clock; the job itself reads the app's clock.
        assert when.utcoffset() == timedelta(0)
        assert when.time() == time(0, 5)
        assert timedelta(0) < when - datetime.now(UTC) <= timedelta(days=1)
        ready = await client.get("/health/ready")
        assert ready.json()["checks"]["scheduler"] == "leader"
    assert app.state.scheduler.role == "stopped"


async def test_running_the_tally_counts_yesterdays_greetings_per_organization(
    api: Api, app: Litestar, world: World, clock: FakeClock
) -> None:
    farm, fishery = world.org_ids["farm"], world.org_ids["fishery"]
    # A day that is not today on the wall clock, so only the app's clock can date the rows.
    clock.set(datetime(2026, 6, 15, 23, 55, tzinfo=UTC))
    await greet(api, "farmer", farm, "おはよう")
    await greet(api, "farmer", farm, "ありがとう")
    await greet(api, "fisher", fishery, "大漁です")

    clock.set(datetime(2026, 6, 16, 0, 5, tzinfo=UTC))
    for username in ("farmer", "fisher", "admin"):
        api.forget(username)  # their tokens expired with the clock's move
    await greet(api, "farmer", farm, "今日のぶん")  # today's: counted tomorrow

    before = await api.get(TALLIES, as_="farmer")
    assert before.status_code == 200
    assert before.json() == []

    portal = api.client.blocking_portal
    run = portal.call(app.state.scheduler.run, "hello.tally")
    assert (run.outcome, run.error) == (RunOutcome.SUCCEEDED, None)
    assert run.fire_time == clock.now()

    farm_tallies = await api.get(TALLIES, as_="farmer")
    assert farm_tallies.status_code == 200
    assert farm_tallies.json() == [{"organization_id": farm, "day": "2026-06-15", "greetings": 2}]
    everything = (await api.get(TALLIES, as_="admin")).json()
    assert sorted(everything, key=lambda t: t["greetings"]) == [
        {"organization_id": fishery, "day": "2026-06-15", "greetings": 1},
        {"organization_id": farm, "day": "2026-06-15", "greetings": 2},
    ]

    # Running it again (a retry, an admin's manual run) rewrites the same rows.
    again = portal.call(app.state.scheduler.run, "hello.tally")
    assert again.outcome == RunOutcome.SUCCEEDED
    assert (await api.get(TALLIES, as_="admin")).json() == everything


async def test_the_migrations_created_the_hello_tables(api: Api, app: Litestar) -> None:
    tables = table_names(api, app)
    assert {"hello_greeting", "hello_dailytally"} <= tables
