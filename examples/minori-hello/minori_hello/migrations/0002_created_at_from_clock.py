from tortoise import migrations
from tortoise.migrations import operations as ops
from core.clock import now
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0003_telemetry_alerts'), ('hello', '0001_initial')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='DailyTally',
            name='created_at',
            field=fields.DatetimeField(default=now, auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='Greeting',
            name='created_at',
            field=fields.DatetimeField(default=now, auto_now=False, auto_now_add=False),
        ),
    ]
