"""Enrollment beyond a new family, through the endpoint: dependents added to a family (the
family's tier follows), COBRA continuation and its refusals, and the group's view of its
requests (division-scoped readers see their divisions' requests only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from data.demo.design import demo_ssn
from data.models.members import Coverage, Member
from tests.conftest import Api
from tests.enrollment_helpers import (
    COBRA,
    DEPENDENT_ADD,
    ENROLL,
    REQUESTS,
    Existing,
    as_submitted,
    counts,
    dependent,
    enrollment,
    errors_of,
    gid,
    group_setup,
    today,
)
from tests.test_member_changes import TERMINATE, families

ADMIN = "admin@acme.example"


async def add(api: Api, values: dict[str, Any], as_user: str = ADMIN) -> dict[str, Any]:
    body = await api.query(as_user, DEPENDENT_ADD, input=values)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["dependentAdd"]
    return found


async def spans(api: Api, member_id: int) -> list[tuple[str, Any, Any, bool]]:
    async with api.app.state.database.reader.connect() as connection:
        rows = await connection.execute(
            select(
                Coverage.tier, Coverage.effective_date, Coverage.termination_date, Coverage.is_cobra
            )
            .where(Coverage.member_id == member_id)
            .order_by(Coverage.effective_date, Coverage.id)
        )
        return [
            (row.tier.value, row.effective_date, row.termination_date, row.is_cobra) for row in rows
        ]


async def relationships(api: Api, member_ids: tuple[int, ...]) -> list[str]:
    async with api.app.state.database.reader.connect() as connection:
        found = await connection.scalars(
            select(Member.relationship).where(Member.id.in_(member_ids))
        )
        return [value.value for value in found]


async def test_a_child_added_to_a_single_subscriber_changes_the_family_tier(api: Api) -> None:
    single = next(f for f in await families(api) if not f.dependents)
    child = dependent("CHILD", 4)
    before = await spans(api, single.subscriber)
    assert before[-1][0] == "EMPLOYEE"
    payload = await add(
        api,
        {
            "subscriberId": gid("Member", single.subscriber),
            "dependent": child,
            "effectiveDate": today().isoformat(),
        },
    )
    assert payload["errors"] == []
    assert payload["status"] == "PROCESSED"
    assert payload["request"]["kind"] == "DEPENDENT"
    [added] = payload["members"]
    assert added["relationship"] == "CHILD"
    assert added["subscriber"] == {"id": gid("Member", single.subscriber)}
    assert added["coverage"]["tier"] == "EMPLOYEE_CHILDREN"
    after = await spans(api, single.subscriber)
    # The employee-only span ends yesterday; the family's new tier starts today.
    assert after[-2][:3] == (before[-1][0], before[-1][1], today() - timedelta(days=1))
    assert after[-1][:3] == ("EMPLOYEE_CHILDREN", today(), None)


async def test_a_second_spouse_and_a_dependent_as_subscriber_are_refused(api: Api) -> None:
    with_partner = [
        f
        for f in await families(api)
        if {"SPOUSE", "DOMESTIC_PARTNER"} & set(await relationships(api, f.dependents))
    ]
    assert with_partner, "the demo has families with a spouse"
    family = with_partner[0]
    before = await counts(api)
    values = {
        "subscriberId": gid("Member", family.subscriber),
        "dependent": dependent("DOMESTIC_PARTNER", 35),
        "effectiveDate": today().isoformat(),
    }
    assert errors_of(await add(api, values)) == [("dependent.relationship", "INVALID")]
    values["subscriberId"] = gid("Member", family.dependents[0])
    assert errors_of(await add(api, values)) == [("subscriberId", "INVALID")]
    values["subscriberId"] = gid("Member", 10**9)
    assert errors_of(await add(api, values)) == [("subscriberId", "NOT_FOUND")]
    assert await counts(api) == before


async def test_a_division_reader_cannot_add_to_another_division(api: Api) -> None:
    west = next(f for f in await families(api) if f.division == "WEST")
    values = {
        "subscriberId": gid("Member", west.subscriber),
        "dependent": dependent("CHILD", 2),
        "effectiveDate": today().isoformat(),
    }
    payload = await add(api, values, as_user="hr.east@acme.example")
    assert errors_of(payload) == [("subscriberId", "NOT_FOUND")]


async def terminate(api: Api, member_id: int, days_back: int = 1) -> None:
    ends = (today() - timedelta(days=days_back)).isoformat()
    body = await api.query(
        ADMIN,
        TERMINATE,
        input={
            "memberId": gid("Member", member_id),
            "terminationDate": ends,
            "reason": "EMPLOYMENT_ENDED",
        },
    )
    assert body["data"]["coverageTerminate"]["errors"] == [], body


async def cobra(api: Api, as_user: str = ADMIN, **values: Any) -> dict[str, Any]:
    body = await api.query(as_user, COBRA, input=values)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["cobraEnroll"]
    return found


async def test_cobra_continues_a_terminated_family_without_a_gap(api: Api) -> None:
    family = next(f for f in await families(api) if f.dependents)
    await terminate(api, family.subscriber)
    before = await counts(api)
    payload = await cobra(api, memberId=gid("Member", family.subscriber))
    assert payload["errors"] == []
    assert payload["status"] == "PROCESSED"
    assert payload["request"]["kind"] == "COBRA"
    members = payload["members"]
    assert [m["id"] for m in members] == [
        gid("Member", k) for k in (family.subscriber, *family.dependents)
    ]
    for member in members:
        assert member["status"] == "ACTIVE"
        assert member["coverage"]["isCobra"] is True
        assert member["coverage"]["effectiveDate"] == today().isoformat()
    after = await counts(api)
    people = 1 + len(family.dependents)
    assert [a - b for a, b in zip(after, before, strict=True)] == [0, people, 1, 0, people]
    again = await cobra(api, memberId=gid("Member", family.subscriber))
    assert errors_of(again) == [("memberId", "INVALID")]  # no longer terminated


async def test_cobra_refusals(api: Api) -> None:
    family = next(f for f in await families(api) if f.dependents)
    member = gid("Member", family.subscriber)
    assert errors_of(await cobra(api, memberId=member)) == [("memberId", "INVALID")]  # active
    await terminate(api, family.subscriber)
    before = await counts(api)
    medicare = await cobra(api, memberId=member, medicare=True)
    assert errors_of(medicare) == [("medicare", "MEDICARE_NOT_ONLINE")]
    assert "group representative" in medicare["errors"][0]["message"]
    gap = await cobra(api, memberId=member, effectiveDate=(today() + timedelta(days=1)).isoformat())
    assert errors_of(gap) == [("effectiveDate", "INVALID")]
    other = await cobra(api, as_user="admin@globex.example", memberId=member)
    assert errors_of(other) == [("memberId", "NOT_FOUND")]
    engine = api.app.state.database.engine
    async with engine.begin() as connection:  # as if the member had left 61 days ago
        await connection.execute(
            update(Coverage)
            .where(Coverage.member_id == family.subscriber, Coverage.termination_date.is_not(None))
            .values(termination_date=today() - timedelta(days=61))
        )
    late = await cobra(api, memberId=member)
    assert errors_of(late) == [("memberId", "INVALID")]
    assert "election period" in late["errors"][0]["message"]
    assert await counts(api) == before


async def test_cobra_is_refused_where_the_carrier_administers_it(api: Api) -> None:
    async with api.app.state.database.reader.connect() as connection:
        member = await connection.scalar(
            select(Member.id)
            .where(Member.group_id == (await group_setup(api, "Globex Corporation")).key)
            .limit(1)
        )
    assert member is not None
    payload = await cobra(api, as_user="admin@globex.example", memberId=gid("Member", member))
    assert errors_of(payload) == [("memberId", "COBRA_ADMINISTERED_BY_CARRIER")]


async def test_the_group_sees_its_requests_as_far_as_it_reads_members(api: Api) -> None:
    setup = await group_setup(api)
    for division in ("EAST", "WEST", "EAST"):
        values = enrollment(setup, divisionId=setup.divisions[division])
        body = await api.query(ADMIN, ENROLL, input=values)
        assert body["data"]["memberEnroll"]["status"] == "PROCESSED"

    async def listed(as_user: str, **arguments: Any) -> dict[str, Any]:
        body = await api.query(as_user, REQUESTS, n=setup.number, **arguments)
        # Only personal data may be withheld (hr.east reads members, not their SSNs).
        assert {e["extensions"]["code"] for e in body.get("errors", [])} <= {"FORBIDDEN"}
        assert all(e["path"][-1] == "ssnLast4" for e in body.get("errors", []))
        found: dict[str, Any] = body["data"]["group"]["enrollmentRequests"]
        return found

    everything = await listed(ADMIN)
    assert everything["totalCount"] == 3
    east = await listed("hr.east@acme.example")
    assert east["totalCount"] == 2
    first = await listed(ADMIN, first=2)
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await listed(ADMIN, first=2, after=first["pageInfo"]["endCursor"])
    ids = [e["node"]["id"] for e in first["edges"] + rest["edges"]]
    assert ids == [e["node"]["id"] for e in everything["edges"]]
    assert (await listed(ADMIN, status="PENDING_REVIEW"))["totalCount"] == 0
    refused = await api.query("billing@acme.example", REQUESTS, n=setup.number)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # A broker reads members but not personal data: the last four of an SSN are withheld.
    broker = await api.query("broker@summit.example", REQUESTS, n=setup.number)
    people = broker["data"]["group"]["enrollmentRequests"]["edges"][0]["node"]["submitted"][
        "people"
    ]
    assert people[0]["ssnLast4"] is None
    assert {e["extensions"]["code"] for e in broker["errors"]} == {"FORBIDDEN"}


@pytest.mark.parametrize("status", ["PROCESSED", "PENDING_REVIEW", "REJECTED"])
async def test_requests_filter_by_status(api: Api, status: str) -> None:
    setup = await group_setup(api)
    body = await api.query(ADMIN, REQUESTS, n=setup.number, status=status)
    assert body["data"]["group"]["enrollmentRequests"]["totalCount"] == 0


async def test_a_former_member_of_the_group_is_enrolled_again_on_the_same_record(api: Api) -> None:
    """A link in the enrolling group reuses the row: no second record of one person."""
    setup = await group_setup(api)
    singles = [f.subscriber for f in await families(api) if not f.dependents]
    async with api.app.state.database.reader.connect() as connection:
        key = await connection.scalar(
            select(func.min(Member.id)).where(Member.id.in_(singles), Member.ssn_hash.is_not(None))
        )
    assert key is not None
    await terminate(api, key)
    async with api.app.state.database.reader.connect() as connection:
        row = (await connection.execute(select(Member).where(Member.id == key))).one()
    assert row.status.value == "TERMINATED"
    returning = as_submitted(
        Existing(
            key=row.id,
            group_id=row.group_id,
            first_name=row.first_name,
            last_name=row.last_name,
            birth_date=row.birth_date,
            sex={"F": "FEMALE", "M": "MALE", "U": "UNKNOWN"}[row.sex.value],
            ssn=demo_ssn(row.member_number),
            status=row.status.value,
        )
    )
    before = await counts(api)
    body = await api.query(ADMIN, ENROLL, input=enrollment(setup, subscriber=returning))
    payload = body["data"]["memberEnroll"]
    assert payload["errors"] == []
    assert payload["status"] == "PROCESSED"
    [member] = payload["members"]
    assert member["id"] == gid("Member", key)
    assert member["status"] == "ACTIVE"
    assert member["coverage"]["effectiveDate"] == today().isoformat()
    after = await counts(api)
    assert [a - b for a, b in zip(after, before, strict=True)] == [0, 1, 1, 0, 1]
    covered = await spans(api, key)
    assert covered[-2][2] == today() - timedelta(days=1)
    assert covered[-1][1:3] == (today(), None)
