"""An animal's hourly series with its baseline band, and the operating point each farm
actually got, estimated from feedback and records."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.clock import FakeClock
from tests.conftest import World
from tests.plugins.livestock.support import (
    BASE,
    DAY,
    HOUR,
    alerts,
    cow,
    history,
    record,
    score,
    window,
)
from tests.support import Api


async def test_the_series_gives_each_hour_with_the_cows_usual_band(
    api: Api, world: World, clock: FakeClock
) -> None:
    the_cow = await cow(api, world, "9000000001", thermo=True)
    now = clock.now()
    await history(api, the_cow, clock, 8, activity=window(now - 2 * HOUR, now, 4.0))
    start, end = now - DAY, now + HOUR
    response = await api.get(
        f"{BASE}/animals/{the_cow.id}/series",
        "farmer",
        params={"from": start.isoformat(), "to": end.isoformat()},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    hours = body["hours"]
    assert len(hours) == 25
    assert datetime.fromisoformat(hours[0]["ts"]) == start
    assert datetime.fromisoformat(hours[-1]["ts"]) == now
    for hour in hours:
        assert hour["activity_low"] <= hour["activity_baseline"] <= hour["activity_high"]
        assert hour["temperature"] is not None and hour["rumination"] is not None
    # The last hours stand far above the band: that is what the chart shows.
    assert hours[-1]["activity"] > 2 * hours[-1]["activity_high"]
    assert hours[-5]["activity"] < 2 * hours[-5]["activity_high"]

    for params, name in [
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-11-20T00:00:00"}, "from"),
        ({"from": "2026-09-01", "to": "2026-11-20"}, "from"),
        ({"from": "2026-11-21", "to": "2026-11-20"}, "from"),
    ]:
        refused = await api.get(f"{BASE}/animals/{the_cow.id}/series", "farmer", params=params)
        assert refused.status_code == 422, (params, refused.text)
        assert refused.json()["errors"][0]["parameter"] == name
    assert (await api.get(f"{BASE}/animals/{the_cow.id}/series", as_="fisher")).status_code == 404


async def test_performance_counts_confirmed_false_and_missed_heats_per_farm(
    api: Api, world: World, clock: FakeClock
) -> None:
    start = clock.now()
    right = await cow(api, world, "9100000001")
    wrong = await cow(api, world, "9100000002")
    quiet = await cow(api, world, "9100000003")
    now = clock.now()
    in_heat = {"activity": window(now - 4 * HOUR, now, 4.5)}
    await history(api, right, clock, 8, **in_heat)
    await history(api, wrong, clock, 8, **in_heat)
    await history(api, quiet, clock, 8)
    await score(api)
    raised = {a["subject"]["id"]: a for a in await alerts(api, "estrus")}
    assert set(raised) == {right.id, wrong.id}

    # The farm inseminates one (a confirmation by record) and calls the other a false alarm;
    # the third cow was seen in heat by the farmer, and no alert had said so: missed.
    await record(api, right.id, "insemination", clock.now(), sire="JP5H3")
    verdict = await api.post(
        f"/api/v1/alerts/{raised[wrong.id]['id']}/feedback",
        "farmer",
        json={"verdict": "false_alarm", "note": "she was chased by the dog"},
    )
    assert verdict.status_code == 200, verdict.text
    await record(api, quiet.id, "heat", clock.now())

    response = await api.get(
        f"{BASE}/performance",
        "farmer",
        params={"from": (start - DAY).isoformat(), "to": (clock.now() + DAY).isoformat()},
    )
    assert response.status_code == 200, response.text
    [farm] = response.json()["organizations"]
    assert farm["organization_id"] == world.org_ids["farm"]
    assert farm["estrus"] == {
        "alerts": 2,
        "confirmed": 1,
        "false_alarms": 1,
        "unrated": 0,
        "missed": 1,
        "sensitivity": 0.5,
        "ppv": 0.5,
    }
    assert farm["calving"]["alerts"] == 0 and farm["calving"]["sensitivity"] is None

    # Others see only their own organizations, and a fishery keeps no livestock.
    other = (await api.get(f"{BASE}/performance", as_="fisher")).json()["organizations"]
    assert other == []
    admin = (await api.get(f"{BASE}/performance", as_="admin")).json()["organizations"]
    assert [o["organization_id"] for o in admin] == [world.org_ids["farm"]]
    assert timedelta(0) <= clock.now() - start
