from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from core.db import Record


class Device(Record):
    """A sensor of an organization. Its key is shown once and stored as a SHA-256."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    kind = fields.CharField(max_length=100)
    name = fields.CharField(max_length=200)
    external_id = fields.CharField(max_length=200)
    subject_kind = fields.CharField(max_length=100, null=True)
    subject_id = fields.CharField(max_length=64, null=True)
    key_hash = fields.CharField(max_length=64, unique=True)
    revoked_at = fields.DatetimeField(null=True)
    last_seen = fields.DatetimeField(null=True)
    battery = fields.FloatField(null=True)

    class Meta:
        unique_together = (("organization", "external_id"),)


class Gateway(Record):
    """A relay that may post readings for every device of its organization."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    name = fields.CharField(max_length=200)
    key_hash = fields.CharField(max_length=64, unique=True)
    revoked_at = fields.DatetimeField(null=True)
    last_seen = fields.DatetimeField(null=True)


class Reading(Model):
    """The narrow time-series table, written only in bulk by core/telemetry/writer.py.

    ``(device, message_id)`` is unique, so a retried reading changes nothing. (No semicolons
    in model docstrings: tortoise splits the table comment's SQL on them.)"""

    id = fields.BigIntField(primary_key=True)
    device_id = fields.UUIDField()
    message_id = fields.CharField(max_length=64)
    ts = fields.DatetimeField()
    metric = fields.CharField(max_length=64)
    value = fields.FloatField()
    received_at = fields.DatetimeField()

    class Meta:
        unique_together = (("device_id", "message_id"),)
        indexes = (("device_id", "ts"), ("device_id", "metric", "ts"))


class DeadLetter(Record):
    """A message the MQTT consumer could not use, kept with the reason."""

    topic = fields.CharField(max_length=300)
    payload = fields.TextField()
    reason = fields.TextField()


class DeviceDay(Model):
    """A device reported on this (UTC) day: the small table the KPIs count from."""

    id = fields.BigIntField(primary_key=True)
    device_id = fields.UUIDField()
    day = fields.DateField()

    class Meta:
        unique_together = (("device_id", "day"),)
        indexes = (("day", "device_id"),)
