from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from core.clock import now
from json import dumps, loads
from plugins.red_tide.models import Advice, FarmedSpecies, FeedingSource, SampleSource
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial'), ('core', '0002_jobs_media'), ('core', '0003_telemetry_alerts')]

    initial = True

    operations = [
        ops.CreateModel(
            name='BulletinDelivery',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('user', fields.ForeignKeyField('core.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('local_date', fields.DateField()),
                ('sent_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('level', fields.CharField(default='none', max_length=10)),
                ('title', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('body', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'red_tide_bulletindelivery', 'app': 'red_tide', 'unique_together': (('user', 'local_date'),), 'pk_attr': 'id', 'table_description': 'The bulletin a member was sent on a local morning: once per user and local date.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='BulletinSubscription',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('user', fields.ForeignKeyField('core.User', source_field='user_id', unique=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('areas', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('active', fields.BooleanField(default=True)),
                ('updated_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'red_tide_bulletinsubscription', 'app': 'red_tide', 'pk_attr': 'id', 'table_description': "A member's subscription to the daily bulletin (areas: empty means the areas of the"},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='SeaArea',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('name', fields.CharField(unique=True, max_length=200)),
                ('polygon', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('level', fields.CharField(default='none', max_length=10)),
                ('level_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('ratio', fields.FloatField(default=0.0)),
                ('updated_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'red_tide_seaarea', 'app': 'red_tide', 'pk_attr': 'id', 'table_description': 'A watched sea area (a bay) with its outline and its current red-tide level.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='AreaRisk',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('area', fields.ForeignKeyField('red_tide.SeaArea', source_field='area_id', db_constraint=True, to_field='id', related_name='risks', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('probability', fields.FloatField()),
                ('high', fields.BooleanField()),
                ('model_version', fields.CharField(max_length=120)),
                ('features', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'red_tide_arearisk', 'app': 'red_tide', 'unique_together': (('area', 'day'),), 'pk_attr': 'id', 'table_description': 'The 3-day bloom probability of an area for a local day (latest computation).'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='FishFarm',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('area', fields.ForeignKeyField('red_tide.SeaArea', source_field='area_id', db_constraint=True, to_field='id', related_name='farms', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('latitude', fields.FloatField(null=True)),
                ('longitude', fields.FloatField(null=True)),
                ('updated_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'red_tide_fishfarm', 'app': 'red_tide', 'pk_attr': 'id', 'table_description': "A fishery organization's farming site in a sea area."},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='Cage',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('farm', fields.ForeignKeyField('red_tide.FishFarm', source_field='farm_id', db_constraint=True, to_field='id', related_name='cages', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('species', fields.CharEnumField(description='YELLOWTAIL: yellowtail\nGREATER_AMBERJACK: greater_amberjack\nRED_SEA_BREAM: red_sea_bream\nTUNA: tuna\nPEARL_OYSTER: pearl_oyster\nOYSTER: oyster\nOTHER: other', enum_type=FarmedSpecies, max_length=30)),
                ('stock', fields.IntField(null=True)),
                ('updated_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'red_tide_cage', 'app': 'red_tide', 'pk_attr': 'id', 'table_description': 'A net cage (or raft) of a farm, with what it holds.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='FeedingAdvice',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('cage', fields.ForeignKeyField('red_tide.Cage', source_field='cage_id', db_constraint=True, to_field='id', related_name='advice', on_delete=OnDelete.CASCADE)),
                ('area', fields.ForeignKeyField('red_tide.SeaArea', source_field='area_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('level', fields.CharField(max_length=10)),
                ('advice', fields.CharEnumField(description='NORMAL: normal\nRESTRICT: restrict\nSTOP: stop\nNOT_FED: not_fed', enum_type=Advice, max_length=10)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'red_tide_feedingadvice', 'app': 'red_tide', 'indexes': [Index(fields=['cage_id', 'issued_at'])], 'pk_attr': 'id', 'table_description': "Advice issued to a cage when its area's level changed (the history, while the current"},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='FeedingLog',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('cage', fields.ForeignKeyField('red_tide.Cage', source_field='cage_id', db_constraint=True, to_field='id', related_name='feedings', on_delete=OnDelete.CASCADE)),
                ('fed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('kg', fields.FloatField()),
                ('source', fields.CharEnumField(description='MANUAL: manual\nFEEDER: feeder', enum_type=FeedingSource, max_length=10)),
                ('device_id', fields.UUIDField(null=True)),
                ('message_id', fields.CharField(null=True, max_length=64)),
                ('logged_by', fields.ForeignKeyField('core.User', source_field='logged_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('advice', fields.CharEnumField(description='NORMAL: normal\nRESTRICT: restrict\nSTOP: stop\nNOT_FED: not_fed', enum_type=Advice, max_length=10)),
                ('override_reason', fields.TextField(null=True, unique=False)),
                ('override_by', fields.ForeignKeyField('core.User', source_field='override_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('override_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'red_tide_feedinglog', 'app': 'red_tide', 'unique_together': (('device_id', 'message_id'),), 'indexes': [Index(fields=['cage_id', 'fed_at'])], 'pk_attr': 'id', 'table_description': 'One feeding, logged by hand or dispensed by a feeder. A feeding during a stop keeps'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='FeedingPlan',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('cage', fields.ForeignKeyField('red_tide.Cage', source_field='cage_id', db_constraint=True, to_field='id', related_name='plans', on_delete=OnDelete.CASCADE)),
                ('time_of_day', fields.CharField(max_length=5)),
                ('kg', fields.FloatField()),
                ('active', fields.BooleanField(default=True)),
                ('updated_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'red_tide_feedingplan', 'app': 'red_tide', 'pk_attr': 'id', 'table_description': 'A planned daily feeding of a cage: a local time and a ration in kg.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='LevelChange',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('area', fields.ForeignKeyField('red_tide.SeaArea', source_field='area_id', db_constraint=True, to_field='id', related_name='changes', on_delete=OnDelete.CASCADE)),
                ('previous', fields.CharField(max_length=10)),
                ('level', fields.CharField(max_length=10)),
                ('changed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'red_tide_levelchange', 'app': 'red_tide', 'indexes': [Index(fields=['area_id', 'changed_at'])], 'pk_attr': 'id', 'table_description': "An area's level moved: the history behind trends, bulletins and audits."},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='Station',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('area', fields.ForeignKeyField('red_tide.SeaArea', source_field='area_id', db_constraint=True, to_field='id', related_name='stations', on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(unique=True, max_length=50)),
                ('name', fields.CharField(max_length=200)),
                ('latitude', fields.FloatField()),
                ('longitude', fields.FloatField()),
                ('operator', fields.ForeignKeyField('core.Organization', source_field='operator_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('updated_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'red_tide_station', 'app': 'red_tide', 'pk_attr': 'id', 'table_description': 'A sampling station, where lab staff take water and a telemeter buoy may float.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='Sample',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('station', fields.ForeignKeyField('red_tide.Station', source_field='station_id', db_constraint=True, to_field='id', related_name='samples', on_delete=OnDelete.CASCADE)),
                ('sampled_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sampling_day', fields.DateField()),
                ('depth_m', fields.FloatField()),
                ('temperature_c', fields.FloatField(null=True)),
                ('salinity', fields.FloatField(null=True)),
                ('counts', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('source', fields.CharEnumField(description='MANUAL: manual\nIMPORT: import', enum_type=SampleSource, max_length=10)),
                ('entered_by', fields.ForeignKeyField('core.User', source_field='entered_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('updated_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'red_tide_sample', 'app': 'red_tide', 'unique_together': (('station', 'sampled_at', 'depth_m'),), 'indexes': [Index(fields=['station_id', 'sampling_day']), Index(fields=['sampling_day'])], 'pk_attr': 'id', 'table_description': 'One water sample: a station at a depth and time, its temperature and salinity, and'},
            bases=['Record'],
        ),
    ]
