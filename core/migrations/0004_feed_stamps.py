from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0003_telemetry_alerts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FeedStamp',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('scope', fields.CharField(max_length=36)),
                ('plugin', fields.CharField(max_length=40)),
                ('stamp', fields.BigIntField(default=0)),
            ],
            options={'table': 'core_feedstamp', 'app': 'core', 'unique_together': (('scope', 'plugin'),), 'pk_attr': 'id', 'table_description': 'Rows of a plugin written in a scope (an organization id, or empty), counted by triggers.'},
            bases=['Model'],
        ),
    ]
