"""CSV import of flash-report cell counts: per-row errors, idempotent on re-import."""

from __future__ import annotations

from typing import Any

from core.clock import FakeClock
from tests.conftest import World
from tests.plugins.red_tide.support import BASE, area, build_sea
from tests.support import Api

HEADER = (
    "station,date,time,depth_m,temperature_c,salinity,"
    "karenia_mikimotoi,chattonella_antiqua,シャットネラ・マリーナ\n"
)
REPORT = (
    HEADER
    + """KJ-1,2026/11/26,09:10,0.5,21.4,32.1,820,ND,
KJ-1,2026/11/26,09:10,2.5,21.0,32.6,"1,240",-,2
KJ-1,2026/11/26,09:10,5,20.7,33.0,310,0,0
KJ-2,2026-11-26,09:40,2.5,21.1,32.4,35,0,0
XX-9,2026-11-26,09:40,2.5,21.1,32.4,35,0,0
KJ-2,2026-11-26,09:40,,21.1,32.4,35,0,0
SB-1,2026-11-26,10:05,2.5,warm,32.4,3,0,0
SB-1,2026-11-31,10:05,2.5,21.0,32.4,3,0,0
SB-1,2026-11-26,10:05,5,21.0,32.4,-4,0,0

SB-1,2026-11-26,10:05,0.5,21.5,32.2,1,0,0
"""
)


async def post_csv(api: Api, text: str, as_: str = "advisor") -> Any:
    return await upload(api, text.encode(), as_)


async def upload(api: Api, content: bytes, as_: str = "advisor") -> Any:
    return await api.post(
        f"{BASE}/samples/import", as_, files={"file": ("flash.csv", content, "text/csv")}
    )


async def test_a_flash_report_imports_with_per_row_errors_and_reimports_as_unchanged(
    api: Api, world: World, clock: FakeClock
) -> None:
    sea = await build_sea(api)

    first = await post_csv(api, REPORT)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["rows"], body["created"], body["updated"], body["unchanged"]) == (10, 5, 0, 0)
    assert body["errors"] == [
        {"row": 6, "column": "station", "detail": "no station with code 'XX-9'"},
        {"row": 7, "column": "depth_m", "detail": "missing"},
        {"row": 8, "column": "temperature_c", "detail": "'warm' is not a number"},
        {"row": 9, "column": "date", "detail": "'2026-11-31' is not a date (YYYY-MM-DD)"},
        {"row": 10, "column": "karenia_mikimotoi", "detail": "-4 is outside [0, 1e+07]"},
    ]
    assert body["levels"] == {sea.areas["Kujukushima"]: "warning", sea.areas["Sasebo Bay"]: "none"}

    samples = (await api.get(f"{BASE}/samples?station_id={sea.stations['KJ-1']}", "fisher")).json()
    by_depth = {s["depth_m"]: s for s in samples["items"]}
    assert by_depth[2.5]["counts"] == {
        "karenia_mikimotoi": 1240.0,
        "chattonella_antiqua": 0.0,
        "chattonella_marina": 2.0,
    }
    assert by_depth[0.5]["counts"] == {"karenia_mikimotoi": 820.0, "chattonella_antiqua": 0.0}
    assert (by_depth[0.5]["temperature_c"], by_depth[0.5]["salinity"]) == (21.4, 32.1)
    assert by_depth[0.5]["sampled_at"].startswith("2026-11-26T09:10:00+09:00")
    assert by_depth[0.5]["source"] == "import"
    kujuku = await area(api, sea, "Kujukushima")
    assert kujuku["findings"][0]["cells_per_ml"] == 1240

    # The same file again: nothing new, nothing lost, the same errors.
    again = (await post_csv(api, REPORT)).json()
    assert (again["rows"], again["created"], again["updated"], again["unchanged"]) == (10, 0, 0, 5)
    assert again["errors"] == body["errors"]
    everything = (await api.get(f"{BASE}/samples?limit=200", "fisher")).json()["items"]
    assert len(everything) == 5

    # A corrected row updates its sample.
    corrected = REPORT.replace('"1,240"', "1300")
    third = (await post_csv(api, corrected)).json()
    assert (third["created"], third["updated"], third["unchanged"]) == (0, 1, 4)
    assert (await area(api, sea, "Kujukushima"))["findings"][0]["cells_per_ml"] == 1300


async def test_a_file_that_cannot_be_read_is_refused_whole(api: Api, world: World) -> None:
    await build_sea(api)
    unknown = await post_csv(api, "station,date,depth_m,noctiluca\nKJ-1,2026-11-26,0.5,3\n")
    assert unknown.status_code == 422
    assert "noctiluca" in unknown.json()["errors"][0]["detail"]
    assert unknown.json()["errors"][0]["pointer"] == ""
    headless = await post_csv(api, "KJ-1,2026-11-26,0.5,3\n")
    assert headless.status_code == 422
    assert "station" in headless.json()["detail"]
    not_text = await upload(api, b"\xff\xfe\x00bad")
    assert not_text.status_code == 422
    as_json = await api.post(f"{BASE}/samples/import", "advisor", json={"csv": "x"})
    assert as_json.status_code == 415
    members = await post_csv(api, "station,date,depth_m\n", as_="fisher")
    assert members.status_code == 403
