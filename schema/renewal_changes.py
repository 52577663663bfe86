"""Renewal changes: `renewalChangesSubmit`, `renewalChangeReview`, the carrier's queue
`renewalChangeRequests`, and the requests a renewal shows (`Renewal.changeRequests`)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from data.models.plans import CoverageTier
from data.models.renewals import RenewalChangeStatus
from data.renewal_changes import ChangeEventRecord, ChangeRequestRecord
from resolvers import groups
from resolvers import renewal_changes as use_cases
from resolvers.errors import Refused
from resolvers.member_changes import TerminationReason
from resolvers.renewal_changes import (
    ChangesInput,
    EnrollmentView,
    PlanChangeInput,
    PlanChangeView,
    TerminationInput,
    TerminationView,
)
from schema.common import Info, global_id, parse_global_id, selects, served_as
from schema.enrollment import (
    DependentPersonInput,
    SubmittedEnrollmentPerson,
    SubscriberInput,
    person_input,
)
from schema.errors import UserError, user_errors
from schema.groups import Group
from schema.members import Member
from schema.plans import Plan
from schema.relay import Connection, connection


@strawberry.type(description="One step of a change request's history.")
class RenewalChangeEvent:
    status: RenewalChangeStatus
    reasons: str | None
    occurred_at: datetime

    @strawberry.field(description="Who moved it (null: no signed-in user).")
    async def actor_name(self: ChangeEventRecord, info: Info) -> str | None:
        return await use_cases.user_name(info.context, self.actor_user_id)


@strawberry.type(description="The group's members on one plan move to another at renewal.")
class RenewalPlanChange:
    name: str = strawberry.field(description='The part\'s name, as "planChanges[0]".')

    @strawberry.field
    def from_plan(self: PlanChangeView) -> Plan | None:
        return served_as([self.from_plan], Plan)[0] if self.from_plan else None

    @strawberry.field
    def to_plan(self: PlanChangeView) -> Plan | None:
        return served_as([self.to_plan], Plan)[0] if self.to_plan else None


@strawberry.type(description="A new family, or family members joining a subscriber, at renewal.")
class RenewalEnrollment:
    name: str = strawberry.field(description='The part\'s name, as "enrollments[0]".')

    @strawberry.field(description="The existing subscriber joined (null: a new family).")
    def subscriber(self: EnrollmentView) -> Member | None:
        return served_as([self.subscriber], Member)[0] if self.subscriber else None

    @strawberry.field(description="A new family's plan (null: the family's plan).")
    def plan(self: EnrollmentView) -> Plan | None:
        return served_as([self.plan], Plan)[0] if self.plan else None

    @strawberry.field(description="A new family's tier (null: follows the family).")
    def tier(self: EnrollmentView) -> CoverageTier | None:
        return None if self.tier_value is None else CoverageTier(self.tier_value)

    @strawberry.field(description="As submitted: names, no SSN beyond the last four.")
    def people(self: EnrollmentView) -> list[SubmittedEnrollmentPerson]:
        return served_as(self.people, SubmittedEnrollmentPerson)


@strawberry.type(description="A member whose coverage ends the day before the renewal date.")
class RenewalTermination:
    name: str = strawberry.field(description='The part\'s name, as "terminations[0]".')
    reason: TerminationReason

    @strawberry.field
    def member(self: TerminationView) -> Member | None:
        return served_as([self.member], Member)[0] if self.member else None


@strawberry.type(description="Changes a group submitted for its renewal, and where they stand.")
class RenewalChangeRequest:
    status: RenewalChangeStatus
    effective_date: date = strawberry.field(description="The renewal date the changes take.")

    @strawberry.field
    def id(self: ChangeRequestRecord) -> strawberry.ID:
        return global_id("RenewalChangeRequest", self.id)

    @strawberry.field
    def submitted_at(self: ChangeRequestRecord) -> datetime:
        return self.created_at

    @strawberry.field(description="Who submitted it, by name.")
    async def submitted_by(self: ChangeRequestRecord, info: Info) -> str | None:
        return await use_cases.user_name(info.context, self.submitted_by_user_id)

    @strawberry.field
    async def group(self: ChangeRequestRecord, info: Info) -> Group | None:
        found = await groups.group(info.context, self.group_id)
        return served_as([found], Group)[0] if found else None

    @strawberry.field
    async def plan_changes(self: ChangeRequestRecord, info: Info) -> list[RenewalPlanChange]:
        return served_as(await use_cases.plan_changes(info.context, self), RenewalPlanChange)

    @strawberry.field
    async def enrollments(self: ChangeRequestRecord, info: Info) -> list[RenewalEnrollment]:
        return served_as(await use_cases.enrollments(info.context, self), RenewalEnrollment)

    @strawberry.field
    async def terminations(self: ChangeRequestRecord, info: Info) -> list[RenewalTermination]:
        return served_as(await use_cases.terminations(info.context, self), RenewalTermination)

    @strawberry.field(description='The parts a confirmation did not apply, as "enrollments[2]".')
    def excluded(self: ChangeRequestRecord) -> list[str]:
        return list(self.payload.get("excluded", []))

    @strawberry.field(description="Every status it went through, oldest first.")
    async def history(self: ChangeRequestRecord, info: Info) -> list[RenewalChangeEvent]:
        return served_as(await use_cases.history(info.context, self), RenewalChangeEvent)


@strawberry.type
class RenewalChangeRequestConnection(Connection[RenewalChangeRequest]):
    """Change requests, oldest first."""


@strawberry.input
class RenewalPlanChangeInput:
    from_plan_id: strawberry.ID = strawberry.field(description="One of the group's current plans.")
    to_plan_id: strawberry.ID = strawberry.field(description="A plan offered at renewal.")


@strawberry.input(
    description="Either a new family (subscriber, dependents, planId, tier, divisionId) or "
    "family members joining an existing subscriber (subscriberId, dependents): effective on "
    "the renewal date."
)
class RenewalEnrollmentInput:
    subscriber_id: strawberry.ID | None = None
    subscriber: SubscriberInput | None = None
    dependents: list[DependentPersonInput] = strawberry.field(default_factory=list)
    plan_id: strawberry.ID | None = strawberry.field(
        default=None, description="A plan offered at renewal (a new family only)."
    )
    tier: CoverageTier | None = strawberry.field(default=None, description="A new family only.")
    division_id: strawberry.ID | None = None


@strawberry.input
class RenewalTerminationInput:
    member_id: strawberry.ID = strawberry.field(
        description="A subscriber (its family ends with it) or a dependent of this group."
    )
    reason: TerminationReason


@strawberry.input
class RenewalChangesSubmitInput:
    group_id: strawberry.ID
    plan_changes: list[RenewalPlanChangeInput] = strawberry.field(default_factory=list)
    enrollments: list[RenewalEnrollmentInput] = strawberry.field(default_factory=list)
    terminations: list[RenewalTerminationInput] = strawberry.field(default_factory=list)


@strawberry.input
class RenewalChangeReviewInput:
    change_request_id: strawberry.ID
    status: RenewalChangeStatus
    reasons: str | None = strawberry.field(
        default=None, description="Required for CONFIRMED_WITH_CHANGES and REJECTED."
    )
    excluded: list[str] = strawberry.field(
        default_factory=list,
        description='CONFIRMED_WITH_CHANGES: the parts not applied, as "planChanges[0]".',
    )


@strawberry.type
class RenewalChangePayload:
    change_request: RenewalChangeRequest | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _id(value: strawberry.ID | None, kind: str) -> int | None:
    """Absent stays None; a malformed ID becomes 0, which names nothing (NOT_FOUND)."""
    return None if value is None else parse_global_id(value, kind) or 0


def _changes(given: RenewalChangesSubmitInput) -> ChangesInput:
    return ChangesInput(
        group_id=parse_global_id(given.group_id, "Group"),
        plan_changes=tuple(
            PlanChangeInput(_id(c.from_plan_id, "Plan"), _id(c.to_plan_id, "Plan"))
            for c in given.plan_changes
        ),
        enrollments=tuple(
            use_cases.RenewalEnrollmentInput(
                subscriber_id=_id(e.subscriber_id, "Member"),
                subscriber=None if e.subscriber is None else person_input(e.subscriber),
                dependents=tuple(person_input(person) for person in e.dependents),
                plan_id=_id(e.plan_id, "Plan"),
                tier=e.tier,
                division_id=_id(e.division_id, "Division"),
            )
            for e in given.enrollments
        ),
        terminations=tuple(
            TerminationInput(_id(t.member_id, "Member"), t.reason) for t in given.terminations
        ),
    )


async def _payload(info: Info, request_id: int) -> RenewalChangePayload:
    loader = use_cases.loaders(info.context).request_by_id
    loader.clear(request_id)  # read before the change (a review), now moved
    found = await loader.load(request_id)
    assert found is not None  # just written and committed
    return RenewalChangePayload(change_request=served_as([found], RenewalChangeRequest)[0])


@strawberry.type
class RenewalChangesQuery:
    @strawberry.field(
        description="Renewal change requests across groups, oldest first. Needs RENEWAL_REVIEW "
        "(carrier staff)."
    )
    async def renewal_change_requests(
        self,
        info: Info,
        status: RenewalChangeStatus | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> RenewalChangeRequestConnection:
        page, records = await use_cases.queue(
            info.context, status=status, first=first, after=after, count=selects(info, "totalCount")
        )
        return connection(page, list(records), RenewalChangeRequest, RenewalChangeRequestConnection)


@strawberry.type
class RenewalChangesMutation:
    @strawberry.mutation(
        description="Submit plan changes, enrollments and terminations for the renewal, taking "
        "effect on the renewal date; validated as a whole (nothing stored if one part is "
        "wrong). Only while the renewal is open, one active request at a time. Needs "
        "RENEWAL_SUBMIT over the whole group."
    )
    async def renewal_changes_submit(
        self, info: Info, input: RenewalChangesSubmitInput
    ) -> RenewalChangePayload:
        try:
            request_id = await use_cases.submit(info.context, _changes(input))
        except Refused as refused:
            return RenewalChangePayload(errors=user_errors(refused))
        return await _payload(info, request_id)

    @strawberry.mutation(
        description="Move a change request: SUBMITTED → IN_REVIEW → CONFIRMED, "
        "CONFIRMED_WITH_CHANGES or REJECTED. A confirmation applies the parts (not the "
        "excluded ones) on the renewal date. Needs RENEWAL_REVIEW."
    )
    async def renewal_change_review(
        self, info: Info, input: RenewalChangeReviewInput
    ) -> RenewalChangePayload:
        try:
            request_id = await use_cases.review(
                info.context,
                request_id=parse_global_id(input.change_request_id, "RenewalChangeRequest"),
                status=input.status,
                reasons=input.reasons,
                excluded=input.excluded,
            )
        except Refused as refused:
            return RenewalChangePayload(errors=user_errors(refused))
        return await _payload(info, request_id)
