"""Objects of the farmer's organization for the tenancy contract (tests/contract/test_tenancy.py).

Fish farms belong to fishery organizations in the API; the contract's ``farm`` organization
is a farm, so these are written straight to the database inside the running app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from core.db import bound
from plugins.red_tide.models import (
    Advice,
    Cage,
    FarmedSpecies,
    FeedingLog,
    FeedingPlan,
    FeedingSource,
    FishFarm,
    SeaArea,
)
from tests.conftest import World
from tests.support import Api

T = TypeVar("T")
SQUARE = [[[129.6, 33.1], [129.7, 33.1], [129.7, 33.2], [129.6, 33.2], [129.6, 33.1]]]


def in_app(api: Api, work: Callable[[], Awaitable[T]]) -> T:
    app = api.client.app

    async def bound_work() -> T:
        with bound(app.state.db):
            return await work()

    return api.client.blocking_portal.call(bound_work)


async def _cage(world: World) -> Cage:
    area, _ = await SeaArea.get_or_create(name="barn bay", defaults={"polygon": SQUARE})
    farm = await FishFarm.create(organization_id=world.org_ids["farm"], area=area, name="barn")
    return await Cage.create(
        organization_id=world.org_ids["farm"], farm=farm, name="barn", species=FarmedSpecies.TUNA
    )


async def fish_farm(api: Api, world: World) -> str:
    async def work() -> str:
        return str((await _cage(world)).farm_id)

    return in_app(api, work)


async def cage(api: Api, world: World) -> str:
    async def work() -> str:
        return str((await _cage(world)).id)

    return in_app(api, work)


async def feeding_log(api: Api, world: World) -> str:
    async def work() -> str:
        owned = await _cage(world)
        log = await FeedingLog.create(
            organization_id=owned.organization_id,
            cage=owned,
            fed_at=owned.created_at,
            kg=10.0,
            source=FeedingSource.MANUAL,
            advice=Advice.STOP,
        )
        return str(log.id)

    return in_app(api, work)


async def feeding_plan(api: Api, world: World) -> str:
    async def work() -> str:
        owned = await _cage(world)
        plan = await FeedingPlan.create(
            organization_id=owned.organization_id, cage=owned, time_of_day="07:00", kg=20.0
        )
        return str(plan.id)

    return in_app(api, work)


OWNED: dict[str, tuple[Any, dict[str, dict[str, Any]]]] = {
    "fish_farm_id": (fish_farm, {"": {"name": "Renamed by a stranger"}}),
    "cage_id": (cage, {"": {"name": "Renamed by a stranger"}}),
    "feeding_log_id": (feeding_log, {"override": {"reason": "Renamed by a stranger"}}),
    "feeding_plan_id": (feeding_plan, {"": {"time_of_day": "05:00"}}),
}
