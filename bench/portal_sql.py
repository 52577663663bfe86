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

# Billing (`data/billing.py`): what a bill has been paid is a subquery of the statement reading
# it, counting settled and pending payments; the statuses are bind parameters there, constants
# here (the same plan).
_BILL = (
    "id, group_id, bill_number, period, issue_date, due_date, amount_cents,"
    " (SELECT coalesce(sum(p.amount_cents), 0) FROM payments p"
    " WHERE p.bill_id = bills.id AND p.status IN ('SETTLED', 'PENDING')) AS paid_cents"
)
BILLS_BY_ID = f"SELECT {_BILL} FROM bills WHERE id = ANY($1::bigint[])"  # noqa: S608
# (group, month) keys: the gateway's `(group_id, period) IN ((..), ..)`, as two arrays.
BILLS_OF_PERIODS = (
    f"SELECT {_BILL} FROM bills WHERE (group_id, period) IN"  # noqa: S608
    " (SELECT * FROM unnest($1::bigint[], $2::date[]))"
)
BALANCES_OF_GROUPS = (
    "SELECT g.id, (SELECT coalesce(sum(b.amount_cents), 0) FROM bills b WHERE b.group_id = g.id)"
    " - (SELECT coalesce(sum(p.amount_cents), 0) FROM payments p"
    " WHERE p.group_id = g.id AND p.status IN ('SETTLED', 'PENDING')) AS balance"
    " FROM groups g WHERE g.id = ANY($1::bigint[])"
)
# Each bill's first $2 lines by subscriber name (one more than the page: is there a next?); the
# sort columns are named as the members' so that `cursor` reads a line's position too.
LINE_PAGES = (
    "SELECT * FROM (SELECT l.id, l.bill_id, l.subscriber_id, l.plan_id, l.tier, l.amount_cents,"
    " m.last_name_key, m.first_name_key, row_number() OVER (PARTITION BY l.bill_id"
    " ORDER BY m.last_name_key, m.first_name_key, l.id) AS rank"
    " FROM bill_lines l JOIN members m ON m.id = l.subscriber_id"
    " WHERE l.bill_id = ANY($1::bigint[])) AS ranked"
    " WHERE rank <= $2 ORDER BY bill_id, rank"
)
LINE_COUNTS = (
    "SELECT bill_id, count(*) AS total FROM bill_lines WHERE bill_id = ANY($1::bigint[])"
    " GROUP BY bill_id"
)
ADJUSTMENTS_OF_BILLS = (
    "SELECT id, bill_id, member_id, reason, amount_cents, created_at FROM bill_adjustments"
    " WHERE bill_id = ANY($1::bigint[]) ORDER BY created_at, id"
)
# Newest first; the sort columns again at the end, the page's positions.
PAYMENTS_PAGE = (
    "SELECT id, group_id, bill_id, amount_cents, method, status, confirmation_number,"
    " created_at, settled_at, created_at AS created_at__1, id AS id__1 FROM payments"
    " WHERE group_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
)
# Contracts and documents (`data/contracts.py`).
CONTRACTS_OF_GROUPS = (
    "SELECT id, group_id, contract_number, plan_year, start_date, end_date FROM contracts"
    " WHERE group_id = ANY($1::bigint[]) ORDER BY start_date DESC, id DESC"
)
PLANS_OF_CONTRACTS = (
    "SELECT cp.contract_id, p.id, p.code, p.name, p.kind, p.metal_level, p.region, p.is_offered"
    " FROM contract_plans cp JOIN plans p ON p.id = cp.plan_id"
    " WHERE cp.contract_id = ANY($1::bigint[]) ORDER BY p.code"
)
DOCUMENTS_OF_CONTRACTS = (
    "SELECT id, group_id, contract_id, kind, title, storage_key, content_type, size_bytes,"
    " sha256, created_at FROM documents WHERE contract_id = ANY($1::bigint[])"
    " ORDER BY created_at DESC, id DESC"
)

# --- Shaping: what the schema's resolvers compute from a row ---------------------------------

SEX = {"F": "FEMALE", "M": "MALE", "U": "UNKNOWN"}


def global_id(type_name: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode()


def node_key(value: str, type_name: str) -> int | None:
    """The key of a global ID of `type_name`, else None (the floor is given only good IDs)."""
    name, _, key = base64.urlsafe_b64decode(value.encode()).decode().partition(":")
    return int(key) if name == type_name and key.isdigit() else None


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


def money(cents: int) -> Json:
    return {"amount": cents, "currency": "USD"}


def bill_status(bill: Row, today: date) -> str:
    """As `resolvers.billing.bill_status`: paid up, else overdue after the due date."""
    if bill["amount_cents"] - bill["paid_cents"] <= 0:
        return "PAID"
    if bill["due_date"] < today:
        return "OVERDUE"
    return "PARTIALLY_PAID" if bill["paid_cents"] > 0 else "UNPAID"


def is_current(contract: Row, today: date) -> bool:
    return bool(contract["start_date"] <= today <= contract["end_date"])


async def line_page(sql: Sql, bill_id: int, size: int) -> tuple[list[Row], Json, int]:
    """A bill's first `size` lines, their `pageInfo` and their count: two statements, as
    `data.billing.line_pages` issues them for a page whose `totalCount` is asked for."""
    rows = await sql.fetch(LINE_PAGES, [bill_id], size + 1)
    [count] = await sql.fetch(LINE_COUNTS, [bill_id]) or [None]
    page = rows[:size]
    page_info = {"hasNextPage": len(rows) > size, "endCursor": cursor(page[-1]) if page else None}
    return page, page_info, count["total"] if count else 0


def full_coverage(coverage: tuple[Row, str] | None, plans: dict[int, Row]) -> Json | None:
    if coverage is None:
        return None
    span, status = coverage
    return {
        "status": status,
        "tier": span["tier"],
        "effectiveDate": span["effective_date"],
        "terminationDate": span["termination_date"],
        "isCobra": span["is_cobra"],
        "isMedicare": span["is_medicare"],
        "plan": plan_of(plans, span, ("code", "name", "kind", "metal_level")),
    }


async def first_subscribers(
    sql: Sql, group_id: int, today: date, plans: dict[int, Row], *, birth_dates: bool
) -> Json:
    """`members(first: 100, filter: {relationship: SUBSCRIBER})` with `totalCount`, coverage and
    plan, dependents with coverage and plan; `birthDate` at both levels if `birth_dates`."""
    total = await sql.fetchval(RELATIONSHIP_COUNT, group_id, "SUBSCRIBER")
    subscribers = (await sql.fetch(RELATIONSHIP_PAGE, group_id, "SUBSCRIBER", 101))[:100]
    ids = [row["id"] for row in subscribers]
    # Level by level, as the loaders batch: the subscribers' coverages and dependents; their
    # plans and the dependents' coverages; the dependents' plans not loaded already.
    coverage = await current_coverages(sql, ids, today)
    families = await rows_by(sql, DEPENDENTS_OF, ids, "subscriber_id")
    await load_plans(sql, (c[0]["plan_id"] for c in coverage.values() if c), plans)
    dependent_ids = [d["id"] for family in families.values() for d in family]
    family_coverage = await current_coverages(sql, dependent_ids, today)
    await load_plans(sql, (c[0]["plan_id"] for c in family_coverage.values() if c), plans)

    def dependent(person: Row) -> Json:
        node = {
            "id": global_id("Member", person["id"]),
            "firstName": person["first_name"],
            "lastName": person["last_name"],
            "relationship": person["relationship"],
        }
        if birth_dates:
            node["birthDate"] = person["birth_date"]
        node["coverage"] = short_coverage(family_coverage[person["id"]], plans, ("code",))
        return node

    edges = []
    for row in subscribers:
        node = {
            "id": global_id("Member", row["id"]),
            "memberNumber": row["member_number"],
            "firstName": row["first_name"],
            "lastName": row["last_name"],
        }
        if birth_dates:
            node["birthDate"] = row["birth_date"]
        node["coverage"] = short_coverage(coverage[row["id"]], plans, ("code", "name"))
        node["dependents"] = [dependent(person) for person in families.get(row["id"], [])]
        edges.append({"node": node})
    return {"totalCount": total, "edges": edges}


def document_fields(row: Row) -> Json:
    return {
        "id": global_id("Document", row["id"]),
        "kind": row["kind"],
        "title": row["title"],
        "contentType": row["content_type"],
        "sizeBytes": row["size_bytes"],
    }


def member_names(found: list[Row] | None) -> Json | None:
    if not found:
        return None
    [person] = found
    return {
        "id": global_id("Member", person["id"]),
        "firstName": person["first_name"],
        "lastName": person["last_name"],
    }


async def current_bill(sql: Sql, bill: Row, today: date, plans: dict[int, Row]) -> Json:
    """The dashboard's `currentBill` with its first 100 lines: their page and count, then
    their plans not loaded already (for the members, in the same request).

    The gateway's plan loader is shared by the members' coverages and the lines: whichever of
    the two asks first loads its plans, the other loads only the ones still missing. On the
    bench's data a page of lines names no plan that the group's first 100 subscribers do not,
    so either way that is one statement for plans (measured: 15 statements per dashboard, the
    gateway's 16 less the token's user), and so it is here.
    """
    lines, _page_info, total = await line_page(sql, bill["id"], 100)
    await load_plans(sql, (line["plan_id"] for line in lines), plans)
    return {
        "id": global_id("Bill", bill["id"]),
        "billNumber": bill["bill_number"],
        "period": bill["period"],
        "dueDate": bill["due_date"],
        "amount": money(bill["amount_cents"]),
        "balance": money(bill["amount_cents"] - bill["paid_cents"]),
        "status": bill_status(bill, today),
        "lines": {
            "totalCount": total,
            "edges": [
                {
                    "node": {
                        "tier": line["tier"],
                        "amount": money(line["amount_cents"]),
                        "plan": plan_of(plans, line, ("code",)),
                    }
                }
                for line in lines
            ],
        },
    }


def payment_fields(row: Row) -> Json:
    return {
        "id": global_id("Payment", row["id"]),
        "amount": money(row["amount_cents"]),
        "status": row["status"],
        "method": row["method"],
    }


async def current_contracts(sql: Sql, group_id: int, today: date) -> list[Json]:
    """`contracts` (current and upcoming: not ended) with their plans and their documents:
    the contracts, then one statement for the plans and one for the documents of them all."""
    rows = await sql.fetch(CONTRACTS_OF_GROUPS, [group_id])
    contracts = [row for row in rows if row["end_date"] >= today]
    ids = [contract["id"] for contract in contracts]
    plans = await rows_by(sql, PLANS_OF_CONTRACTS, ids, "contract_id")
    documents = await rows_by(sql, DOCUMENTS_OF_CONTRACTS, ids, "contract_id")
    return [
        {
            "id": global_id("Contract", contract["id"]),
            "contractNumber": contract["contract_number"],
            "planYear": contract["plan_year"],
            "startDate": contract["start_date"],
            "endDate": contract["end_date"],
            "isCurrent": is_current(contract, today),
            "plans": [
                {"code": p["code"], "name": p["name"]} for p in plans.get(contract["id"], [])
            ],
            "documents": [document_fields(row) for row in documents.get(contract["id"], [])],
        }
        for contract in contracts
    ]
