"""The portal's named operations, each a GraphQL document, its variable sets and its floor.

The floor answers an operation with the statements the GraphQL server issues for it (the same
levels, batched the same way, including what the per-request loader cache spares), run with
asyncpg and shaped into the same `data`, so that the ratio of the two servers measures the
layers above the SQL and nothing else. Adding an operation (the dashboard's bills, contracts)
is one more `Operation` in `OPERATIONS`: a document, a case builder and a floor function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.portal_sql import (
    DEPENDENTS_OF,
    DIVISIONS_BY_ID,
    DIVISIONS_OF_GROUPS,
    GROUP_BY_NUMBER,
    GROUPS_IN_SCOPE,
    MEMBERS_BY_ID,
    RELATIONSHIP_COUNT,
    RELATIONSHIP_PAGE,
    SEARCH_PAGE,
    SEX,
    Json,
    Row,
    Sql,
    address,
    by_column,
    current_coverages,
    cursor,
    global_id,
    like_prefix,
    load_plans,
    member_key,
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
    key = member_key(variables["id"])
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
        "coverage": _full_coverage(coverage, plans),
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


def _full_coverage(coverage: tuple[Row, str] | None, plans: dict[int, Row]) -> Json | None:
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


async def _dashboard_cases(sql: Sql, _groups: frozenset[int] | None) -> list[Case]:
    rows = await sql.fetch(
        "SELECT g.group_number FROM groups g WHERE (SELECT count(*) FROM members m"
        " WHERE m.group_id = g.id AND m.relationship = 'SUBSCRIBER') >= 100"
        " ORDER BY g.group_number LIMIT 4"
    )
    return [Case({"group": row["group_number"]}) for row in rows]


async def _dashboard_floor(sql: Sql, variables: Json) -> Json:
    [group] = await sql.fetch(GROUP_BY_NUMBER, variables["group"].strip().upper()) or [None]
    if group is None:
        return {"group": None}
    today = today_utc()
    total = await sql.fetchval(RELATIONSHIP_COUNT, group["id"], "SUBSCRIBER")
    subscribers = (await sql.fetch(RELATIONSHIP_PAGE, group["id"], "SUBSCRIBER", 101))[:100]
    ids = [row["id"] for row in subscribers]
    # Level by level, as the loaders batch: the subscribers' coverages and dependents; their
    # plans and the dependents' coverages; the dependents' plans not loaded already.
    coverage = await current_coverages(sql, ids, today)
    families = await rows_by(sql, DEPENDENTS_OF, ids, "subscriber_id")
    plans: dict[int, Row] = {}
    await load_plans(sql, (c[0]["plan_id"] for c in coverage.values() if c), plans)
    dependent_ids = [d["id"] for family in families.values() for d in family]
    family_coverage = await current_coverages(sql, dependent_ids, today)
    await load_plans(sql, (c[0]["plan_id"] for c in family_coverage.values() if c), plans)
    edges = [
        {
            "node": {
                "id": global_id("Member", row["id"]),
                "memberNumber": row["member_number"],
                "firstName": row["first_name"],
                "lastName": row["last_name"],
                "birthDate": row["birth_date"],
                "coverage": short_coverage(coverage[row["id"]], plans, ("code", "name")),
                "dependents": [
                    {
                        "id": global_id("Member", person["id"]),
                        "firstName": person["first_name"],
                        "lastName": person["last_name"],
                        "relationship": person["relationship"],
                        "birthDate": person["birth_date"],
                        "coverage": short_coverage(family_coverage[person["id"]], plans, ("code",)),
                    }
                    for person in families.get(row["id"], [])
                ],
            }
        }
        for row in subscribers
    ]
    members = {"totalCount": total, "edges": edges}
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


# The membership representative reads every group, personal data included.
REPRESENTATIVE = "rep@carrier.example"
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
            _dashboard_cases,
            _dashboard_floor,
        ),
        Operation(
            "broker-book",
            "broker@summit.example",
            BROKER_BOOK,
            _broker_book_cases,
            _broker_book_floor,
        ),
    )
}
