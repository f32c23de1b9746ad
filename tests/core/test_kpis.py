from __future__ import annotations

from core.clock import FakeClock
from tests.conftest import World
from tests.core.test_ingest import ingest, reading, register
from tests.support import Api


def by_key(report: dict) -> dict[str, dict]:
    return {k["key"]: k for k in report["kpis"]}


async def test_iot_users_count_organizations_whose_devices_reported(
    push_api: Api, world: World, clock: FakeClock
) -> None:
    farm_probe = await register(push_api, world, external_id="farm-probe")
    await register(push_api, world, org="fishery", external_id="silent-buoy")
    await ingest(push_api, farm_probe["key"], [reading(clock, "k1")])

    response = await push_api.get("/api/v1/kpis", as_="advisor")
    assert response.status_code == 200
    report = response.json()
    assert report["period"]["from"].startswith("2026-11-01T00:00:00")
    assert report["period"]["to"].startswith("2026-12-01T00:00:00")
    kpis = by_key(report)
    assert set(kpis) >= {
        "online_consultations",
        "farmers_using_iot",
        "fishers_using_iot",
        "wildlife_detection_sites",
        "redtide_detection_sites",
    }
    assert kpis["farmers_using_iot"] == {
        "key": "farmers_using_iot",
        "label": kpis["farmers_using_iot"]["label"],
        "value": 1,
        "plugin": "core",
        "parts": {"sensors": 1},
    }
    assert kpis["fishers_using_iot"]["value"] == 0  # its buoy never reported
    assert all(isinstance(k["value"], int) for k in kpis.values())

    earlier = by_key(
        (await push_api.get("/api/v1/kpis?from=2026-10-01&to=2026-11-01", as_="admin")).json()
    )
    assert earlier["farmers_using_iot"]["value"] == 0


async def test_kpis_are_for_staff_and_periods_are_checked(push_api: Api) -> None:
    assert (await push_api.get("/api/v1/kpis", as_="farmer")).status_code == 403
    backwards = await push_api.get("/api/v1/kpis?from=2026-11-10&to=2026-11-01", as_="admin")
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["parameter"] == "from"
    garbage = await push_api.get("/api/v1/kpis?from=yesterday", as_="admin")
    assert garbage.status_code == 422
