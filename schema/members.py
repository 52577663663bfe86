"""Members: subscribers and their dependents, their coverage, and their personal data."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from authz.privileges import Privilege
from data.groups import DivisionRecord
from data.members import MemberFilter, MemberRecord
from data.models import members as model
from data.models.plans import CoverageTier
from resolvers import members
from resolvers.members import CoverageStatus, CoverageView
from schema.common import Info, global_id, parse_global_id, selects, served_as
from schema.groups import Division
from schema.permissions import guarded_leaf
from schema.plans import Plan
from schema.relay import Connection, Node, connection

strawberry.enum(model.Relationship)
strawberry.enum(model.Sex)
strawberry.enum(model.MemberStatus)
strawberry.enum(CoverageStatus)

PII = guarded_leaf(Privilege.MEMBERS_READ_PII)


@strawberry.type
class Address:
    line1: str | None
    line2: str | None
    city: str | None
    state: str | None
    postal_code: str | None


@strawberry.type(description="A member's enrollment in a plan over a span of dates.")
class Coverage:
    status: CoverageStatus

    @strawberry.field
    def tier(self: CoverageView) -> CoverageTier:
        return self.record.tier

    @strawberry.field
    def effective_date(self: CoverageView) -> date:
        return self.record.effective_date

    @strawberry.field
    def termination_date(self: CoverageView) -> date | None:
        return self.record.termination_date

    @strawberry.field
    def is_cobra(self: CoverageView) -> bool:
        return self.record.is_cobra

    @strawberry.field
    def is_medicare(self: CoverageView) -> bool:
        return self.record.is_medicare

    @strawberry.field
    async def plan(self: CoverageView, info: Info) -> Plan | None:
        found = await info.context.loaders.plan_by_id.load(self.record.plan_id)
        return served_as([found], Plan)[0] if found else None


@strawberry.type(description="A subscriber (an employee) or one of its covered dependents.")
class Member(Node):
    member_number: str
    first_name: str
    middle_name: str | None
    last_name: str
    relationship: model.Relationship
    sex: model.Sex
    status: model.MemberStatus
    is_disabled: bool
    hire_date: date | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, MemberRecord)

    @strawberry.field
    def id(self: MemberRecord) -> strawberry.ID:
        return global_id("Member", self.id)

    @strawberry.field(description="Full date of birth. Needs MEMBERS_READ_PII.", extensions=PII)
    def birth_date(self: MemberRecord) -> date | None:
        return self.birth_date

    @strawberry.field(
        description="Last four digits of the SSN. Needs MEMBERS_READ_PII.", extensions=PII
    )
    def ssn_last4(self: MemberRecord) -> str | None:
        return self.ssn_last4

    @strawberry.field(description="Needs MEMBERS_READ_PII.", extensions=PII)
    def address(self: MemberRecord) -> Address | None:
        if self.address_line1 is None and self.city is None:
            return None
        return Address(
            line1=self.address_line1,
            line2=self.address_line2,
            city=self.city,
            state=self.state,
            postal_code=self.postal_code,
        )

    @strawberry.field(description="Needs MEMBERS_READ_PII.", extensions=PII)
    def phone(self: MemberRecord) -> str | None:
        return self.phone

    @strawberry.field(description="Needs MEMBERS_READ_PII.", extensions=PII)
    def email(self: MemberRecord) -> str | None:
        return self.email

    @strawberry.field
    async def division(self: MemberRecord, info: Info) -> Division | None:
        if self.division_id is None:
            return None
        found: DivisionRecord | None = await info.context.loaders.division_by_id.load(
            self.division_id
        )
        return served_as([found], Division)[0] if found else None

    @strawberry.field(description="A dependent's subscriber; none for a subscriber.")
    async def subscriber(self: MemberRecord, info: Info) -> Member | None:
        found = await members.subscriber(info.context, self)
        return served_as([found], Member)[0] if found else None

    @strawberry.field(description="A subscriber's covered family members.")
    async def dependents(self: MemberRecord, info: Info) -> list[Member]:
        if self.subscriber_id is not None:
            return []
        return served_as(await members.dependents(info.context, self), Member)

    @strawberry.field(description="In force today, else the next to start, else the last.")
    async def coverage(self: MemberRecord, info: Info) -> Coverage | None:
        found = await members.coverage(info.context, self)
        return served_as([found], Coverage)[0] if found else None


@strawberry.type
class MemberConnection(Connection[Member]):
    """Members, a page at a time."""


@strawberry.input
class MemberFilterInput:
    status: model.MemberStatus | None = None
    relationship: model.Relationship | None = None
    division_id: strawberry.ID | None = None
    plan_id: strawberry.ID | None = None


def member_filter(given: MemberFilterInput | None) -> MemberFilter:
    if given is None:
        return MemberFilter()
    # A malformed ID names nothing: it filters everything out, like an ID that does not exist.
    return MemberFilter(
        status=given.status,
        relationship=given.relationship,
        division_id=_key(given.division_id, "Division"),
        plan_id=_key(given.plan_id, "Plan"),
    )


def _key(value: strawberry.ID | None, type_name: str) -> int | None:
    if value is None:
        return None
    return parse_global_id(value, type_name) or 0


async def members_connection(
    info: Info,
    group_id: int,
    *,
    search: str | None,
    where: MemberFilter,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> MemberConnection:
    page, records = await members.members_page(
        info.context,
        group_id,
        search=search,
        where=where,
        first=first,
        after=after,
        last=last,
        before=before,
        count=selects(info, "totalCount"),
    )
    return connection(page, list(records), Member, MemberConnection)
