from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from core.db import Record


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"
    INFO = "info"


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Verdict(StrEnum):
    CONFIRMED = "confirmed"
    FALSE_ALARM = "false_alarm"


class Alert(Record):
    """One alert per ``(subject, type)`` while it is open: a repeat counts, never duplicates.

    ``open_key`` is set while the alert is open or acknowledged and cleared when resolved; its
    unique index is what makes a second open alert for the same subject impossible.
    """

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    plugin = fields.CharField(max_length=40)
    type = fields.CharField(max_length=60)
    severity = fields.CharEnumField(Severity, max_length=10)
    status = fields.CharEnumField(AlertStatus, max_length=12, default=AlertStatus.OPEN)
    title = fields.CharField(max_length=300)
    body = fields.TextField()
    message = fields.JSONField(default=dict)
    """The title and body as message ids and parameters, for rendering in any language."""
    subject_kind = fields.CharField(max_length=100)
    subject_id = fields.CharField(max_length=64)
    subject_label = fields.CharField(max_length=200, default="")
    open_key = fields.CharField(max_length=400, null=True, unique=True)
    count = fields.IntField(default=1)
    first_seen = fields.DatetimeField()
    last_seen = fields.DatetimeField()
    acknowledged_by = fields.ForeignKeyField("core.User", related_name=False, null=True)
    acknowledged_at = fields.DatetimeField(null=True)
    resolved_by = fields.ForeignKeyField("core.User", related_name=False, null=True)
    resolved_at = fields.DatetimeField(null=True)
    resolution_note = fields.TextField(null=True)
    feedback = fields.CharEnumField(Verdict, max_length=12, null=True)
    feedback_note = fields.TextField(null=True)
    model_version = fields.CharField(max_length=100, null=True)
    data = fields.JSONField(default=dict)
    escalation = fields.JSONField(default=list)
    """Who to notify, in tiers: ``[[user ids notified at once], [next tier], ...]``."""
    escalation_level = fields.IntField(default=0)
    escalate_at = fields.DatetimeField(null=True)
    escalate_after_s = fields.IntField(null=True)

    class Meta:
        indexes = (
            ("organization_id", "status", "created_at"),
            ("subject_kind", "subject_id"),
            ("status", "escalate_at"),
        )


class PushStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    NO_DEVICE = "no_device"


class Notification(Record):
    """A message to one user: their inbox item and the outbox row its push is sent from.

    Written in the same transaction as its cause (an alert, an answer), then pushed by the
    sender; ``push_status`` and ``next_attempt_at`` drive retries.
    """

    user = fields.ForeignKeyField("core.User", related_name=False)
    plugin = fields.CharField(max_length=40)
    alert = fields.ForeignKeyField("core.Alert", related_name=False, null=True)
    message = fields.JSONField()
    """Title and body as message ids and parameters; rendered in the user's language."""
    data = fields.JSONField(default=dict)
    critical = fields.BooleanField(default=False)
    read_at = fields.DatetimeField(null=True)
    push_status = fields.CharEnumField(PushStatus, max_length=10, default=PushStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)

    class Meta:
        indexes = (("user_id", "created_at"), ("push_status", "next_attempt_at"))


class PushToken(Record):
    """A phone's push address: an FCM registration token or a Firebase installation id."""

    user = fields.ForeignKeyField("core.User", related_name=False)
    token = fields.CharField(max_length=500, unique=True)
    kind = fields.CharField(max_length=10)
    platform = fields.CharField(max_length=10)
    app_version = fields.CharField(max_length=40, default="")
    last_seen_at = fields.DatetimeField()


class DeliveryAttempt(Record):
    """One try to deliver one notification to one push token."""

    notification = fields.ForeignKeyField("core.Notification", related_name=False)
    token = fields.CharField(max_length=500)
    outcome = fields.CharField(max_length=20)
    error = fields.TextField(null=True)
