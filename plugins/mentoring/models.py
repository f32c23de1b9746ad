"""Mentoring records: who the entrants and advisors are, the questions and answers between
them, consultations with their reminders, follow-ups and field-visit reports, and the
community board.

Times are stored in UTC. Rows that hold an entrant's data carry the entrant's organization,
so core tenancy applies to them. Advisors are core users with the role ``advisor`` and
belong to no organization.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from core.clock import now
from core.db import Record


class Sector(StrEnum):
    CROPS = "crops"
    LIVESTOCK = "livestock"
    FISHERIES = "fisheries"
    AQUACULTURE = "aquaculture"


class Category(StrEnum):
    """What a question is about: the classes of ``mentoring.topic`` and the advisors'
    expertise tags."""

    CROPS_SOIL = "crops_soil"
    PESTS_DISEASES = "pests_diseases"
    LIVESTOCK_HEALTH = "livestock_health"
    FISHERIES_AQUACULTURE = "fisheries_aquaculture"
    MACHINERY = "machinery"
    SUBSIDIES_PAPERWORK = "subsidies_paperwork"
    MARKETING = "marketing"
    HUNTING_TRAPS = "hunting_traps"


class Visibility(StrEnum):
    ADVISORS = "advisors"
    """The asker and advisors only."""
    COMMUNITY = "community"
    """Every user: other entrants may read and answer it too."""


class QuestionStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    RESOLVED = "resolved"


class RouteReason(StrEnum):
    MENTOR = "mentor"
    MATCH = "match"
    ESCALATION = "escalation"


class Mode(StrEnum):
    VIDEO = "video"
    PHONE = "phone"
    FIELD_VISIT = "field_visit"


class ConsultationStatus(StrEnum):
    BOOKED = "booked"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class EntrantProfile(Record):
    """A new farmer, fisher or hunter who asked to be mentored."""

    user = fields.ForeignKeyField("core.User", related_name=False)
    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    sector = fields.CharEnumField(Sector, max_length=20)
    start_year = fields.IntField()
    region = fields.CharField(max_length=100, default="")
    goals = fields.TextField(default="")
    language = fields.CharField(max_length=5, default="ja")
    last_active_at = fields.DatetimeField(default=now)
    nudged_at = fields.DatetimeField(null=True)
    """When the retention job last asked a mentor to check in on this entrant."""
    updated_at = fields.DatetimeField(default=now)

    class Meta:
        unique_together = (("user",),)
        indexes = (("last_active_at",),)


class AdvisorProfile(Record):
    """A city advisor: what they know, which languages they speak, where, and when."""

    user = fields.ForeignKeyField("core.User", related_name=False)
    expertise = fields.JSONField(default=list)
    """Category values."""
    languages = fields.JSONField(default=list)
    region = fields.CharField(max_length=100, default="")
    timezone = fields.CharField(max_length=64, default="Asia/Tokyo")
    availability = fields.JSONField(default=list)
    """Weekly windows in ``timezone``: ``[{"weekday": 0-6 (Monday 0), "start": "HH:MM",
    "end": "HH:MM"}]``."""
    accepting = fields.BooleanField(default=True)
    """False: no new questions are routed to this advisor (leave, full load)."""
    updated_at = fields.DatetimeField(default=now)

    class Meta:
        unique_together = (("user",),)


class Mentorship(Record):
    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    advisor = fields.ForeignKeyField("core.User", related_name=False)
    entrant = fields.ForeignKeyField("mentoring.EntrantProfile", related_name=False)
    cadence_days = fields.IntField()
    started_at = fields.DatetimeField(default=now)
    ended_at = fields.DatetimeField(null=True)
    last_check_in_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(default=now)

    class Meta:
        indexes = (("entrant_id", "ended_at"), ("advisor_id", "ended_at"))


class Question(Record):
    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    asker = fields.ForeignKeyField("core.User", related_name=False)
    text = fields.TextField()
    language = fields.CharField(max_length=5, default="ja")
    category = fields.CharEnumField(Category, max_length=30)
    category_source = fields.CharField(max_length=10, default="model")
    """``model`` (mentoring.topic decided) or ``asker`` (chosen when asking)."""
    category_confidence = fields.FloatField(null=True)
    model_version = fields.CharField(max_length=100, null=True)
    visibility = fields.CharEnumField(Visibility, max_length=12)
    status = fields.CharEnumField(QuestionStatus, max_length=10, default=QuestionStatus.OPEN)
    assigned_advisor = fields.ForeignKeyField("core.User", related_name=False, null=True)
    """The advisor it is routed to now (none: open to all advisors)."""
    due_at = fields.DatetimeField(null=True)
    """When it escalates unless an advisor answers first (open questions only)."""
    escalations = fields.IntField(default=0)
    answered_at = fields.DatetimeField(null=True)
    """The first answer by an advisor."""
    resolved_at = fields.DatetimeField(null=True)
    self_served = fields.BooleanField(default=False)
    self_served_with = fields.CharField(max_length=80, null=True)
    """The suggestion that solved it (a library entry or an earlier question)."""
    photo_ids = fields.JSONField(default=list)
    updated_at = fields.DatetimeField(default=now)

    class Meta:
        indexes = (
            ("status", "due_at"),
            ("assigned_advisor_id", "status"),
            ("asker_id", "created_at"),
            ("visibility", "created_at"),
        )


class QuestionRoute(Record):
    """Each advisor a question was routed to, and why: the history escalation walks."""

    question = fields.ForeignKeyField("mentoring.Question", related_name="routes")
    advisor = fields.ForeignKeyField("core.User", related_name=False)
    reason = fields.CharEnumField(RouteReason, max_length=12)

    class Meta:
        unique_together = (("question", "advisor"),)


class Answer(Record):
    question = fields.ForeignKeyField("mentoring.Question", related_name="answers")
    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    author = fields.ForeignKeyField("core.User", related_name=False)
    by_advisor = fields.BooleanField(default=False)
    text = fields.TextField()
    photo_ids = fields.JSONField(default=list)
    accepted = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField(default=now)


class Consultation(Record):
    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    advisor = fields.ForeignKeyField("core.User", related_name=False)
    entrant = fields.ForeignKeyField("mentoring.EntrantProfile", related_name=False)
    booked_by = fields.ForeignKeyField("core.User", related_name=False)
    question = fields.ForeignKeyField("mentoring.Question", related_name=False, null=True)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    mode = fields.CharEnumField(Mode, max_length=12)
    status = fields.CharEnumField(
        ConsultationStatus, max_length=10, default=ConsultationStatus.BOOKED
    )
    topic = fields.TextField(default="")
    meeting_link = fields.CharField(max_length=500, null=True)
    notes = fields.TextField(default="")
    """The advisor's own notes, never shown to the entrant."""
    summary = fields.TextField(default="")
    """What the entrant receives after the meeting."""
    closed_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(default=now)

    class Meta:
        indexes = (
            ("advisor_id", "starts_at"),
            ("entrant_id", "starts_at"),
            ("status", "starts_at"),
        )


class ConsultationReminder(Record):
    """A reminder claimed before it is sent: the unique row is the claim, written in the
    same transaction as the notification, so each reminder goes out exactly once."""

    consultation = fields.ForeignKeyField("mentoring.Consultation", related_name=False)
    minutes_before = fields.IntField()

    class Meta:
        unique_together = (("consultation", "minutes_before"),)


class FollowUp(Record):
    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    consultation = fields.ForeignKeyField("mentoring.Consultation", related_name="follow_ups")
    entrant = fields.ForeignKeyField("mentoring.EntrantProfile", related_name=False)
    advisor = fields.ForeignKeyField("core.User", related_name=False)
    title = fields.CharField(max_length=300)
    due_on = fields.DateField(null=True)
    done_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(default=now)


class FieldVisitReport(Record):
    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    consultation = fields.ForeignKeyField("mentoring.Consultation", related_name=False, null=True)
    advisor = fields.ForeignKeyField("core.User", related_name=False)
    entrant = fields.ForeignKeyField("mentoring.EntrantProfile", related_name=False)
    visited_at = fields.DatetimeField()
    findings = fields.TextField()
    recommendations = fields.TextField(default="")
    photo_ids = fields.JSONField(default=list)


class Thread(Record):
    """A community post. Hidden posts are seen only by their author and staff."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False, null=True)
    author = fields.ForeignKeyField("core.User", related_name=False)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    category = fields.CharEnumField(Category, max_length=30, null=True)
    hidden = fields.BooleanField(default=False)
    report_count = fields.IntField(default=0)
    last_activity_at = fields.DatetimeField(default=now)
    updated_at = fields.DatetimeField(default=now)


class Reply(Record):
    thread = fields.ForeignKeyField("mentoring.Thread", related_name="replies")
    organization = fields.ForeignKeyField("core.Organization", related_name=False, null=True)
    author = fields.ForeignKeyField("core.User", related_name=False)
    body = fields.TextField()
    hidden = fields.BooleanField(default=False)
    report_count = fields.IntField(default=0)
    updated_at = fields.DatetimeField(default=now)


class PostReport(Record):
    """One person's report of a thread or a reply. The same person counts once."""

    reporter = fields.ForeignKeyField("core.User", related_name=False)
    target_kind = fields.CharField(max_length=10)
    target_id = fields.UUIDField()
    reason = fields.CharField(max_length=500, default="")

    class Meta:
        unique_together = (("reporter", "target_kind", "target_id"),)
