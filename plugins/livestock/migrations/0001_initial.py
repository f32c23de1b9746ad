from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from core.clock import now
from json import dumps, loads
from plugins.livestock.models import AnimalStatus, EventKind, Housing, Sex
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial'), ('core', '0002_jobs_media'), ('core', '0003_telemetry_alerts'), ('core', '0003_telemetry_alerts')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Animal',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('ear_tag', fields.CharField(max_length=10)),
                ('name', fields.CharField(default='', max_length=100)),
                ('breed', fields.CharField(default='', max_length=60)),
                ('sex', fields.CharEnumField(default=Sex.FEMALE, description='FEMALE: female\nMALE: male', enum_type=Sex, max_length=10)),
                ('birth_date', fields.DateField(null=True)),
                ('group', fields.CharField(default='', max_length=60)),
                ('housing', fields.CharEnumField(default=Housing.FREE_STALL, description='FREE_STALL: free_stall\nTIE_STALL: tie_stall\nPASTURE: pasture', enum_type=Housing, max_length=12)),
                ('status', fields.CharEnumField(default=AnimalStatus.ACTIVE, description='ACTIVE: active\nSOLD: sold\nCULLED: culled\nDEAD: dead', enum_type=AnimalStatus, max_length=10)),
                ('monitoring_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'livestock_animal', 'app': 'livestock', 'unique_together': (('organization', 'ear_tag'),), 'indexes': [Index(fields=['organization_id', 'updated_at'])], 'pk_attr': 'id', 'table_description': 'A head of cattle. ``ear_tag`` is the 10-digit individual identification number on its'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='Heat',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('animal', fields.ForeignKeyField('livestock.Animal', source_field='animal_id', db_constraint=True, to_field='id', related_name='heats', on_delete=OnDelete.CASCADE)),
                ('onset', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('detected_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('probability', fields.FloatField()),
                ('model_version', fields.CharField(max_length=100)),
                ('alert_id', fields.UUIDField(null=True)),
            ],
            options={'table': 'livestock_heat', 'app': 'livestock', 'indexes': [Index(fields=['animal_id', 'onset']), Index(fields=['organization_id', 'detected_at'])], 'pk_attr': 'id', 'table_description': 'A heat the collar found: the estrus alert it raised and when to inseminate.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='HerdSummary',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'livestock_herdsummary', 'app': 'livestock', 'unique_together': (('organization', 'day'),), 'pk_attr': 'id', 'table_description': 'What the daily summary job counted for a farm on a (local) day.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='Reminder',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('animal', fields.ForeignKeyField('livestock.Animal', source_field='animal_id', db_constraint=True, to_field='id', related_name='reminders', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=30)),
                ('due', fields.DateField()),
            ],
            options={'table': 'livestock_reminder', 'app': 'livestock', 'unique_together': (('animal', 'kind', 'due'),), 'pk_attr': 'id', 'table_description': 'A breeding-calendar reminder that was sent, so a repeated run sends it once.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='ReproductiveEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('animal', fields.ForeignKeyField('livestock.Animal', source_field='animal_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='CALVING: calving\nHEAT: heat\nINSEMINATION: insemination\nPREGNANCY_CHECK: pregnancy_check\nDRY_OFF: dry_off\nCULL: cull', enum_type=EventKind, max_length=20)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sire', fields.CharField(default='', max_length=100)),
                ('pregnant', fields.BooleanField(null=True)),
                ('note', fields.TextField(default='', unique=False)),
                ('recorded_by', fields.ForeignKeyField('core.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('updated_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'livestock_reproductiveevent', 'app': 'livestock', 'indexes': [Index(fields=['animal_id', 'at']), Index(fields=['organization_id', 'updated_at'])], 'pk_attr': 'id'},
            bases=['Record'],
        ),
    ]
