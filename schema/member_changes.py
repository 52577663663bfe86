"""Member changes: demographic updates and coverage terminations, each registered at once."""

from __future__ import annotations

from datetime import date

import strawberry

from data.models import members as model
from resolvers import member_changes as use_cases
from resolvers.errors import Refused
from resolvers.member_changes import AddressChange, MemberChange, TerminationReason
from schema.common import Info, parse_global_id, served_as
from schema.errors import UserError, user_errors
from schema.members import Member

strawberry.enum(
    TerminationReason,
    description="Why coverage ends. EMPLOYMENT_ENDED fits subscribers only, DIVORCE spouses and "
    "domestic partners only; LOSS_OF_ELIGIBILITY: no longer eligible under the plan (a child "
    "aging out, hours cut).",
)

UNCHANGED = "Null leaves it unchanged."
CLEARABLE = 'Null leaves it unchanged; "" clears it.'


@strawberry.input(description="A whole new address: it replaces the member's address.")
class AddressInput:
    line1: str
    line2: str | None = strawberry.field(default=None, description="Null: none.")
    city: str
    state: str = strawberry.field(description="The USPS two-letter code of a state or territory.")
    postal_code: str = strawberry.field(description="ZIP code: 5 or 9 digits.")


def address_change(given: AddressInput | None) -> AddressChange | None:
    """The use cases' form of an address input."""
    if given is None:
        return None
    return AddressChange(
        line1=given.line1,
        line2=given.line2,
        city=given.city,
        state=given.state,
        postal_code=given.postal_code,
    )


@strawberry.input
class MemberUpdateInput:
    member_id: strawberry.ID
    first_name: str | None = strawberry.field(default=None, description=UNCHANGED)
    middle_name: str | None = strawberry.field(default=None, description=CLEARABLE)
    last_name: str | None = strawberry.field(default=None, description=UNCHANGED)
    birth_date: date | None = strawberry.field(default=None, description=UNCHANGED)
    sex: model.Sex | None = strawberry.field(default=None, description=UNCHANGED)
    address: AddressInput | None = strawberry.field(default=None, description=UNCHANGED)
    phone: str | None = strawberry.field(
        default=None, description=f"{CLEARABLE} Stored as +<country code><number>."
    )
    email: str | None = strawberry.field(default=None, description=CLEARABLE)
    is_disabled: bool | None = strawberry.field(default=None, description=UNCHANGED)


@strawberry.input
class CoverageTerminateInput:
    member_id: strawberry.ID = strawberry.field(
        description="A subscriber's dependents are terminated with it."
    )
    termination_date: date | None = strawberry.field(
        default=None,
        description="The last day covered: at most 60 days back, at most until the end of next "
        "month. Null: the end of this month.",
    )
    reason: TerminationReason = strawberry.field(description="Recorded in the audit log.")


@strawberry.type
class MemberUpdatePayload:
    member: Member | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CoverageTerminatePayload:
    member: Member | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _change(given: MemberUpdateInput) -> MemberChange:
    address = given.address
    return MemberChange(
        first_name=given.first_name,
        middle_name=given.middle_name,
        last_name=given.last_name,
        birth_date=given.birth_date,
        sex=given.sex,
        address=address_change(address),
        phone=given.phone,
        email=given.email,
        is_disabled=given.is_disabled,
    )


@strawberry.type
class MemberChangesMutation:
    @strawberry.mutation(
        description="Change a member's demographic data, at once. Needs MEMBERS_WRITE, and "
        "MEMBERS_READ_PII for the birth date, address, phone and e-mail."
    )
    async def member_update(
        self, info: Info, input: MemberUpdateInput
    ) -> MemberUpdatePayload | None:
        try:
            updated = await use_cases.update_member(
                info.context,
                member_id=parse_global_id(input.member_id, "Member"),
                change=_change(input),
            )
        except Refused as refused:
            return MemberUpdatePayload(errors=user_errors(refused))
        return MemberUpdatePayload(member=served_as([updated], Member)[0])

    @strawberry.mutation(
        description="End a member's coverage, at once. A member whose coverage ends today or "
        "earlier becomes TERMINATED; a later date leaves it ACTIVE, its coverage showing the "
        "date. Needs MEMBERS_WRITE."
    )
    async def coverage_terminate(
        self, info: Info, input: CoverageTerminateInput
    ) -> CoverageTerminatePayload | None:
        try:
            terminated = await use_cases.terminate_coverage(
                info.context,
                member_id=parse_global_id(input.member_id, "Member"),
                termination_date=input.termination_date,
                reason=input.reason,
            )
        except Refused as refused:
            return CoverageTerminatePayload(errors=user_errors(refused))
        return CoverageTerminatePayload(member=served_as([terminated], Member)[0])
