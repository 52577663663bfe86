"""Conditions on a batch of keys, written the way each database runs them best.

`column IN (:k1, :k2, ...)` is a new SQL text for every list length: SQLAlchemy renders the
list per execution and asyncpg prepares each new text again, a round trip of its own. On
PostgreSQL `column = ANY(:keys)` binds the whole list as one array, so a batch function's
statement is one text, prepared once per connection (PERFORMANCE.md: the floor's statements).
SQLite has no arrays and no server round trips: there the IN list stays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import BigInteger, CursorResult, Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import ColumnElement, Executable

_BIGINT_ARRAY = ARRAY(BigInteger())


def key_in(
    connection: AsyncConnection,
    column: ColumnElement[Any] | QueryableAttribute[Any],
    keys: Iterable[Any],
) -> ColumnElement[bool]:
    """`column` is one of `keys` (integer keys: ids)."""
    values = list(keys)
    if connection.dialect.name == "postgresql":
        if not isinstance(column.type, BigInteger | Integer):
            raise TypeError(f"key_in takes integer key columns, not {column.type!r}")
        return column == any_(bindparam(None, values, type_=_BIGINT_ARRAY))
    return column.in_(values)


# Builds a statement from `keys(column)`, the condition on the batch's keys.
Keys = Callable[[Any], ColumnElement[bool]]


class Keyed:
    """A batch function's statement, built once per kind of database and reused.

    Building a `select()` costs about as much as running it (0.7 ms of 1.7 ms for a batch of
    100 coverages, measured here), so the batch functions on the read path build theirs once.
    The keys are bound at each execution: `= ANY(:keys)` on PostgreSQL, an expanding IN
    elsewhere.
    """

    def __init__(self, build: Callable[[Keys], Executable]) -> None:
        self._build = build
        self._built: dict[str, Executable] = {}

    def statement(self, dialect: str) -> Executable:
        found = self._built.get(dialect)
        if found is None:
            found = self._built[dialect] = self._build(_keys_of(dialect))
        return found

    async def execute(
        self, connection: AsyncConnection, keys: Iterable[Any]
    ) -> CursorResult[*tuple[Any, ...]]:
        statement = self.statement(connection.dialect.name)
        return await connection.execute(statement, {"keys": list(keys)})


def _keys_of(dialect: str) -> Keys:
    if dialect == "postgresql":
        return lambda column: column == any_(bindparam("keys", type_=_BIGINT_ARRAY))
    return lambda column: column.in_(bindparam("keys", expanding=True))
