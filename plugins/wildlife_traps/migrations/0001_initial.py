from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from core.clock import now
from json import dumps, loads
from plugins.wildlife_traps.models import Disposal, EventKind, InspectionResult, Outcome, Sex, Species, TrapKind, TrapState
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0003_telemetry_alerts')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Reminder',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('core.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('traps', fields.IntField()),
            ],
            options={'table': 'wildlife_traps_reminder', 'app': 'wildlife_traps', 'unique_together': (('organization', 'user', 'day'),), 'pk_attr': 'id', 'table_description': "An evening reminder sent to one owner for one organization's traps and one day: sent"},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='Trap',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('kind', fields.CharEnumField(description='BOX: box\nSNARE: snare\nENCLOSURE: enclosure', enum_type=TrapKind, max_length=12)),
                ('latitude', fields.FloatField()),
                ('longitude', fields.FloatField()),
                ('target_species', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('permit_number', fields.CharField(max_length=100)),
                ('permit_valid_from', fields.DateField()),
                ('permit_valid_until', fields.DateField()),
                ('owner', fields.ForeignKeyField('core.User', source_field='owner_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('backup_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('state', fields.CharEnumField(description='ARMED: armed\nDISARMED: disarmed\nSPRUNG: sprung\nREMOVED: removed', enum_type=TrapState, max_length=10)),
                ('state_changed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sprung_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sprung_alert_id', fields.UUIDField(null=True)),
                ('welfare_alerted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('permit_alert', fields.CharField(null=True, max_length=10)),
                ('note', fields.TextField(default='', unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'wildlife_traps_trap', 'app': 'wildlife_traps', 'indexes': [Index(fields=['organization_id', 'state'])], 'pk_attr': 'id'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='Inspection',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('trap', fields.ForeignKeyField('wildlife_traps.Trap', source_field='trap_id', db_constraint=True, to_field='id', related_name='inspections', on_delete=OnDelete.CASCADE)),
                ('inspector', fields.ForeignKeyField('core.User', source_field='inspector_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('inspected_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('result', fields.CharEnumField(description='OK: ok\nCAPTURE: capture\nRELEASED_NON_TARGET: released_non_target\nFALSE_TRIGGER: false_trigger\nNEEDS_REPAIR: needs_repair', enum_type=InspectionResult, max_length=20)),
                ('note', fields.TextField(default='', unique=False)),
                ('photo_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'wildlife_traps_inspection', 'app': 'wildlife_traps', 'indexes': [Index(fields=['trap_id', 'inspected_at'])], 'pk_attr': 'id'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='SensorState',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('device_id', fields.UUIDField(unique=True)),
                ('trap', fields.ForeignKeyField('wildlife_traps.Trap', source_field='trap_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('trigger', fields.FloatField(null=True)),
                ('trigger_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('battery_v', fields.FloatField(null=True)),
                ('battery_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'wildlife_traps_sensorstate', 'app': 'wildlife_traps', 'pk_attr': 'id', 'table_description': 'The last trigger state and battery voltage a trap sensor reported: a trigger reading'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='TrapEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('trap', fields.ForeignKeyField('wildlife_traps.Trap', source_field='trap_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='CREATED: created\nTRIGGER: trigger\nSPRUNG: sprung\nBOUNCE: bounce\nRELEASED: released\nIGNORED: ignored\nARMED: armed\nDISARMED: disarmed\nREMOVED: removed\nRESET: reset\nINSPECTION: inspection\nCAPTURE: capture\nWELFARE: welfare', enum_type=EventKind, max_length=12)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('state_after', fields.CharEnumField(null=True, description='ARMED: armed\nDISARMED: disarmed\nSPRUNG: sprung\nREMOVED: removed', enum_type=TrapState, max_length=10)),
                ('device_id', fields.UUIDField(null=True)),
                ('user', fields.ForeignKeyField('core.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('capture_probability', fields.FloatField(null=True)),
                ('model_version', fields.CharField(null=True, max_length=100)),
                ('alert_id', fields.UUIDField(null=True)),
                ('outcome', fields.CharEnumField(null=True, description='CAPTURE: capture\nFALSE_TRIGGER: false_trigger', enum_type=Outcome, max_length=14)),
            ],
            options={'table': 'wildlife_traps_trapevent', 'app': 'wildlife_traps', 'indexes': [Index(fields=['trap_id', 'at']), Index(fields=['kind', 'at'])], 'pk_attr': 'id', 'table_description': 'One thing that happened to a trap, for its timeline and its daily record.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='Capture',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('trap', fields.ForeignKeyField('wildlife_traps.Trap', source_field='trap_id', db_constraint=True, to_field='id', related_name='captures', on_delete=OnDelete.CASCADE)),
                ('sprung_event', fields.ForeignKeyField('wildlife_traps.TrapEvent', source_field='sprung_event_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('captured_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('species', fields.CharEnumField(description='WILD_BOAR: wild_boar\nSIKA_DEER: sika_deer\nRACCOON_DOG: raccoon_dog\nBADGER: badger\nMASKED_PALM_CIVET: masked_palm_civet\nCAT: cat\nOTHER: other', enum_type=Species, max_length=20)),
                ('count', fields.IntField()),
                ('sex', fields.CharEnumField(description='MALE: male\nFEMALE: female\nUNKNOWN: unknown', enum_type=Sex, max_length=8)),
                ('estimated_weight_kg', fields.FloatField(null=True)),
                ('disposal', fields.CharEnumField(description='CULLED_BURIED: culled_buried\nCULLED_INCINERATED: culled_incinerated\nPROCESSED: processed\nRELEASED: released\nOTHER: other', enum_type=Disposal, max_length=20)),
                ('latitude', fields.FloatField()),
                ('longitude', fields.FloatField()),
                ('note', fields.TextField(default='', unique=False)),
                ('photo_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('recorded_by', fields.ForeignKeyField('core.User', source_field='recorded_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'wildlife_traps_capture', 'app': 'wildlife_traps', 'indexes': [Index(fields=['organization_id', 'captured_at'])], 'pk_attr': 'id'},
            bases=['Record'],
        ),
    ]
