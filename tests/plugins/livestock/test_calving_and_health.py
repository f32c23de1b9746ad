"""Calving-imminent (critical, escalated) and health alerts (ICAR causes), and how records
and recoveries settle them."""

from __future__ import annotations

from datetime import timedelta

from core.clock import FakeClock
from tests.conftest import World
from tests.plugins.livestock.support import (
    DAY,
    HOUR,
    advance,
    alerts,
    cow,
    history,
    record,
    score,
    window,
)
from tests.support import Api


def prepartum_fall(clock: FakeClock, total: float = 0.75) -> dict:
    """The body temperature falling over the last 40 hours (DOMAIN.md: 0.6-0.7 °C below
    two days before on calving day)."""
    now = clock.now()
    return {now - i * HOUR: -total * (40 - i) / 40 for i in range(40)}


async def test_a_falling_temperature_near_the_due_date_raises_a_critical_calving_alert(
    api: Api, world: World, clock: FakeClock
) -> None:
    due_cow = await cow(api, world, "6000000001", name="もも", thermo=True)
    await record(api, due_cow.id, "insemination", clock.now() - 282 * DAY, sire="JP5H1")
    await record(api, due_cow.id, "pregnancy_check", clock.now() - 240 * DAY, pregnant=True)
    steady = await cow(api, world, "6000000002", thermo=True)  # due too, temperature steady
    await record(api, steady.id, "insemination", clock.now() - 281 * DAY)
    await record(api, steady.id, "pregnancy_check", clock.now() - 240 * DAY, pregnant=True)
    await history(api, due_cow, clock, 8, temperature=prepartum_fall(clock))
    await history(api, steady, clock, 8)
    await score(api)

    [alert] = await alerts(api, "calving")
    assert alert["subject"]["id"] == due_cow.id
    assert alert["severity"] == "critical"
    assert alert["model_version"].startswith("livestock.calving@")
    assert alert["data"]["icar"] == {"category": "Health", "causes": ["Parturition"]}
    assert alert["data"]["temperature_change_24h"] < -0.2
    due = (clock.now() - 282 * DAY + timedelta(days=283)).date().isoformat()
    assert alert["data"]["expected_calving"] == due

    # Nobody acknowledged it in 30 minutes: the farm hears it again.
    async def inbox() -> list[dict]:
        answer = await api.get("/mobile/v1/inbox", "farmer")
        assert answer.status_code == 200, answer.text
        return [i for i in answer.json()["items"] if i["alert_id"] == alert["id"]]

    assert len(await inbox()) == 1
    advance(api, clock, timedelta(minutes=31))
    escalated = await api.post("/api/v1/jobs/core.escalation/run", "admin")
    assert escalated.json()["outcome"] == "succeeded", escalated.text
    assert len(await inbox()) == 2

    # The calving, once recorded, answers the alert.
    await record(api, due_cow.id, "calving", clock.now() + timedelta(minutes=1))
    assert await alerts(api, "calving") == []
    [resolved] = await alerts(api, "calving", status="resolved")
    assert resolved["resolution_note"] == "Calved."


async def test_calving_is_not_predicted_for_a_cow_far_from_her_due_date(
    api: Api, world: World, clock: FakeClock
) -> None:
    early = await cow(api, world, "6000000003", thermo=True)
    await record(api, early.id, "insemination", clock.now() - 150 * DAY)
    await record(api, early.id, "pregnancy_check", clock.now() - 110 * DAY, pregnant=True)
    await history(api, early, clock, 8, temperature=prepartum_fall(clock))
    await score(api)
    assert await alerts(api, "calving") == []


async def test_low_rumination_and_activity_for_hours_raise_a_health_alert_until_she_recovers(
    api: Api, world: World, clock: FakeClock
) -> None:
    sick = await cow(api, world, "7000000001", name="ゆき", thermo=True)
    well = await cow(api, world, "7000000002")
    now = clock.now()
    ill = window(now - 9 * HOUR, now, 0.35)
    fever = {t: 1.3 for t in ill}
    await history(
        api,
        sick,
        clock,
        8,
        activity=window(now - 9 * HOUR, now, 0.4),
        rumination=ill,
        temperature=fever,
    )
    await history(api, well, clock, 8)
    await score(api)

    [alert] = await alerts(api, "health")
    assert alert["subject"]["id"] == sick.id
    assert alert["severity"] == "major"
    assert set(alert["data"]["icar"]["causes"]) == {
        "LowerRumination",
        "Inactivity",
        "AnimalTemperature",
        "EatingLess",
    }
    assert alert["data"]["LowerRumination"] < 0.6
    english = await api.get(
        f"/api/v1/alerts/{alert['id']}", "farmer", headers={"Accept-Language": "en"}
    )
    assert "rumination at" in english.json()["body"] and "8 hours" in english.json()["body"]
    japanese = await api.get(
        f"/api/v1/alerts/{alert['id']}", "farmer", headers={"Accept-Language": "ja"}
    )
    assert japanese.json()["body"] != english.json()["body"]

    # A repeat run does not count the same illness again; recovery resolves it.
    await score(api)
    assert (await alerts(api, "health"))[0]["count"] == 1
    advance(api, clock, 12 * HOUR)
    await history(api, sick, clock, 0.5)
    await score(api)
    assert await alerts(api, "health") == []
    [resolved] = await alerts(api, "health", status="resolved")
    assert resolved["resolution_note"] == "Back to her usual."
