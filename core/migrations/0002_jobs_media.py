from tortoise import migrations
from core.clock import now
from tortoise.migrations import operations as ops
from core.jobs.models import RunOutcome
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='JobRun',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('job_id', fields.CharField(max_length=100)),
                ('fire_time', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('manual', fields.BooleanField(default=False)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('duration_ms', fields.IntField(null=True)),
                ('outcome', fields.CharEnumField(default=RunOutcome.RUNNING, description='RUNNING: running\nSUCCEEDED: succeeded\nFAILED: failed', enum_type=RunOutcome, max_length=10)),
                ('error', fields.TextField(null=True, unique=False)),
                ('instance', fields.CharField(default='', max_length=100)),
            ],
            options={'table': 'core_jobrun', 'app': 'core', 'unique_together': (('job_id', 'fire_time'),), 'indexes': [Index(fields=['job_id', 'started_at'])], 'pk_attr': 'id', 'table_description': 'One run of a job. ``(job_id, fire_time)`` is unique: a run with side effects claims'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='Media',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('uploader', fields.ForeignKeyField('core.User', source_field='uploader_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('sha256', fields.CharField(max_length=64)),
                ('thumbnail_sha256', fields.CharField(max_length=64)),
                ('content_type', fields.CharField(max_length=20)),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('size', fields.IntField()),
                ('latitude', fields.FloatField(null=True)),
                ('longitude', fields.FloatField(null=True)),
                ('attached_kind', fields.CharField(null=True, max_length=100)),
                ('attached_id', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'core_media', 'app': 'core', 'pk_attr': 'id', 'table_description': 'A photo that went through the pipeline. Until a record claims it only its uploader'},
            bases=['Record'],
        ),
    ]
