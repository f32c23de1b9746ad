"""Validation at entry: every reason to refuse or warn, each with its exact code and text,
all of them at once, and ``spray-checks`` saving nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from core.app import create_app
from core.clock import FakeClock
from core.settings import load_plugins_file
from tests.conftest import PASSWORD, ROOT, World, base_settings
from tests.plugins.drone_spraying.support import (
    BASE,
    JST,
    codes,
    created,
    farm,
    line,
    pesticide,
    rice_label,
    spray,
)
from tests.support import Api


async def check(api: Api, body: dict, language: str = "en") -> dict:
    response = await api.post(
        f"{BASE}/spray-checks", "farmer", json=body, headers={"Accept-Language": language}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def counts(api: Api) -> tuple[int, int]:
    records = await api.get(f"{BASE}/spray-records", "farmer")
    refusals = await api.get(f"{BASE}/spray-refusals", "farmer")
    return len(records.json()["items"]), len(refusals.json()["items"])


async def test_a_spraying_within_the_label_is_recorded_with_an_ok_verdict(
    api: Api, world: World
) -> None:
    f = await farm(api, world)
    product = await pesticide(api, "サセボガード", "第90101号", ["ジノテフラン"], [rice_label()])
    record = await created(api, "/spray-records", spray(f, [line(product)]))
    assert record["verdict"] == {"outcome": "ok", "reasons": [], "earliest_harvest_date": None}
    assert record["status"] == "done"
    assert record["version"] == 1
    assert record["area_m2"] == pytest.approx(10_000, rel=0.005)
    assert record["spray_day"] == "2026-11-26"
    [product_line] = record["products"]
    assert product_line["registration_number"] == "第90101号"
    assert product_line["amount_per_10a"] == pytest.approx(0.09, rel=0.005)
    assert product_line["spray_liquid"] == pytest.approx(7.2)
    assert product_line["phi_days"] == 7
    season = await api.get(f"{BASE}/seasons/{f.season['id']}", "farmer")
    assert season.json()["earliest_harvest_date"] == "2026-12-03"
    assert season.json()["harvest_allowed"] is True


@pytest.mark.parametrize(
    ("case", "code", "pointer", "message"),
    [
        (
            "crop",
            "crop_not_on_label",
            "/products/0/pesticide_id",
            "Soy Guard is not registered for 水稲: the label does not list this crop.",
        ),
        (
            "dilution",
            "dilution_below_minimum",
            "/products/0/dilution",
            "Rice Guard: diluted 4 times, below the label's minimum of 8 times.",
        ),
        (
            "amount",
            "amount_above_maximum",
            "/products/0/amount",
            "Rice Guard: 0.15 L per 10 a, above the label's maximum of 0.1 L per 10 a.",
        ),
        (
            "harvest",
            "harvest_inside_interval",
            "/season_id",
            "Rice Guard may be used until 30 days before harvest: the harvest planned on "
            "2026-12-20 is before 2026-12-26.",
        ),
        (
            "wind",
            "wind_at_or_above_limit",
            "/wind_speed_ms",
            "Wind 5 m/s is at or above the limit of 5 m/s: do not spray.",
        ),
    ],
)
async def test_each_reject_reason_refuses_with_its_exact_reason(
    api: Api, world: World, case: str, code: str, pointer: str, message: str
) -> None:
    f = await farm(api, world)
    rice = await pesticide(
        api,
        "Rice Guard",
        "第1号",
        ["ジノテフラン"],
        [rice_label(phi_days=30 if case == "harvest" else 7)],
    )
    soy = await pesticide(api, "Soy Guard", "第2号", ["ジノテフラン"], [rice_label(crop="大豆")])
    product, extra = line(rice), {}
    if case == "crop":
        product = line(soy)
    elif case == "dilution":
        product = line(rice, dilution=4)
    elif case == "amount":
        product = line(rice, amount=1.5)
    elif case == "wind":
        extra = {"wind_speed_ms": 5.0}
    body = spray(f, [product], **extra)

    verdict = await check(api, body)
    assert verdict["outcome"] == "reject"
    [reason] = verdict["reasons"]
    assert reason["code"] == code
    assert reason["severity"] == "reject"
    assert reason["pointer"] == pointer
    assert reason["message"] == message

    refused = await api.post(
        f"{BASE}/spray-records", "farmer", json=body, headers={"Accept-Language": "en"}
    )
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["type"] == "urn:minori:problem:validation-failed"
    assert problem["errors"] == [{"pointer": pointer, "detail": message}]
    assert problem["verdict"]["outcome"] == "reject"
    assert codes(problem["verdict"]) == [code]
    assert await counts(api) == (0, 1)  # nothing recorded, the refusal kept


async def test_uses_per_season_of_a_product_are_counted(api: Api, world: World) -> None:
    f = await farm(api, world)
    product = await pesticide(
        api, "Rice Guard", "第1号", ["ジノテフラン"], [rice_label(max_uses=2)]
    )
    day = datetime(2026, 11, 1, 6, 0, tzinfo=JST)
    for week in range(2):
        await created(
            api, "/spray-records", spray(f, [line(product)], start=day + timedelta(weeks=week))
        )
    verdict = await check(api, spray(f, [line(product)]))
    assert codes(verdict) == ["product_uses_exhausted"]
    assert verdict["reasons"][0]["message"] == (
        "Rice Guard: used 2 times this season already; the label allows 2."
    )
    assert verdict["reasons"][0]["data"] == {"used": 2, "maximum": 2}


async def test_uses_of_an_active_ingredient_are_counted_across_products(
    api: Api, world: World
) -> None:
    """Two products share dinotefuran; the label allows it 2 times in all. One use of each
    leaves no room for a third product containing it, although each product alone is far
    from its own limit."""
    f = await farm(api, world)
    limit = {"ジノテフラン": 2}
    single = await pesticide(
        api, "Rice Guard", "第1号", ["ジノテフラン"], [rice_label(ingredient_max_uses=limit)]
    )
    double = await pesticide(
        api,
        "Double",
        "第2号",
        ["ジノテフラン", "トリシクラゾール"],
        [rice_label(ingredient_max_uses=limit)],
    )
    third = await pesticide(
        api, "Third", "第3号", ["ｼﾞﾉﾃﾌﾗﾝ"], [rice_label(ingredient_max_uses={"ｼﾞﾉﾃﾌﾗﾝ": 2})]
    )
    blast = await pesticide(api, "Blast", "第4号", ["トリシクラゾール"], [rice_label()])
    day = datetime(2026, 11, 1, 6, 0, tzinfo=JST)
    await created(api, "/spray-records", spray(f, [line(single)], start=day))
    # The second product alone is fine: one earlier use plus this one makes 2.
    assert codes(await check(api, spray(f, [line(double)]))) == []
    await created(api, "/spray-records", spray(f, [line(double)], start=day + timedelta(days=7)))

    verdict = await check(api, spray(f, [line(third)]))  # half-width name, same ingredient
    assert codes(verdict) == ["ingredient_uses_exhausted"]
    assert verdict["reasons"][0]["message"] == (
        "ｼﾞﾉﾃﾌﾗﾝ: used 2 times this season already in products that contain it; the label "
        "of Third allows 2 in all."
    )
    # A product without that ingredient is still fine.
    assert codes(await check(api, spray(f, [line(blast)]))) == []
    # Voiding an earlier record gives the use back.
    records = (await api.get(f"{BASE}/spray-records", "farmer")).json()["items"]
    voided = await api.post(
        f"{BASE}/spray-records/{records[0]['id']}/void", "farmer", json={"reason": "entered twice"}
    )
    assert voided.status_code == 200, voided.text
    assert codes(await check(api, spray(f, [line(third)]))) == []


async def test_two_products_in_one_tank_count_as_two_uses_of_their_ingredient(
    api: Api, world: World
) -> None:
    f = await farm(api, world)
    limit = {"ジノテフラン": 1}
    a = await pesticide(
        api, "A", "第1号", ["ジノテフラン"], [rice_label(ingredient_max_uses=limit)]
    )
    b = await pesticide(
        api, "B", "第2号", ["ジノテフラン"], [rice_label(ingredient_max_uses=limit)]
    )
    verdict = await check(api, spray(f, [line(a), line(b)]))
    assert codes(verdict) == ["ingredient_uses_exhausted"]
    assert verdict["reasons"][0]["pointer"] == "/products/0/pesticide_id"


@pytest.mark.parametrize(
    ("case", "code", "pointer", "message"),
    [
        (
            "wind",
            "wind_above_warning",
            "/wind_speed_ms",
            "Wind 3.5 m/s is above 3 m/s: spray drifts more, take care.",
        ),
        (
            "licence_soon",
            "licence_expiring",
            "/operator_id",
            "The licence of 早岐 誠 expires on 2026-12-10.",
        ),
        (
            "licence_gone",
            "licence_expired",
            "/operator_id",
            "The licence of 早岐 誠 expired on 2026-11-01.",
        ),
        (
            "inspection_soon",
            "inspection_due_soon",
            "/drone_id",
            "The inspection of drone JU0000000001 is due on 2026-12-01.",
        ),
        (
            "inspection_late",
            "inspection_overdue",
            "/drone_id",
            "The inspection of drone JU0000000001 was due on 2026-11-20.",
        ),
        (
            "preflight",
            "no_preflight_check",
            "/drone_id",
            "No pre-flight check of drone JU0000000001 is recorded for 2026-11-25.",
        ),
    ],
)
async def test_each_warning_is_recorded_with_the_spraying(
    api: Api, world: World, case: str, code: str, pointer: str, message: str
) -> None:
    f = await farm(api, world)
    product = await pesticide(api, "Rice Guard", "第1号", ["ジノテフラン"], [rice_label()])
    extra: dict = {}
    start = None
    if case == "wind":
        extra = {"wind_speed_ms": 3.5}
    elif case in ("licence_soon", "licence_gone"):
        expires = "2026-12-10" if case == "licence_soon" else "2026-11-01"
        response = await api.patch(
            f"{BASE}/operators/{f.operator['id']}", "farmer", json={"licence_expires": expires}
        )
        assert response.status_code == 200
    elif case in ("inspection_soon", "inspection_late"):
        due = "2026-12-01" if case == "inspection_soon" else "2026-11-20"
        response = await api.patch(
            f"{BASE}/drones/{f.drone['id']}", "farmer", json={"next_inspection_due": due}
        )
        assert response.status_code == 200
        assert response.json()["inspection_due"] == due
    elif case == "preflight":
        start = datetime(2026, 11, 25, 6, 0, tzinfo=JST)  # checked on the 26th only
    record = await created(api, "/spray-records", spray(f, [line(product)], start=start, **extra))
    verdict = record["verdict"]
    assert verdict["outcome"] == "warn"
    assert [(r["code"], r["severity"], r["pointer"]) for r in verdict["reasons"]] == [
        (code, "warn", pointer)
    ]
    fetched = await api.get(
        f"{BASE}/spray-records/{record['id']}", "farmer", headers={"Accept-Language": "en"}
    )
    assert fetched.json()["verdict"]["reasons"][0]["message"] == message


async def test_wind_limits_are_settings(database_url: str, world: World, clock: FakeClock) -> None:
    entries = load_plugins_file(ROOT / "plugins.toml")
    entries["drone_spraying"] = msgspec.structs.replace(
        entries["drone_spraying"], settings={"wind_warn_ms": 2.0, "wind_reject_ms": 4.0}
    )
    app = create_app(base_settings(database_url, plugins=entries), clock=clock, run_jobs=False)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        api = Api(client, PASSWORD)
        f = await farm(api, world)
        product = await pesticide(api, "Rice Guard", "第1号", ["ジノテフラン"], [rice_label()])
        assert codes(await check(api, spray(f, [line(product)], wind_speed_ms=2.0))) == []
        assert codes(await check(api, spray(f, [line(product)], wind_speed_ms=2.5))) == [
            "wind_above_warning"
        ]
        assert codes(await check(api, spray(f, [line(product)], wind_speed_ms=4.0))) == [
            "wind_at_or_above_limit"
        ]


async def test_a_check_answers_every_reason_at_once_and_saves_nothing(
    api: Api, world: World
) -> None:
    f = await farm(api, world, harvest=date(2026, 11, 30))
    await api.patch(
        f"{BASE}/operators/{f.operator['id']}", "farmer", json={"licence_expires": "2026-11-20"}
    )
    await api.patch(
        f"{BASE}/drones/{f.drone['id']}", "farmer", json={"next_inspection_due": "2026-11-27"}
    )
    rice = await pesticide(
        api,
        "Rice Guard",
        "第1号",
        ["ジノテフラン"],
        [rice_label(max_uses=1, phi_days=7, ingredient_max_uses={"ジノテフラン": 1})],
    )
    soy = await pesticide(
        api, "Soy Guard", "第2号", ["エトフェンプロックス"], [rice_label(crop="大豆")]
    )
    await created(
        api,
        "/spray-records",
        spray(f, [line(rice)], start=datetime(2026, 11, 1, 6, tzinfo=JST), status="done"),
    )
    before = await counts(api)

    body = spray(
        f,
        [line(rice, dilution=2, amount=3.0), line(soy)],
        wind_speed_ms=7.5,
        start=datetime(2026, 11, 27, 6, tzinfo=JST),
        status="planned",
    )
    verdict = await check(api, body)
    assert verdict["outcome"] == "reject"
    assert codes(verdict) == [
        "dilution_below_minimum",
        "amount_above_maximum",
        "product_uses_exhausted",
        "ingredient_uses_exhausted",
        "harvest_inside_interval",
        "crop_not_on_label",
        "wind_at_or_above_limit",
        "licence_expired",
        "inspection_due_soon",
    ]
    assert verdict["earliest_harvest_date"] == "2026-12-04"
    assert await counts(api) == before  # a check saves nothing, not even a refusal

    season = await api.get(f"{BASE}/seasons/{f.season['id']}", "farmer")
    assert season.json()["earliest_harvest_date"] == "2026-11-08"


async def test_reasons_follow_the_callers_language(api: Api, world: World) -> None:
    f = await farm(api, world)
    product = await pesticide(api, "Rice Guard", "第1号", ["ジノテフラン"], [rice_label()])
    body = spray(f, [line(product)], wind_speed_ms=6)
    messages = {
        language: (await check(api, body, language))["reasons"][0]["message"]
        for language in ("ja", "en", "vi")
    }
    assert messages["en"] == "Wind 6 m/s is at or above the limit of 5 m/s: do not spray."
    assert messages["ja"] == "風速 6 m/s は上限 5 m/s 以上です。散布しないでください。"
    assert messages["vi"].startswith("Gió 6 m/s")
    refused = await api.post(f"{BASE}/spray-records", "farmer", json=body)  # ja by default
    assert refused.json()["errors"][0]["detail"] == messages["ja"]
    refusals = await api.get(f"{BASE}/spray-refusals", "farmer", headers={"Accept-Language": "vi"})
    assert refusals.json()["items"][0]["reasons"][0]["message"] == messages["vi"]


async def test_bad_references_and_times_answer_422_with_a_pointer(api: Api, world: World) -> None:
    f = await farm(api, world)
    product = await pesticide(api, "Rice Guard", "第1号", ["ジノテフラン"], [rice_label()])
    other_org_drone = await created(
        api,
        "/drones",
        {"organization_id": world.org_ids["fishery"], "registration_number": "JU9", "model": "X"},
        as_="fisher",
    )
    cases = [
        (
            spray(f, [{"pesticide_id": "nope", "dilution": 8, "amount": 1}]),
            "/products/0/pesticide_id",
        ),
        (spray(f, [line(product)], drone_id=other_org_drone["id"]), "/drone_id"),
        (spray(f, [line(product)], season_id="00000000-0000-4000-8000-000000000000"), "/season_id"),
        (spray(f, [line(product)], ended_at="2026-11-26T05:00:00+09:00"), "/ended_at"),
        (spray(f, [line(product)], started_at="2026-11-26T06:00:00"), "/started_at"),
        (spray(f, [line(product)], start=datetime(2026, 12, 1, 6, tzinfo=JST)), "/status"),
        (spray(f, [line(product, dilution=0.5)]), "/products/0/dilution"),
        (spray(f, []), "/products"),
    ]
    for body, pointer in cases:
        response = await api.post(f"{BASE}/spray-records", "farmer", json=body)
        assert response.status_code == 422, (pointer, response.text)
        assert response.json()["errors"][0]["pointer"] == pointer, response.text
    assert await counts(api) == (0, 0)
    # A season of another organization is refused like an unknown one.
    foreign = await api.post(f"{BASE}/spray-checks", "fisher", json=spray(f, [line(product)]))
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["pointer"] == "/season_id"
