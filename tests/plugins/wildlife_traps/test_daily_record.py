"""A month of the daily inspection record, computed from what really reached the service:
heartbeats through the ingest path, triggers, resets and inspections, day by day on the
clock; then the monthly compliance report (JSON and CSV) must say exactly this."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.clock import FakeClock
from core.settings import Settings
from tests.conftest import World
from tests.plugins.wildlife_traps.support import (
    BASE,
    add_sensor,
    create_trap,
    fresh,
    reading,
    send,
    tuned_api,
)
from tests.support import Api

TOKYO = ZoneInfo("Asia/Tokyo")
DAYS = [date(2026, 11, d) for d in range(1, 31)]


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(date(2026, 11, day), time(hour, minute, second), tzinfo=TOKYO)


def hourly(day: date, skip: set[int] = frozenset()) -> list[datetime]:  # type: ignore[assignment]
    start = datetime.combine(day, time(), tzinfo=TOKYO)
    return [start + timedelta(hours=h) for h in range(24) if h not in skip]


# The four traps and what happens to them in November (times in Sasebo):
#   full    hourly heartbeats all month; inspected by hand on the 18th
#   gaps    no reports 10:00-13:00 on the 5th (5 h gap); silent all of the 20th but inspected;
#           back at 00:00 on the 21st; a 2 h gap on the 25th (allowed: the limit is 2 h);
#           a 3 h gap on the 26th
#   sprung  sprung 03:00 on the 10th, released and reset 08:00 on the 11th; a bounce on the
#           15th (trigger back at rest after 2 s); sprung 22:00 on the 25th, inspected,
#           capture recorded and reset 07:00-07:20 on the 26th
#   manual  no sensor: inspected by hand every morning but the 3rd and 4th; disarmed 12:00 on
#           the 15th until 09:00 on the 17th (the 16th needs nothing), inspected 10:00 the 17th
EXPECTED: dict[str, dict[int, str]] = {
    "full": {18: "inspected"},
    "gaps": {5: "missed", 20: "inspected", 26: "missed"},
    "sprung": {10: "missed", 11: "missed", 25: "missed", 26: "inspected"},
    "manual": {d: "inspected" for d in range(1, 31)} | {3: "missed", 4: "missed", 16: "not_set"},
}


def beats(name: str, day: date) -> list[dict[str, Any]]:
    n = day.day
    if name == "full" or name == "sprung":
        times = hourly(day)
    elif name == "gaps":
        skip = {5: {10, 11, 12, 13}, 20: set(range(24)), 25: {10}, 26: {10, 11}}.get(n, set())
        times = hourly(day, skip)
    else:
        return []
    found = [reading(t, "heartbeat", 1, tag=name) for t in times]
    if name == "sprung":
        edges = {
            10: [(at(10, 3), 1)],
            11: [(at(11, 8), 0)],
            15: [(at(15, 2), 1), (at(15, 2, 0, 2), 0)],
            25: [(at(25, 22), 1)],
            26: [(at(26, 7, 10), 0)],
        }.get(n, [])
        found += [reading(t, "trigger", v, tag=name) for t, v in edges]
    return sorted(found, key=lambda r: r["ts"])


async def test_a_month_of_the_daily_record_and_the_compliance_report(
    world: World, clock: FakeClock, settings: Settings
) -> None:
    clock.set(at(1, 0))
    # Tokens that outlive the month: the test moves the clock by hours at a time.
    async with tuned_api(settings, clock, access_token_ttl_s=60 * 86400) as api:
        await run_month(api, world, clock)


async def run_month(api: Api, world: World, clock: FakeClock) -> None:
    traps = {
        name: await create_trap(api, world, name=name, kind="snare" if name == "sprung" else "box")
        for name in EXPECTED
    }
    keys = {
        name: (await add_sensor(api, world, traps[name]["id"], external_id=name))["key"]
        for name in ("full", "gaps", "sprung")
    }

    def post(path: str, body: dict[str, Any]) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            fresh(api, "farmer")
            response = await api.post(f"{BASE}{path}", as_="farmer", json=body)
            assert response.status_code in (200, 201), (path, response.text)

        return act

    def inspect(name: str, moment: datetime) -> tuple[datetime, Callable[[], Awaitable[None]]]:
        return moment, post(
            f"/traps/{traps[name]['id']}/inspections",
            {"result": "ok", "inspected_at": moment.isoformat()},
        )

    def state(name: str, value: str) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            fresh(api, "farmer")
            response = await api.patch(
                f"{BASE}/traps/{traps[name]['id']}", as_="farmer", json={"state": value}
            )
            assert response.status_code == 200, response.text

        return act

    actions: dict[int, list[tuple[datetime, Callable[[], Awaitable[None]]]]] = {
        11: [(at(11, 8, 5), post(f"/traps/{traps['sprung']['id']}/reset", {"state": "armed"}))],
        15: [(at(15, 12), state("manual", "disarmed"))],
        17: [(at(17, 9), state("manual", "armed"))],
        18: [inspect("full", at(18, 14))],
        20: [inspect("gaps", at(20, 8))],
        26: [
            inspect("sprung", at(26, 7)),
            (
                at(26, 7, 5),
                post(
                    f"/traps/{traps['sprung']['id']}/captures",
                    {"species": "wild_boar", "sex": "male", "disposal": "processed"},
                ),
            ),
            (at(26, 7, 20), post(f"/traps/{traps['sprung']['id']}/reset", {"state": "armed"})),
        ],
    }
    for n in range(1, 31):
        if n not in (3, 4, 16, 17):
            actions.setdefault(n, []).append(inspect("manual", at(n, 7, 30)))
    actions.setdefault(17, []).append(inspect("manual", at(17, 10)))

    for day in DAYS:
        day_end = datetime.combine(day + timedelta(days=1), time(), tzinfo=TOKYO)
        stops = sorted(actions.get(day.day, []), key=lambda stop: stop[0])
        stops.append((day_end - timedelta(seconds=1), None))  # type: ignore[arg-type]
        posted = dict.fromkeys(keys, datetime.combine(day, time(), tzinfo=TOKYO))
        for moment, action in stops:
            clock.set(moment + timedelta(seconds=30))
            for name, key in keys.items():
                if action is not None and name != "sprung":
                    continue  # only the sprung trap's readings must arrive before its resets
                due = [
                    r
                    for r in beats(name, day)
                    if posted[name] <= datetime.fromisoformat(r["ts"]) <= moment
                ]
                if due:
                    await send(api, key, due)
                posted[name] = moment + timedelta(microseconds=1)
            if action is not None:
                await action()

    clock.set(at(30, 23, 59, 59) + timedelta(seconds=2))  # December 1st, 00:00:01
    fresh(api, "farmer")
    response = await api.get(
        f"{BASE}/compliance?organization_id={world.org_ids['farm']}&month=2026-11", as_="farmer"
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["month"] == "2026-11" and report["complete"] is True
    assert report["timezone"] == "Asia/Tokyo"
    got = {t["name"]: {d["date"]: d["status"] for d in t["days"]} for t in report["traps"]}
    for name, exceptions in EXPECTED.items():
        default = "verified_by_sensor"
        want = {d.isoformat(): exceptions.get(d.day, default) for d in DAYS}
        assert got[name] == want, (
            name,
            {k: (v, got[name][k]) for k, v in want.items() if got[name][k] != v},
        )
    counts = {t["name"]: t["counts"] for t in report["traps"]}
    assert counts["full"] == {"verified_by_sensor": 29, "inspected": 1, "missed": 0, "not_set": 0}
    assert counts["manual"] == {"verified_by_sensor": 0, "inspected": 27, "missed": 2, "not_set": 1}
    assert report["totals"]["missed"] == 2 + 3 + 2

    # The same record as CSV: one row per trap and day.
    as_csv = await api.get(
        f"{BASE}/compliance.csv?organization_id={world.org_ids['farm']}&month=2026-11", as_="farmer"
    )
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "trap-inspections-2026-11.csv" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == 4 * 30
    row = next(r for r in rows if r["trap"] == "sprung" and r["date"] == "2026-11-10")
    assert row["status"] == "missed" and row["kind"] == "snare"

    # The 26th's capture was linked to the trigger of the 25th, the 10th's was a false one.
    events = (
        await api.get(f"{BASE}/traps/{traps['sprung']['id']}/timeline?limit=200", as_="farmer")
    ).json()
    sprung = [e for e in events["items"] if e["kind"] == "sprung"]
    assert [(e["at"][:16], e["outcome"]) for e in sprung] == [
        ("2026-11-25T22:00", "capture"),
        ("2026-11-10T03:00", "false_trigger"),
    ]
    assert [e["data"]["held_s"] for e in events["items"] if e["kind"] == "bounce"] == [2.0]


async def test_the_report_refuses_bad_months_and_foreign_organizations(
    api: Api, world: World
) -> None:
    bad = await api.get(f"{BASE}/compliance?month=2026-13", as_="farmer")
    assert bad.status_code == 422 and bad.json()["errors"][0]["parameter"] == "month"
    foreign = await api.get(
        f"{BASE}/compliance?organization_id={world.org_ids['fishery']}", as_="farmer"
    )
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["parameter"] == "organization_id"
    unknown = await api.get(
        f"{BASE}/compliance?organization_id=00000000-0000-4000-8000-000000000000", as_="farmer"
    )
    assert unknown.json()["errors"] == foreign.json()["errors"]
    # A member of one organization may leave it out: this month, nothing yet.
    mine = await api.get(f"{BASE}/compliance", as_="farmer")
    assert mine.status_code == 200
    assert mine.json()["month"] == "2026-11" and mine.json()["traps"] == []
    assert mine.json()["complete"] is False
