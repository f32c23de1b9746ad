"""Field areas on the ellipsoid, and flight tracks measured against a known field: sprayed
area, coverage, share outside (drift) and duration, within 1% of what they truly are."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import World
from tests.plugins.drone_spraying.support import (
    BASE,
    JST,
    RICE,
    created,
    farm,
    line,
    lonlat,
    pesticide,
    rectangle,
    rice_label,
    spray,
)
from tests.support import Api

WITHIN = 0.01  # the bar: within 1%


async def test_a_fields_area_comes_from_its_polygon_on_the_ellipsoid(
    api: Api, world: World
) -> None:
    org = world.org_ids["farm"]
    big = await created(
        api, "/fields", {"organization_id": org, "name": "A", "boundary": rectangle(200, 100)}
    )
    assert big["area_m2"] == pytest.approx(20_000, rel=WITHIN / 100)
    assert big["area_a"] == pytest.approx(200, rel=WITHIN / 100)
    assert big["area_source"] == "boundary"
    assert big["centroid"]["lat"] == pytest.approx(lonlat(100, 50)[1], abs=1e-6)
    assert big["boundary"]["type"] == "Polygon"
    # A field of 1 ha with a 20 m x 20 m hole (a barn) in it.
    outer = rectangle(100, 100)["coordinates"][0]
    hole = [lonlat(40, 40), lonlat(40, 60), lonlat(60, 60), lonlat(60, 40), lonlat(40, 40)]
    holed = await created(
        api,
        "/fields",
        {
            "organization_id": org,
            "name": "B",
            "boundary": {"type": "Polygon", "coordinates": [outer, hole]},
        },
    )
    assert holed["area_m2"] == pytest.approx(9_600, rel=WITHIN / 100)
    by_hand = await created(
        api, "/fields", {"organization_id": org, "name": "C", "crop": RICE, "area_m2": 1234.5}
    )
    assert (by_hand["area_m2"], by_hand["area_source"], by_hand["boundary"]) == (
        1234.5,
        "manual",
        None,
    )
    # Drawing the boundary later replaces the area entered by hand.
    redrawn = await api.patch(
        f"{BASE}/fields/{by_hand['id']}", "farmer", json={"boundary": rectangle(50, 20)}
    )
    assert redrawn.json()["area_m2"] == pytest.approx(1_000, rel=WITHIN / 100)
    assert redrawn.json()["area_source"] == "boundary"


BAD_BOUNDARIES = [
    ({"type": "Point", "coordinates": [129.7, 33.1]}, "/boundary/type"),
    (
        {"type": "Polygon", "coordinates": [[[129.7, 33.1], [129.8, 33.1], [129.7, 33.1]]]},
        "/boundary/coordinates/0",
    ),
    (
        {
            "type": "Polygon",
            "coordinates": [[[129.7, 33.1], [129.8, 33.1], [129.8, 33.2], [129.7, 33.2]]],
        },
        "/boundary/coordinates/0",
    ),
    (
        {
            "type": "Polygon",
            "coordinates": [[[129.7, 33.1], [129.8, 33.1], [129.8, 93.2], [129.7, 33.1]]],
        },
        "/boundary/coordinates/0/2",
    ),
    (
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
        "/boundary/coordinates",
    ),
]


async def test_a_bad_boundary_answers_422_pointing_into_it(api: Api, world: World) -> None:
    for boundary, pointer in BAD_BOUNDARIES:
        body = {"organization_id": world.org_ids["farm"], "name": "X", "boundary": boundary}
        response = await api.post(f"{BASE}/fields", "farmer", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["pointer"] == pointer
    listed = await api.get(f"{BASE}/fields", "farmer")
    assert listed.json()["items"] == []


def lawnmower_csv(start: datetime) -> str:
    """Ten 200 m passes 5 m apart across the south half of a 200 m x 100 m field, the pump
    off on the turns; the last pass runs on 20 m past the field's west edge."""
    rows = ["time,lat,lon,altitude,flow"]
    moment = start
    for k in range(10):
        y = 2.5 + 5 * k
        ends = (0, 200) if k % 2 == 0 else (200, 0)
        if k == 9:
            ends = (200, -20)
        for x, flow in ((ends[0], 1.6), (ends[1], 0.0)):
            lon, lat = lonlat(x, y)
            rows.append(f"{moment.isoformat()},{lat},{lon},3.0,{flow}")
            moment += timedelta(seconds=30)
    return "\n".join(rows)


async def spray_record_on(api: Api, world: World, width: float, height: float) -> dict[str, Any]:
    f = await farm(api, world)
    response = await api.patch(
        f"{BASE}/fields/{f.field['id']}", "farmer", json={"boundary": rectangle(width, height)}
    )
    assert response.status_code == 200
    product = await pesticide(api, "Rice Guard", "第1号", ["ジノテフラン"], [rice_label()])
    amount = 0.09 * width * height / 1000  # 0.09 L per 10 a
    return await created(api, "/spray-records", spray(f, [line(product, amount=amount)]))


async def test_a_csv_track_gives_area_coverage_and_drift_within_1_percent(
    api: Api, world: World
) -> None:
    record = await spray_record_on(api, world, 200, 100)
    start = datetime(2026, 11, 26, 6, 0, tzinfo=JST)
    response = await api.post(
        f"{BASE}/spray-records/{record['id']}/track",
        "farmer",
        json={"format": "csv", "swath_width_m": 5, "csv": lawnmower_csv(start)},
    )
    assert response.status_code == 201, response.text
    summary = response.json()["summary"]
    # Nine full passes inside plus one of 220 m: 10,100 m² sprayed, 10,000 m² inside a
    # field of 20,000 m², 100 m² outside; 20 fixes 30 s apart.
    assert summary["sprayed_area_m2"] == pytest.approx(10_100, rel=WITHIN)
    assert summary["inside_area_m2"] == pytest.approx(10_000, rel=WITHIN)
    assert summary["field_area_m2"] == pytest.approx(20_000, rel=WITHIN)
    assert summary["coverage"] == pytest.approx(0.5, rel=WITHIN)
    assert summary["outside_share"] == pytest.approx(100 / 10_100, rel=WITHIN)
    assert summary["drift_warning"] is False
    assert summary["duration_s"] == 570
    assert summary["spraying_s"] == 300
    assert summary["pass_count"] == 10
    assert summary["point_count"] == 20
    assert summary["distance_m"] == pytest.approx(9 * 200 + 220 + 9 * 5, rel=WITHIN)
    assert datetime.fromisoformat(summary["started_at"]) == start
    assert response.json()["sprayed_paths"]["type"] == "MultiLineString"
    assert len(response.json()["sprayed_paths"]["coordinates"]) == 10

    # Stored with the record, as a new version of it.
    again = (await api.get(f"{BASE}/spray-records/{record['id']}", "farmer")).json()
    assert again["track"] == summary
    assert again["version"] == 2
    stored = await api.get(f"{BASE}/spray-records/{record['id']}/track", "farmer")
    assert stored.json() == response.json()
    history = (await api.get(f"{BASE}/spray-records/{record['id']}/history", "farmer")).json()
    assert [v["kind"] for v in history["versions"]] == ["created", "track_imported"]
    assert history["versions"][1]["changed"] == ["track"]


async def test_a_geojson_track_sprays_along_its_lines(api: Api, world: World) -> None:
    record = await spray_record_on(api, world, 100, 100)
    url = f"{BASE}/spray-records/{record['id']}/track"
    # One pass through the middle, 10 m swath: a 100 m x 10 m strip.
    middle = {"type": "LineString", "coordinates": [lonlat(0, 50), lonlat(100, 50)]}
    response = await api.post(
        url, "farmer", json={"format": "geojson", "swath_width_m": 10, "geojson": middle}
    )
    assert response.status_code == 201, response.text
    summary = response.json()["summary"]
    assert summary["sprayed_area_m2"] == pytest.approx(1_000, rel=WITHIN)
    assert summary["coverage"] == pytest.approx(0.1, rel=WITHIN)
    assert summary["outside_share"] == pytest.approx(0, abs=1e-6)
    assert summary["duration_s"] is None

    # Two overlapping passes (counted once) as a Feature with a time per position.
    times = [
        ["2026-11-26T06:00:00+09:00", "2026-11-26T06:00:20+09:00"],
        ["2026-11-26T06:01:00+09:00", "2026-11-26T06:01:20+09:00"],
    ]
    feature = {
        "type": "Feature",
        "properties": {"coordTimes": times},
        "geometry": {
            "type": "MultiLineString",
            "coordinates": [[lonlat(0, 50), lonlat(100, 50)], [lonlat(100, 55), lonlat(0, 55)]],
        },
    }
    response = await api.post(
        url, "farmer", json={"format": "geojson", "swath_width_m": 10, "geojson": feature}
    )
    summary = response.json()["summary"]
    assert summary["sprayed_area_m2"] == pytest.approx(1_500, rel=WITHIN)
    assert summary["duration_s"] == 80
    assert summary["spraying_s"] == 40


async def test_spraying_outside_the_field_raises_a_drift_warning(api: Api, world: World) -> None:
    record = await spray_record_on(api, world, 100, 100)
    url = f"{BASE}/spray-records/{record['id']}/track"
    # A 150 m pass: a third of it beyond the field's east edge.
    over = {"type": "LineString", "coordinates": [lonlat(0, 50), lonlat(150, 50)]}
    response = await api.post(
        url, "farmer", json={"format": "geojson", "swath_width_m": 5, "geojson": over}
    )
    summary = response.json()["summary"]
    assert summary["outside_share"] == pytest.approx(1 / 3, rel=WITHIN)
    assert summary["drift_warning"] is True
    alerts = await api.get("/api/v1/alerts?plugin=drone_spraying", "farmer")
    [alert] = alerts.json()["items"]
    assert alert["type"] == "drift"
    assert alert["severity"] == "warning"
    assert alert["subject"] == {
        "kind": "drone_spraying.spray_record",
        "id": record["id"],
        "label": "北の田",
    }
    assert alert["data"]["outside_share"] == pytest.approx(1 / 3, rel=WITHIN)

    inside = {"type": "LineString", "coordinates": [lonlat(0, 50), lonlat(100, 50)]}
    await api.post(url, "farmer", json={"format": "geojson", "swath_width_m": 5, "geojson": inside})
    alerts = await api.get("/api/v1/alerts?plugin=drone_spraying&status=resolved", "farmer")
    assert [a["type"] for a in alerts.json()["items"]] == ["drift"]


BAD_TRACKS: list[tuple[dict[str, Any], str, str]] = [
    (
        {"format": "csv", "swath_width_m": 5, "csv": "time,lat,lon\n0,33,129\n"},
        "/csv",
        "line 1: missing columns altitude, flow",
    ),
    (
        {
            "format": "csv",
            "swath_width_m": 5,
            "csv": "time,lat,lon,altitude,flow\n0,33.18,129.72,3,1\n10,north,129.72,3,1\n",
        },
        "/csv",
        "line 3: lat is not a number",
    ),
    (
        {
            "format": "csv",
            "swath_width_m": 5,
            "csv": "time,lat,lon,altitude,flow\n10,33.18,129.72,3,1\n0,33.18,129.72,3,1\n",
        },
        "/csv",
        "line 3: time goes backwards",
    ),
    (
        {"format": "csv", "swath_width_m": 50, "csv": "time,lat,lon,altitude,flow\n"},
        "/swath_width_m",
        "at most 20 m",
    ),
    (
        {
            "format": "geojson",
            "swath_width_m": 5,
            "geojson": {"type": "LineString", "coordinates": [[129.72, 33.18]]},
        },
        "/geojson/coordinates",
        "a line needs at least two positions",
    ),
    ({"format": "geojson", "swath_width_m": 5}, "/geojson", "give the track as GeoJSON"),
]


async def test_a_bad_track_answers_422_and_changes_nothing(api: Api, world: World) -> None:
    record = await spray_record_on(api, world, 100, 100)
    for body, pointer, detail in BAD_TRACKS:
        response = await api.post(
            f"{BASE}/spray-records/{record['id']}/track",
            "farmer",
            json=body,
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"] == [{"pointer": pointer, "detail": detail}]
    again = await api.get(f"{BASE}/spray-records/{record['id']}", "farmer")
    assert (again.json()["version"], again.json()["track"]) == (1, None)
