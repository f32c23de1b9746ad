"""The mentoring part of the demo city, seeded into a test database: its people, questions
and consultations, and the alert its first escalation run raises."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

from core.alerts.models import Alert
from core.clock import FakeClock
from core.demo import DemoCity
from core.identity.models import Role, User
from plugins.mentoring import services
from plugins.mentoring.demo import seed
from plugins.mentoring.models import (
    AdvisorProfile,
    Consultation,
    EntrantProfile,
    Mentorship,
    Question,
    QuestionStatus,
    Thread,
)
from tests.plugins.mentoring.support import in_app, notifications
from tests.support import Api


async def test_the_demo_seeds_the_city_and_raises_an_alert_at_once(
    api: Api, clock: FakeClock
) -> None:
    app = api.client.app
    ctx = app.state.registry.get("mentoring").context

    async def build() -> dict:
        city = DemoCity(app.state.telemetry)
        await seed(ctx, city)
        await seed(ctx, city)  # a restarted demo finds everything and adds nothing
        profiles = await EntrantProfile.all().prefetch_related("user", "organization")
        consultations = await Consultation.all()
        return {
            "logins": [login.username for login in city.logins],
            "advisors": await AdvisorProfile.filter(user__role=Role.ADVISOR).count(),
            "entrants": len(profiles),
            "fishers": sum(p.organization.kind == "fishery" for p in profiles),
            "vietnamese": [p.user.username for p in profiles if p.language == "vi"],
            "mentorships": await Mentorship.filter(ended_at__isnull=True).count(),
            "questions": await Question.all().count(),
            "statuses": Counter(q.status for q in await Question.all()),
            "overdue": await Question.filter(
                status=QuestionStatus.OPEN, due_at__lte=clock.now()
            ).count(),
            "starts": [c.starts_at for c in consultations],
            "threads": await Thread.all().count(),
        }

    city = in_app(api, build)
    assert city["advisors"] == 3
    assert city["entrants"] == 12 and city["fishers"] == 2
    assert city["vietnamese"] == ["entrant_nguyen"]
    assert city["mentorships"] == 12
    assert city["questions"] == 60
    assert city["statuses"][QuestionStatus.OPEN] >= 10
    assert (
        city["statuses"][QuestionStatus.ANSWERED] + city["statuses"][QuestionStatus.RESOLVED] >= 30
    )
    assert city["overdue"] == 3
    assert city["threads"] == 4
    assert {"advisor", "advisor_kato", "advisor_tran", "entrant_nguyen"} <= set(city["logins"])
    # Consultations around this week, past ones completed, the next ones booked.
    tokyo = ZoneInfo("Asia/Tokyo")
    today = clock.now().astimezone(tokyo).date()
    days = {(s.astimezone(tokyo).date() - today).days for s in city["starts"]}
    assert min(days) >= -3 and max(days) <= 4 and len(city["starts"]) >= 9

    async def first_minutes() -> tuple[int, int, list[str]]:
        escalated = await services.escalate_overdue(ctx, clock.now())
        clock.advance(timedelta(minutes=6))
        reminded = await services.send_reminders(ctx, clock.now())
        alerts = await Alert.filter(plugin="mentoring").values_list("type", flat=True)
        return escalated, reminded, list(alerts)

    escalated, reminded, alerts = in_app(api, first_minutes)
    assert escalated == 3
    assert alerts == ["answer_overdue"] * 3
    assert reminded == 1  # the consultation an hour after start-up: its 1 h reminder
    assert len(notifications(api, "entrant_matsumoto", "consultation_reminder")) == 1

    async def quiet() -> list[str]:
        await services.retention_nudges(ctx, clock.now())
        users = await User.filter(username__in=["advisor", "advisor_kato"])
        return [u.username for u in users]

    in_app(api, quiet)
    nudged = [n["entrant_id"] for n in notifications(api, "advisor", "retention_nudge")]
    nudged += [n["entrant_id"] for n in notifications(api, "advisor_kato", "retention_nudge")]
    assert len(nudged) == 2  # the two entrants who went quiet
