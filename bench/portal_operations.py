"""The portal's named operations, each a GraphQL document, its variable sets and its floor.

The floor answers an operation with the statements the GraphQL server issues for it (the same
levels, batched the same way, including what the per-request loader cache spares), run with
asyncpg and shaped into the same `data`, so that the ratio of the two servers measures the
layers above the SQL and nothing else. Adding an operation is one more `Operation` in
`OPERATIONS`: a document, a case builder and a floor function; what several floors shape alike
lives in `bench.portal_sql`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.portal_sql import (
    ADJUSTMENTS_OF_BILLS,
    BALANCES_OF_GROUPS,
    BILLS_BY_ID,
    BILLS_OF_PERIODS,
    DEPENDENTS_OF,
    DIVISIONS_BY_ID,
    DIVISIONS_OF_GROUPS,
    GROUP_BY_NUMBER,
    GROUPS_IN_SCOPE,
    MEMBERS_BY_ID,
    PAYMENTS_PAGE,
    SEARCH_PAGE,
    SEX,
    Json,
    Row,
    Sql,
    address,
    bill_status,
    by_column,
    current_bill,
    current_contracts,
    current_coverages,
    cursor,
    first_subscribers,
    full_coverage,
    global_id,
    like_prefix,
    line_page,
    load_plans,
    member_names,
    money,
    node_key,
    payment_fields,
    plan_of,
    rows_by,
    short_coverage,
    today_utc,
)
from data.normalize import name_key


@dataclass(frozen=True, slots=True)
class Case:
    """One set of variables; `floor_extra` tells the floor what the server's authorization knows
    (e.g. a broker's book), since the floor authenticates and authorizes nothing."""

    variables: Json
    floor_extra: Json = field(default_factory=dict)


# The floor of an operation: (connection, variables + floor_extra) → the response's `data`.
Floor = Callable[[Sql, Json], Awaitable[Json]]
# The cases of an operation, picked from the seeded data: (connection, the persona's groups
# as the server's authorization computes them, None for every group) → cases.
CaseBuilder = Callable[[Sql, frozenset[int] | None], Awaitable[list[Case]]]


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    persona: str  # whose access token the GraphQL server gets
    document: str
    cases: CaseBuilder
    floor: Floor


# --- member-search: a name prefix in a large group, first 20 ---------------------------------

MEMBER_SEARCH = """
query MemberSearch($group: String!, $search: String!) {
  group(groupNumber: $group) {
    members(search: $search, first: 20) {
      edges { node { id memberNumber firstName lastName relationship birthDate } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


async def _member_search_cases(sql: Sql, _groups: frozenset[int] | None) -> list[Case]:
    # The three commonest surnames of each of the four largest groups, typed as three letters.
    rows = await sql.fetch(
        "SELECT g.group_number, m.last_name_key, count(*) AS n FROM members m"
        " JOIN groups g ON g.id = m.group_id WHERE m.group_id IN (SELECT group_id FROM members"
        " GROUP BY group_id ORDER BY count(*) DESC, group_id LIMIT 4)"
        " GROUP BY g.group_number, m.last_name_key ORDER BY g.group_number, n DESC, 2"
    )
    cases = []
    for number, names in by_column(rows, "group_number").items():
        for row in names[:3]:
            search = row["last_name_key"][:3].title()
            cases.append(Case({"group": number, "search": search}))
    return cases


async def _member_search_floor(sql: Sql, variables: Json) -> Json:
    [group] = await sql.fetch(GROUP_BY_NUMBER, variables["group"].strip().upper()) or [None]
    if group is None:
        return {"group": None}
    text = variables["search"]
    prefix = like_prefix(name_key(text))
    size = 20
    rows = await sql.fetch(SEARCH_PAGE, group["id"], text.strip().upper(), prefix, prefix, size + 1)
    page = rows[:size]
    edges = [
        {
            "node": {
                "id": global_id("Member", row["id"]),
                "memberNumber": row["member_number"],
                "firstName": row["first_name"],
                "lastName": row["last_name"],
                "relationship": row["relationship"],
                "birthDate": row["birth_date"],
            }
        }
        for row in page
    ]
    page_info = {"hasNextPage": len(rows) > size, "endCursor": cursor(page[-1]) if page else None}
    return {"group": {"members": {"edges": edges, "pageInfo": page_info}}}


# --- member-detail: node(id) of a subscriber with dependents, personal data included ---------

MEMBER_DETAIL = """
query MemberDetail($id: ID!) {
  node(id: $id) {
    ... on Member {
      id memberNumber firstName middleName lastName relationship sex status isDisabled hireDate
      birthDate ssnLast4 phone email
      address { line1 line2 city state postalCode }
      division { code name }
      coverage {
        status tier effectiveDate terminationDate isCobra isMedicare
        plan { code name kind metalLevel }
      }
      dependents {
        id memberNumber firstName lastName relationship birthDate
        coverage { status tier plan { code name } }
      }
    }
  }
}"""


async def _member_detail_cases(sql: Sql, _groups: frozenset[int] | None) -> list[Case]:
    # Twenty subscribers with a division and at least two dependents, spread over the groups.
    rows = await sql.fetch(
        "SELECT m.id FROM members m WHERE m.relationship = 'SUBSCRIBER'"
        " AND m.division_id IS NOT NULL"
        " AND (SELECT count(*) FROM members d WHERE d.subscriber_id = m.id) >= 2"
        " ORDER BY md5(m.id::text) LIMIT 20"
    )
    return [Case({"id": global_id("Member", row["id"])}) for row in rows]


async def _member_detail_floor(sql: Sql, variables: Json) -> Json:
    key = node_key(variables["id"], "Member")
    [member] = (await sql.fetch(MEMBERS_BY_ID, [key])) if key else [None]
    if member is None:
        return {"node": None}
    today = today_utc()
    # The levels the loaders batch: coverage, division and dependents; then the plan and the
    # dependents' coverages; then the dependents' plans (those not loaded already).
    coverage = (await current_coverages(sql, [member["id"]], today))[member["id"]]
    division = None
    if member["division_id"] is not None:
        [division] = await sql.fetch(DIVISIONS_BY_ID, [member["division_id"]]) or [None]
    family = []
    if member["subscriber_id"] is None:
        family = await sql.fetch(DEPENDENTS_OF, [member["id"]])
    plans: dict[int, Row] = {}
    await load_plans(sql, [coverage[0]["plan_id"]] if coverage else [], plans)
    family_coverage = await current_coverages(sql, [d["id"] for d in family], today)
    await load_plans(sql, (c[0]["plan_id"] for c in family_coverage.values() if c), plans)
    node = {
        "id": global_id("Member", member["id"]),
        "memberNumber": member["member_number"],
        "firstName": member["first_name"],
        "middleName": member["middle_name"],
        "lastName": member["last_name"],
        "relationship": member["relationship"],
        "sex": SEX[member["sex"]],
        "status": member["status"],
        "isDisabled": member["is_disabled"],
        "hireDate": member["hire_date"],
        "birthDate": member["birth_date"],
        "ssnLast4": member["ssn_last4"],
        "phone": member["phone"],
        "email": member["email"],
        "address": address(member),
        "division": division and {"code": division["code"], "name": division["name"]},
        "coverage": full_coverage(coverage, plans),
        "dependents": [
            {
                "id": global_id("Member", person["id"]),
                "memberNumber": person["member_number"],
                "firstName": person["first_name"],
                "lastName": person["last_name"],
                "relationship": person["relationship"],
                "birthDate": person["birth_date"],
                "coverage": short_coverage(family_coverage[person["id"]], plans, ("code", "name")),
            }
            for person in family
        ],
    }
    return {"node": node}


# --- members-dashboard: a group's first 100 subscribers with plan and dependents -------------

MEMBERS_DASHBOARD = """
query MembersDashboard($group: String!) {
  group(groupNumber: $group) {
    legalName
    members(first: 100, filter: {relationship: SUBSCRIBER}) {
      totalCount
      edges {
        node {
          id memberNumber firstName lastName birthDate
          coverage { status tier plan { code name } }
          dependents {
            id firstName lastName relationship birthDate
            coverage { status tier plan { code } }
          }
        }
      }
    }
  }
}"""


async def _members_dashboard_cases(sql: Sql, _groups: frozenset[int] | None) -> list[Case]:
    rows = await sql.fetch(
        "SELECT g.group_number FROM groups g WHERE (SELECT count(*) FROM members m"
        " WHERE m.group_id = g.id AND m.relationship = 'SUBSCRIBER') >= 100"
        " ORDER BY g.group_number LIMIT 4"
    )
    return [Case({"group": row["group_number"]}) for row in rows]


async def _members_dashboard_floor(sql: Sql, variables: Json) -> Json:
    [group] = await sql.fetch(GROUP_BY_NUMBER, variables["group"].strip().upper()) or [None]
    if group is None:
        return {"group": None}
    members = await first_subscribers(sql, group["id"], today_utc(), {}, birth_dates=True)
    return {"group": {"legalName": group["legal_name"], "members": members}}


# --- broker-book: the groups a broker's agency serves, with their divisions ------------------

BROKER_BOOK = """
query BrokerBook {
  groups(first: 100) {
    id groupNumber legalName region status employeeCount renewalDate
    divisions { code name }
  }
}"""


async def _broker_book_cases(_sql: Sql, groups: frozenset[int] | None) -> list[Case]:
    if groups is None:
        raise ValueError("broker-book needs a persona with a book, not one who sees every group")
    return [Case({}, {"groupIds": sorted(groups)})]


async def _broker_book_floor(sql: Sql, variables: Json) -> Json:
    rows = await sql.fetch(GROUPS_IN_SCOPE, variables["groupIds"], 100)
    divisions = await rows_by(sql, DIVISIONS_OF_GROUPS, [row["id"] for row in rows], "group_id")
    groups = [
        {
            "id": global_id("Group", row["id"]),
            "groupNumber": row["group_number"],
            "legalName": row["legal_name"],
            "region": row["region"],
            "status": row["status"],
            "employeeCount": row["employee_count"],
            "renewalDate": row["renewal_date"],
            "divisions": [
                {"code": d["code"], "name": d["name"]} for d in divisions.get(row["id"], [])
            ],
        }
        for row in rows
    ]
    return {"groups": groups}


# --- dashboard: the portal's whole dashboard of one group --------------------------------------

# No `downloadUrl`: signed with the time and a secret, it cannot be answered byte for byte.
DASHBOARD = """
query Dashboard($group: String!) {
  group(groupNumber: $group) {
    legalName
    balanceDue { amount currency }
    members(first: 100, filter: {relationship: SUBSCRIBER}) {
      totalCount
      edges {
        node {
          id memberNumber firstName lastName
          coverage { status tier plan { code name } }
          dependents { id firstName lastName relationship coverage { status tier plan { code } } }
        }
      }
    }
    currentBill {
      id billNumber period dueDate amount { amount currency } balance { amount currency } status
      lines(first: 100) {
        totalCount
        edges { node { tier amount { amount currency } plan { code } } }
      }
    }
    payments(first: 12) { edges { node { id amount { amount currency } status method } } }
    contracts {
      id contractNumber planYear startDate endDate isCurrent
      plans { code name }
      documents { id kind title contentType sizeBytes }
    }
  }
}"""


async def _dashboard_cases(sql: Sql, _groups: frozenset[int] | None) -> list[Case]:
    # The first four groups of at least 100 subscribers that have this month's bill.
    rows = await sql.fetch(
        "SELECT g.group_number FROM groups g WHERE (SELECT count(*) FROM members m"
        " WHERE m.group_id = g.id AND m.relationship = 'SUBSCRIBER') >= 100"
        " AND EXISTS (SELECT 1 FROM bills b WHERE b.group_id = g.id AND b.period = $1)"
        " ORDER BY g.group_number LIMIT 4",
        today_utc().replace(day=1),
    )
    return [Case({"group": row["group_number"]}) for row in rows]


async def _dashboard_floor(sql: Sql, variables: Json) -> Json:
    [group] = await sql.fetch(GROUP_BY_NUMBER, variables["group"].strip().upper()) or [None]
    if group is None:
        return {"group": None}
    today = today_utc()
    key = group["id"]
    # The group's fields, each a batch of its own: the balance, the members (and the levels
    # below them), this month's bill (its lines and their count, then their plans not loaded
    # for the members), the payments, the contracts (then their plans and their documents).
    [balance] = await sql.fetch(BALANCES_OF_GROUPS, [key]) or [None]
    plans: dict[int, Row] = {}
    members = await first_subscribers(sql, key, today, plans, birth_dates=False)
    [bill] = await sql.fetch(BILLS_OF_PERIODS, [key], [today.replace(day=1)]) or [None]
    payments = (await sql.fetch(PAYMENTS_PAGE, key, 13))[:12]
    contracts = await current_contracts(sql, key, today)
    return {
        "group": {
            "legalName": group["legal_name"],
            "balanceDue": money(balance["balance"] if balance else 0),
            "members": members,
            "currentBill": bill and await current_bill(sql, bill, today, plans),
            "payments": {"edges": [{"node": payment_fields(row)} for row in payments]},
            "contracts": contracts,
        }
    }


# --- bill-detail: node(id) of a bill with its first 100 lines and its adjustments -------------

BILL_DETAIL = """
query BillDetail($id: ID!) {
  node(id: $id) {
    ... on Bill {
      id billNumber period issueDate dueDate
      amount { amount currency } amountPaid { amount currency } balance { amount currency }
      status
      lines(first: 100) {
        totalCount
        edges {
          cursor
          node {
            id tier amount { amount } plan { code name } subscriber { id firstName lastName }
          }
        }
        pageInfo { hasNextPage endCursor }
      }
      adjustments { reason amount { amount } }
    }
  }
}"""


async def _bill_detail_cases(sql: Sql, _groups: frozenset[int] | None) -> list[Case]:
    # One bill of at least 50 lines from each of twenty groups, those with adjustments first.
    rows = await sql.fetch(
        "SELECT id FROM (SELECT DISTINCT ON (b.group_id) b.id, b.group_id,"
        " EXISTS (SELECT 1 FROM bill_adjustments a WHERE a.bill_id = b.id) AS adjusted"
        " FROM bills b WHERE (SELECT count(*) FROM bill_lines l WHERE l.bill_id = b.id) >= 50"
        " ORDER BY b.group_id, 3 DESC, md5(b.id::text)) AS one"
        " ORDER BY md5(group_id::text) LIMIT 20"
    )
    return [Case({"id": global_id("Bill", row["id"])}) for row in rows]


async def _bill_detail_floor(sql: Sql, variables: Json) -> Json:
    key = node_key(variables["id"], "Bill")
    [bill] = (await sql.fetch(BILLS_BY_ID, [key])) if key else [None]
    if bill is None:
        return {"node": None}
    # The levels: the bill; its lines (and their count) and its adjustments; the lines' plans
    # and subscribers.
    lines, page_info, total = await line_page(sql, bill["id"], 100)
    adjustments = await sql.fetch(ADJUSTMENTS_OF_BILLS, [bill["id"]])
    plans: dict[int, Row] = {}
    await load_plans(sql, (line["plan_id"] for line in lines), plans)
    subscriber_ids = list(dict.fromkeys(line["subscriber_id"] for line in lines))
    people = await rows_by(sql, MEMBERS_BY_ID, subscriber_ids, "id")
    edges = [
        {
            "cursor": cursor(line),
            "node": {
                "id": global_id("BillLine", line["id"]),
                "tier": line["tier"],
                "amount": {"amount": line["amount_cents"]},
                "plan": plan_of(plans, line, ("code", "name")),
                "subscriber": member_names(people.get(line["subscriber_id"])),
            },
        }
        for line in lines
    ]
    node = {
        "id": global_id("Bill", bill["id"]),
        "billNumber": bill["bill_number"],
        "period": bill["period"],
        "issueDate": bill["issue_date"],
        "dueDate": bill["due_date"],
        "amount": money(bill["amount_cents"]),
        "amountPaid": money(bill["paid_cents"]),
        "balance": money(bill["amount_cents"] - bill["paid_cents"]),
        "status": bill_status(bill, today_utc()),
        "lines": {"totalCount": total, "edges": edges, "pageInfo": page_info},
        "adjustments": [
            {"reason": row["reason"], "amount": {"amount": row["amount_cents"]}}
            for row in adjustments
        ],
    }
    return {"node": node}


# The membership representative reads every group, personal data included; the account
# representative every group's members, bills, contracts and documents, but no personal data.
REPRESENTATIVE = "rep@carrier.example"
ACCOUNTS = "accounts@carrier.example"
OPERATIONS = {
    operation.name: operation
    for operation in (
        Operation(
            "member-search",
            REPRESENTATIVE,
            MEMBER_SEARCH,
            _member_search_cases,
            _member_search_floor,
        ),
        Operation(
            "member-detail",
            REPRESENTATIVE,
            MEMBER_DETAIL,
            _member_detail_cases,
            _member_detail_floor,
        ),
        Operation(
            "members-dashboard",
            REPRESENTATIVE,
            MEMBERS_DASHBOARD,
            _members_dashboard_cases,
            _members_dashboard_floor,
        ),
        Operation(
            "broker-book",
            "broker@summit.example",
            BROKER_BOOK,
            _broker_book_cases,
            _broker_book_floor,
        ),
        Operation("dashboard", ACCOUNTS, DASHBOARD, _dashboard_cases, _dashboard_floor),
        Operation("bill-detail", ACCOUNTS, BILL_DETAIL, _bill_detail_cases, _bill_detail_floor),
    )
}
