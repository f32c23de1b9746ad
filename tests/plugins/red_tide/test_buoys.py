"""Buoys: depth-named metrics, hypoxia alerts for the farms near a buoy, FSI, the station
series for charts, the GeoJSON map, and the red-tide detection sites KPI."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.clock import FakeClock
from tests.conftest import World
from tests.core.test_ingest import ingest
from tests.plugins.red_tide.support import (
    BASE,
    add_farm,
    add_fishery,
    advance,
    alerts,
    build_sea,
    drained,
)
from tests.support import Api


async def buoy(api: Api, world: World, sea: Any, station: str, org: str = "fishery") -> Any:
    response = await api.post(
        "/api/v1/devices",
        "admin",
        json={
            "kind": "red_tide.buoy",
            "name": f"Buoy {station}",
            "organization_id": world.org_ids[org],
            "external_id": f"buoy-{station}",
            "subject": {"kind": "red_tide.station", "id": sea.stations[station]},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def profile(clock: FakeClock, tag: str, **values: float) -> list[dict[str, Any]]:
    at = clock.now().isoformat()
    return [
        {"id": f"{tag}-{metric}", "ts": at, "metric": metric, "value": value}
        for metric, value in values.items()
    ]


async def test_buoy_metrics_name_their_depth(api: Api) -> None:
    kinds = {
        k["kind"]: k
        for p in (await api.get("/api/v1/plugins", "admin")).json()
        for k in p["device_kinds"]
    }
    metrics = {m["name"]: m for m in kinds["red_tide.buoy"]["metrics"]}
    assert {
        "temperature_0_5m",
        "salinity_2_5m",
        "do_5m",
        "chlorophyll_10m",
        "turbidity_bottom",
        "fsi",
    } <= set(metrics)
    assert metrics["do_bottom"] == {"name": "do_bottom", "unit": "mg/L", "min": 0.0, "max": 20.0}
    # (core lists the subject kind without the plugin prefix devices are bound with)
    assert kinds["red_tide.buoy"]["subject_kind"] == "red_tide.station"
    assert kinds["red_tide.feeder"]["subject_kind"] == "red_tide.cage"


async def test_low_oxygen_warns_the_farms_near_the_buoy_and_recovers(
    api: Api, world: World, clock: FakeClock
) -> None:
    sea = await build_sea(api)
    await add_fishery(api, world, "Hario", "hario")
    # 0.5 km from KJ-1, 3 km away, 20 km away (another area), and one without a position.
    await add_farm(
        api,
        sea,
        "fisher",
        world.org_ids["fishery"],
        "Near",
        "Kujukushima",
        position=(33.169, 129.675),
    )
    await add_farm(
        api,
        sea,
        "fisher",
        world.org_ids["fishery"],
        "Mid",
        "Kujukushima",
        position=(33.192, 129.675),
    )
    await add_farm(
        api, sea, "hario", world.org_ids["Hario"], "Far", "Sasebo Bay", position=(33.000, 129.760)
    )
    await add_farm(api, sea, "hario", world.org_ids["Hario"], "Kuju unplaced", "Kujukushima")
    device = await buoy(api, world, sea, "KJ-1")

    answer = await ingest(
        api,
        device["key"],
        profile(clock, "r1", temperature_0_5m=26.2, do_0_5m=7.8, do_5m=4.1, do_bottom=2.4),
    )
    assert answer.json()["accepted"] == 4, answer.text
    await drained(api)
    mine = await alerts(api, "fisher")
    assert sorted(a["subject"]["label"] for a in mine) == ["Mid", "Near"]
    near = next(a for a in mine if a["subject"]["label"] == "Near")
    assert (near["type"], near["severity"]) == ("hypoxia", "major")
    assert near["data"]["metric"] == "do_bottom" and near["data"]["do_mg_l"] == 2.4
    en = await api.get(f"/api/v1/alerts/{near['id']}", "fisher", headers={"Accept-Language": "en"})
    assert en.json()["body"] == (
        "Buoy KJ-1 at Station KJ-1 reads 2.4 mg/L dissolved oxygen at the bottom (alert below "
        "3 mg/L). Watch the fish and reduce feeding."
    )
    hario = await alerts(api, "hario")
    assert [a["subject"]["label"] for a in hario] == ["Kuju unplaced"]

    # Still low: the same alerts count; recovered at every depth: resolved.
    advance(api, clock, timedelta(hours=1))
    await ingest(api, device["key"], profile(clock, "r2", do_bottom=2.2))
    await drained(api)
    assert [a["count"] for a in await alerts(api, "fisher")] == [2, 2]
    advance(api, clock, timedelta(hours=1))
    await ingest(api, device["key"], profile(clock, "r3", do_0_5m=7.5, do_bottom=4.6))
    await drained(api)
    assert await alerts(api, "fisher") == []


async def test_a_high_fsi_tells_the_areas_farms_to_expect_a_count(
    api: Api, world: World, clock: FakeClock
) -> None:
    sea = await build_sea(api)
    await add_farm(api, sea, "fisher", world.org_ids["fishery"], "Kuju 1", "Kujukushima")
    await add_farm(api, sea, "fisher", world.org_ids["fishery"], "Bay 1", "Sasebo Bay")
    device = await buoy(api, world, sea, "KJ-2")
    await ingest(api, device["key"], profile(clock, "f1", fsi=2.6))
    await drained(api)
    [suspected] = await alerts(api, "fisher")
    assert (suspected["type"], suspected["severity"]) == ("harmful_plankton_suspected", "minor")
    assert suspected["subject"]["label"] == "Kuju 1"
    advance(api, clock, timedelta(hours=1))
    await ingest(api, device["key"], profile(clock, "f2", fsi=1.1))
    await drained(api)
    assert await alerts(api, "fisher") == []


async def test_station_series_map_and_detection_sites(
    api: Api, world: World, clock: FakeClock
) -> None:
    sea = await build_sea(api)
    kj1 = await buoy(api, world, sea, "KJ-1")
    await buoy(api, world, sea, "SB-1")  # registered, never reports
    start = clock.now()
    for hour in range(3):
        for minute in (0, 30):
            at = start + timedelta(hours=hour, minutes=minute)
            clock.set(at)
            await ingest(
                api,
                kj1["key"],
                profile(
                    clock,
                    f"t{hour}-{minute}",
                    temperature_0_5m=24 + hour + minute / 60,
                    do_bottom=5.0,
                ),
            )
    advance(api, clock, timedelta(minutes=30))
    await api.post(
        f"{BASE}/samples",
        "advisor",
        json={
            "station_id": sea.stations["KJ-1"],
            "sampled_at": (start + timedelta(hours=1)).isoformat(),
            "depth_m": 2.5,
            "counts": {"karenia_mikimotoi": 42},
        },
    )

    series = await api.get(
        f"{BASE}/series",
        "fisher",
        params={
            "station_id": sea.stations["KJ-1"],
            "from": start.isoformat(),
            "metric": "temperature_0_5m",
        },
    )
    assert series.status_code == 200, series.text
    body = series.json()
    [temperature] = body["telemetry"]
    assert (temperature["name"], temperature["unit"]) == ("temperature_0_5m", "°C")
    assert [round(v, 2) for _ts, v in temperature["points"]] == [24.25, 25.25, 26.25]
    assert body["counts"] == [
        {
            "name": "karenia_mikimotoi",
            "unit": "cells/mL",
            "points": [[body["counts"][0]["points"][0][0], 42.0]],
        }
    ]
    raw = (
        await api.get(f"{BASE}/series?station_id={sea.stations['KJ-1']}&resolution=raw", "fisher")
    ).json()
    assert len(next(s for s in raw["telemetry"] if s["name"] == "temperature_0_5m")["points"]) == 6
    unknown = await api.get(f"{BASE}/series?station_id=nowhere", "fisher")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["parameter"] == "station_id"
    too_long = await api.get(
        f"{BASE}/series?station_id={sea.stations['KJ-1']}&from=2026-01-01T00:00:00Z", "fisher"
    )
    assert too_long.status_code == 422

    geo = await api.get(f"{BASE}/map", "fisher")
    assert geo.status_code == 200
    assert geo.headers["content-type"].startswith("application/geo+json")
    features = geo.json()["features"]
    assert geo.json()["type"] == "FeatureCollection"
    kinds = sorted((f["properties"]["kind"], f["properties"]["name"]) for f in features)
    assert kinds == [
        ("area", "Kujukushima"),
        ("area", "Sasebo Bay"),
        ("buoy", "Buoy KJ-1"),
        ("buoy", "Buoy SB-1"),
        ("station", "Station KJ-1"),
        ("station", "Station KJ-2"),
        ("station", "Station SB-1"),
    ]
    area = next(f for f in features if f["properties"]["name"] == "Kujukushima")
    assert area["geometry"]["type"] == "Polygon"
    assert area["properties"]["level"] == "advisory"
    kj1_point = next(f for f in features if f["properties"]["name"] == "Buoy KJ-1")
    assert kj1_point["geometry"] == {"type": "Point", "coordinates": [129.675, 33.165]}
    assert kj1_point["properties"]["latest"]["temperature_0_5m"] == 26.5

    stations = (await api.get(f"{BASE}/stations", "fisher")).json()["items"]
    assert {s["code"]: s["buoys"] for s in stations}["KJ-1"] == [kj1["id"]]

    kpis = (await api.get("/api/v1/kpis", "admin")).json()["kpis"]
    [sites] = [k for k in kpis if k["key"] == "redtide_detection_sites"]
    assert (sites["value"], sites["parts"]) == (1, {"red_tide": 1})  # SB-1 never reported
    [fishers] = [k for k in kpis if k["key"] == "fishers_using_iot"]
    assert fishers["parts"]["red_tide"] == 1  # core counts it from the buoys' organization


async def test_a_buoy_binds_only_to_a_station_its_organization_may_use(
    api: Api, world: World
) -> None:
    sea = await build_sea(api)
    operated = await api.post(
        f"{BASE}/stations",
        "admin",
        json={
            "area_id": sea.areas["Kujukushima"],
            "code": "KJ-9",
            "name": "Operated",
            "latitude": 33.2,
            "longitude": 129.6,
            "operator_id": world.org_ids["fishery"],
        },
    )
    assert operated.status_code == 201, operated.text
    refused = await api.post(
        "/api/v1/devices",
        "farmer",
        json={
            "kind": "red_tide.buoy",
            "name": "b",
            "organization_id": world.org_ids["farm"],
            "external_id": "b",
            "subject": {"kind": "red_tide.station", "id": operated.json()["id"]},
        },
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/subject/id"
    duplicate = await api.post(
        f"{BASE}/stations",
        "advisor",
        json={
            "area_id": sea.areas["Kujukushima"],
            "code": "KJ-9",
            "name": "Again",
            "latitude": 33.2,
            "longitude": 129.6,
        },
    )
    assert duplicate.status_code == 409
    open_ring = await api.post(
        f"{BASE}/areas",
        "admin",
        json={
            "name": "Open",
            "polygon": [[[129.6, 33.1], [129.7, 33.1], [129.7, 33.2], [129.6, 33.25]]],
        },
    )
    assert open_ring.status_code == 422
    assert open_ring.json()["errors"][0]["pointer"] == "/polygon/0"
    assert (await api.post(f"{BASE}/areas", "fisher", json={})).status_code == 403
