"""The plugin's part of the demo city: three farms, ten fields with polygons, a catalogue
with label rules, a season of records with one refused plan, and alerts at once."""

from __future__ import annotations

from typing import Any

from litestar import Litestar

from core.clock import FakeClock, use_clock
from core.db import bound
from core.demo import DemoCity, Simulator
from tests.plugins.drone_spraying.support import BASE
from tests.support import Api


def in_app(api: Api, app: Litestar, clock: FakeClock, work: Any) -> Any:
    async def run() -> Any:
        with bound(app.state.db), use_clock(clock):
            return await work()

    return api.client.blocking_portal.call(run)


async def test_the_demo_seeds_a_season_and_raises_alerts(
    api: Api, app: Litestar, clock: FakeClock
) -> None:
    loaded = app.state.registry.get("drone_spraying")
    spec, ctx = loaded.plugin.demo, loaded.context
    city = DemoCity(app.state.telemetry)
    in_app(api, app, clock, lambda: spec.seed(ctx, city))
    in_app(api, app, clock, lambda: spec.seed(ctx, city))  # every start seeds again: no doubles

    fields = (await api.get(f"{BASE}/fields?limit=200", "admin")).json()["items"]
    assert len(fields) == 10
    assert len({f["organization_id"] for f in fields}) == 3
    assert all(f["area_source"] == "boundary" and 1_000 < f["area_m2"] < 15_000 for f in fields)
    assert all(
        33.1 < f["centroid"]["lat"] < 33.3 and 129.6 < f["centroid"]["lon"] < 129.9 for f in fields
    )
    pesticides = (await api.get(f"{BASE}/pesticides", "admin")).json()["items"]
    assert len(pesticides) == 6 and all(p["labels"] for p in pesticides)
    records = (await api.get(f"{BASE}/spray-records?limit=200", "admin")).json()["items"]
    assert sorted(r["status"] for r in records).count("done") == 15
    assert [r["status"] for r in records].count("planned") == 1
    [refusal] = (await api.get(f"{BASE}/spray-refusals", "admin")).json()["items"]
    assert [r["code"] for r in refusal["reasons"] if r["severity"] == "reject"] == [
        "harvest_inside_interval"
    ]
    flights = (await api.get(f"{BASE}/flight-logs?limit=200", "admin")).json()["items"]
    assert len(flights) == 15

    alerts = (await api.get("/api/v1/alerts?plugin=drone_spraying", "admin")).json()["items"]
    assert {a["type"] for a in alerts} == {"drift"}

    sim = Simulator(clock, 1_000_000, app.state.telemetry)
    in_app(api, app, clock, lambda: spec.simulate(ctx, city, sim))
    alerts = (await api.get("/api/v1/alerts?plugin=drone_spraying", "admin")).json()["items"]
    assert {a["type"] for a in alerts} == {"drift", "harvest_inside_interval"}
