"""Records kept: a correction is a new version with who, when and why; the original stays
readable; nothing is ever deleted."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.clock import FakeClock
from tests.conftest import World
from tests.plugins.drone_spraying.support import (
    BASE,
    created,
    farm,
    line,
    pesticide,
    rice_label,
    spray,
)
from tests.support import Api


async def test_a_correction_keeps_the_original_readable_with_its_history(
    api: Api, world: World, clock: FakeClock
) -> None:
    f = await farm(api, world)
    product = await pesticide(api, "Rice Guard", "第1号", ["ジノテフラン"], [rice_label()])
    original = await created(api, "/spray-records", spray(f, [line(product, amount=0.9)]))
    url = f"{BASE}/spray-records/{original['id']}"

    clock.advance(timedelta(hours=2))
    api.forget("farmer")
    corrected = await api.post(
        f"{url}/corrections",
        "farmer",
        json={
            "reason": "The tank log shows 0.8 L, not 0.9 L.",
            "products": [line(product, amount=0.8)],
            "notes": "measured from the tank log",
        },
    )
    assert corrected.status_code == 200, corrected.text
    now = corrected.json()
    assert now["id"] == original["id"]
    assert now["version"] == 2
    assert now["products"][0]["amount"] == 0.8
    assert now["notes"] == "measured from the tank log"
    assert now["created_at"] == original["created_at"]
    assert datetime.fromisoformat(now["updated_at"]) == clock.now()

    history = await api.get(f"{url}/history", "farmer")
    assert history.status_code == 200
    first, second = history.json()["versions"]
    assert first["version"] == 1 and first["kind"] == "created" and first["reason"] == ""
    assert first["record"]["products"][0]["amount"] == 0.9  # the original, as it was
    assert first["record"]["notes"] == ""
    assert first["author"] == {"id": world.user_ids["farmer"], "display_name": "farmer"}
    assert datetime.fromisoformat(first["at"]) == clock.now() - timedelta(hours=2)
    assert second["kind"] == "corrected"
    assert second["reason"] == "The tank log shows 0.8 L, not 0.9 L."
    assert second["author"]["id"] == world.user_ids["farmer"]
    assert datetime.fromisoformat(second["at"]) == clock.now()
    assert second["changed"] == ["notes", "products"]
    assert second["record"]["products"][0]["amount"] == 0.8
    assert datetime.fromisoformat(first["record"]["started_at"]) == datetime.fromisoformat(
        original["started_at"]
    )

    # An advisor or another farm cannot read it; nothing offers a delete.
    assert (await api.get(f"{url}/history", "fisher")).status_code == 404
    assert (await api.delete(url, "farmer")).status_code == 405
    assert (await api.delete(url, "admin")).status_code == 405


async def test_voiding_keeps_the_record_and_it_counts_no_more(api: Api, world: World) -> None:
    f = await farm(api, world)
    product = await pesticide(
        api, "Rice Guard", "第1号", ["ジノテフラン"], [rice_label(phi_days=21)]
    )
    record = await created(api, "/spray-records", spray(f, [line(product)]))
    url = f"{BASE}/spray-records/{record['id']}"
    season = await api.get(f"{BASE}/seasons/{f.season['id']}", "farmer")
    assert season.json()["earliest_harvest_date"] == "2026-12-17"

    voided = await api.post(f"{url}/void", "farmer", json={"reason": "planned twice by mistake"})
    assert voided.status_code == 200
    assert (voided.json()["status"], voided.json()["version"]) == ("voided", 2)
    assert (await api.get(url, "farmer")).json()["status"] == "voided"
    season = await api.get(f"{BASE}/seasons/{f.season['id']}", "farmer")
    assert season.json()["earliest_harvest_date"] is None

    listed = await api.get(f"{BASE}/spray-records?status=voided", "farmer")
    assert [r["id"] for r in listed.json()["items"]] == [record["id"]]
    again = await api.post(f"{url}/void", "farmer", json={"reason": "again"})
    assert again.status_code == 409
    correction = await api.post(f"{url}/corrections", "farmer", json={"reason": "x", "notes": "y"})
    assert correction.status_code == 409
    history = (await api.get(f"{url}/history", "farmer")).json()["versions"]
    assert [(v["kind"], v["reason"]) for v in history] == [
        ("created", ""),
        ("voided", "planned twice by mistake"),
    ]


async def test_a_correction_that_breaks_the_label_changes_nothing(api: Api, world: World) -> None:
    f = await farm(api, world)
    product = await pesticide(api, "Rice Guard", "第1号", ["ジノテフラン"], [rice_label()])
    record = await created(api, "/spray-records", spray(f, [line(product)]))
    url = f"{BASE}/spray-records/{record['id']}"
    refused = await api.post(
        f"{url}/corrections",
        "farmer",
        json={"reason": "more product", "products": [line(product, amount=2.0)]},
    )
    assert refused.status_code == 422
    assert refused.json()["verdict"]["reasons"][0]["code"] == "amount_above_maximum"
    assert (await api.get(url, "farmer")).json() == record
    refusals = (await api.get(f"{BASE}/spray-refusals", "farmer")).json()["items"]
    assert [r["record_id"] for r in refusals] == [record["id"]]
    # A correction that changes nothing is no correction.
    same = await api.post(f"{url}/corrections", "farmer", json={"reason": "just checking"})
    assert same.status_code == 422
    # The record's own use does not count against itself when it is corrected.
    ok = await api.post(
        f"{url}/corrections",
        "farmer",
        json={"reason": "wind measured", "wind_speed_ms": 2.0},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["verdict"]["outcome"] == "ok"


async def test_flight_logs_and_preflight_checks_hold_the_aviation_law_fields(
    api: Api, world: World
) -> None:
    f = await farm(api, world)
    body = {
        "drone_id": f.drone["id"],
        "operator_id": f.operator["id"],
        "purpose": "農薬散布",
        "takeoff_place": "北の田 農道",
        "takeoff_at": "2026-11-26T06:00:00+09:00",
        "landing_place": "北の田 農道",
        "landing_at": "2026-11-26T06:42:30+09:00",
        "incidents": "",
        "defects": "右後ろのプロペラに欠け。交換済み。",
    }
    log = await created(api, "/flight-logs", body)
    assert log["flight_minutes"] == 42.5
    assert log["drone"] == {"id": f.drone["id"], "name": "JU0000000001"}
    assert log["operator"]["name"] == "早岐 誠"
    assert log["defects"] == body["defects"]
    fetched = await api.get(f"{BASE}/flight-logs/{log['id']}", "farmer")
    assert fetched.json() == log
    backwards = await api.post(
        f"{BASE}/flight-logs", "farmer", json={**body, "landing_at": "2026-11-26T05:00:00+09:00"}
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["pointer"] == "/landing_at"

    check = await created(
        api,
        "/preflight-checks",
        {"drone_id": f.drone["id"], "items": {"プロペラ": True, "バッテリー": False}},
    )
    assert (check["passed"], check["checked_on"]) == (False, "2026-11-26")
