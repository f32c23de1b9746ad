"""Reports: the farm's season record book (JSON and CSV), the neighbour notice, the monthly
city summary for advisors; feed cards, sync and the KPI."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

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


async def a_month_of_spraying(api: Api, world: World) -> dict:
    """Two flown sprayings in November (one with two products), one planned for tonight,
    one voided, one refused, and a flight log."""
    f = await farm(api, world)
    guard = await pesticide(api, "サセボガード", "第90101号", ["ジノテフラン"], [rice_label()])
    blast = await pesticide(api, "いもちエアー", "第90102号", ["トリシクラゾール"], [rice_label()])
    first = await created(
        api,
        "/spray-records",
        spray(
            f, [line(guard)], start=datetime(2026, 11, 10, 6, tzinfo=JST), contact="090-1111-2222"
        ),
    )
    await created(
        api,
        "/spray-records",
        spray(
            f, [line(guard), line(blast, amount=0.5)], start=datetime(2026, 11, 20, 7, tzinfo=JST)
        ),
    )
    await created(
        api,
        "/spray-records",
        spray(f, [line(blast)], start=datetime(2026, 11, 26, 18, tzinfo=JST), status="planned"),
    )
    gone = await created(
        api, "/spray-records", spray(f, [line(blast)], start=datetime(2026, 11, 12, 6, tzinfo=JST))
    )
    await api.post(f"{BASE}/spray-records/{gone['id']}/void", "farmer", json={"reason": "error"})
    refused = await api.post(
        f"{BASE}/spray-records", "farmer", json=spray(f, [line(guard)], wind_speed_ms=8)
    )
    assert refused.status_code == 422
    await created(
        api,
        "/flight-logs",
        {
            "drone_id": f.drone["id"],
            "operator_id": f.operator["id"],
            "spray_record_id": first["id"],
            "purpose": "農薬散布",
            "takeoff_place": "農道",
            "takeoff_at": "2026-11-10T05:55:00+09:00",
            "landing_place": "農道",
            "landing_at": "2026-11-10T06:35:00+09:00",
        },
    )
    return {"farm": f, "first": first}


async def test_the_record_book_lists_each_product_of_each_flown_spraying(
    api: Api, world: World
) -> None:
    await a_month_of_spraying(api, world)
    book = await api.get(f"{BASE}/record-book?year=2026", "farmer")
    assert book.status_code == 200, book.text
    body = book.json()
    assert body["organization"] == {"id": world.org_ids["farm"], "name": "Hinata Farm"}
    rows = body["rows"]
    assert [(r["date"], r["pesticide"]) for r in rows] == [
        ("2026-11-10", "サセボガード"),
        ("2026-11-20", "サセボガード"),
        ("2026-11-20", "いもちエアー"),
    ]
    assert rows[0]["registration_number"] == "第90101号"
    assert rows[0]["active_ingredients"] == ["ジノテフラン"]
    assert rows[0]["dilution"] == 8
    assert rows[0]["amount"] == 0.9
    assert rows[0]["area_a"] == pytest.approx(100, rel=0.005)
    assert rows[0]["operator"] == "早岐 誠"
    assert rows[0]["drone"] == "JU0000000001"
    assert rows[0]["field"] == "北の田"
    assert rows[0]["crop"] == "水稲"

    sheet = await api.get(f"{BASE}/record-book.csv?year=2026", "farmer")
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/csv")
    assert "attachment" in sheet.headers["content-disposition"]
    assert sheet.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert table[0][:6] == ["日付", "時刻", "圃場", "作物", "農薬", "登録番号"]
    assert table[1][:6] == [
        "2026-11-10",
        "06:00-06:30",
        "北の田",
        "水稲",
        "サセボガード",
        "第90101号",
    ]
    assert len(table) == 4
    english = await api.get(
        f"{BASE}/record-book.csv?year=2026", "farmer", headers={"Accept-Language": "en"}
    )
    assert english.content.decode("utf-8-sig").startswith("Date,Time,Field,Crop,Pesticide")

    # Another year is empty; another farm's book is not to be had.
    assert (await api.get(f"{BASE}/record-book?year=2025", "farmer")).json()["rows"] == []
    foreign = await api.get(f"{BASE}/record-book?organization_id={world.org_ids['farm']}", "fisher")
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["parameter"] == "organization_id"


async def test_the_neighbour_notice_is_ready_to_print_in_the_readers_language(
    api: Api, world: World
) -> None:
    await a_month_of_spraying(api, world)
    notice = await api.get(f"{BASE}/neighbour-notice?date=2026-11-10", "farmer")
    assert notice.status_code == 200, notice.text
    assert notice.headers["content-type"].startswith("text/plain")
    text = notice.text
    assert text.startswith("ドローンによる農薬散布のお知らせ\n")
    for expected in (
        "Hinata Farm は、次のとおりドローンで農薬を散布します。",
        "日付: 2026-11-10",
        "時間: 06:00〜06:30",
        "場所: 北の田",
        "農薬: サセボガード(登録番号 第90101号)",
        "目的: ウンカ類防除",
        "連絡先: 090-1111-2222",
    ):
        assert expected in text, text
    english = await api.get(
        f"{BASE}/neighbour-notice?date=2026-11-20", "farmer", headers={"Accept-Language": "en"}
    )
    assert "Pesticide: サセボガード (registration No. 第90101号), いもちエアー" in english.text
    assert "Contact: 早岐 誠 0956-00-1234" in english.text  # the pilot, when no contact given
    nothing = await api.get(f"{BASE}/neighbour-notice?date=2026-11-11", "farmer")
    assert nothing.status_code == 404
    assert nothing.headers["content-type"].startswith("application/problem+json")


async def test_the_city_summary_counts_a_month_for_advisors(api: Api, world: World) -> None:
    await a_month_of_spraying(api, world)
    summary = await api.get(f"{BASE}/city-summary?month=2026-11", "advisor")
    assert summary.status_code == 200, summary.text
    body = summary.json()
    assert body["month"] == "2026-11"
    assert body["from"].startswith("2026-11-01T00:00:00")
    assert (body["farms"], body["spray_records"], body["flights"]) == (1, 2, 1)
    assert body["area_ha"] == pytest.approx(2.0, abs=0.01)
    assert body["by_crop"] == [{"crop": "水稲", "area_ha": body["area_ha"], "records": 2}]
    assert body["flight_minutes"] == 40
    assert body["rejected_plans"] == 1
    assert (await api.get(f"{BASE}/city-summary", "farmer")).status_code == 403
    october = await api.get(f"{BASE}/city-summary?month=2026-10", "admin")
    assert october.json()["spray_records"] == 0
    bad = await api.get(f"{BASE}/city-summary?month=November", "admin")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["parameter"] == "month"

    kpis = await api.get("/api/v1/kpis?from=2026-11-01&to=2026-12-01", "admin")
    [area] = [k for k in kpis.json()["kpis"] if k["key"] == "drone_sprayed_area_ha"]
    assert (area["value"], area["parts"]) == (2, {"drone_spraying": 2})
    kpis = await api.get("/api/v1/kpis?from=2026-10-01&to=2026-11-01", "admin")
    [area] = [k for k in kpis.json()["kpis"] if k["key"] == "drone_sprayed_area_ha"]
    assert area["value"] == 0


async def test_home_cards_and_sync(api: Api, world: World) -> None:
    month = await a_month_of_spraying(api, world)
    f = month["farm"]
    # The spraying planned tonight (7 days) allows the harvest from 12-03, a week from
    # today; the licence ends then too.
    await api.patch(
        f"{BASE}/operators/{f.operator['id']}", "farmer", json={"licence_expires": "2026-12-03"}
    )
    home = await api.get("/mobile/v1/home", "farmer", headers={"Accept-Language": "en"})
    assert home.status_code == 200, home.text
    cards = {c["type"]: c for c in home.json()["cards"] if c["plugin"] == "drone_spraying"}
    assert set(cards) == {"interval_ends", "licence_expiring"}
    assert cards["interval_ends"]["title"] == "Harvest allowed from 2026-12-03"
    assert cards["interval_ends"]["action"]["target"] == {
        "kind": "drone_spraying.season",
        "id": f.season["id"],
    }
    assert cards["licence_expiring"]["body"] == (
        "The licence of 早岐 誠 expires on 2026-12-03, in 7 days."
    )
    stranger = await api.get("/mobile/v1/home", "fisher")
    assert [c for c in stranger.json()["cards"] if c["plugin"] == "drone_spraying"] == []

    synced = await api.get("/mobile/v1/sync", "farmer")
    assert synced.status_code == 200, synced.text
    changes = synced.json()["changes"]["drone_spraying"]
    assert len(changes["fields"]["upserted"]) == 1
    assert len(changes["spray_records"]["upserted"]) == 4
    assert {r["status"] for r in changes["spray_records"]["upserted"]} == {
        "done",
        "planned",
        "voided",
    }
    assert {p["name"] for p in changes["pesticides"]["upserted"]} == {
        "サセボガード",
        "いもちエアー",
    }
    assert all(c["deleted"] == [] for c in changes.values())
    later = await api.get(f"/mobile/v1/sync?cursor={synced.json()['cursor']}", "farmer")
    assert later.status_code == 200
