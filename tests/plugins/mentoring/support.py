"""Helpers for the mentoring tests: profiles, questions and bookings through the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from core.db import bound
from tests.support import Api

T = TypeVar("T")

BASE = "/api/v1/mentoring"
ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]
OFFICE_HOURS = [
    {"weekday": d, "start": s, "end": e}
    for d in range(5)
    for s, e in (("09:00", "12:00"), ("13:00", "17:00"))
]


def in_app(api: Api, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` on the app's own event loop with its database bound."""
    app = api.client.app

    async def run() -> T:
        with bound(app.state.db):
            return await work()

    return api.client.blocking_portal.call(run)


async def advisor_profile(
    api: Api,
    username: str = "advisor",
    *,
    expertise: list[str] | None = None,
    languages: list[str] | None = None,
    region: str = "",
    timezone: str = "Asia/Tokyo",
    availability: list[dict[str, Any]] | None = None,
    as_: str | None = None,
) -> dict[str, Any]:
    """The advisor's profile, created once (an admin creates it for another advisor)."""
    body: dict[str, Any] = {
        "expertise": expertise
        if expertise is not None
        else ["crops_soil", "pests_diseases", "livestock_health", "fisheries_aquaculture"],
        "languages": languages or ["ja"],
        "region": region,
        "timezone": timezone,
        "availability": ALL_WEEK if availability is None else availability,
    }
    caller = as_ or username
    if caller != username:
        me = await api.get("/api/v1/me", as_=username)
        body["user_id"] = me.json()["id"]
    created = await api.post(f"{BASE}/advisors", caller, json=body)
    if created.status_code == 409:
        me = await api.get("/api/v1/me", as_=username)
        listed = await api.get(f"{BASE}/advisors", as_=caller)
        return next(a for a in listed.json() if a["id"] == me.json()["id"])
    assert created.status_code == 201, created.text
    return created.json()


async def entrant_profile(api: Api, username: str = "farmer", **values: Any) -> dict[str, Any]:
    """The member's entrant profile, created once."""
    body = {"sector": "crops", "start_year": 2025, "region": "北部", "language": "ja", **values}
    created = await api.post(f"{BASE}/entrants", username, json=body)
    if created.status_code == 409:
        listed = await api.get(f"{BASE}/entrants", as_=username)
        return listed.json()["items"][0]
    assert created.status_code == 201, created.text
    return created.json()


async def ask(
    api: Api,
    username: str = "farmer",
    text: str = "トマトの葉にうどんこ病のような白い粉が付いています",
    **values: Any,
) -> dict[str, Any]:
    response = await api.post(f"{BASE}/questions", username, json={"text": text, **values})
    assert response.status_code == 201, response.text
    return response.json()


async def book(api: Api, username: str, **body: Any) -> Any:
    for key, value in list(body.items()):
        if isinstance(value, datetime):
            body[key] = value.isoformat()
    return await api.post(f"{BASE}/consultations", username, json=body)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def add_advisor(api: Api, username: str, display_name: str = "") -> str:
    """Another advisor user (the world has one), logging in with the common password."""
    created = await api.post(
        "/api/v1/users",
        "admin",
        json={
            "username": username,
            "password": api.password,
            "display_name": display_name or username,
            "role": "advisor",
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def notifications(api: Api, username: str, kind: str | None = None) -> list[dict[str, Any]]:
    """The user's notifications (inbox and push outbox rows), oldest first, with the title
    and body in English and the data the app deep-links with."""
    from core.alerts.models import Notification
    from core.i18n import Text
    from core.identity.models import User

    async def read() -> list[dict[str, Any]]:
        user = await User.get(username=username)
        rows = await Notification.filter(user_id=user.id).order_by("created_at", "id")
        found = []
        for row in rows:
            title = Text(**row.message["title"]).render("en")
            body = Text(**row.message["body"]).render("en")
            found.append({"title": title, "body": body, "plugin": row.plugin, **row.data})
        return [n for n in found if kind is None or n.get("kind") == kind]

    return in_app(api, read)


def run_job(api: Api, job: str, fire_time: datetime | None = None) -> Any:
    """Run ``mentoring.<job>`` on the app's loop: a manual run, or the scheduled run of
    ``fire_time`` (claimed, so the same fire time never runs twice)."""
    app = api.client.app
    return api.client.blocking_portal.call(app.state.scheduler.run, f"mentoring.{job}", fire_time)


def advance(api: Api, clock: Any, delta: Any) -> None:
    """Move the test clock; every login then starts afresh (tokens live 15 minutes)."""
    clock.advance(delta)
    for username in list(api._tokens):
        api.forget(username)
