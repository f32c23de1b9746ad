"""The harvest guard: each season knows its earliest allowed harvest; moving the planned
harvest before it raises an alert; a job reminds the farm when an interval ends; another
keeps licence and inspection alerts current."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar import Litestar

from core.clock import FakeClock
from tests.conftest import World
from tests.plugins.drone_spraying.support import (
    BASE,
    JST,
    created,
    farm,
    line,
    pesticide,
    rice_label,
    spray,
)
from tests.support import Api


def run_job(api: Api, app: Litestar, job: str) -> None:
    run = api.client.blocking_portal.call(app.state.scheduler.run, f"drone_spraying.{job}")
    assert run.outcome == "succeeded", run.error


async def open_alerts(api: Api, type_: str, status: str = "open") -> list[dict]:
    response = await api.get(f"/api/v1/alerts?plugin=drone_spraying&status={status}", "farmer")
    return [a for a in response.json()["items"] if a["type"] == type_]


async def test_moving_the_harvest_inside_an_interval_raises_an_alert(
    api: Api, world: World
) -> None:
    f = await farm(api, world)
    short = await pesticide(api, "Short", "第1号", ["A"], [rice_label(phi_days=7)])
    long = await pesticide(api, "Long", "第2号", ["B"], [rice_label(phi_days=14)])
    await created(
        api, "/spray-records", spray(f, [line(long)], start=datetime(2026, 11, 20, 6, tzinfo=JST))
    )
    await created(
        api, "/spray-records", spray(f, [line(short)], start=datetime(2026, 11, 26, 6, tzinfo=JST))
    )
    url = f"{BASE}/seasons/{f.season['id']}"
    season = (await api.get(url, "farmer")).json()
    # The later of 11-20 + 14 and 11-26 + 7.
    assert season["earliest_harvest_date"] == "2026-12-04"
    assert season["harvest_allowed"] is True
    assert await open_alerts(api, "harvest_inside_interval") == []

    moved = await api.patch(url, "farmer", json={"planned_harvest_date": "2026-12-01"})
    assert moved.status_code == 200
    assert moved.json()["planned_harvest_date"] == "2026-12-01"  # the plan is the farmer's
    assert moved.json()["harvest_allowed"] is False
    [alert] = await open_alerts(api, "harvest_inside_interval")
    assert alert["severity"] == "major"
    assert alert["subject"]["kind"] == "drone_spraying.season"
    assert alert["subject"]["id"] == f.season["id"]
    assert alert["data"] == {"planned_harvest": "2026-12-01", "earliest_harvest": "2026-12-04"}
    assert "2026-12-04" in alert["body"]

    # Moving it again inside the interval counts a repeat, never a second alert.
    await api.patch(url, "farmer", json={"planned_harvest_date": "2026-12-02"})
    [alert] = await open_alerts(api, "harvest_inside_interval")
    assert alert["count"] == 2

    back = await api.patch(url, "farmer", json={"planned_harvest_date": "2026-12-04"})
    assert back.json()["harvest_allowed"] is True
    assert await open_alerts(api, "harvest_inside_interval") == []
    assert len(await open_alerts(api, "harvest_inside_interval", "resolved")) == 1


async def test_a_job_reminds_the_farm_when_an_interval_ends(
    api: Api, app: Litestar, world: World, clock: FakeClock
) -> None:
    f = await farm(api, world)
    product = await pesticide(api, "Rice Guard", "第1号", ["A"], [rice_label(phi_days=7)])
    await created(api, "/spray-records", spray(f, [line(product)]))  # earliest: 12-03

    run_job(api, app, "interval_reminders")  # on 11-26 nothing ends
    inbox = await api.get("/mobile/v1/inbox", "farmer")
    assert inbox.json()["items"] == []

    clock.set(datetime(2026, 12, 3, 6, 30, tzinfo=JST))
    api.forget("farmer")
    run_job(api, app, "interval_reminders")
    run_job(api, app, "interval_reminders")  # a repeated run reminds nobody twice
    items = (await api.get("/mobile/v1/inbox", "farmer", headers={"Accept-Language": "en"})).json()[
        "items"
    ]
    assert [(i["plugin"], i["title"]) for i in items] == [
        ("drone_spraying", "Pre-harvest interval over: 北の田")
    ]
    assert items[0]["body"] == (
        "水稲 on 北の田 may be harvested from 2026-12-03: the last spraying's interval has ended."
    )
    fisher_inbox = await api.get("/mobile/v1/inbox", "fisher")
    assert fisher_inbox.json()["items"] == []


async def test_a_job_raises_alerts_for_expired_licences_and_overdue_inspections(
    api: Api, app: Litestar, world: World, clock: FakeClock
) -> None:
    f = await farm(api, world)
    run_job(api, app, "expiry_watch")
    assert await open_alerts(api, "licence_expired") == []

    clock.set(datetime(2027, 11, 10, tzinfo=UTC))  # the licence ends 2027-11-30: a card
    api.forget("farmer")
    run_job(api, app, "expiry_watch")
    assert await open_alerts(api, "licence_expired") == []
    home = (await api.get("/mobile/v1/home", "farmer")).json()["cards"]
    assert "licence_expiring" in {c["type"] for c in home}
    # Inspected 2026-10-01, due a year later: overdue by now.
    [inspection] = await open_alerts(api, "inspection_overdue")
    assert inspection["severity"] == "minor"
    assert inspection["subject"]["id"] == f.drone["id"]
    assert inspection["data"] == {"inspection_due": "2027-10-01"}

    clock.set(datetime(2027, 12, 1, tzinfo=UTC))
    api.forget("farmer")
    run_job(api, app, "expiry_watch")
    [alert] = await open_alerts(api, "licence_expired")
    assert alert["severity"] == "major"
    assert alert["subject"]["id"] == f.operator["id"]
    assert alert["data"] == {"licence_expires": "2027-11-30"}
    home = (await api.get("/mobile/v1/home", "farmer")).json()["cards"]
    assert "licence_expiring" not in {c["type"] for c in home}  # the alert says it

    renewed = await api.patch(
        f"{BASE}/operators/{f.operator['id']}", "farmer", json={"licence_expires": "2030-11-30"}
    )
    assert renewed.status_code == 200
    inspected = await api.patch(
        f"{BASE}/drones/{f.drone['id']}", "farmer", json={"last_inspection": "2027-11-30"}
    )
    assert inspected.json()["inspection_due"] == "2028-11-29"
    assert await open_alerts(api, "licence_expired") == []
    assert await open_alerts(api, "inspection_overdue") == []
    clock.advance(timedelta(days=1))
    api.forget("farmer")
    run_job(api, app, "expiry_watch")
    assert await open_alerts(api, "licence_expired") == []
