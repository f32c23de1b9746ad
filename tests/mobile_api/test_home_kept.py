"""A person's cards are kept between openings and asked for again exactly when they may have
changed: a write to the plugin's rows (however written) in the member's organizations or in
none (anywhere, for advisors), an alert of the plugin there, the person's midnight, or
``KEEP_CARDS`` later."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import AsyncTestClient
from minori_hello.models import Greeting
from tortoise import Tortoise

from core.alerts.models import Alert, AlertStatus, Severity
from core.app import create_app
from core.clock import FakeClock
from core.db import CORE_APP
from core.feed import CORE_MODELS_READ, FeedStamp
from core.settings import Settings
from mobile_api.home import KEEP_CARDS
from tests.conftest import PASSWORD, World, run_in_database
from tests.mobile_api.plugins import with_plugins
from tests.mobile_api.support import MOBILE, greet
from tests.support import Api

HOME = f"{MOBILE}/home"
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
async def counted(settings: Settings, clock: FakeClock, world: World) -> AsyncIterator[Api]:
    """The app with a feed whose card tells how many times it was asked for the caller."""
    app = create_app(with_plugins(settings.database_url, "counting"), clock=clock, run_jobs=False)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield Api(client, PASSWORD)


async def asked(api: Api, username: str) -> int:
    response = await api.get(HOME, as_=username, headers={"Accept-Language": "en"})
    assert response.status_code == 200, response.text
    (card,) = [c for c in response.json()["cards"] if c["plugin"] == "counting"]
    return int(re.findall(r"\d+", card["title"])[0])


def _counting_alert(world: World, org: str, now: datetime) -> Alert:
    return Alert(
        organization_id=world.org_ids[org],
        plugin="counting",
        type="asked_too_often",
        severity=Severity.INFO,
        title="Asked too often",
        body="",
        subject_kind="counting.asked",
        subject_id="1",
        first_seen=now,
        last_seen=now,
    )


async def test_kept_cards_are_shown_again_without_asking_the_plugin(
    counted: Api, world: World, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=TOKYO))  # far from midnight
    first = await asked(counted, "farmer")
    assert await asked(counted, "farmer") == first
    assert await asked(counted, "farmer") == first

    advisor = await asked(counted, "advisor")
    assert await asked(counted, "advisor") == advisor

    clock.advance(KEEP_CARDS - timedelta(seconds=1))
    assert await asked(counted, "farmer") == first
    clock.advance(timedelta(seconds=1))
    assert await asked(counted, "farmer") == first + 1


async def test_the_members_midnight_asks_again(
    counted: Api, world: World, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 11, 26, 23, 58, tzinfo=TOKYO))
    before = await asked(counted, "farmer")
    clock.advance(timedelta(minutes=1))
    assert await asked(counted, "farmer") == before
    clock.advance(timedelta(minutes=2))  # 00:01 in Tokyo, well within KEEP_CARDS
    assert await asked(counted, "farmer") == before + 1


async def test_an_alert_of_the_plugin_asks_again_where_the_person_sees_it(
    counted: Api, world: World, clock: FakeClock, settings: Settings
) -> None:
    first = await asked(counted, "farmer")
    advisor = await asked(counted, "advisor")

    async def raise_in(org: str) -> Alert:
        alert = _counting_alert(world, org, clock.now())
        await alert.save()
        return alert

    await run_in_database(settings, lambda: raise_in("fishery"))
    assert await asked(counted, "farmer") == first
    # Advisors see across organizations: a write anywhere may change their cards.
    assert await asked(counted, "advisor") == advisor + 1

    alert = await run_in_database(settings, lambda: raise_in("farm"))
    assert await asked(counted, "farmer") == first + 1

    async def resolve() -> Any:
        return await Alert.filter(id=alert.id).update(status=AlertStatus.RESOLVED)

    await run_in_database(settings, resolve)  # a bulk update: no ORM object saved
    assert await asked(counted, "farmer") == first + 2


async def test_every_way_of_writing_a_plugins_rows_shows_on_the_next_home(
    api: Api, world: World, clock: FakeClock, settings: Settings
) -> None:
    async def greetings_card() -> str:
        response = await api.get(HOME, as_="farmer", headers={"Accept-Language": "en"})
        titles = [c["title"] for c in response.json()["cards"] if c["plugin"] == "hello"]
        return titles[0] if titles else ""

    await greet(api, "farmer", world, "one")
    assert await greetings_card() == "Greetings today: 1"

    # Another organization's greeting changes nothing of the farm's.
    await greet(api, "fisher", world, "elsewhere", org="fishery")
    assert await greetings_card() == "Greetings today: 1"

    async def bulk() -> None:
        await Greeting.bulk_create(
            [
                Greeting(
                    organization_id=world.org_ids["farm"],
                    author_id=world.user_ids["farmer"],
                    text=f"bulk {i}",
                    mood="happy",
                    created_at=clock.now(),
                )
                for i in range(2)
            ]
        )

    await run_in_database(settings, bulk)
    assert await greetings_card() == "Greetings today: 3"

    async def yesterday() -> None:
        await Greeting.filter(text="bulk 0").update(created_at=clock.now() - timedelta(days=1))

    await run_in_database(settings, yesterday)
    assert await greetings_card() == "Greetings today: 2"

    async def raw_delete() -> None:
        await Greeting._meta.db.execute_query(
            f'DELETE FROM "{Greeting._meta.db_table}" WHERE "text" = \'bulk 1\''  # noqa: S608
        )

    await run_in_database(settings, raw_delete)
    assert await greetings_card() == "Greetings today: 1"


async def test_every_plugin_table_and_the_alerts_count_their_writes(
    api: Api, settings: Settings
) -> None:
    """The triggers exist on every table whose rows may change a plugin's cards."""

    async def tables_and_triggers() -> tuple[set[str], set[str]]:
        wanted = {
            model._meta.db_table
            for label, models in Tortoise.apps.items()
            for name, model in models.items()
            if label != CORE_APP or name in CORE_MODELS_READ
        }
        db = FeedStamp._meta.db
        if db.capabilities.dialect == "sqlite":
            rows = await db.execute_query_dict(
                "SELECT tbl_name AS t FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'core_feed_%'"
            )
        else:
            rows = await db.execute_query_dict(
                "SELECT event_object_table AS t FROM information_schema.triggers "
                "WHERE trigger_name LIKE 'core_feed_%' GROUP BY 1 HAVING count(*) = 3"
            )
        return wanted, {row["t"] for row in rows}

    wanted, triggered = await run_in_database(settings, tables_and_triggers)
    assert {"core_alert", "hello_greeting", "livestock_heat", "mentoring_question"} <= wanted
    assert wanted - triggered == set()


async def test_counts_are_kept_per_organization_and_plugin(
    api: Api, world: World, settings: Settings
) -> None:
    await greet(api, "farmer", world, "one")
    await greet(api, "farmer", world, "two")
    await greet(api, "fisher", world, "three", org="fishery")

    async def counts() -> dict[tuple[str, str], int]:
        return {
            (row.scope, row.plugin): row.stamp
            for row in await FeedStamp.filter(
                plugin="hello", scope__in=list(world.org_ids.values())
            )
        }

    assert await run_in_database(settings, counts) == {
        (world.org_ids["farm"], "hello"): 2,
        (world.org_ids["fishery"], "hello"): 1,
    }
