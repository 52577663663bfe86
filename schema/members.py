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
from data.plans import PlanRecord
from resolvers import members, plans
from resolvers.members import CoverageStatus, CoverageView
from schema.common import (
    Info,
    MaybeAwaitable,
    SelectionTree,
    global_id,
    parse_global_id,
    selected_below,
    selects,
    served_as,
)
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
    tier: CoverageTier
    effective_date: date
    termination_date: date | None
    is_cobra: bool
    is_medicare: bool

    @strawberry.field(graphql_type=Plan | None)
    def plan(self: CoverageView, info: Info) -> MaybeAwaitable[PlanRecord | None]:
        return plans.plan_now(info.context, self.plan_id)


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
    birth_date: date | None = strawberry.field(
        description="Full date of birth. Needs MEMBERS_READ_PII.", extensions=PII
    )
    ssn_last4: str | None = strawberry.field(
        description="Last four digits of the SSN. Needs MEMBERS_READ_PII.", extensions=PII
    )
    phone: str | None = strawberry.field(description="Needs MEMBERS_READ_PII.", extensions=PII)
    email: str | None = strawberry.field(description="Needs MEMBERS_READ_PII.", extensions=PII)

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, MemberRecord)

    @strawberry.field
    def id(self: MemberRecord) -> strawberry.ID:
        return global_id("Member", self.id)

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

    @strawberry.field(graphql_type=Division | None)
    def division(self: MemberRecord, info: Info) -> MaybeAwaitable[DivisionRecord | None]:
        if self.division_id is None:
            return None
        return members.division_now(info.context, self.division_id)

    @strawberry.field(description="A dependent's subscriber; none for a subscriber.")
    async def subscriber(self: MemberRecord, info: Info) -> Member | None:
        found = await members.subscriber(info.context, self)
        return served_as([found], Member)[0] if found else None

    @strawberry.field(
        description="A subscriber's covered family members.", graphql_type=list["Member"]
    )
    def dependents(self: MemberRecord, info: Info) -> MaybeAwaitable[list[MemberRecord]]:
        return members.dependents_now(info.context, self)

    @strawberry.field(
        description="In force today, else the next to start, else the last.",
        graphql_type=Coverage | None,
    )
    def coverage(self: MemberRecord, info: Info) -> MaybeAwaitable[CoverageView | None]:
        return members.coverage_now(info.context, self)


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
    node = selected_below(info).get("edges", {}).get("node")
    if node is not None:
        await members.include(info.context, records, includes(node))
    return connection(page, list(records), Member, MemberConnection)


def includes(selected: SelectionTree) -> members.Includes:
    """What the query reads below a member, for `members.include`."""
    coverage = selected.get("coverage")
    family = selected.get("dependents")
    return members.Includes(
        coverage=coverage is not None,
        coverage_plan=coverage is not None and "plan" in coverage,
        division="division" in selected,
        dependents=None if family is None else includes(family),
    )
