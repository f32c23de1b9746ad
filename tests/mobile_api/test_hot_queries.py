"""The home screen's two SQL queries apply exactly the tenancy rule of ``core.tenancy.scope``
and answer what the ORM answers, for every role, on both backends."""

from __future__ import annotations

import uuid
from datetime import timedelta

from core import tenancy
from core.alerts.models import Alert, AlertStatus, Notification, Severity
from core.clock import FakeClock
from core.identity.access import Principal
from core.identity.models import Role
from core.settings import Settings
from mobile_api import hot
from tests.conftest import World, run_in_database
from tests.mobile_api.support import announce
from tests.support import Api

RANK = {severity: rank for rank, severity in enumerate(Severity)}


async def test_open_alerts_and_unread_match_the_orm_for_every_role(
    api: Api, world: World, clock: FakeClock, settings: Settings
) -> None:
    severities = ["info", "critical", "warning", "major", "minor", "critical", "info"]
    for i, severity in enumerate(severities):
        for org in ("farm", "fishery"):  # the fishery shares with advisors, the farm does not
            alert = await announce(api, world, severity, f"{org} {i}", org=org)
            clock.advance(timedelta(minutes=1))
            if i == 2:
                await api.post(f"/api/v1/alerts/{alert['id']}/resolve", as_="admin", json={})
            if i == 3:
                await api.post(f"/api/v1/alerts/{alert['id']}/ack", as_="admin")
    first_item = (await api.get("/mobile/v1/inbox", as_="farmer")).json()["items"][0]
    await api.post(f"/mobile/v1/inbox/{first_item['id']}/read", as_="farmer")
    farm, fishery = world.org_ids["farm"], world.org_ids["fishery"]
    principals = {
        "farmer": Principal(world.user_ids["farmer"], Role.MEMBER, frozenset({farm})),
        "both": Principal(world.user_ids["farmer"], Role.MEMBER, frozenset({farm, fishery})),
        "nobody": Principal(str(uuid.uuid4()), Role.MEMBER, frozenset()),
        "advisor": Principal(world.user_ids["advisor"], Role.ADVISOR, frozenset()),
        "advisor of the farm": Principal(
            world.user_ids["advisor"], Role.ADVISOR, frozenset({farm})
        ),
        "admin": Principal(world.user_ids["admin"], Role.ADMIN, frozenset()),
    }

    async def compare() -> dict[str, int]:
        seen = {}
        for name, principal in principals.items():
            expected = await tenancy.scope(
                Alert.filter(status=AlertStatus.OPEN), principal
            ).values_list("id", "severity", "last_seen")
            expected.sort(key=lambda a: (RANK[Severity(a[1])], -a[2].timestamp(), -a[0].int))
            got = await hot.open_alerts(principal, 100)
            assert [(a[0], a[1], a[5]) for a in got] == expected, name
            assert await hot.open_alerts(principal, 3) == got[:3], name
            unread = await Notification.filter(user_id=principal.user_id, read_at__isnull=True)
            assert await hot.unread(principal) == len(unread), name
            seen[name] = len(got)
        return seen

    seen = await run_in_database(settings, compare)
    # 5 open alerts per organization (one resolved, one acknowledged of 7).
    assert seen == {
        "farmer": 5,
        "both": 10,
        "nobody": 0,
        "advisor": 5,
        "advisor of the farm": 10,
        "admin": 10,
    }
    first = await run_in_database(settings, lambda: hot.open_alerts(principals["farmer"], 1))
    assert first[0][1] == "critical" and first[0][3] == "farm 5"  # the newest critical
