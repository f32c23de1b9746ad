from __future__ import annotations

import pytest

from core import tenancy
from core.errors import Invalid, NotFound
from core.identity.access import Principal
from core.identity.models import Organization, Role
from core.settings import Settings
from tests.conftest import World, run_in_database


def principal(world: World, username: str, role: Role, orgs: tuple[str, ...] = ()) -> Principal:
    return Principal(world.user_ids[username], role, frozenset(world.org_ids[o] for o in orgs))


async def test_scope_follows_role_and_consent(settings: Settings, world: World) -> None:
    farmer = principal(world, "farmer", Role.MEMBER, ("farm",))
    advisor = principal(world, "advisor", Role.ADVISOR)
    admin = principal(world, "admin", Role.ADMIN)

    async def visible(who: Principal, write: bool = False) -> set[str]:
        rows = await tenancy.scope(Organization.all(), who, write=write, field=None)
        return {str(o.id) for o in rows}

    async def check() -> None:
        assert await visible(farmer) == {world.org_ids["farm"]}
        # Only the fishery consented to share with advisors; advisors only read it.
        assert await visible(advisor) == {world.org_ids["fishery"]}
        assert await visible(advisor, write=True) == set()
        assert await visible(admin) == set(world.org_ids.values())

    await run_in_database(settings, check)


async def test_get_answers_not_found_for_foreign_unknown_and_malformed_ids(
    settings: Settings, world: World
) -> None:
    farmer = principal(world, "farmer", Role.MEMBER, ("farm",))

    async def check() -> None:
        own = await tenancy.get(Organization.all(), world.org_ids["farm"], farmer, field=None)
        assert own.name == "Hinata Farm"
        for other in (world.org_ids["fishery"], "00000000-0000-4000-8000-000000000000", "'; drop"):
            with pytest.raises(NotFound):
                await tenancy.get(Organization.all(), other, farmer, field=None)
        with pytest.raises(Invalid) as refused:
            await tenancy.referenced(
                Organization.all(), world.org_ids["fishery"], farmer, "/organization_id", field=None
            )
        assert refused.value.errors[0].pointer == "/organization_id"

    await run_in_database(settings, check)
