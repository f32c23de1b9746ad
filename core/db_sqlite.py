"""Tortoise's SQLite client, with write transactions that wait instead of failing.

The ORM shares the database file with the readings writer's own connection. A transaction
begun with a plain (deferred) ``BEGIN`` that reads and then writes cannot wait for another
connection's write lock: in WAL mode SQLite answers ``database is locked`` at once (its
snapshot may be stale, so waiting would not help). ``BEGIN IMMEDIATE`` takes the write lock
first and waits for it (``busy_timeout``) instead. The ORM's own queries are serialized on its
one connection anyway, so this costs the ORM no concurrency.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)


def get_client_class(_db_info: dict[str, Any]) -> type[SqliteClient]:
    return ImmediateSqliteClient
