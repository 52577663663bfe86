"""SQL statements per request do not grow with list sizes: every level is one batched query.

The dashboard query is asked of a group of 10 subscribers and of one of 1,000; both must take
the same number of statements, and no more than the query has levels.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select

from data.models.groups import Group, GroupStatus
from data.models.members import Coverage, Member, MemberStatus, Relationship, Sex
from data.models.plans import CoverageTier, Plan
from data.normalize import name_key
from tests.conftest import Api, statements

# The membership representative reads every group, personal data included.
READER = "rep@carrier.example"
DASHBOARD = """
query ($n: String!) {
  group(groupNumber: $n) {
    legalName
    members(first: 100, filter: {relationship: SUBSCRIBER}) {
      totalCount
      edges { node {
        memberNumber firstName lastName birthDate
        coverage { tier status plan { code name } }
        dependents { firstName birthDate coverage { tier plan { code } } }
      } }
    }
  }
}"""
# The group; the member page and its count; dependents; coverages and plans of subscribers,
# then of dependents (a level deeper, so a batch of their own).
DASHBOARD_LEVELS = 7


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
    return number


async def _count(api: Api, number: str) -> tuple[int, int]:
    token = await api.token(READER)  # issued before counting: a token costs no SQL to check
    with statements(api.app.state.database.engine) as seen:
        response = await api.client.post(
            "/graphql",
            json={"query": DASHBOARD, "variables": {"n": number}},
            headers={"authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert "errors" not in body, body
    edges = body["data"]["group"]["members"]["edges"]
    assert all(len(edge["node"]["dependents"]) == 1 for edge in edges)
    # One statement authenticates the caller; the rest answer the query.
    return len(seen) - 1, len(edges)


async def test_statements_per_request_do_not_grow_with_the_group(api: Api) -> None:
    small, shown_small = await _count(api, await _group_of(api, 10))
    large, shown_large = await _count(api, await _group_of(api, 1000))
    assert (shown_small, shown_large) == (10, 100)
    assert small == large <= DASHBOARD_LEVELS, (small, large)
