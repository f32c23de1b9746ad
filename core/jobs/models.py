from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from core.db import Record


class RunOutcome(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobRun(Record):
    """One run of a job. ``(job_id, fire_time)`` is unique: a run with side effects claims
    its fire time before it starts, so a leader hand-over never runs it twice."""

    job_id = fields.CharField(max_length=100)
    fire_time = fields.DatetimeField()
    manual = fields.BooleanField(default=False)
    started_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    duration_ms = fields.IntField(null=True)
    outcome = fields.CharEnumField(RunOutcome, max_length=10, default=RunOutcome.RUNNING)
    error = fields.TextField(null=True)
    instance = fields.CharField(max_length=100, default="")

    class Meta:
        unique_together = (("job_id", "fire_time"),)
        indexes = (("job_id", "started_at"),)
