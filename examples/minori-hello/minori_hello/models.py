from __future__ import annotations

from tortoise import fields

from core.db import Record


class Greeting(Record):
    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    author = fields.ForeignKeyField("core.User", related_name=False)
    text = fields.TextField()
    mood = fields.CharField(max_length=20)


class DailyTally(Record):
    """What the ``hello.tally`` job writes: greetings per organization and day."""

    organization = fields.ForeignKeyField("core.Organization", related_name=False)
    day = fields.DateField()
    greetings = fields.IntField()

    class Meta:
        unique_together = (("organization", "day"),)
