"""``Idempotency-Key`` on every POST: a replay returns the first answer, so an app's offline
queue can resend without creating anything twice."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class IdempotentRequest(Model):
    """The first 2xx answer to a POST, kept 24 hours under the caller's key."""

    id = fields.BigIntField(primary_key=True)
    caller = fields.CharField(max_length=80)
    method = fields.CharField(max_length=10)
    path = fields.CharField(max_length=500)
    key = fields.CharField(max_length=200)
    request_hash = fields.CharField(max_length=64)
    status_code = fields.IntField()
    content_type = fields.CharField(max_length=100, default="application/json")
    body = fields.BinaryField()
    created_object_id = fields.CharField(max_length=64, null=True)
    """Set when the answer carried a secret that was not stored: the replay answers 409."""
    created_at = fields.DatetimeField()

    class Meta:
        unique_together = (("caller", "method", "path", "key"),)
        indexes = (("created_at",),)
