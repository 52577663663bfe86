"""SQL statements per request do not grow with list sizes: every level is one batched query.

The dashboard query is asked of a group of 10 subscribers and of one of 1,000; both must take
the same number of statements, and no more than the query has levels.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from data.models.billing import Bill, BillLine, Payment, PaymentMethod, PaymentStatus
from data.models.contracts import Contract, ContractPlan, Document, DocumentKind
from data.models.enrollment import (
    EnrollmentKind,
    EnrollmentRequest,
    EnrollmentStatus,
    IdCardRequest,
    IdCardRequestStatus,
)
from data.models.groups import Group, GroupStatus
from data.models.members import Coverage, Member, MemberStatus, Relationship, Sex
from data.models.plans import CoverageTier, Plan
from data.normalize import name_key
from tests.conftest import Api, statements

# The account representative reads every group's members, bills and contracts.
READER = "accounts@carrier.example"
DASHBOARD = """
query ($n: String!) {
  group(groupNumber: $n) {
    legalName
    members(first: 100, filter: {relationship: SUBSCRIBER}) {
      totalCount
      edges { node {
        id memberNumber firstName lastName
        coverage { tier status plan { code name } }
        dependents { id firstName coverage { tier plan { code } } }
      } }
    }
    currentBill {
      billNumber amount { amount } balance { amount } status
      lines(first: 100) { totalCount edges { node { tier amount { amount } plan { code } } } }
    }
    payments(first: 12) { edges { node { id amount { amount } status } } }
    contracts { contractNumber isCurrent plans { code } documents { kind title } }
  }
}"""
# At most one statement per level: the group. Members: the page and its count; dependents;
# coverages and plans of subscribers, then of dependents (a level deeper, so batches of their
# own; plans already loaded are not asked again). Billing: the current bill, its lines and their
# count (the lines' plans join the coverages' batch); the payments. Contracts, then their plans
# and their documents. Measured: 14, at 10 and at 1,000 subscribers.
DASHBOARD_LEVELS = 16
MONTHS = 12


def _person(
    group_id: int, number: str, first: str, last: str, subscriber_id: int | None
) -> dict[str, Any]:
    return {
        "group_id": group_id,
        "subscriber_id": subscriber_id,
        "member_number": number,
        "relationship": Relationship.SPOUSE if subscriber_id else Relationship.SUBSCRIBER,
        "first_name": first,
        "last_name": last,
        "first_name_key": name_key(first),
        "last_name_key": name_key(last),
        "birth_date": date(1980, 5, 17),
        "sex": Sex.UNKNOWN,
        "status": MemberStatus.ACTIVE,
    }


async def _group_of(api: Api, subscribers: int) -> str:
    """A new group of `subscribers` employees, each covered with a spouse."""
    number = f"T{subscribers:06d}"
    async with api.app.state.database.engine.begin() as connection:
        plan_id = (await connection.execute(select(Plan.id).limit(1))).scalar_one()
        group_id = (
            await connection.execute(
                insert(Group)
                .values(
                    group_number=number,
                    legal_name=f"Test {subscribers}",
                    name_key=f"test {subscribers}",
                    region="NCAL",
                    status=GroupStatus.ACTIVE,
                    employee_count=subscribers,
                    renewal_date=date(2027, 1, 1),
                )
                .returning(Group.id)
            )
        ).scalar_one()
        employees = [
            _person(group_id, f"{number}{i:05d}", "Ana", f"Last{i:05d}", None)
            for i in range(subscribers)
        ]
        await connection.execute(insert(Member), employees)
        ids = (
            (await connection.execute(select(Member.id).where(Member.group_id == group_id)))
            .scalars()
            .all()
        )
        spouses = [
            _person(group_id, f"{number}P{i:05d}", "Ben", "Spouse", subscriber_id)
            for i, subscriber_id in enumerate(ids)
        ]
        await connection.execute(insert(Member), spouses)
        everyone = (
            (await connection.execute(select(Member.id).where(Member.group_id == group_id)))
            .scalars()
            .all()
        )
        await connection.execute(
            insert(Coverage),
            [
                {
                    "member_id": member_id,
                    "plan_id": plan_id,
                    "tier": CoverageTier.EMPLOYEE_SPOUSE,
                    "effective_date": date(2026, 1, 1),
                }
                for member_id in everyone
            ],
        )
        await _bills_and_contract(connection, number, group_id, plan_id, list(ids))
    return number


async def _bills_and_contract(
    connection: AsyncConnection, number: str, group_id: int, plan_id: int, subscribers: list[int]
) -> None:
    """A year of bills, each paid; this month's with a line per subscriber; a contract with
    the plan and two documents."""
    month = datetime.now(UTC).date().replace(day=1)  # the gateway's today is UTC
    for back in range(MONTHS):
        period = _months_before(month, back)
        bill_id = (
            await connection.execute(
                insert(Bill)
                .values(
                    group_id=group_id,
                    bill_number=f"{number}-{back:02d}",
                    period=period,
                    issue_date=period,
                    due_date=period,
                    amount_cents=1000 * len(subscribers),
                )
                .returning(Bill.id)
            )
        ).scalar_one()
        if back == 0:
            await connection.execute(
                insert(BillLine),
                [
                    {
                        "bill_id": bill_id,
                        "subscriber_id": subscriber_id,
                        "plan_id": plan_id,
                        "tier": CoverageTier.EMPLOYEE_SPOUSE,
                        "amount_cents": 1000,
                    }
                    for subscriber_id in subscribers
                ],
            )
        await connection.execute(
            insert(Payment).values(
                group_id=group_id,
                bill_id=bill_id,
                idempotency_key=f"{number}-{back}",
                amount_cents=1000,
                method=PaymentMethod.ACH,
                status=PaymentStatus.SETTLED,
                confirmation_number=f"C{number}{back:02d}",
            )
        )
    contract_id = (
        await connection.execute(
            insert(Contract)
            .values(
                group_id=group_id,
                contract_number=f"K{number}",
                plan_year=month.year,
                start_date=month.replace(month=1),
                end_date=month.replace(month=12, day=31),
            )
            .returning(Contract.id)
        )
    ).scalar_one()
    await connection.execute(insert(ContractPlan).values(contract_id=contract_id, plan_id=plan_id))
    await connection.execute(
        insert(Document),
        [
            {
                "group_id": group_id,
                "contract_id": contract_id,
                "kind": kind,
                "title": f"{kind} {number}",
                "storage_key": f"{number}/{kind}.pdf",
                "content_type": "application/pdf",
                "size_bytes": 1,
                "sha256": "0" * 64,
            }
            for kind in (DocumentKind.CONTRACT, DocumentKind.ARBITRATION_AGREEMENT)
        ],
    )


def _months_before(month: date, back: int) -> date:
    index = month.year * 12 + month.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


async def _counted(api: Api, query: str, **variables: object) -> tuple[dict[str, Any], int]:
    """The reader's answer to `query` (without errors) and the SQL statements it took; the token
    is issued before counting (a token costs no SQL to check)."""
    token = await api.token(READER)
    with statements(api.app.state.database.engine) as seen:
        response = await api.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"], len(seen)


async def _count(api: Api, number: str) -> tuple[int, int]:
    data, count = await _counted(api, DASHBOARD, n=number)
    group = data["group"]
    edges = group["members"]["edges"]
    assert all(len(edge["node"]["dependents"]) == 1 for edge in edges)
    assert len(group["currentBill"]["lines"]["edges"]) == len(edges)
    assert len(group["payments"]["edges"]) == MONTHS
    [contract] = group["contracts"]
    assert len(contract["documents"]) == 2
    assert len(contract["plans"]) == 1
    # One statement authenticates the caller; the rest answer the query.
    return count - 1, len(edges)


async def test_statements_per_request_do_not_grow_with_the_group(api: Api) -> None:
    small, shown_small = await _count(api, await _group_of(api, 10))
    large, shown_large = await _count(api, await _group_of(api, 1000))
    assert (shown_small, shown_large) == (10, 100)
    assert small == large <= DASHBOARD_LEVELS, (small, large)


BOOK = """
query ($n: Int!) {
  groups(first: $n) {
    groupNumber
    members(first: 3, filter: {relationship: SUBSCRIBER}) {
      totalCount
      edges { cursor node { id lastName coverage { tier plan { code } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
ONE = """
query ($n: String!) {
  group(groupNumber: $n) {
    members(first: 3, filter: {relationship: SUBSCRIBER}) {
      totalCount
      edges { cursor node { id lastName coverage { tier plan { code } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


async def test_a_list_of_groups_pages_their_members_in_one_statement(api: Api) -> None:
    counts = []
    for size in (2, 6):
        data, count = await _counted(api, BOOK, n=size)
        groups = data["groups"]
        assert len(groups) == size
        counts.append(count)
        # Each group's page, from the shared statement, is the page it gets on its own.
        for group in groups:
            alone = await api.query(READER, ONE, n=group["groupNumber"])
            assert group["members"] == alone["data"]["group"]["members"]
    # The caller, the groups, the pages, their counts, coverages, plans: not one per group.
    assert counts[0] == counts[1] <= 6, counts


REQUESTS = """
    enrollmentRequests(first: 3) {
      totalCount
      edges { cursor node { id kind status submittedAt } }
      pageInfo { hasNextPage endCursor }
    }
    idCardRequests(first: 3) {
      totalCount
      edges { cursor node { id status requestedAt member { id } } }
      pageInfo { hasNextPage endCursor }
    }"""
BOOK_REQUESTS = "query ($n: Int!) { groups(first: $n) { groupNumber " + REQUESTS + " } }"
ONE_REQUESTS = "query ($n: String!) { group(groupNumber: $n) { " + REQUESTS + " } }"


async def _plant_requests(api: Api, group_numbers: list[str]) -> None:
    """Group i gets i enrollment requests and i ID card requests (0 to 5): empty pages, short
    pages and pages with more to come, each group with its own newest and oldest."""
    database = api.app.state.database
    async with database.engine.begin() as connection:
        for index, number in enumerate(group_numbers):
            group_id = await connection.scalar(select(Group.id).where(Group.group_number == number))
            member_ids = list(
                await connection.scalars(
                    select(Member.id)
                    .where(Member.group_id == group_id)
                    .order_by(Member.id)
                    .limit(index)
                )
            )
            for rank, member_id in enumerate(member_ids):
                at = datetime(2026, 1, 1 + rank, 12, index, tzinfo=UTC)
                await connection.execute(
                    insert(EnrollmentRequest).values(
                        group_id=group_id,
                        kind=EnrollmentKind.SUBSCRIBER,
                        status=EnrollmentStatus.PROCESSED,
                        payload={},
                        created_at=at,
                    )
                )
                await connection.execute(
                    insert(IdCardRequest).values(
                        group_id=group_id,
                        member_id=member_id,
                        reason="LOST",
                        status=IdCardRequestStatus.REQUESTED,
                        mail_to={},
                        created_at=at,
                    )
                )


async def test_a_list_of_groups_pages_their_requests_in_one_statement(api: Api) -> None:
    listed = await api.query(READER, "{ groups(first: 6) { groupNumber } }")
    numbers = [group["groupNumber"] for group in listed["data"]["groups"]]
    await _plant_requests(api, numbers)
    counts = []
    for size in (2, 6):
        data, count = await _counted(api, BOOK_REQUESTS, n=size)
        groups = data["groups"]
        counts.append(count)
        for group in groups:
            alone = await api.query(READER, ONE_REQUESTS, n=group["groupNumber"])
            assert {k: v for k, v in group.items() if k != "groupNumber"} == alone["data"]["group"]
    totals = [group["enrollmentRequests"]["totalCount"] for group in groups]
    assert totals == [0, 1, 2, 3, 4, 5]
    assert [g["idCardRequests"]["pageInfo"]["hasNextPage"] for g in groups] == [False] * 4 + [
        True
    ] * 2
    # The caller, the groups, two pages and two counts, the members: not one per group.
    assert counts[0] == counts[1] <= 7, counts


async def test_nodes_of_one_type_share_one_statement(api: Api) -> None:
    book = await api.query(READER, BOOK, n=6)
    ids = [
        edge["node"]["id"] for group in book["data"]["groups"] for edge in group["members"]["edges"]
    ]
    assert len(ids) >= 12
    counts = []
    for some in (ids[:2], ids):
        data, count = await _counted(
            api,
            "query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Member "
            "{ lastName coverage { plan { code } } } } }",
            ids=some,
        )
        assert [node["id"] for node in data["nodes"]] == some
        counts.append(count)
    # The caller, the members, their coverages, their plans.
    assert counts[0] == counts[1] == 4, counts
