from tortoise import migrations
from core.clock import now
from tortoise.migrations import operations as ops
import functools
from core.alerts.models import AlertStatus, PushStatus, Severity, Verdict
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0002_jobs_media')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Alert',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('plugin', fields.CharField(max_length=40)),
                ('type', fields.CharField(max_length=60)),
                ('severity', fields.CharEnumField(description='CRITICAL: critical\nMAJOR: major\nMINOR: minor\nWARNING: warning\nINFO: info', enum_type=Severity, max_length=10)),
                ('status', fields.CharEnumField(default=AlertStatus.OPEN, description='OPEN: open\nACKNOWLEDGED: acknowledged\nRESOLVED: resolved', enum_type=AlertStatus, max_length=12)),
                ('title', fields.CharField(max_length=300)),
                ('body', fields.TextField(unique=False)),
                ('message', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('subject_kind', fields.CharField(max_length=100)),
                ('subject_id', fields.CharField(max_length=64)),
                ('subject_label', fields.CharField(default='', max_length=200)),
                ('open_key', fields.CharField(null=True, unique=True, max_length=400)),
                ('count', fields.IntField(default=1)),
                ('first_seen', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('acknowledged_by', fields.ForeignKeyField('core.User', source_field='acknowledged_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('acknowledged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_by', fields.ForeignKeyField('core.User', source_field='resolved_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolution_note', fields.TextField(null=True, unique=False)),
                ('feedback', fields.CharEnumField(null=True, description='CONFIRMED: confirmed\nFALSE_ALARM: false_alarm', enum_type=Verdict, max_length=12)),
                ('feedback_note', fields.TextField(null=True, unique=False)),
                ('model_version', fields.CharField(null=True, max_length=100)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('escalation', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('escalation_level', fields.IntField(default=0)),
                ('escalate_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('escalate_after_s', fields.IntField(null=True)),
            ],
            options={'table': 'core_alert', 'app': 'core', 'indexes': [Index(fields=['organization_id', 'status', 'created_at']), Index(fields=['subject_kind', 'subject_id']), Index(fields=['status', 'escalate_at'])], 'pk_attr': 'id', 'table_description': 'One alert per ``(subject, type)`` while it is open: a repeat counts, never duplicates.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='DeadLetter',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('topic', fields.CharField(max_length=300)),
                ('payload', fields.TextField(unique=False)),
                ('reason', fields.TextField(unique=False)),
            ],
            options={'table': 'core_deadletter', 'app': 'core', 'pk_attr': 'id', 'table_description': 'A message the MQTT consumer could not use, kept with the reason.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='Device',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=100)),
                ('name', fields.CharField(max_length=200)),
                ('external_id', fields.CharField(max_length=200)),
                ('subject_kind', fields.CharField(null=True, max_length=100)),
                ('subject_id', fields.CharField(null=True, max_length=64)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_seen', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('battery', fields.FloatField(null=True)),
            ],
            options={'table': 'core_device', 'app': 'core', 'unique_together': (('organization', 'external_id'),), 'pk_attr': 'id', 'table_description': 'A sensor of an organization. Its key is shown once and stored as a SHA-256.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='DeviceDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('device_id', fields.UUIDField()),
                ('day', fields.DateField()),
            ],
            options={'table': 'core_deviceday', 'app': 'core', 'unique_together': (('device_id', 'day'),), 'indexes': [Index(fields=['day', 'device_id'])], 'pk_attr': 'id', 'table_description': 'A device reported on this (UTC) day: the small table the KPIs count from.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Gateway',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_seen', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_gateway', 'app': 'core', 'pk_attr': 'id', 'table_description': 'A relay that may post readings for every device of its organization.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='IdempotentRequest',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('caller', fields.CharField(max_length=80)),
                ('method', fields.CharField(max_length=10)),
                ('path', fields.CharField(max_length=500)),
                ('key', fields.CharField(max_length=200)),
                ('request_hash', fields.CharField(max_length=64)),
                ('status_code', fields.IntField()),
                ('content_type', fields.CharField(default='application/json', max_length=100)),
                ('body', fields.BinaryField()),
                ('created_object_id', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_idempotentrequest', 'app': 'core', 'unique_together': (('caller', 'method', 'path', 'key'),), 'indexes': [Index(fields=['created_at'])], 'pk_attr': 'id', 'table_description': "The first 2xx answer to a POST, kept 24 hours under the caller's key."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('user', fields.ForeignKeyField('core.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('plugin', fields.CharField(max_length=40)),
                ('alert', fields.ForeignKeyField('core.Alert', source_field='alert_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('message', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('critical', fields.BooleanField(default=False)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('push_status', fields.CharEnumField(default=PushStatus.PENDING, description='PENDING: pending\nSENDING: sending\nSENT: sent\nFAILED: failed\nNO_DEVICE: no_device', enum_type=PushStatus, max_length=10)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'core_notification', 'app': 'core', 'indexes': [Index(fields=['user_id', 'created_at']), Index(fields=['push_status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'A message to one user: their inbox item and the outbox row its push is sent from.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='DeliveryAttempt',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('notification', fields.ForeignKeyField('core.Notification', source_field='notification_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('token', fields.CharField(max_length=500)),
                ('outcome', fields.CharField(max_length=20)),
                ('error', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'core_deliveryattempt', 'app': 'core', 'pk_attr': 'id', 'table_description': 'One try to deliver one notification to one push token.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='PushToken',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('user', fields.ForeignKeyField('core.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('token', fields.CharField(unique=True, max_length=500)),
                ('kind', fields.CharField(max_length=10)),
                ('platform', fields.CharField(max_length=10)),
                ('app_version', fields.CharField(default='', max_length=40)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_pushtoken', 'app': 'core', 'pk_attr': 'id', 'table_description': "A phone's push address: an FCM registration token or a Firebase installation id."},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='Reading',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('device_id', fields.UUIDField()),
                ('message_id', fields.CharField(max_length=64)),
                ('ts', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('metric', fields.CharField(max_length=64)),
                ('value', fields.FloatField()),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_reading', 'app': 'core', 'unique_together': (('device_id', 'message_id'),), 'indexes': [Index(fields=['device_id', 'ts']), Index(fields=['device_id', 'metric', 'ts'])], 'pk_attr': 'id', 'table_description': 'The narrow time-series table, written only in bulk by core/telemetry/writer.py.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Tombstone',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('plugin', fields.CharField(max_length=40)),
                ('collection', fields.CharField(max_length=60)),
                ('object_id', fields.CharField(max_length=64)),
                ('organization_id', fields.UUIDField(null=True)),
                ('user_id', fields.UUIDField(null=True)),
                ('deleted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_tombstone', 'app': 'core', 'indexes': [Index(fields=['plugin', 'collection', 'deleted_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='User',
            name='quiet_end',
            field=fields.CharField(null=True, max_length=5),
        ),
        ops.AddField(
            model_name='User',
            name='quiet_start',
            field=fields.CharField(null=True, max_length=5),
        ),
    ]
