"""The queries behind every home screen, in SQL (table names, placeholders and constants
are all that is formatted into it: every value is a parameter).

``GET /mobile/v1/home`` is the app's most frequent request; building these queries through the
ORM costs several times more than running them (measured by ``bench/mobile_home.py``), so
they are written once per shape and only run. The organization filter is
``core.tenancy.scope`` in SQL: members see their organizations, advisors also those that
share with advisors, admins everything; ``tests/mobile_api/test_hot_queries.py`` holds the two
to the same answers for every role. Values come back through the ORM's own field converters,
so both backends answer alike.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from core.alerts.models import Alert, AlertStatus, Notification, Severity
from core.feed import FeedStamp
from core.identity.access import Principal
from core.identity.models import Organization, Role

_RANKS = " ".join(f"WHEN '{severity.value}' THEN {rank}" for rank, severity in enumerate(Severity))


def _marks(dialect: str, first: int, count: int) -> list[str]:
    if dialect == "sqlite":
        return ["?"] * count
    return [f"${n}" for n in range(first, first + count)]


def _visible(principal: Principal, dialect: str, first: int) -> tuple[str, list[Any]]:
    """``core.tenancy.scope`` on ``organization_id``, in SQL, and its parameters."""
    if principal.role is Role.ADMIN:
        return "1=1", []
    own = sorted(principal.organization_ids)
    marks = _marks(dialect, first, len(own) + 1)
    mine = f'"organization_id" IN ({", ".join(marks[:-1])})' if own else "1=0"
    if principal.role is Role.ADVISOR:
        shared = (
            f'"organization_id" IN (SELECT "id" FROM "{Organization._meta.db_table}" '  # noqa: S608
            f'WHERE "share_with_advisors" = {marks[-1]})'
        )
        return f"({mine} OR {shared})", [*own, True]
    return mine, own


@cache
def _open_alerts_sql(dialect: str, role: Role, organizations: int, limit: int) -> str:
    probe = Principal("", role, frozenset(str(i) for i in range(organizations)))
    where, _params = _visible(probe, dialect, 2)
    status = _marks(dialect, 1, 1)[0]
    return (
        'SELECT "id", "severity", "message", "title", "body", "last_seen" '  # noqa: S608
        f'FROM "{Alert._meta.db_table}" WHERE "status" = {status} AND {where} '
        f'ORDER BY CASE "severity" {_RANKS} ELSE {len(Severity)} END, '
        f'"last_seen" DESC, "id" DESC LIMIT {int(limit)}'
    )


async def open_alerts(principal: Principal, limit: int) -> list[tuple[Any, ...]]:
    """``(id, severity, message, title, body, last_seen)`` of the caller's open alerts,
    critical first, then the most recently seen."""
    db = Alert._meta.db
    dialect = db.capabilities.dialect
    sql = _open_alerts_sql(dialect, principal.role, len(principal.organization_ids), limit)
    _where, params = _visible(principal, dialect, 2)
    rows = await db.execute_query_dict(sql, [AlertStatus.OPEN.value, *params])
    fields = Alert._meta.fields_map
    columns = ("id", "severity", "message", "title", "body", "last_seen")
    return [tuple(fields[c].to_python_value(row[c]) for c in columns) for row in rows]


@cache
def _unread_sql(dialect: str) -> str:
    return (
        f'SELECT count(*) AS "unread" FROM "{Notification._meta.db_table}" '  # noqa: S608
        f'WHERE "user_id" = {_marks(dialect, 1, 1)[0]} AND "read_at" IS NULL'
    )


async def unread(principal: Principal) -> int:
    """The caller's unread inbox items."""
    db = Notification._meta.db
    rows = await db.execute_query_dict(_unread_sql(db.capabilities.dialect), [principal.user_id])
    return int(rows[0]["unread"])


@cache
def _stamps_sql(dialect: str, organizations: int | None) -> str:
    table = FeedStamp._meta.db_table
    if organizations is None:
        return (
            f'SELECT "plugin", \'\' AS "scope", sum("stamp") AS "stamp" '  # noqa: S608
            f'FROM "{table}" GROUP BY "plugin"'
        )
    marks = ", ".join(_marks(dialect, 1, organizations + 1))
    return f'SELECT "plugin", "scope", "stamp" FROM "{table}" WHERE "scope" IN ({marks})'  # noqa: S608


async def stamps(principal: Principal) -> dict[str, tuple[tuple[str, int], ...]]:
    """Per plugin, how many of its rows were written (``core.feed.watch``) where the caller's
    cards come from: a member's organizations and no organization; the whole city for
    advisors and admins, who see across organizations. Unchanged counts, unchanged rows."""
    db = FeedStamp._meta.db
    dialect = db.capabilities.dialect
    if principal.role is Role.MEMBER:
        scopes = [*sorted(principal.organization_ids), ""]
        rows = await db.execute_query_dict(_stamps_sql(dialect, len(scopes) - 1), scopes)
    else:
        rows = await db.execute_query_dict(_stamps_sql(dialect, None))
    found: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        found.setdefault(row["plugin"], []).append((row["scope"], int(row["stamp"])))
    return {plugin: tuple(sorted(counts)) for plugin, counts in found.items()}
