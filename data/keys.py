"""Conditions on a batch of keys, written the way each database runs them best.

`column IN (:k1, :k2, ...)` is a new SQL text for every list length: SQLAlchemy renders the
list per execution and asyncpg prepares each new text again, a round trip of its own. On
PostgreSQL `column = ANY(:keys)` binds the whole list as one array, so a batch function's
statement is one text, prepared once per connection (PERFORMANCE.md: the floor's statements).
SQLite has no arrays and no server round trips: there the IN list stays.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import ColumnElement

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
