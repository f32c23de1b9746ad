"""The farms' days are the city's (``MINORI_CITY_TIMEZONE``): here Honolulu, where the test
clock's 00:00 UTC on 26 November is still the 25th."""

from __future__ import annotations

import pytest

from core.clock import FakeClock
from core.settings import Settings
from tests.conftest import World, base_settings
from tests.plugins.livestock.support import BASE, DAY, make_animal, record
from tests.support import Api


@pytest.fixture
def settings(database_url: str) -> Settings:
    return base_settings(database_url, city_timezone="Pacific/Honolulu")


async def test_the_breeding_calendar_counts_days_in_the_citys_zone(
    api: Api, world: World, clock: FakeClock
) -> None:
    now = clock.now()
    cho = await make_animal(api, world, "8000000003", name="Cho")
    await record(api, cho["id"], "insemination", now - 278 * DAY)
    await record(api, cho["id"], "pregnancy_check", now - 240 * DAY, pregnant=True)

    response = await api.get(f"{BASE}/calendar", as_="farmer")
    assert response.status_code == 200, response.text
    items = [(i["kind"], i["day"]) for i in response.json()["items"]]
    # Conceived on 21 February, local time: due 283 days later, on 30 November (1 December
    # in Tokyo, where the same moment is already the 22nd).
    assert ("calving_due", "2026-11-30") in items
