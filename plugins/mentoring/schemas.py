"""Requests and answers of the mentoring routes (msgspec Structs; never ORM objects).

Times are timezone-aware; core renders them in the caller's time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from plugins.mentoring.models import (
    Category,
    ConsultationStatus,
    Mode,
    QuestionStatus,
    RouteReason,
    Sector,
    Visibility,
)

Language = Literal["ja", "en", "vi"]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]
ShortText = Annotated[str, msgspec.Meta(max_length=300)]
Id = Annotated[str, msgspec.Meta(max_length=64)]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]


class Person(msgspec.Struct):
    id: str
    display_name: str


class Photo(msgspec.Struct):
    id: str
    url: str
    thumbnail_url: str


# --- entrants ------------------------------------------------------------------------------


class EntrantCreate(msgspec.Struct, forbid_unknown_fields=True):
    sector: Sector
    start_year: Annotated[int, msgspec.Meta(ge=1950, le=2100)]
    region: Annotated[str, msgspec.Meta(max_length=100)] = ""
    goals: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    language: Language = "ja"
    organization_id: Id | None = None
    """Required when the member belongs to several organizations."""
    user_id: Id | None = None
    """Admins only: whose profile this is."""


class EntrantUpdate(msgspec.Struct, forbid_unknown_fields=True):
    sector: Sector | None = None
    start_year: Annotated[int, msgspec.Meta(ge=1950, le=2100)] | None = None
    region: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    goals: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    language: Language | None = None


class Entrant(msgspec.Struct):
    id: str
    user: Person
    organization_id: str
    sector: Sector
    start_year: int
    region: str
    goals: str
    language: str
    last_active_at: datetime
    inactive_days: int
    at_risk: bool
    mentor: Person | None
    created_at: datetime
    updated_at: datetime


class EntrantList(msgspec.Struct):
    items: list[Entrant]
    next_cursor: str | None


# --- advisors ------------------------------------------------------------------------------


class Window(msgspec.Struct, forbid_unknown_fields=True):
    weekday: Annotated[int, msgspec.Meta(ge=0, le=6)]
    """Monday 0 to Sunday 6, in the advisor's time zone."""
    start: HHMM
    end: HHMM


class AdvisorCreate(msgspec.Struct, forbid_unknown_fields=True):
    expertise: list[Category]
    languages: Annotated[list[Language], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["ja"]
    )
    region: Annotated[str, msgspec.Meta(max_length=100)] = ""
    timezone: Annotated[str, msgspec.Meta(max_length=64)] = "Asia/Tokyo"
    availability: Annotated[list[Window], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list
    )
    accepting: bool = True
    user_id: Id | None = None
    """Admins only: the advisor whose profile this is."""


class AdvisorUpdate(msgspec.Struct, forbid_unknown_fields=True):
    expertise: list[Category] | None = None
    languages: Annotated[list[Language], msgspec.Meta(min_length=1)] | None = None
    region: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    timezone: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    availability: Annotated[list[Window], msgspec.Meta(max_length=50)] | None = None
    accepting: bool | None = None


class Advisor(msgspec.Struct):
    id: str
    """The advisor's user id."""
    display_name: str
    expertise: list[str]
    languages: list[str]
    region: str
    timezone: str
    availability: list[Window]
    accepting: bool
    open_questions: int


class Slot(msgspec.Struct):
    starts_at: datetime
    ends_at: datetime


class Availability(msgspec.Struct):
    advisor_id: str
    minutes: int
    slots: list[Slot]


# --- mentorships ---------------------------------------------------------------------------


class MentorshipCreate(msgspec.Struct, forbid_unknown_fields=True):
    entrant_id: Id
    advisor_id: Id | None = None
    """Defaults to the calling advisor; admins must name one."""
    cadence_days: Annotated[int, msgspec.Meta(ge=1, le=180)] | None = None


class CheckIn(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=4000)] = ""


class Mentorship(msgspec.Struct):
    id: str
    entrant_id: str
    entrant: Person
    advisor: Person
    organization_id: str
    cadence_days: int
    started_at: datetime
    ended_at: datetime | None
    last_check_in_at: datetime | None
    check_in_due: bool


# --- questions -----------------------------------------------------------------------------


class Suggestion(msgspec.Struct):
    id: str
    """``library:<corpus id>`` or ``question:<question id>``; send it back to mark a question
    self-served."""
    kind: Literal["library", "question"]
    question: str
    answer: str
    category: str
    language: str
    score: float


class SuggestionList(msgspec.Struct):
    items: list[Suggestion]
    model_version: str


class QuestionCreate(msgspec.Struct, forbid_unknown_fields=True):
    text: Text
    visibility: Visibility = Visibility.ADVISORS
    category: Category | None = None
    """Leave out to let ``mentoring.topic`` decide."""
    photo_ids: Annotated[list[Id], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list
    )
    organization_id: Id | None = None
    """Required when the member belongs to several organizations."""


class AnswerCreate(msgspec.Struct, forbid_unknown_fields=True):
    text: Text
    photo_ids: Annotated[list[Id], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list
    )


class SelfServed(msgspec.Struct, forbid_unknown_fields=True):
    suggestion_id: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]


class Answer(msgspec.Struct):
    id: str
    question_id: str
    author: Person
    by_advisor: bool
    text: str
    photos: list[Photo]
    accepted: bool
    created_at: datetime


class Route(msgspec.Struct):
    advisor: Person
    reason: RouteReason
    routed_at: datetime


class Question(msgspec.Struct):
    id: str
    organization_id: str
    asker: Person
    text: str
    language: str
    category: Category
    category_source: str
    category_confidence: float | None
    model_version: str | None
    visibility: Visibility
    status: QuestionStatus
    assigned_advisor: Person | None
    """None: open to all advisors."""
    due_at: datetime | None
    escalations: int
    answered_at: datetime | None
    resolved_at: datetime | None
    self_served: bool
    self_served_with: str | None
    photos: list[Photo]
    answers: list[Answer]
    routes: list[Route]
    suggestions: list[Suggestion]
    """On creation (and for the asker while open): answered questions like this one."""
    created_at: datetime
    updated_at: datetime


class QuestionList(msgspec.Struct):
    items: list[Question]
    next_cursor: str | None


# --- consultations -------------------------------------------------------------------------


class ConsultationCreate(msgspec.Struct, forbid_unknown_fields=True):
    starts_at: datetime
    """RFC 3339 with its offset (the caller's local time is fine: it is stored in UTC)."""
    mode: Mode = Mode.VIDEO
    minutes: Annotated[int, msgspec.Meta(ge=10, le=240)] | None = None
    advisor_id: Id | None = None
    """Required for entrants; advisors book for themselves."""
    entrant_id: Id | None = None
    """Required for advisors and admins; entrants book for themselves."""
    topic: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    question_id: Id | None = None


class CancelConsultation(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class FollowUpCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    due_on: date | None = None


class CompleteConsultation(msgspec.Struct, forbid_unknown_fields=True):
    outcome: Literal["completed", "no_show"] = "completed"
    notes: Annotated[str, msgspec.Meta(max_length=20000)] = ""
    summary: Annotated[str, msgspec.Meta(max_length=20000)] = ""
    follow_ups: Annotated[list[FollowUpCreate], msgspec.Meta(max_length=30)] = msgspec.field(
        default_factory=list
    )


class FollowUp(msgspec.Struct):
    id: str
    consultation_id: str
    entrant_id: str
    advisor: Person
    title: str
    due_on: date | None
    done_at: datetime | None
    created_at: datetime


class FollowUpList(msgspec.Struct):
    items: list[FollowUp]
    next_cursor: str | None


class Consultation(msgspec.Struct):
    id: str
    organization_id: str
    advisor: Person
    entrant_id: str
    entrant: Person
    starts_at: datetime
    ends_at: datetime
    minutes: int
    mode: Mode
    status: ConsultationStatus
    topic: str
    meeting_link: str | None
    question_id: str | None
    notes: str | None
    """The advisor's notes: shown to staff only (None for the entrant)."""
    summary: str
    follow_ups: list[FollowUp]
    reminders_sent: list[int]
    """Minutes before the start of each reminder already sent."""
    created_at: datetime
    updated_at: datetime


class ConsultationList(msgspec.Struct):
    items: list[Consultation]
    next_cursor: str | None


class FieldReportCreate(msgspec.Struct, forbid_unknown_fields=True):
    entrant_id: Id
    visited_at: datetime
    findings: Text
    recommendations: Annotated[str, msgspec.Meta(max_length=20000)] = ""
    consultation_id: Id | None = None
    photo_ids: Annotated[list[Id], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list
    )


class FieldReport(msgspec.Struct):
    id: str
    organization_id: str
    entrant_id: str
    advisor: Person
    consultation_id: str | None
    visited_at: datetime
    findings: str
    recommendations: str
    photos: list[Photo]
    created_at: datetime


class FieldReportList(msgspec.Struct):
    items: list[FieldReport]
    next_cursor: str | None


# --- community -----------------------------------------------------------------------------


class ThreadCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    body: Text
    category: Category | None = None


class ReplyCreate(msgspec.Struct, forbid_unknown_fields=True):
    body: Text


class Report(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class Moderation(msgspec.Struct, forbid_unknown_fields=True):
    hidden: bool


class Reply(msgspec.Struct):
    id: str
    thread_id: str
    author: Person
    body: str
    hidden: bool
    created_at: datetime


class Thread(msgspec.Struct):
    id: str
    author: Person
    title: str
    body: str
    category: Category | None
    hidden: bool
    reply_count: int
    replies: list[Reply]
    last_activity_at: datetime
    created_at: datetime


class ThreadList(msgspec.Struct):
    items: list[Thread]
    next_cursor: str | None


class Reported(msgspec.Struct):
    reports: int
    hidden: bool


# --- the advisor's overview and the KPI parts ----------------------------------------------


class AtRisk(msgspec.Struct):
    entrant_id: str
    entrant: Person
    organization_id: str
    last_active_at: datetime
    inactive_days: int
    mentor: Person | None


class Overview(msgspec.Struct):
    open_questions: int
    """Open questions routed to the caller (all open questions for admins)."""
    overdue_questions: int
    pool_questions: int
    """Open questions no single advisor holds: open to all advisors."""
    upcoming_consultations: list[Consultation]
    pending_follow_ups: int
    at_risk: list[AtRisk]
    check_ins_due: list[Mentorship]


class KPIParts(msgspec.Struct):
    start: datetime = msgspec.field(name="from")
    end: datetime = msgspec.field(name="to")
    online_consultations: int
    consultations: int
    """Completed video and phone consultations that started in the period."""
    video: int
    phone: int
    answered_questions: int
    """Questions whose first advisor answer came in the period."""
