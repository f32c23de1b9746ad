from tortoise import migrations
from core.clock import now
from tortoise.migrations import operations as ops
from core.identity.models import OrganizationKind, Role
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Organization',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('name', fields.CharField(max_length=200)),
                ('kind', fields.CharEnumField(description='FARM: farm\nFISHERY: fishery\nHUNTING_GROUP: hunting_group\nCOOP: coop', enum_type=OrganizationKind, max_length=20)),
                ('region', fields.CharField(default='', max_length=200)),
                ('share_with_advisors', fields.BooleanField(default=False)),
            ],
            options={'table': 'core_organization', 'app': 'core', 'pk_attr': 'id'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('username', fields.CharField(unique=True, max_length=150)),
                ('password_hash', fields.CharField(max_length=200)),
                ('display_name', fields.CharField(default='', max_length=200)),
                ('role', fields.CharEnumField(description='MEMBER: member\nADVISOR: advisor\nADMIN: admin', enum_type=Role, max_length=10)),
                ('locale', fields.CharField(default='ja', max_length=10)),
                ('timezone', fields.CharField(default='Asia/Tokyo', max_length=64)),
                ('is_active', fields.BooleanField(default=True)),
                ('organizations', fields.ManyToManyField('core.Organization', unique=True, db_constraint=True, through='core_membership', forward_key='organization_id', backward_key='core_user_id', related_name='users', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'core_user', 'app': 'core', 'pk_attr': 'id'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='RefreshToken',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('user', fields.ForeignKeyField('core.User', source_field='user_id', db_constraint=True, to_field='id', related_name='refresh_tokens', on_delete=OnDelete.CASCADE)),
                ('family', fields.UUIDField(db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('spent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_refreshtoken', 'app': 'core', 'pk_attr': 'id', 'table_description': 'A refresh token, stored as the SHA-256 of its value. Each use spends it and issues the'},
            bases=['Record'],
        ),
    ]
