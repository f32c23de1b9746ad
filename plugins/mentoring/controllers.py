"""The mentoring routes under ``/api/v1/mentoring``: thin, every one calls a service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from core.errors import Conflict, Invalid
from core.identity.access import ANY_USER, MEMBER, MEMBER_OR_ADMIN, STAFF, CurrentPrincipal
from core.pagination import Cursor, Limit
from core.plugin import Context
from plugins.mentoring import schemas, services
from plugins.mentoring.i18n import _
from plugins.mentoring.models import Category, ConsultationStatus, QuestionStatus

Start = Annotated[
    datetime | None,
    QueryParameter(name="from", description="Start (inclusive): RFC 3339 with its offset."),
]
End = Annotated[
    datetime | None,
    QueryParameter(name="to", description="End (exclusive): RFC 3339 with its offset."),
]


def _aware(value: datetime | None, parameter: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise Invalid.parameter(parameter, _("give the time with its UTC offset"))
    return value


class EntrantController(Controller):
    path = "/entrants"

    @post(access=MEMBER_OR_ADMIN, raises=[Conflict], summary="Create an entrant profile")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.EntrantCreate]
    ) -> schemas.Entrant:
        """A member creates their own; an admin names the member (``user_id``)."""
        return await services.create_entrant(ctx, principal, data)

    @get(access=ANY_USER, summary="Entrant profiles (members: their own)")
    async def list(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        at_risk: FromQuery[bool | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.EntrantList:
        return await services.list_entrants(ctx, principal, at_risk, cursor, limit)

    @get("/{entrant_id:str}", access=ANY_USER, summary="One entrant profile")
    async def get(
        self, ctx: Context, principal: CurrentPrincipal, entrant_id: FromPath[str]
    ) -> schemas.Entrant:
        return await services.get_entrant(ctx, principal, entrant_id)

    @patch("/{entrant_id:str}", access=MEMBER_OR_ADMIN, summary="Change an entrant profile")
    async def update(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        entrant_id: FromPath[str],
        data: JSONBody[schemas.EntrantUpdate],
    ) -> schemas.Entrant:
        return await services.update_entrant(ctx, principal, entrant_id, data)


class AdvisorController(Controller):
    path = "/advisors"

    @post(access=STAFF, raises=[Conflict], summary="Create an advisor profile")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.AdvisorCreate]
    ) -> schemas.Advisor:
        """An advisor creates their own; an admin names the advisor (``user_id``)."""
        return await services.create_advisor(ctx, principal, data)

    @get(access=ANY_USER, summary="Advisors: expertise, languages, region, availability")
    async def list(
        self, category: FromQuery[Category | None] = None, language: FromQuery[str | None] = None
    ) -> list[schemas.Advisor]:
        return await services.list_advisors(category, language)

    @patch("/{advisor_id:str}", access=STAFF, summary="Change an advisor profile")
    async def update(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        advisor_id: FromPath[str],
        data: JSONBody[schemas.AdvisorUpdate],
    ) -> schemas.Advisor:
        """``advisor_id`` is the advisor's user id; advisors change only their own."""
        return await services.update_advisor(ctx, principal, advisor_id, data)


@get("/availability", access=ANY_USER, summary="Free consultation slots of an advisor")
async def availability(
    ctx: Context,
    advisor_id: FromQuery[str],
    start: Start = None,
    end: End = None,
    minutes: Annotated[int | None, QueryParameter(ge=10, le=240)] = None,
) -> schemas.Availability:
    """Slots within the advisor's weekly windows that no booked consultation overlaps;
    ``from`` defaults to now, ``to`` to a week later (at most 31 days)."""
    return await services.availability(
        ctx, advisor_id, _aware(start, "from"), _aware(end, "to"), minutes
    )


class MentorshipController(Controller):
    path = "/mentorships"

    @post(access=STAFF, raises=[Conflict], summary="Start mentoring an entrant")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.MentorshipCreate]
    ) -> schemas.Mentorship:
        return await services.create_mentorship(ctx, principal, data)

    @get(access=ANY_USER, summary="Mentorships (members: their own)")
    async def list(
        self, ctx: Context, principal: CurrentPrincipal, active: FromQuery[bool | None] = None
    ) -> list[schemas.Mentorship]:
        return await services.list_mentorships(ctx, principal, active)

    @post(
        "/{mentorship_id:str}/check-ins",
        access=STAFF,
        raises=[Conflict],
        status_code=200,
        summary="Record a check-in",
    )
    async def check_in(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        mentorship_id: FromPath[str],
        data: JSONBody[schemas.CheckIn],
    ) -> schemas.Mentorship:
        return await services.check_in(ctx, principal, mentorship_id, data)

    @post("/{mentorship_id:str}/end", access=STAFF, status_code=200, summary="End a mentorship")
    async def end(
        self, ctx: Context, principal: CurrentPrincipal, mentorship_id: FromPath[str]
    ) -> schemas.Mentorship:
        return await services.end_mentorship(ctx, principal, mentorship_id)


class QuestionController(Controller):
    path = "/questions"

    @get("/similar", access=ANY_USER, summary="Answered questions like the one being typed")
    async def similar(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        q: Annotated[str, QueryParameter(min_length=1, max_length=20000)],
        limit: Annotated[int | None, QueryParameter(ge=1, le=20)] = None,
    ) -> schemas.SuggestionList:
        return await services.similar(ctx, principal, q, limit)

    @post(access=MEMBER, summary="Ask a question (routed to an advisor)")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.QuestionCreate]
    ) -> schemas.Question:
        """The answer holds the routing and the suggestions of ``/questions/similar``."""
        return await services.ask(ctx, principal, data)

    @get(access=ANY_USER, summary="Questions the caller may read, newest first")
    async def list(
        self,
        principal: CurrentPrincipal,
        status: FromQuery[QuestionStatus | None] = None,
        category: FromQuery[Category | None] = None,
        mine: FromQuery[bool] = False,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.QuestionList:
        """``mine``: asked by the caller (advisors: routed to them now)."""
        return await services.list_questions(
            principal, status=status, category=category, mine=mine, cursor=cursor, limit=limit
        )

    @get("/{question_id:str}", access=ANY_USER, summary="One question with its answers")
    async def get(
        self, ctx: Context, principal: CurrentPrincipal, question_id: FromPath[str]
    ) -> schemas.Question:
        return await services.get_question(ctx, principal, question_id)

    @post(
        "/{question_id:str}/answers",
        access=ANY_USER,
        raises=[Conflict],
        summary="Answer a question",
    )
    async def answer(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        question_id: FromPath[str],
        data: JSONBody[schemas.AnswerCreate],
    ) -> schemas.Answer:
        return await services.answer(ctx, principal, question_id, data)

    @post(
        "/{question_id:str}/self-served",
        access=MEMBER_OR_ADMIN,
        raises=[Conflict],
        status_code=200,
        summary="A suggestion solved it: close the question",
    )
    async def self_served(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        question_id: FromPath[str],
        data: JSONBody[schemas.SelfServed],
    ) -> schemas.Question:
        return await services.self_served(ctx, principal, question_id, data)


@post(
    "/answers/{answer_id:str}/accept",
    access=MEMBER_OR_ADMIN,
    status_code=200,
    summary="The asker accepts an answer (the question is resolved)",
)
async def accept_answer(
    ctx: Context, principal: CurrentPrincipal, answer_id: FromPath[str]
) -> schemas.Question:
    return await services.accept(ctx, principal, answer_id)


class ConsultationController(Controller):
    path = "/consultations"

    @post(access=ANY_USER, raises=[Conflict], summary="Book a consultation")
    async def create(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        data: JSONBody[schemas.ConsultationCreate],
    ) -> schemas.Consultation:
        """Within the advisor's availability; 409 when the advisor or the entrant is
        already booked at an overlapping time (``conflict``: ``advisor`` or ``entrant``)."""
        return await services.book(ctx, principal, data)

    @get(access=ANY_USER, summary="Consultations by start time")
    async def list(
        self,
        principal: CurrentPrincipal,
        status: FromQuery[ConsultationStatus | None] = None,
        start: Start = None,
        end: End = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.ConsultationList:
        return await services.list_consultations(
            principal,
            status=status,
            start=_aware(start, "from"),
            end=_aware(end, "to"),
            cursor=cursor,
            limit=limit,
        )

    @get("/{consultation_id:str}", access=ANY_USER, summary="One consultation")
    async def get(
        self, principal: CurrentPrincipal, consultation_id: FromPath[str]
    ) -> schemas.Consultation:
        return await services.get_consultation(principal, consultation_id)

    @post(
        "/{consultation_id:str}/cancel",
        access=ANY_USER,
        raises=[Conflict],
        status_code=200,
        summary="Cancel a booked consultation",
    )
    async def cancel(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        consultation_id: FromPath[str],
        data: JSONBody[schemas.CancelConsultation],
    ) -> schemas.Consultation:
        return await services.cancel(ctx, principal, consultation_id, data)

    @post(
        "/{consultation_id:str}/complete",
        access=STAFF,
        raises=[Conflict],
        status_code=200,
        summary="Record notes, summary and follow-ups (or a no-show)",
    )
    async def complete(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        consultation_id: FromPath[str],
        data: JSONBody[schemas.CompleteConsultation],
    ) -> schemas.Consultation:
        """The entrant receives the summary and follow-up tasks at once."""
        return await services.complete(ctx, principal, consultation_id, data)


class FollowUpController(Controller):
    path = "/follow-ups"

    @get(access=ANY_USER, summary="Follow-up tasks from consultations")
    async def list(
        self,
        principal: CurrentPrincipal,
        done: FromQuery[bool | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.FollowUpList:
        return await services.list_follow_ups(principal, done, cursor, limit)

    @post("/{follow_up_id:str}/done", access=ANY_USER, status_code=200, summary="Mark a task done")
    async def done(
        self, ctx: Context, principal: CurrentPrincipal, follow_up_id: FromPath[str]
    ) -> schemas.FollowUp:
        return await services.follow_up_done(ctx, principal, follow_up_id)


class FieldReportController(Controller):
    path = "/field-reports"

    @post(access=STAFF, summary="Report a field visit")
    async def create(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        data: JSONBody[schemas.FieldReportCreate],
    ) -> schemas.FieldReport:
        return await services.create_field_report(ctx, principal, data)

    @get(access=ANY_USER, summary="Field-visit reports, newest first")
    async def list(
        self, principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 50
    ) -> schemas.FieldReportList:
        return await services.list_field_reports(principal, cursor, limit)

    @get("/{field_report_id:str}", access=ANY_USER, summary="One field-visit report")
    async def get(
        self, principal: CurrentPrincipal, field_report_id: FromPath[str]
    ) -> schemas.FieldReport:
        return await services.get_field_report(principal, field_report_id)


class ThreadController(Controller):
    path = "/threads"

    @post(access=ANY_USER, summary="Start a community thread")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.ThreadCreate]
    ) -> schemas.Thread:
        return await services.create_thread(ctx, principal, data)

    @get(access=ANY_USER, summary="Community threads, newest first")
    async def list(
        self,
        principal: CurrentPrincipal,
        category: FromQuery[Category | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.ThreadList:
        return await services.list_threads(principal, category, cursor, limit)

    @get("/{thread_id:str}", access=ANY_USER, summary="One thread with its replies")
    async def get(self, principal: CurrentPrincipal, thread_id: FromPath[str]) -> schemas.Thread:
        return await services.get_thread(principal, thread_id)

    @post("/{thread_id:str}/replies", access=ANY_USER, summary="Reply to a thread")
    async def reply(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        thread_id: FromPath[str],
        data: JSONBody[schemas.ReplyCreate],
    ) -> schemas.Reply:
        return await services.reply(ctx, principal, thread_id, data)

    @post("/{thread_id:str}/report", access=ANY_USER, status_code=200, summary="Report a thread")
    async def report(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        thread_id: FromPath[str],
        data: JSONBody[schemas.Report],
    ) -> schemas.Reported:
        return await services.report_post(ctx, principal, "thread", thread_id, data)

    @post(
        "/{thread_id:str}/moderation",
        access=STAFF,
        status_code=200,
        summary="Hide or restore a thread",
    )
    async def moderate(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        thread_id: FromPath[str],
        data: JSONBody[schemas.Moderation],
    ) -> schemas.Thread:
        result = await services.moderate(ctx, principal, "thread", thread_id, data)
        assert isinstance(result, schemas.Thread)
        return result


class ReplyController(Controller):
    path = "/replies"

    @post("/{reply_id:str}/report", access=ANY_USER, status_code=200, summary="Report a reply")
    async def report(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        reply_id: FromPath[str],
        data: JSONBody[schemas.Report],
    ) -> schemas.Reported:
        return await services.report_post(ctx, principal, "reply", reply_id, data)

    @post(
        "/{reply_id:str}/moderation",
        access=STAFF,
        status_code=200,
        summary="Hide or restore a reply",
    )
    async def moderate(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        reply_id: FromPath[str],
        data: JSONBody[schemas.Moderation],
    ) -> schemas.Reply:
        result = await services.moderate(ctx, principal, "reply", reply_id, data)
        assert isinstance(result, schemas.Reply)
        return result


@get("/overview", access=STAFF, summary="The advisor's overview, with entrants at risk")
async def overview(ctx: Context, principal: CurrentPrincipal) -> schemas.Overview:
    return await services.overview(ctx, principal)


@get("/kpis", access=STAFF, summary="online_consultations for a period, in its parts")
async def kpi_parts(
    ctx: Context,
    start: Start = None,
    end: End = None,
) -> schemas.KPIParts:
    """Defaults: the last 30 days."""
    from datetime import timedelta

    end = _aware(end, "to") or ctx.clock.now()
    start = _aware(start, "from") or end - timedelta(days=30)
    if start > end:
        raise Invalid.parameter("from", _("from must not be after to"))
    return await services.kpi_parts(start, end)


ROUTES = [
    EntrantController,
    AdvisorController,
    availability,
    MentorshipController,
    QuestionController,
    accept_answer,
    ConsultationController,
    FollowUpController,
    FieldReportController,
    ThreadController,
    ReplyController,
    overview,
    kpi_parts,
]
