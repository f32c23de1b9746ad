"""Farm-owned mentoring objects for the tenancy contract test (tests/contract)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import World
from tests.contract.owned import Factory
from tests.plugins.mentoring.support import (
    BASE,
    advisor_profile,
    ask,
    book,
    entrant_profile,
    in_app,
)
from tests.support import Api

STRANGER = "Renamed by a stranger"


async def entrant(api: Api, world: World) -> str:
    return str((await entrant_profile(api))["id"])


async def question(api: Api, world: World) -> str:
    """A question the farmer asked for advisors only: no other member may see it."""
    return str((await ask(api, visibility="advisors"))["id"])


async def answer(api: Api, world: World) -> str:
    asked = await ask(api)
    added = await api.post(
        f"{BASE}/questions/{asked['id']}/answers", "farmer", json={"text": "写真を追加します"}
    )
    assert added.status_code == 201, added.text
    return str(added.json()["id"])


async def consultation(api: Api, world: World) -> str:
    advisor = await advisor_profile(api)
    await entrant_profile(api)
    start = api.client.app.state.clock.now() + timedelta(days=2)
    booked = await book(api, "farmer", advisor_id=advisor["id"], starts_at=start, mode="video")
    assert booked.status_code == 201, booked.text
    return str(booked.json()["id"])


async def follow_up(api: Api, world: World) -> str:
    from plugins.mentoring.models import Consultation, FollowUp

    consultation_id = await consultation(api, world)

    async def create() -> str:
        booked = await Consultation.get(id=consultation_id)
        task = await FollowUp.create(
            organization_id=booked.organization_id,
            consultation=booked,
            entrant_id=booked.entrant_id,
            advisor_id=booked.advisor_id,
            title="土壌診断の結果を送る",
        )
        return str(task.id)

    return in_app(api, create)


async def field_report(api: Api, world: World) -> str:
    profile = await entrant_profile(api)
    made = await api.post(
        f"{BASE}/field-reports",
        "advisor",
        json={
            "entrant_id": profile["id"],
            "visited_at": "2026-11-25T10:00:00+09:00",
            "findings": "畝の排水が悪い",
        },
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def hidden_thread(api: Api, world: World) -> str:
    """A community thread a moderator hid: only its author (and staff) still see it."""
    made = await api.post(
        f"{BASE}/threads", "farmer", json={"title": "barn", "body": "barn roof leaks"}
    )
    assert made.status_code == 201, made.text
    hidden = await api.post(
        f"{BASE}/threads/{made.json()['id']}/moderation", "admin", json={"hidden": True}
    )
    assert hidden.status_code == 200, hidden.text
    return str(made.json()["id"])


async def hidden_reply(api: Api, world: World) -> str:
    made = await api.post(
        f"{BASE}/threads", "farmer", json={"title": "barn", "body": "barn roof leaks"}
    )
    replied = await api.post(
        f"{BASE}/threads/{made.json()['id']}/replies", "farmer", json={"body": "still leaks"}
    )
    assert replied.status_code == 201, replied.text
    hidden = await api.post(
        f"{BASE}/replies/{replied.json()['id']}/moderation", "admin", json={"hidden": True}
    )
    assert hidden.status_code == 200, hidden.text
    return str(replied.json()["id"])


OWNED: dict[str, tuple[Factory, dict[str, dict[str, Any]]]] = {
    "entrant_id": (entrant, {"": {"goals": STRANGER}}),
    "question_id": (
        question,
        {"answers": {"text": STRANGER}, "self-served": {"suggestion_id": "library:crops_soil-001"}},
    ),
    "answer_id": (answer, {}),
    "consultation_id": (consultation, {"cancel": {"reason": STRANGER}}),
    "follow_up_id": (follow_up, {}),
    "field_report_id": (field_report, {}),
    "thread_id": (hidden_thread, {"replies": {"body": STRANGER}, "report": {"reason": STRANGER}}),
    "reply_id": (hidden_reply, {"report": {"reason": STRANGER}}),
}
