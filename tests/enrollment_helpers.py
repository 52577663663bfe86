"""Shared by the enrollment tests: the groups' plans and divisions, people to enroll, queries."""

from __future__ import annotations

import itertools
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from data.demo.design import demo_ssn
from data.models.audit import AuditEvent
from data.models.contracts import Contract, ContractPlan
from data.models.enrollment import EnrollmentRequest, ReviewItem
from data.models.groups import Division, Group
from data.models.members import Coverage, Member
from data.models.plans import Plan
from schema.common import global_id
from tests.conftest import Api

ENROLL = """
mutation ($input: MemberEnrollInput!) {
  memberEnroll(input: $input) {
    status
    request { id kind status
              submitted { effectiveDate tier plan { code } division { code }
                          people { field firstName lastName relationship birthDate ssnLast4 } }
              member { id } history { status note } }
    members { id memberNumber relationship status
              subscriber { id } coverage { tier effectiveDate isCobra plan { id } } }
    errors { field message code }
  }
}"""
DEPENDENT_ADD = """
mutation ($input: DependentAddInput!) {
  dependentAdd(input: $input) {
    status
    request { id kind status history { note } }
    members { id relationship subscriber { id } coverage { tier effectiveDate } }
    errors { field message code }
  }
}"""
COBRA = """
mutation ($input: CobraEnrollInput!) {
  cobraEnroll(input: $input) {
    status
    request { id kind status }
    members { id status coverage { isCobra effectiveDate tier } }
    errors { field message code }
  }
}"""
REQUESTS = """
query ($n: String!, $status: EnrollmentStatus, $first: Int, $after: String) {
  group(groupNumber: $n) {
    enrollmentRequests(status: $status, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id kind status member { id }
                     submitted { people { field firstName ssnLast4 } }
                     history { status note } } }
    }
  }
}"""


def today() -> date:
    return datetime.now(UTC).date()


def years_ago(years: int, days: int = 0) -> date:
    day = today()
    return day.replace(year=day.year - years, day=min(day.day, 28)) - timedelta(days=days)


@dataclass(frozen=True)
class GroupSetup:
    key: int
    id: str
    number: str
    plan: str  # a plan of the contract in force
    plan_key: int
    foreign_plan: str  # a plan the group is not offered
    divisions: dict[str, str]


async def group_setup(api: Api, legal_name: str = "Acme Manufacturing") -> GroupSetup:
    day = today()
    async with api.app.state.database.reader.connect() as connection:
        group = (
            await connection.execute(
                select(Group.id, Group.group_number).where(Group.legal_name == legal_name)
            )
        ).one()
        offered = set(
            await connection.scalars(
                select(ContractPlan.plan_id)
                .join(Contract, Contract.id == ContractPlan.contract_id)
                .where(
                    Contract.group_id == group.id,
                    Contract.start_date <= day,
                    Contract.end_date >= day,
                )
            )
        )
        others = set(await connection.scalars(select(Plan.id))) - offered
        divisions = (
            await connection.execute(
                select(Division.code, Division.id).where(Division.group_id == group.id)
            )
        ).all()
    plan = min(offered)
    return GroupSetup(
        key=group.id,
        id=str(global_id("Group", group.id)),
        number=group.group_number,
        plan=str(global_id("Plan", plan)),
        plan_key=plan,
        foreign_plan=str(global_id("Plan", min(others))),
        divisions={code: str(global_id("Division", key)) for code, key in divisions},
    )


_serial = itertools.count(1)


def _letters(number: int) -> str:
    text = ""
    while number:
        number, digit = divmod(number, 26)
        text += string.ascii_lowercase[digit]
    return text


def person(**fields: Any) -> dict[str, Any]:
    """A person nobody has: unusual names and an SSN of area 899 (made-up demo SSNs aside)."""
    n = next(_serial)
    values = {
        "firstName": f"Zebulon{_letters(n + 700).capitalize()}",
        "lastName": f"Quillfeather{_letters(n + 300)}",
        "birthDate": years_ago(40).isoformat(),
        "sex": "MALE",
        "ssn": f"899-{10 + n % 89:02d}-{1000 + n:04d}",
    }
    return values | fields


def dependent(relationship: str, age: int, **fields: Any) -> dict[str, Any]:
    values = person(relationship=relationship, birthDate=years_ago(age).isoformat())
    return values | fields


def enrollment(setup: GroupSetup, **fields: Any) -> dict[str, Any]:
    values = {
        "groupId": setup.id,
        "subscriber": person(),
        "dependents": [],
        "planId": setup.plan,
        "tier": "EMPLOYEE",
        "effectiveDate": today().isoformat(),
    }
    return values | fields


def gid(type_name: str, key: int) -> str:
    return str(global_id(type_name, key))


def key_of(value: str) -> int:
    import base64

    return int(base64.urlsafe_b64decode(value.encode()).decode().partition(":")[2])


def errors_of(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in payload["errors"]]


async def counts(api: Api) -> tuple[int, int, int, int, int]:
    """Members, coverages, requests, review items and audit events."""
    async with api.app.state.database.reader.connect() as connection:
        found = []
        for table in (Member, Coverage, EnrollmentRequest, ReviewItem, AuditEvent):
            found.append(int(await connection.scalar(select(func.count()).select_from(table)) or 0))
    return found[0], found[1], found[2], found[3], found[4]


@dataclass(frozen=True)
class Existing:
    """A demo member with an SSN, and that SSN (the demo makes it from the member number)."""

    key: int
    group_id: int
    first_name: str
    last_name: str
    birth_date: date
    sex: str
    ssn: str
    status: str


async def existing_member(
    api: Api, legal_name: str, *, status: str = "ACTIVE", relationship: str = "SUBSCRIBER"
) -> Existing:
    async with api.app.state.database.reader.connect() as connection:
        row = (
            await connection.execute(
                select(Member)
                .join(Group, Group.id == Member.group_id)
                .where(
                    Group.legal_name == legal_name,
                    Member.ssn_hash.is_not(None),
                    Member.status == status,
                    Member.relationship == relationship,
                )
                .order_by(Member.id)
                .limit(1)
            )
        ).one()
    return Existing(
        key=row.id,
        group_id=row.group_id,
        first_name=row.first_name,
        last_name=row.last_name,
        birth_date=row.birth_date,
        sex={"F": "FEMALE", "M": "MALE", "U": "UNKNOWN"}[row.sex.value],
        ssn=demo_ssn(row.member_number),
        status=row.status.value,
    )


def as_submitted(member: Existing, **fields: Any) -> dict[str, Any]:
    return {
        "firstName": member.first_name,
        "lastName": member.last_name,
        "birthDate": member.birth_date.isoformat(),
        "sex": member.sex,
        "ssn": member.ssn,
    } | fields
