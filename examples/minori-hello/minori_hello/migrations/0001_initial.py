from tortoise import migrations
from core.clock import now
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial')]

    initial = True

    operations = [
        ops.CreateModel(
            name='DailyTally',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('greetings', fields.IntField()),
            ],
            options={'table': 'hello_dailytally', 'app': 'hello', 'unique_together': (('organization', 'day'),), 'pk_attr': 'id', 'table_description': 'What the ``hello.tally`` job writes: greetings per organization and day.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='Greeting',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('core.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('core.User', source_field='author_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('text', fields.TextField(unique=False)),
                ('mood', fields.CharField(max_length=20)),
            ],
            options={'table': 'hello_greeting', 'app': 'hello', 'pk_attr': 'id'},
            bases=['Record'],
        ),
    ]
