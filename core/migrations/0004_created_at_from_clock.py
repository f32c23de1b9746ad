from tortoise import migrations
from tortoise.migrations import operations as ops
from core.clock import now
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0003_telemetry_alerts')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Alert',
            name='created_at',
            field=fields.DatetimeField(default=now, auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='DeadLetter',
            name='created_at',
            field=fields.DatetimeField(default=now, auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='DeliveryAttempt',
            name='created_at',
            field=fields.DatetimeField(default=now, auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='Device',
            name='created_at',
            field=fields.DatetimeField(default=now, auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='Gateway',
            name='created_at',
            field=fields.DatetimeField(default=now, auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='JobRun',
            name='created_at',
            field=fields.DatetimeField(default=now, auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='Media',
            name='created_at',
            field=fields.DatetimeField(default=now, auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='Notification',
            name='created_at',
            field=fields.DatetimeField(default=now, auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='Organization',
            name='created_at',
            field=fields.DatetimeField(default=now, auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='PushToken',
            name='created_at',
            field=fields.DatetimeField(default=now, auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='RefreshToken',
            name='created_at',
            field=fields.DatetimeField(default=now, auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='User',
            name='created_at',
            field=fields.DatetimeField(default=now, auto_now=False, auto_now_add=False),
        ),
    ]
