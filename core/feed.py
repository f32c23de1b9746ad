"""Cards for the app's home screen. Plugins contribute them through their ``feed`` slot:

async def feed(ctx: PluginContext, principal: Principal) -> list[Card]

The mobile facade keeps a person's cards between openings instead of asking every plugin
again (``mobile_api/home.py``). It knows when they may have changed because the database
tells it: ``watch`` puts a trigger on every table of every plugin, and on core's alerts, that
counts each written row in ``FeedStamp`` under the row's organization (``""`` for rows that
belong to none) and the plugin. A trigger sees every write (the ORM's, a bulk update, raw
SQL, another server process), inside the writing transaction. A feed may therefore read
anything of its own plugin, its alerts, the person and the clock; what it reads elsewhere
(readings, users' names) reaches the screen within ``mobile_api.home.KEEP_CARDS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from core.i18n import Text


@dataclass(frozen=True, slots=True)
class Card:
    id: str
    """Stable for the same thing (``"sprung:<trap id>"``), so the app can tell cards apart."""
    type: str
    priority: int
    """0 to 100; the home screen shows the highest first."""
    title: Text
    body: Text
    created_at: datetime
    target_kind: str
    """What tapping the card opens: an object kind (``"alert"``, ``"wildlife_traps.trap"``)…"""
    target_id: str
    """… and its id."""


class FeedStamp(Model):
    """Rows of a plugin written in a scope (an organization id, or empty), counted by triggers."""

    id = fields.BigIntField(primary_key=True)
    scope = fields.CharField(max_length=36)
    plugin = fields.CharField(max_length=40)
    stamp = fields.BigIntField(default=0)

    class Meta:
        unique_together = (("scope", "plugin"),)


CORE_MODELS_READ = ("Alert",)
"""Core's models that plugins' cards may depend on; their rows name their plugin."""
ROW_PLUGIN = ""
"""The trigger argument for a table whose rows name their plugin (core's alerts)."""


@dataclass(frozen=True, slots=True)
class Watched:
    table: str
    plugin: str
    """The plugin whose cards the rows feed, or ``ROW_PLUGIN``."""
    organized: bool
    """Whether the rows have an ``organization_id``."""


def watched_tables(apps: dict[str, dict[str, type[Model]]], core_app: str) -> list[Watched]:
    """Every plugin model's table, and those of ``CORE_MODELS_READ``."""
    found = []
    for label, models in apps.items():
        for name, model in models.items():
            if label == core_app and name not in CORE_MODELS_READ:
                continue
            found.append(
                Watched(
                    model._meta.db_table,
                    ROW_PLUGIN if label == core_app else label,
                    "organization_id" in model._meta.fields_db_projection.values(),
                )
            )
    return sorted(found, key=lambda w: w.table)


def _sqlite_triggers(watched: Watched, stamps: str) -> Iterable[str]:
    # Only names are formatted into these statements: tables, and plugin names (identifiers
    # the registry checked).
    def count(row: str) -> str:
        scope = f"coalesce({row}.\"organization_id\", '')" if watched.organized else "''"
        plugin = f'{row}."plugin"' if watched.plugin == ROW_PLUGIN else f"'{watched.plugin}'"
        return (
            f'INSERT INTO "{stamps}" ("scope", "plugin", "stamp") VALUES ({scope}, {plugin}, 1) '  # noqa: S608
            'ON CONFLICT ("scope", "plugin") DO UPDATE SET "stamp" = "stamp" + 1;'
        )

    for operation, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        name = f"core_feed_{watched.table}_{operation.lower()}"
        yield f'DROP TRIGGER IF EXISTS "{name}"'
        yield (
            f'CREATE TRIGGER "{name}" AFTER {operation} ON "{watched.table}" FOR EACH ROW '
            f"BEGIN {' '.join(count(row) for row in rows)} END"
        )


def _postgres_count(stamps: str) -> str:
    # A statement's rows are counted at once (transition tables), in the order of their
    # organizations: a bulk write takes each count row's lock once, always in the same order.
    return f"""
CREATE OR REPLACE FUNCTION core_feed_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    written text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT to_jsonb(n) AS r FROM new_rows n'
        WHEN 'DELETE' THEN 'SELECT to_jsonb(o) AS r FROM old_rows o'
        ELSE 'SELECT to_jsonb(o) AS r FROM old_rows o UNION ALL SELECT to_jsonb(n) FROM new_rows n'
    END;
BEGIN
    EXECUTE format($count$
        INSERT INTO "{stamps}" AS counted ("scope", "plugin", "stamp")
        SELECT coalesce(r->>'organization_id', ''), coalesce(nullif($1, ''), r->>'plugin'),
               count(*)
        FROM (%s) AS written
        GROUP BY 1, 2
        ORDER BY 1, 2
        ON CONFLICT ("scope", "plugin") DO UPDATE SET "stamp" = counted."stamp" + excluded."stamp"
    $count$, written) USING TG_ARGV[0];
    RETURN NULL;
END
$$
"""  # noqa: S608  (names of tables and plugins only: identifiers the registry checked)


def _postgres_triggers(watched: Watched) -> Iterable[str]:
    for operation, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        yield (
            f'CREATE OR REPLACE TRIGGER "core_feed_{operation.lower()}" AFTER {operation} '
            f'ON "{watched.table}" REFERENCING {tables} FOR EACH STATEMENT '
            f"EXECUTE FUNCTION core_feed_count('{watched.plugin}')"
        )


async def watch(client: BaseDBAsyncClient, watched: list[Watched]) -> None:
    """Install (again) the triggers that count writes: after every migration, since a table a
    migration rebuilt (SQLite alters that way) has lost its triggers, and a new plugin's
    tables have none yet."""
    stamps = FeedStamp._meta.db_table
    if client.capabilities.dialect == "sqlite":
        statements = [sql for table in watched for sql in _sqlite_triggers(table, stamps)]
    else:
        statements = [_postgres_count(stamps)]
        statements += [sql for table in watched for sql in _postgres_triggers(table)]
    async with in_transaction(client.connection_name) as connection:
        for sql in statements:
            await connection.execute_script(sql)
