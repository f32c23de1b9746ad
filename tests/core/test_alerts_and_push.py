"""Alerts raised by a plugin, their lifecycle, and the pushes firebase-admin delivers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from core.alerts.models import DeliveryAttempt, Notification, PushStatus, PushToken
from core.app import create_app
from core.clock import FakeClock
from core.identity.models import User
from core.settings import Settings
from tests.conftest import PASSWORD, World, run_in_database, sensor_settings
from tests.core.test_ingest import ingest, reading, register
from tests.fcm_server import FCMServer, fcm_sender
from tests.support import Api


async def add_token(
    settings: Settings, world: World, username: str, token: str, kind: str = "fcm_token"
) -> None:
    async def work() -> None:
        await PushToken.create(
            user_id=world.user_ids[username],
            token=token,
            kind=kind,
            platform="android",
            app_version="1.0.0",
            last_seen_at=datetime.now(UTC),
        )

    await run_in_database(settings, work)


async def open_door(api: Api, key: str, clock: FakeClock, message_id: str = "door-1") -> None:
    answer = await ingest(api, key, [reading(clock, message_id, metric="door", value=1)])
    assert answer.json()["accepted"] == 1, answer.text


async def deliver(api: Api) -> int:
    """Run one delivery round now (the app runs on the test client's portal thread)."""
    dispatcher = api.client.app.state.services.notifications.dispatcher

    async def round_() -> int:
        from core.db import bound

        with bound(api.client.app.state.db):
            return await dispatcher.deliver_due()

    return await asyncio.to_thread(api.client.blocking_portal.call, round_)


async def handled(api: Api) -> None:
    """Wait until every stored reading went through its plugin handler."""
    handlers = api.client.app.state.telemetry.ingestor.handlers
    await asyncio.to_thread(api.client.blocking_portal.call, handlers.join)


async def test_a_critical_reading_reaches_the_phone_through_fcm(
    push_api: Api, world: World, clock: FakeClock, fcm: FCMServer, settings: Settings
) -> None:
    await add_token(settings, world, "farmer", "farmer-phone")
    device = await register(push_api, world)
    await open_door(push_api, device["key"], clock)
    [push] = await asyncio.to_thread(fcm.wait_for, 1)

    alerts = (await push_api.get("/api/v1/alerts", as_="farmer")).json()["items"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["severity"] == "critical" and alert["status"] == "open"
    assert alert["subject"] == {"kind": "sensors.probe", "id": device["id"], "label": "Probe p1"}
    assert push.authorization == "Bearer fcm-test-oauth-token"
    assert push.message["token"] == "farmer-phone"
    assert push.message["notification"] == {
        "title": "Door of Probe p1 opened",
        "body": "Reading door-1 says the door is open.",
    }
    assert push.message["data"]["alert_id"] == alert["id"]
    assert push.message["data"]["plugin"] == "sensors"
    assert push.message["android"]["priority"] == "high"


async def test_a_repeat_counts_on_the_open_alert_without_a_new_push(
    push_api: Api, world: World, clock: FakeClock, fcm: FCMServer, settings: Settings
) -> None:
    await add_token(settings, world, "farmer", "farmer-phone")
    device = await register(push_api, world)
    await open_door(push_api, device["key"], clock, "d1")
    await asyncio.to_thread(fcm.wait_for, 1)
    clock.advance(timedelta(minutes=1))
    await open_door(push_api, device["key"], clock, "d2")
    await handled(push_api)
    alerts = (await push_api.get("/api/v1/alerts", as_="farmer")).json()["items"]
    assert len(alerts) == 1
    assert alerts[0]["count"] == 2
    assert alerts[0]["last_seen"] != alerts[0]["first_seen"]
    await deliver(push_api)
    assert len(fcm.received) == 1


async def test_alert_lifecycle_and_who_may_do_what(
    push_api: Api, world: World, clock: FakeClock
) -> None:
    device = await register(push_api, world)
    await open_door(push_api, device["key"], clock)
    await handled(push_api)
    [alert] = (await push_api.get("/api/v1/alerts", as_="farmer")).json()["items"]
    url = f"/api/v1/alerts/{alert['id']}"

    assert (await push_api.get(url, as_="fisher")).status_code == 404
    assert (await push_api.post(f"{url}/ack", as_="fisher")).status_code == 404
    assert (await push_api.post(f"{url}/ack", as_="advisor")).status_code == 403
    # The farm does not share with advisors, so an advisor cannot even see it.
    assert (await push_api.get(url, as_="advisor")).status_code == 404

    acked = await push_api.post(f"{url}/ack", as_="farmer")
    assert acked.status_code == 200
    body = acked.json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_by"] == {"id": world.user_ids["farmer"], "display_name": "farmer"}
    again = await push_api.post(f"{url}/ack", as_="farmer")
    assert again.json()["acknowledged_at"] == body["acknowledged_at"]

    feedback = await push_api.post(
        f"{url}/feedback", as_="farmer", json={"verdict": "false_alarm", "note": "wind"}
    )
    assert feedback.json()["feedback"] == "false_alarm"
    feedback = await push_api.post(f"{url}/feedback", as_="farmer", json={"verdict": "confirmed"})
    assert feedback.json()["feedback"] == "confirmed"

    resolved = await push_api.post(f"{url}/resolve", as_="farmer", json={"note": "closed the door"})
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolution_note"] == "closed the door"
    assert resolved.json()["resolved_by"]["id"] == world.user_ids["farmer"]
    assert (await push_api.post(f"{url}/resolve", as_="farmer", json={})).json()[
        "resolved_at"
    ] == resolved.json()["resolved_at"]
    assert (await push_api.post(f"{url}/ack", as_="farmer")).status_code == 409

    assert (await push_api.get("/api/v1/alerts", as_="farmer")).json()["items"] == []
    history = (await push_api.get("/api/v1/alerts?status=resolved", as_="farmer")).json()["items"]
    assert [a["id"] for a in history] == [alert["id"]]

    # The same door opening again is a new alert, since the last one is resolved.
    await open_door(push_api, device["key"], clock, "door-2")
    await handled(push_api)
    assert len((await push_api.get("/api/v1/alerts", as_="farmer")).json()["items"]) == 1


async def test_advisors_read_shared_organizations_and_announce(
    push_api: Api, world: World, clock: FakeClock, settings: Settings, fcm: FCMServer
) -> None:
    await add_token(settings, world, "fisher", "fisher-phone")
    device = await register(push_api, world, org="fishery", external_id="buoy")
    await open_door(push_api, device["key"], clock)
    await asyncio.to_thread(fcm.wait_for, 1)
    seen = (await push_api.get("/api/v1/alerts", as_="advisor")).json()["items"]
    assert [a["organization_id"] for a in seen] == [world.org_ids["fishery"]]

    announcement = await push_api.post(
        "/api/v1/alerts",
        as_="advisor",
        json={
            "organization_id": world.org_ids["fishery"],
            "severity": "warning",
            "title": "Red tide nearby",
            "body": "Check your cages.",
        },
    )
    assert announcement.status_code == 201
    assert announcement.json()["type"] == "manual" and announcement.json()["plugin"] == "core"
    pushes = await asyncio.to_thread(fcm.wait_for, 2)
    assert pushes[1].message["notification"]["title"] == "Red tide nearby"
    assert (
        await push_api.post(
            "/api/v1/alerts",
            as_="fisher",
            json={"organization_id": world.org_ids["fishery"], "severity": "info", "title": "x"},
        )
    ).status_code == 403
    unknown = await push_api.post(
        "/api/v1/alerts",
        as_="advisor",
        json={"organization_id": "nope", "severity": "info", "title": "x"},
    )
    assert unknown.status_code == 422


async def test_alerts_filter_and_page(push_api: Api, world: World, clock: FakeClock) -> None:
    for i in range(5):
        device = await register(push_api, world, external_id=f"p{i}")
        await open_door(push_api, device["key"], clock, f"d{i}")
    await handled(push_api)
    first = (await push_api.get("/api/v1/alerts?limit=2&severity=critical", as_="farmer")).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = (
        await push_api.get(
            f"/api/v1/alerts?limit=10&severity=critical&cursor={first['next_cursor']}", as_="farmer"
        )
    ).json()
    ids = [a["id"] for a in first["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == 5
    assert (await push_api.get("/api/v1/alerts?severity=info", as_="farmer")).json()["items"] == []
    one = (await push_api.get(f"/api/v1/alerts?subject_id={device['id']}", as_="farmer")).json()[
        "items"
    ]
    assert [a["subject"]["id"] for a in one] == [device["id"]]
    assert (await push_api.get("/api/v1/alerts?status=bogus", as_="farmer")).status_code == 422


async def test_dead_tokens_are_pruned(
    push_api: Api, world: World, clock: FakeClock, fcm: FCMServer, settings: Settings
) -> None:
    await add_token(settings, world, "farmer", "old-phone")
    await add_token(settings, world, "farmer", "new-phone", kind="fid")
    fcm.fail("old-phone", "UNREGISTERED")
    device = await register(push_api, world)
    await open_door(push_api, device["key"], clock)
    pushes = await asyncio.to_thread(fcm.wait_for, 2)
    assert {p.token for p in pushes} == {"old-phone", "new-phone"}
    assert next(p for p in pushes if p.token == "new-phone").message.get("fid") == "new-phone"

    async def check() -> None:
        assert await PushToken.filter(token="old-phone").count() == 0
        assert await PushToken.filter(token="new-phone").count() == 1
        attempts = {a.token: a.outcome for a in await DeliveryAttempt.all()}
        assert attempts == {"old-phone": "dead_token", "new-phone": "sent"}
        [notification] = await Notification.all()
        assert notification.push_status is PushStatus.SENT

    await wait_until(settings, check)


async def test_a_server_error_is_retried(
    push_api: Api, world: World, clock: FakeClock, fcm: FCMServer, settings: Settings
) -> None:
    await add_token(settings, world, "farmer", "flaky-phone")
    fcm.fail("flaky-phone", "INTERNAL")  # one 500: firebase-admin retries it at once
    device = await register(push_api, world)
    await open_door(push_api, device["key"], clock)
    pushes = await asyncio.to_thread(fcm.wait_for, 2)
    assert [p.token for p in pushes] == ["flaky-phone", "flaky-phone"]

    async def check() -> None:
        [notification] = await Notification.all()
        assert notification.push_status is PushStatus.SENT

    await wait_until(settings, check)


async def test_quota_errors_are_retried_with_backoff_by_the_outbox(
    push_api: Api, world: World, clock: FakeClock, fcm: FCMServer, settings: Settings
) -> None:
    await add_token(settings, world, "farmer", "busy-phone")
    fcm.fail("busy-phone", "QUOTA_EXCEEDED", "QUOTA_EXCEEDED")
    device = await register(push_api, world)
    await open_door(push_api, device["key"], clock)
    await asyncio.to_thread(fcm.wait_for, 1)

    async def pending_after(attempts: int) -> Notification:
        [notification] = await Notification.all()
        assert notification.push_status is PushStatus.PENDING
        assert notification.attempts == attempts
        return notification

    first = await wait_until(settings, lambda: pending_after(1))
    assert first.next_attempt_at == clock.now() + timedelta(seconds=2)
    assert await deliver(push_api) == 0  # not due yet
    clock.advance(timedelta(seconds=2))
    assert await deliver(push_api) == 1
    second = await wait_until(settings, lambda: pending_after(2))
    assert second.next_attempt_at == clock.now() + timedelta(seconds=4)
    clock.advance(timedelta(seconds=4))
    assert await deliver(push_api) == 1
    assert len(fcm.for_token("busy-phone")) == 3

    async def sent() -> None:
        [notification] = await Notification.all()
        assert notification.push_status is PushStatus.SENT
        outcomes = [a.outcome for a in await DeliveryAttempt.all().order_by("created_at")]
        assert outcomes == ["retry", "retry", "sent"]

    await run_in_database(settings, sent)


async def test_escalation_reaches_the_second_responder(
    settings: Settings, clock: FakeClock, world: World, fcm: FCMServer
) -> None:
    await add_token(settings, world, "farmer", "first-phone")
    await add_token(settings, world, "admin", "second-phone")
    responders = [[world.user_ids["farmer"]], [world.user_ids["admin"]]]
    with fcm_sender() as sender:
        app = create_app(
            sensor_settings(
                settings.database_url,
                sensor_settings={"responders": responders, "escalate_after_s": 1800},
            ),
            clock=clock,
            run_jobs=False,
            push_sender=sender,
        )
        async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
            api = Api(client, PASSWORD)
            device = await register(api, world)
            await open_door(api, device["key"], clock)
            [first] = await asyncio.to_thread(fcm.wait_for, 1)
            assert first.token == "first-phone"

            clock.advance(timedelta(minutes=29))
            await run_job(api, "core.escalation")
            await deliver(api)
            assert len(fcm.received) == 1
            clock.advance(timedelta(minutes=1))
            await run_job(api, "core.escalation")
            pushes = await asyncio.to_thread(fcm.wait_for, 2)
            assert pushes[1].token == "second-phone"
            assert pushes[1].message["data"]["escalation_level"] == "1"
            clock.advance(timedelta(hours=2))
            await run_job(api, "core.escalation")
            await deliver(api)
            assert len(fcm.received) == 2  # nobody left to escalate to


async def test_acknowledging_stops_escalation(
    settings: Settings, clock: FakeClock, world: World, fcm: FCMServer
) -> None:
    await add_token(settings, world, "admin", "second-phone")
    responders = [[world.user_ids["farmer"]], [world.user_ids["admin"]]]
    with fcm_sender() as sender:
        app = create_app(
            sensor_settings(settings.database_url, sensor_settings={"responders": responders}),
            clock=clock,
            run_jobs=False,
            push_sender=sender,
        )
        async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
            api = Api(client, PASSWORD)
            device = await register(api, world)
            await open_door(api, device["key"], clock)
            await handled(api)
            [alert] = (await api.get("/api/v1/alerts", as_="farmer")).json()["items"]
            assert (
                await api.post(f"/api/v1/alerts/{alert['id']}/ack", as_="farmer")
            ).status_code == 200
            clock.advance(timedelta(hours=1))
            await run_job(api, "core.escalation")
            await deliver(api)
            assert fcm.for_token("second-phone") == []


async def test_quiet_hours_hold_ordinary_pushes_but_not_critical_ones(
    push_api: Api, world: World, clock: FakeClock, fcm: FCMServer, settings: Settings
) -> None:
    await add_token(settings, world, "farmer", "sleepy-phone")

    async def quiet() -> None:
        # 22:00-06:00 in Tokyo; the clock says 09:00 Tokyo (00:00 UTC), so move it to 23:00.
        await User.filter(id=world.user_ids["farmer"]).update(
            quiet_start="22:00", quiet_end="06:00"
        )

    await run_in_database(settings, quiet)
    clock.set(datetime(2026, 11, 26, 14, 0, tzinfo=UTC))  # 23:00 in Tokyo
    device = await register(push_api, world)
    await open_door(push_api, device["key"], clock)  # critical: goes through
    await asyncio.to_thread(fcm.wait_for, 1)

    async def ordinary() -> None:
        await push_api.client.app.state.services.notifications.notify(
            [world.user_ids["farmer"]], plugin="sensors", title="Weekly summary", body="All fine."
        )

    from core.db import bound

    async def write() -> None:
        with bound(push_api.client.app.state.db):
            await ordinary()

    await asyncio.to_thread(push_api.client.blocking_portal.call, write)
    await deliver(push_api)
    assert len(fcm.received) == 1

    async def held() -> None:
        summary = await Notification.get(push_status=PushStatus.PENDING)
        assert summary.next_attempt_at == datetime(2026, 11, 26, 21, 0, tzinfo=UTC)  # 06:00 Tokyo

    await run_in_database(settings, held)
    clock.set(datetime(2026, 11, 26, 21, 0, tzinfo=UTC))
    assert await deliver(push_api) == 1
    assert fcm.received[1].message["notification"]["title"] == "Weekly summary"


async def test_offline_alert_raised_and_resolved_by_the_clock(
    push_api: Api, world: World, clock: FakeClock, settings: Settings
) -> None:
    device = await register(push_api, world)
    await ingest(push_api, device["key"], [reading(clock, "r1")])
    clock.advance(timedelta(minutes=9))
    await run_job(push_api, "core.liveness")
    assert (await push_api.get("/api/v1/alerts", as_="farmer")).json()["items"] == []
    clock.advance(timedelta(minutes=2))
    await run_job(push_api, "core.liveness")
    [offline] = (await push_api.get("/api/v1/alerts", as_="farmer")).json()["items"]
    assert offline["type"] == "offline" and offline["plugin"] == "core"
    assert offline["subject"] == {"kind": "device", "id": device["id"], "label": "Probe p1"}
    assert "11" in offline["body"]  # Japanese by default: "…11 分間…"
    english = await push_api.get(
        f"/api/v1/alerts/{offline['id']}", as_="farmer", headers={"Accept-Language": "en"}
    )
    assert "11 minutes" in english.json()["body"]
    await run_job(push_api, "core.liveness")
    assert (await push_api.get(f"/api/v1/alerts/{offline['id']}", as_="farmer")).json()[
        "count"
    ] == 2

    await ingest(push_api, device["key"], [reading(clock, "r2")])

    async def resolved() -> dict[str, Any]:
        body = (await push_api.get(f"/api/v1/alerts/{offline['id']}", as_="farmer")).json()
        assert body["status"] == "resolved", body
        return body

    body = await poll(resolved)
    assert body["resolution_note"] == "The device reported again."


async def run_job(api: Api, job_id: str) -> None:
    api.forget("admin")  # the test clock may have moved past the last token's 15 minutes
    response = await api.post(f"/api/v1/jobs/{job_id}/run", as_="admin")
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "succeeded", response.json()


async def poll(check: Any, attempts: int = 400) -> Any:
    """Retry ``check`` until it passes: for work the app finishes in the background."""
    for _ in range(attempts - 1):
        try:
            return await check()
        except AssertionError:
            await asyncio.sleep(0.05)
    return await check()


async def wait_until(settings: Settings, check: Any) -> Any:
    return await poll(lambda: run_in_database(settings, check))
