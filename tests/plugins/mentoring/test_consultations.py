"""Consultations: booking against availability without double booking across time zones,
reminders sent exactly once across a scheduler restart, and what follows the meeting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient

from core.app import create_app
from core.clock import FakeClock
from core.identity.models import User
from core.settings import Settings
from tests.conftest import PASSWORD
from tests.plugins.mentoring.support import (
    BASE,
    OFFICE_HOURS,
    add_advisor,
    advance,
    advisor_profile,
    book,
    entrant_profile,
    in_app,
    notifications,
    run_job,
)
from tests.support import Api

# The test clock starts on Thursday 2026-11-26 at 00:00 UTC (09:00 in Tokyo).
FRIDAY_10_JST = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


async def move_to(api: Api, username: str, timezone: str) -> None:
    async def work() -> None:
        await User.filter(username=username).update(timezone=timezone)

    in_app(api, work)
    api.forget(username)  # the time zone travels in the access token


async def test_double_booking_is_refused_for_advisor_and_entrant_across_time_zones(
    api: Api,
) -> None:
    advisor = await advisor_profile(api, availability=OFFICE_HOURS, timezone="Asia/Tokyo")
    second_id = await add_advisor(api, "advisor2", "相談員 佐藤")
    second = await advisor_profile(api, "advisor2", as_="admin")
    assert second["id"] == second_id
    await entrant_profile(api, "farmer")
    await entrant_profile(api, "fisher", sector="fisheries", language="vi")
    # The fisher is a trainee whose phone is on Vietnamese time (UTC+7).
    await move_to(api, "fisher", "Asia/Ho_Chi_Minh")

    first = await book(
        api, "farmer", advisor_id=advisor["id"], starts_at="2026-11-27T10:00:00+09:00"
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["starts_at"] == "2026-11-27T10:00:00+09:00"  # answered in the caller's zone
    assert body["ends_at"] == "2026-11-27T10:40:00+09:00"  # 40 minutes by default
    assert body["minutes"] == 40 and body["status"] == "booked" and body["mode"] == "video"
    assert body["meeting_link"].startswith("https://meet.jit.si/minori-")

    async def stored() -> datetime:
        from plugins.mentoring.models import Consultation

        return (await Consultation.get(id=body["id"])).starts_at

    assert in_app(api, stored) == FRIDAY_10_JST  # kept in UTC

    # 08:20 in Ho Chi Minh City is 10:20 in Tokyo: inside the farmer's meeting.
    clash = await book(
        api, "fisher", advisor_id=advisor["id"], starts_at="2026-11-27T08:20:00+07:00"
    )
    assert clash.status_code == 409, clash.text
    assert clash.headers["content-type"] == "application/problem+json"
    assert clash.json()["conflict"] == "advisor"
    assert clash.json()["type"] == "urn:minori:problem:conflict"

    # 08:40 there is 10:40 here: right after it, allowed; answered in the fisher's zone.
    after = await book(
        api, "fisher", advisor_id=advisor["id"], starts_at="2026-11-27T08:40:00+07:00"
    )
    assert after.status_code == 201, after.text
    assert after.json()["starts_at"] == "2026-11-27T08:40:00+07:00"

    # The farmer cannot meet another advisor at 01:30 UTC, inside their own meeting.
    clash = await book(api, "farmer", advisor_id=second["id"], starts_at="2026-11-27T01:30:00Z")
    assert clash.status_code == 409, clash.text
    assert clash.json()["conflict"] == "entrant"
    # Nor can the advisor book the fisher over the fisher's own meeting.
    fisher = (await api.get(f"{BASE}/entrants", as_="fisher")).json()["items"][0]
    clash = await book(
        api, "advisor2", entrant_id=fisher["id"], starts_at="2026-11-27T10:50:00+09:00"
    )
    assert clash.status_code == 409 and clash.json()["conflict"] == "entrant"

    # The morning shows only what the two meetings (10:00-10:40, 10:40-11:20) leave free:
    # 40-minute slots every 30 minutes that end by noon.
    free = await api.get(
        f"{BASE}/availability",
        as_="farmer",
        params={
            "advisor_id": advisor["id"],
            "from": "2026-11-27T09:00:00+09:00",
            "to": "2026-11-27T12:00:00+09:00",
        },
    )
    assert free.status_code == 200, free.text
    starts = [s["starts_at"] for s in free.json()["slots"]]
    assert starts == ["2026-11-27T09:00:00+09:00"]
    assert free.json()["minutes"] == 40

    # Cancelling frees the time for someone else.
    cancelled = await api.post(
        f"{BASE}/consultations/{body['id']}/cancel", "farmer", json={"reason": "熱が出た"}
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    retry = await book(
        api, "fisher", advisor_id=second["id"], starts_at="2026-11-27T08:00:00+07:00"
    )
    assert retry.status_code == 201, retry.text
    [told] = notifications(api, "advisor", "consultation_cancelled")
    assert told["body"] == "Reason: 熱が出た"


async def test_bad_bookings_answer_422_with_a_pointer_and_store_nothing(api: Api) -> None:
    advisor = await advisor_profile(api, availability=OFFICE_HOURS)
    await entrant_profile(api, "farmer")
    cases = [
        ({"starts_at": "2026-11-27T10:00:00"}, "/starts_at"),  # no offset
        ({"starts_at": "2026-11-27T12:10:00+09:00"}, "/starts_at"),  # lunch break
        ({"starts_at": "2026-11-28T10:00:00+09:00"}, "/starts_at"),  # Saturday
        ({"starts_at": "2026-11-25T10:00:00+09:00"}, "/starts_at"),  # the past
        ({"starts_at": "2026-11-27T10:00:00+09:00", "minutes": 500}, "/minutes"),
        ({"starts_at": "2026-11-27T10:00:00+09:00", "mode": "fax"}, "/mode"),
    ]
    for extra, pointer in cases:
        answer = await book(api, "farmer", advisor_id=advisor["id"], **extra)
        assert answer.status_code == 422, (extra, answer.text)
        assert answer.json()["errors"][0]["pointer"] == pointer, (extra, answer.json())
    unknown = await book(
        api,
        "farmer",
        advisor_id="00000000-0000-4000-8000-000000000000",
        starts_at="2026-11-27T10:00:00+09:00",
    )
    assert unknown.status_code == 422
    assert [e["pointer"] for e in unknown.json()["errors"]] == ["/advisor_id"]
    # A member without an entrant profile is asked to create one.
    nobody = await book(
        api, "fisher", advisor_id=advisor["id"], starts_at="2026-11-27T10:00:00+09:00"
    )
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0]["pointer"] == "/entrant_id"
    listed = await api.get(f"{BASE}/consultations", as_="admin")
    assert listed.json() == {"items": [], "next_cursor": None}
    for params, name in [
        ({"advisor_id": "nobody"}, "advisor_id"),
        ({"advisor_id": advisor["id"], "from": "2026-11-27T09:00:00"}, "from"),
        ({"advisor_id": advisor["id"], "to": "2026-12-30T09:00:00+09:00"}, "to"),
    ]:
        refused = await api.get(f"{BASE}/availability", as_="farmer", params=params)
        assert refused.status_code == 422, (params, refused.text)
        assert refused.json()["errors"][0]["parameter"] == name


def reminders(api: Api, username: str) -> list[int]:
    return [n["minutes_before"] for n in notifications(api, username, "consultation_reminder")]


async def test_reminders_go_out_once_each_even_when_the_scheduler_restarts(
    api: Api, clock: FakeClock, settings: Settings
) -> None:
    advisor = await advisor_profile(api)
    await entrant_profile(api, "farmer")
    start = clock.now() + timedelta(days=3)
    booked = await book(api, "farmer", advisor_id=advisor["id"], starts_at=start)
    assert booked.status_code == 201
    consultation = booked.json()

    clock.set(start - timedelta(hours=24, minutes=2))
    run_job(api, "remind")
    assert reminders(api, "farmer") == []  # not yet

    # The scheduled run at T-24h sends the 24 h reminder to both people.
    clock.set(start - timedelta(hours=24) + timedelta(seconds=30))
    fired = run_job(api, "remind", start - timedelta(hours=24))
    assert fired is not None and fired.outcome == "succeeded", fired
    assert reminders(api, "farmer") == [1440]
    assert reminders(api, "advisor") == [1440]
    [sent] = notifications(api, "farmer", "consultation_reminder")
    assert sent["title"] == "Consultation in 24 h"
    assert consultation["meeting_link"] in sent["body"]

    # The process restarts: a new app, a new scheduler, nothing kept in memory.
    restarted = create_app(settings, clock=clock, run_jobs=False)
    async with AsyncTestClient(app=restarted, raise_server_exceptions=False) as client:
        again = Api(client, PASSWORD)
        # The same fire time again (core's run claim would skip it; the reminder's own
        # claim holds even where it does not), then later fire times.
        run_job(again, "remind", start - timedelta(hours=24))
        for minutes in (5, 10, 300):
            clock.set(start - timedelta(hours=24) + timedelta(minutes=minutes))
            run_job(again, "remind", clock.now())
        assert reminders(again, "farmer") == [1440]

        clock.set(start - timedelta(minutes=59))
        run_job(again, "remind", start - timedelta(minutes=60))
        run_job(again, "remind")  # and a manual run on top
        assert reminders(again, "farmer") == [1440, 60]
        assert reminders(again, "advisor") == [1440, 60]
        shown = await again.get(f"{BASE}/consultations/{consultation['id']}", as_="farmer")
        assert shown.json()["reminders_sent"] == [1440, 60]

    # Back on the first app: nothing more to send, ever.
    clock.set(start - timedelta(minutes=30))
    api.forget("admin")
    run_job(api, "remind")
    assert reminders(api, "farmer") == [1440, 60]


async def test_a_late_booking_gets_only_the_reminders_still_ahead(
    api: Api, clock: FakeClock
) -> None:
    advisor = await advisor_profile(api)
    await entrant_profile(api, "farmer")
    start = clock.now() + timedelta(hours=5)
    assert (await book(api, "farmer", advisor_id=advisor["id"], starts_at=start)).status_code == 201
    run_job(api, "remind")
    clock.set(start - timedelta(minutes=55))
    run_job(api, "remind")
    assert reminders(api, "farmer") == [60]  # booked 5 h ahead: no "24 h" reminder


async def test_after_the_meeting_the_entrant_gets_the_summary_and_tasks_and_kpis_count(
    api: Api, clock: FakeClock
) -> None:
    advisor = await advisor_profile(api)
    await entrant_profile(api, "farmer")
    video = (
        await book(
            api, "farmer", advisor_id=advisor["id"], starts_at=clock.now() + timedelta(hours=2)
        )
    ).json()
    phone = (
        await book(
            api,
            "farmer",
            advisor_id=advisor["id"],
            starts_at=clock.now() + timedelta(hours=3),
            mode="phone",
        )
    ).json()
    visit = (
        await book(
            api,
            "farmer",
            advisor_id=advisor["id"],
            starts_at=clock.now() + timedelta(hours=4),
            mode="field_visit",
        )
    ).json()
    assert phone["meeting_link"] is None and visit["meeting_link"] is None
    early = await api.post(
        f"{BASE}/consultations/{video['id']}/complete", "advisor", json={"summary": "x"}
    )
    assert early.status_code == 409  # it has not taken place yet
    forbidden = await api.post(
        f"{BASE}/consultations/{video['id']}/complete", "farmer", json={"summary": "x"}
    )
    assert forbidden.status_code == 403

    advance(api, clock, timedelta(hours=5))
    done = await api.post(
        f"{BASE}/consultations/{video['id']}/complete",
        "advisor",
        json={
            "notes": "本人は不安そう。次回は現地で。",
            "summary": "苗の徒長は夜温が原因です。",
            "follow_ups": [
                {"title": "夜温を12℃まで下げる", "due_on": "2026-12-03"},
                {"title": "苗の写真を送る"},
            ],
        },
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert [f["title"] for f in done.json()["follow_ups"]] == [
        "夜温を12℃まで下げる",
        "苗の写真を送る",
    ]
    [summary] = notifications(api, "farmer", "consultation_summary")
    assert summary["body"] == "苗の徒長は夜温が原因です。 Follow-up tasks: 2."
    seen = await api.get(f"{BASE}/consultations/{video['id']}", as_="farmer")
    assert seen.json()["notes"] is None  # the advisor's notes stay with staff
    assert seen.json()["summary"] == "苗の徒長は夜温が原因です。"
    staff = await api.get(f"{BASE}/consultations/{video['id']}", as_="advisor")
    assert staff.json()["notes"] == "本人は不安そう。次回は現地で。"
    again = await api.post(f"{BASE}/consultations/{video['id']}/complete", "advisor", json={})
    assert again.status_code == 409

    tasks = await api.get(f"{BASE}/follow-ups", as_="farmer", params={"done": "false"})
    assert len(tasks.json()["items"]) == 2
    first = tasks.json()["items"][0]["id"]
    ticked = await api.post(f"{BASE}/follow-ups/{first}/done", "farmer")
    assert ticked.status_code == 200 and ticked.json()["done_at"] is not None
    assert len((await api.get(f"{BASE}/follow-ups?done=false", as_="farmer")).json()["items"]) == 1

    await api.post(
        f"{BASE}/consultations/{phone['id']}/complete", "advisor", json={"outcome": "no_show"}
    )
    await api.post(f"{BASE}/consultations/{visit['id']}/complete", "advisor", json={})
    [missed] = notifications(api, "farmer", "consultation_missed")
    assert missed["title"] == "Missed consultation"

    # One question answered by an advisor in the period too.
    asked = await api.post(f"{BASE}/questions", "farmer", json={"text": "苗が徒長します"})
    await api.post(
        f"{BASE}/questions/{asked.json()['id']}/answers", "advisor", json={"text": "夜温を下げて"}
    )
    period = {"from": "2026-11-01", "to": "2026-12-01"}
    city = await api.get("/api/v1/kpis", as_="admin", params=period)
    [kpi] = [k for k in city.json()["kpis"] if k["key"] == "online_consultations"]
    # The completed video call and the answered question; the no-show and the field visit
    # are no online consultation.
    assert kpi["value"] == 2 and kpi["parts"] == {"mentoring": 2}
    parts = await api.get(
        f"{BASE}/kpis",
        as_="admin",
        params={"from": "2026-11-01T00:00:00+09:00", "to": "2026-12-01T00:00:00+09:00"},
    )
    assert parts.status_code == 200, parts.text
    assert {k: v for k, v in parts.json().items() if k not in ("from", "to")} == {
        "online_consultations": 2,
        "consultations": 1,
        "video": 1,
        "phone": 0,
        "answered_questions": 1,
    }
    assert (await api.get(f"{BASE}/kpis", as_="farmer")).status_code == 403
