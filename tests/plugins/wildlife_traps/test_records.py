"""Inspections and captures with photos, the bounty report, and the training export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from core.clock import FakeClock
from tests.conftest import World
from tests.plugins.wildlife_traps.support import (
    BASE,
    add_sensor,
    alerts,
    create_trap,
    fresh,
    reading,
    send,
    timeline,
    upload_photo,
)
from tests.support import Api


async def test_an_inspection_keeps_its_photos_visible_only_to_the_organization(
    api: Api, world: World, clock: FakeClock
) -> None:
    trap = await create_trap(api, world)
    photo = await upload_photo(api)
    response = await api.post(
        f"{BASE}/traps/{trap['id']}/inspections",
        as_="farmer",
        json={
            "result": "released_non_target",
            "note": "a raccoon dog, let go",
            "photo_ids": [photo],
        },
    )
    assert response.status_code == 201, response.text
    inspection = response.json()
    assert inspection["result"] == "released_non_target"
    assert inspection["inspector_id"] == world.user_ids["farmer"]
    assert inspection["photos"] == [
        {
            "id": photo,
            "url": f"/api/v1/media/{photo}",
            "thumbnail_url": f"/api/v1/media/{photo}/thumbnail",
        }
    ]
    read = await api.get(f"{BASE}/inspections/{inspection['id']}", as_="farmer")
    assert read.json() == inspection
    listed = (await api.get(f"{BASE}/traps/{trap['id']}/inspections", as_="farmer")).json()
    assert [i["id"] for i in listed["items"]] == [inspection["id"]]
    assert (await api.get(f"/api/v1/media/{photo}", as_="farmer")).status_code == 200
    assert (await api.get(f"/api/v1/media/{photo}", as_="fisher")).status_code == 404
    assert (
        await api.get(f"{BASE}/inspections/{inspection['id']}", as_="fisher")
    ).status_code == 404
    assert (await api.get(f"{BASE}/traps/{trap['id']}", as_="farmer")).json()[
        "today"
    ] == "inspected"


async def test_a_photo_that_is_not_the_callers_answers_422_and_nothing_is_stored(
    api: Api, world: World, clock: FakeClock
) -> None:
    trap = await create_trap(api, world)
    mine = await upload_photo(api)
    theirs = await upload_photo(api, as_="fisher")
    response = await api.post(
        f"{BASE}/traps/{trap['id']}/captures",
        as_="farmer",
        json={
            "species": "wild_boar",
            "sex": "male",
            "disposal": "processed",
            "photo_ids": [mine, theirs],
        },
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/photo_ids/1"
    assert (await api.get(f"{BASE}/traps/{trap['id']}/captures", as_="farmer")).json()[
        "items"
    ] == []
    # the first photo was not claimed either: it can still go with the next record
    again = await api.post(
        f"{BASE}/traps/{trap['id']}/inspections",
        as_="farmer",
        json={"result": "ok", "photo_ids": [mine]},
    )
    assert again.status_code == 201, again.text

    future = (clock.now() + timedelta(hours=1)).isoformat()
    late = await api.post(
        f"{BASE}/traps/{trap['id']}/inspections",
        as_="farmer",
        json={"result": "ok", "inspected_at": future},
    )
    assert late.status_code == 422 and late.json()["errors"][0]["pointer"] == "/inspected_at"
    old = (clock.now() - timedelta(days=8)).isoformat()
    stale = await api.post(
        f"{BASE}/traps/{trap['id']}/inspections",
        as_="farmer",
        json={"result": "ok", "inspected_at": old},
    )
    assert stale.status_code == 422 and stale.json()["errors"][0]["pointer"] == "/inspected_at"
    half = await api.post(
        f"{BASE}/traps/{trap['id']}/captures",
        as_="farmer",
        json={"species": "wild_boar", "sex": "male", "disposal": "processed", "latitude": 33.2},
    )
    assert half.status_code == 422 and half.json()["errors"][0]["pointer"] == "/longitude"


async def test_a_capture_is_linked_to_its_trigger_closes_the_alert_and_feeds_the_bounty_report(
    api: Api, world: World, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 11, 20, 0, 0, tzinfo=UTC))
    trap = await create_trap(api, world, permit_number="R8-077")
    sensor = await add_sensor(api, world, trap["id"])
    clock.set(datetime(2026, 11, 24, 19, 0, tzinfo=UTC))  # 04:00 on the 25th in Sasebo
    fresh(api, "farmer")
    await send(api, sensor["key"], [reading(clock.now() - timedelta(seconds=30), "trigger", 1)])
    [alert] = await alerts(api)

    clock.advance(timedelta(hours=3))
    fresh(api, "farmer")
    photo = await upload_photo(api)
    response = await api.post(
        f"{BASE}/traps/{trap['id']}/captures",
        as_="farmer",
        json={
            "species": "wild_boar",
            "sex": "female",
            "count": 2,
            "estimated_weight_kg": 38.5,
            "disposal": "culled_buried",
            "photo_ids": [photo],
        },
    )
    assert response.status_code == 201, response.text
    capture = response.json()
    [sprung] = [e for e in await timeline(api, trap["id"]) if e["kind"] == "sprung"]
    assert capture["sprung_event_id"] == sprung["id"]
    assert capture["captured_at"].startswith("2026-11-25T03:59:30")  # when it sprang
    assert (capture["latitude"], capture["longitude"]) == (trap["latitude"], trap["longitude"])
    assert await alerts(api) == []  # the capture closed the sprung alert
    resolved = (await api.get(f"/api/v1/alerts/{alert['id']}", as_="farmer")).json()
    assert resolved["status"] == "resolved"
    assert (await api.get(f"{BASE}/traps/{trap['id']}", as_="farmer")).json()["state"] == "sprung"
    # a non-target animal, released: no bounty for it
    released = await api.post(
        f"{BASE}/traps/{trap['id']}/captures",
        as_="farmer",
        json={"species": "raccoon_dog", "sex": "unknown", "disposal": "released"},
    )
    assert released.status_code == 201

    month = f"organization_id={world.org_ids['farm']}&month=2026-11"
    report = (await api.get(f"{BASE}/bounty-report?{month}", as_="farmer")).json()
    [row] = report["rows"]
    assert row["date"] == "2026-11-25" and row["trap"] == "Trap 1"
    assert (row["species"], row["count"], row["sex"]) == ("wild_boar", 2, "female")
    assert row["permit_number"] == "R8-077"
    assert row["photo_urls"] == [f"/api/v1/media/{photo}"]
    assert report["totals"] == {"wild_boar": 2}
    as_csv = await api.get(f"{BASE}/bounty-report.csv?{month}", as_="farmer")
    assert as_csv.headers["content-type"].startswith("text/csv")
    [line] = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert line["date"] == "2026-11-25" and line["time"] == "03:59"
    assert line["latitude"] == "33.203100" and line["sex"] == "female"
    assert line["photos"].endswith(f"/api/v1/media/{photo}")
    assert line["photos"].startswith("http")
    assert (await api.get(f"{BASE}/bounty-report?{month}", as_="fisher")).status_code == 422

    # Reset: the trigger's outcome is on record, and exported to retrain the model.
    reset = await api.post(
        f"{BASE}/traps/{trap['id']}/reset", as_="farmer", json={"state": "disarmed"}
    )
    assert reset.json()["state"] == "disarmed"
    export = await api.get(
        f"{BASE}/training-data.csv?organization_id={world.org_ids['farm']}", as_="farmer"
    )
    [example] = list(csv.DictReader(io.StringIO(export.text)))
    assert example["event_id"] == sprung["id"] and example["label"] == "1"
    assert example["trap_kind"] == "box" and float(example["local_hour"]) == 3.983
    assert float(example["hours_since_armed"]) == 114.99
    assert (await api.get(f"{BASE}/training-data.csv", as_="advisor")).status_code == 403
