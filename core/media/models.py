from __future__ import annotations

from tortoise import fields

from core.db import Record


class Media(Record):
    """A photo that went through the pipeline. Until a record claims it only its uploader
    sees it; once attached it is visible to whoever may see the owning record."""

    uploader = fields.ForeignKeyField("core.User", related_name=False)
    organization = fields.ForeignKeyField("core.Organization", related_name=False, null=True)
    sha256 = fields.CharField(max_length=64)
    thumbnail_sha256 = fields.CharField(max_length=64)
    content_type = fields.CharField(max_length=20)
    width = fields.IntField()
    height = fields.IntField()
    size = fields.IntField()
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    attached_kind = fields.CharField(max_length=100, null=True)
    attached_id = fields.CharField(max_length=64, null=True)
