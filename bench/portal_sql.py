"""The floor's SQL and shaping: the statements the app's `data/` batch functions issue, and
what the schema's resolvers compute from their rows, written out once for every operation."""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

Json = dict[str, Any]
Row = Mapping[str, Any]


class Sql(Protocol):
    """What the floor needs of a connection: asyncpg's `Connection` is one."""

    async def fetch(self, query: str, *args: object) -> list[Any]: ...

    async def fetchval(self, query: str, *args: object) -> Any: ...


# --- SQL: the columns and statements the app's `data/` batch functions issue -----------------
# `= ANY($1)` where SQLAlchemy expands `IN ($1, $2, ...)`: the same plan, one prepared statement.
# Statements are assembled from the constant column lists below, never from input (hence the
# S608 exemptions); values are always bind parameters.

_MEMBER = (
    "id, group_id, division_id, subscriber_id, relationship, member_number, first_name,"
    " middle_name, last_name, sex, status, is_disabled, hire_date, birth_date, ssn_last4,"
    " address_line1, address_line2, city, state, postal_code, phone, email"
)
_GROUP = (
    "id, group_number, legal_name, region, status, employee_count, renewal_date,"
    " cobra_administered_by_carrier, billing_delivery"
)
_COVERAGE = "id, member_id, plan_id, tier, effective_date, termination_date, is_cobra, is_medicare"
GROUP_BY_NUMBER = f"SELECT {_GROUP} FROM groups WHERE group_number = $1"  # noqa: S608
GROUPS_IN_SCOPE = (
    f"SELECT {_GROUP} FROM groups WHERE id = ANY($1::bigint[])"  # noqa: S608
    " ORDER BY group_number LIMIT $2"
)
DIVISIONS_BY_ID = "SELECT id, group_id, code, name FROM divisions WHERE id = ANY($1::bigint[])"
DIVISIONS_OF_GROUPS = (
    "SELECT id, group_id, code, name FROM divisions WHERE group_id = ANY($1::bigint[])"
    " ORDER BY code"
)
MEMBERS_BY_ID = f"SELECT {_MEMBER} FROM members WHERE id = ANY($1::bigint[])"  # noqa: S608
DEPENDENTS_OF = (
    f"SELECT {_MEMBER} FROM members WHERE subscriber_id = ANY($1::bigint[])"  # noqa: S608
    " ORDER BY birth_date, id"
)
COVERAGES_OF = (
    f"SELECT {_COVERAGE} FROM coverages WHERE member_id = ANY($1::bigint[])"  # noqa: S608
    " ORDER BY effective_date DESC, id DESC"
)
PLANS_BY_ID = (
    "SELECT id, code, name, kind, metal_level, region, is_offered FROM plans"
    " WHERE id = ANY($1::bigint[])"
)
# A page of members by name: the sort columns come last, they are the cursor's position.
_MEMBER_PAGE = (
    f"SELECT {_MEMBER}, last_name_key, first_name_key, id AS id__1"  # noqa: S608
    " FROM members"
)
_BY_NAME = "ORDER BY last_name_key, first_name_key, id"
SEARCH_PAGE = (
    f"{_MEMBER_PAGE} WHERE group_id = $1 AND (member_number = $2"
    " OR last_name_key LIKE $3 || '%' ESCAPE '/'"
    f" OR first_name_key LIKE $4 || '%' ESCAPE '/') {_BY_NAME} LIMIT $5"
)
RELATIONSHIP_COUNT = "SELECT count(*) FROM members WHERE group_id = $1 AND relationship = $2"
RELATIONSHIP_PAGE = f"{_MEMBER_PAGE} WHERE group_id = $1 AND relationship = $2 {_BY_NAME} LIMIT $3"

# --- Shaping: what the schema's resolvers compute from a row ---------------------------------

SEX = {"F": "FEMALE", "M": "MALE", "U": "UNKNOWN"}


def global_id(type_name: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode()


def member_key(value: str) -> int | None:
    name, _, key = base64.urlsafe_b64decode(value.encode()).decode().partition(":")
    return int(key) if name == "Member" and key.isdigit() else None


def cursor(row: Row) -> str:
    position = [row["last_name_key"], row["first_name_key"], row["id"]]
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()


def like_prefix(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def current_coverage(spans: Sequence[Row], today: date) -> tuple[Row, str] | None:
    """In force today, else the next to start, else the last that ended (spans newest first)."""
    for span in spans:
        ended = span["termination_date"]
        if span["effective_date"] <= today and (ended is None or ended >= today):
            return span, "ACTIVE"
    future = [span for span in spans if span["effective_date"] > today]
    if future:
        return future[-1], "FUTURE"
    return (spans[0], "TERMINATED") if spans else None


def by_column(rows: Iterable[Row], column: str) -> dict[Any, list[Row]]:
    found: dict[Any, list[Row]] = defaultdict(list)
    for row in rows:
        found[row[column]].append(row)
    return found


def _unique(keys: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(keys))


async def rows_by(sql: Sql, query: str, keys: Sequence[int], column: str) -> dict[Any, list[Row]]:
    """One batch statement over `keys`, rows grouped by `column`; like a loader, none if no keys."""
    return by_column(await sql.fetch(query, keys), column) if keys else {}


async def current_coverages(
    sql: Sql, member_ids: Sequence[int], today: date
) -> dict[int, tuple[Row, str] | None]:
    """Each member's coverage as the `coverage` field resolves it: one batch statement."""
    spans = await rows_by(sql, COVERAGES_OF, member_ids, "member_id")
    return {key: current_coverage(spans.get(key, []), today) for key in member_ids}


async def load_plans(sql: Sql, plan_ids: Iterable[int], cache: dict[int, Row]) -> None:
    """Like the request's plan loader: only plans not loaded yet, no statement if none."""
    missing = [key for key in _unique(plan_ids) if key not in cache]
    if missing:
        cache.update((row["id"], row) for row in await sql.fetch(PLANS_BY_ID, missing))


def today_utc() -> date:
    return datetime.now(UTC).date()


def address(row: Row) -> Json | None:
    if row["address_line1"] is None and row["city"] is None:
        return None
    return {
        "line1": row["address_line1"],
        "line2": row["address_line2"],
        "city": row["city"],
        "state": row["state"],
        "postalCode": row["postal_code"],
    }


_CAMEL = {"metal_level": "metalLevel"}


def plan_of(plans: Mapping[int, Row], span: Row, columns: Sequence[str]) -> Json | None:
    plan = plans.get(span["plan_id"])
    if plan is None:
        return None
    return {_CAMEL.get(column, column): plan[column] for column in columns}


def short_coverage(
    coverage: tuple[Row, str] | None, plans: Mapping[int, Row], plan_columns: Sequence[str]
) -> Json | None:
    if coverage is None:
        return None
    span, status = coverage
    return {"status": status, "tier": span["tier"], "plan": plan_of(plans, span, plan_columns)}
