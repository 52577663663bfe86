"""Enrollment: memberEnroll, dependentAdd, cobraEnroll, a group's enrollment requests, and the
carrier's manual-review queue (reviewQueue, reviewItemResolve)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from authz.privileges import Privilege
from data.enrollment import EventRecord, RequestRecord, ReviewItemRecord
from data.groups import GroupRecord
from data.models import enrollment as model
from data.models.members import Relationship, Sex
from data.models.plans import CoverageTier
from resolvers import groups, members
from resolvers.enrollment import (
    CobraInput,
    DependentInput,
    EnrollmentInput,
    EnrollmentResult,
    PersonInput,
    add_dependent,
    continue_cobra,
    enroll,
    review,
    submit,
)
from resolvers.enrollment import requests as use_cases
from resolvers.enrollment.requests import Submission, SubmittedPerson
from resolvers.enrollment.review import CandidateView, PersonUnderReview, ReviewAge
from resolvers.errors import Refused
from resolvers.member_changes import MemberChange
from schema.common import Info, global_id, parse_global_id, selects, served_as
from schema.errors import UserError, to_user_error, user_errors
from schema.groups import Division, Group
from schema.member_changes import AddressInput, address_change
from schema.members import Member
from schema.permissions import guarded_leaf
from schema.plans import Plan
from schema.relay import Connection, Node, connection

strawberry.enum(model.EnrollmentKind, description="What a request enrolls.")
strawberry.enum(model.ReviewDecision)
strawberry.enum(model.ReviewItemStatus)

PII = guarded_leaf(Privilege.MEMBERS_READ_PII)


@strawberry.type(description="A person of an enrollment request, as submitted.")
class SubmittedEnrollmentPerson:
    field: str = strawberry.field(description='Where it was submitted: "subscriber", ...')
    first_name: str
    middle_name: str | None
    last_name: str
    relationship: Relationship
    sex: Sex
    is_disabled: bool

    @strawberry.field(description="Needs MEMBERS_READ_PII.", extensions=PII)
    def birth_date(self: SubmittedPerson) -> date | None:
        return self.birth_date

    @strawberry.field(
        description="Last four digits of the SSN; the SSN is never kept. Needs MEMBERS_READ_PII.",
        extensions=PII,
    )
    def ssn_last4(self: SubmittedPerson) -> str | None:
        return self.ssn_last4


@strawberry.type(description="What a request asked for.")
class EnrollmentSubmission:
    effective_date: date
    tier: CoverageTier | None

    @strawberry.field
    async def plan(self: Submission, info: Info) -> Plan | None:
        if self.plan_id is None:
            return None
        found = await info.context.loaders.plan_by_id.load(self.plan_id)
        return served_as([found], Plan)[0] if found else None

    @strawberry.field
    async def division(self: Submission, info: Info) -> Division | None:
        if self.division_id is None:
            return None
        found = await info.context.loaders.division_by_id.load(self.division_id)
        return served_as([found], Division)[0] if found else None

    @strawberry.field
    def people(self: Submission) -> list[SubmittedEnrollmentPerson]:
        return served_as(self.people, SubmittedEnrollmentPerson)


@strawberry.type(description="One step of a request's history.")
class EnrollmentRequestEvent:
    status: model.EnrollmentStatus
    note: str
    occurred_at: datetime


@strawberry.type(description="An enrollment a group submitted, and where it stands.")
class EnrollmentRequest(Node):
    kind: model.EnrollmentKind
    status: model.EnrollmentStatus

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, RequestRecord)

    @strawberry.field
    def id(self: RequestRecord) -> strawberry.ID:
        return global_id("EnrollmentRequest", self.id)

    @strawberry.field
    def submitted_at(self: RequestRecord) -> datetime:
        return self.created_at

    @strawberry.field
    def submitted(self: RequestRecord) -> EnrollmentSubmission:
        return served_as([use_cases.submission(self)], EnrollmentSubmission)[0]

    @strawberry.field(description="The member enrolled (the subscriber of a family), once any.")
    async def member(self: RequestRecord, info: Info) -> Member | None:
        found = await use_cases.member(info.context, self)
        return served_as([found], Member)[0] if found else None

    @strawberry.field(description="Oldest first.")
    async def history(self: RequestRecord, info: Info) -> list[EnrollmentRequestEvent]:
        events: list[EventRecord] = await use_cases.history(info.context, self)
        return served_as(events, EnrollmentRequestEvent)


@strawberry.type
class EnrollmentRequestConnection(Connection[EnrollmentRequest]):
    """Enrollment requests, a page at a time."""


async def enrollment_requests(
    info: Info,
    group: GroupRecord,
    status: model.EnrollmentStatus | None,
    first: int | None,
    after: str | None,
) -> EnrollmentRequestConnection:
    page, records = await use_cases.requests_page(
        info.context,
        group.id,
        status=status,
        first=first,
        after=after,
        count=selects(info, "totalCount"),
    )
    return connection(page, list(records), EnrollmentRequest, EnrollmentRequestConnection)


@strawberry.type(description="An item's age against the 2-business-day target (Mon-Fri, UTC).")
class ReviewItemAge:
    business_days: int = strawberry.field(description="Business days since submission.")
    due_on: date = strawberry.field(description="2 business days after submission.")
    overdue: bool


@strawberry.type(description="A candidate record beside the submitted person.")
class ReviewCandidate:
    @strawberry.field
    def member(self: CandidateView) -> Member:
        return served_as([self.member], Member)[0]

    @strawberry.field(description="Of ssn, firstName, lastName, birthDate, sex.")
    def differing_fields(self: CandidateView) -> list[str]:
        return self.differing_fields


@strawberry.type(description="A person matching could not settle, beside its candidates.")
class ReviewPerson:
    reason: str

    @strawberry.field
    def submitted(self: PersonUnderReview) -> SubmittedEnrollmentPerson:
        return served_as([self.submitted], SubmittedEnrollmentPerson)[0]

    @strawberry.field
    def candidates(self: PersonUnderReview) -> list[ReviewCandidate]:
        return served_as(self.candidates, ReviewCandidate)


@strawberry.type(description="An enrollment for a membership representative to settle.")
class ReviewItem(Node):
    status: model.ReviewItemStatus
    match_reason: str
    decision: model.ReviewDecision | None
    reason: str | None
    resolved_at: datetime | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, ReviewItemRecord)

    @strawberry.field
    def id(self: ReviewItemRecord) -> strawberry.ID:
        return global_id("ReviewItem", self.id)

    @strawberry.field
    def created_at(self: ReviewItemRecord) -> datetime:
        return self.created_at

    @strawberry.field
    def age(self: ReviewItemRecord, info: Info) -> ReviewItemAge:
        found: ReviewAge = review.age(info.context, self)
        return served_as([found], ReviewItemAge)[0]

    @strawberry.field
    async def request(self: ReviewItemRecord, info: Info) -> EnrollmentRequest:
        found = await use_cases.loaders(info.context).request_by_id.load(self.request_id)
        return served_as([found], EnrollmentRequest)[0]

    @strawberry.field
    async def group(self: ReviewItemRecord, info: Info) -> Group | None:
        request = await use_cases.loaders(info.context).request_by_id.load(self.request_id)
        found = None if request is None else await groups.group(info.context, request.group_id)
        return served_as([found], Group)[0] if found else None

    @strawberry.field(description="Each uncertain person beside its candidate records.")
    async def people(self: ReviewItemRecord, info: Info) -> list[ReviewPerson]:
        return served_as(await review.people(info.context, self), ReviewPerson)


@strawberry.type
class ReviewItemConnection(Connection[ReviewItem]):
    """Review items, oldest first."""


@strawberry.type
class EnrollmentQuery:
    @strawberry.field(
        description="The manual-review queue, oldest first. Needs REVIEW_QUEUE_WORK (carrier)."
    )
    async def review_queue(
        self,
        info: Info,
        status: model.ReviewItemStatus | None = model.ReviewItemStatus.OPEN,
        first: int | None = None,
        after: str | None = None,
    ) -> ReviewItemConnection:
        page, records = await review.queue(
            info.context, status=status, first=first, after=after, count=selects(info, "totalCount")
        )
        return connection(page, list(records), ReviewItem, ReviewItemConnection)


@strawberry.input(description="The employee enrolling.")
class SubscriberInput:
    first_name: str
    middle_name: str | None = None
    last_name: str
    birth_date: date
    sex: Sex
    ssn: str = strawberry.field(description="9 digits, dashes optional; only a hash is kept.")
    hire_date: date | None = None
    is_disabled: bool = False
    medicare: bool = strawberry.field(
        default=False, description="Medicare enrollments are not done online."
    )
    address: AddressInput | None = strawberry.field(
        default=None, description="Where ID cards and mail go; the family's, by default."
    )
    phone: str | None = strawberry.field(
        default=None, description="Stored as +<country code><number>."
    )
    email: str | None = None


@strawberry.input(description="A family member.")
class DependentPersonInput:
    first_name: str
    middle_name: str | None = None
    last_name: str
    birth_date: date
    sex: Sex
    relationship: Relationship
    ssn: str | None = strawberry.field(default=None, description="Optional (a newborn).")
    is_disabled: bool = strawberry.field(default=False, description="A disabled child over 26.")
    medicare: bool = strawberry.field(
        default=False, description="Medicare enrollments are not done online."
    )


@strawberry.input
class MemberEnrollInput:
    group_id: strawberry.ID
    subscriber: SubscriberInput
    dependents: list[DependentPersonInput] = strawberry.field(default_factory=list)
    plan_id: strawberry.ID = strawberry.field(description="A plan of the group's contract.")
    tier: CoverageTier = strawberry.field(description="Must fit the dependents.")
    effective_date: date = strawberry.field(
        description="At most 60 days back, within the current or next plan year."
    )
    division_id: strawberry.ID | None = None


@strawberry.input
class DependentAddInput:
    subscriber_id: strawberry.ID
    dependent: DependentPersonInput
    effective_date: date


@strawberry.input
class CobraEnrollInput:
    member_id: strawberry.ID = strawberry.field(description="A terminated member.")
    effective_date: date | None = strawberry.field(
        default=None, description="The day after coverage ended (the default)."
    )
    medicare: bool = strawberry.field(
        default=False, description="Medicare enrollments are not done online."
    )


@strawberry.input
class ReviewItemResolveInput:
    item_id: strawberry.ID
    decision: model.ReviewDecision
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="LINK only: one of the item's candidates."
    )
    reason: str


@strawberry.type
class EnrollmentPayload:
    status: model.EnrollmentStatus | None = strawberry.field(
        default=None, description="Null when refused."
    )
    request: EnrollmentRequest | None = None
    members: list[Member] = strawberry.field(
        default_factory=list, description="Enrolled now, the subscriber first."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReviewItemResolvePayload:
    item: ReviewItem | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def person_input(given: Any) -> PersonInput:
    """The use cases' form of a submitted person (`renewalChangesSubmit` takes them too)."""
    return PersonInput(
        first_name=given.first_name,
        last_name=given.last_name,
        birth_date=given.birth_date,
        sex=given.sex,
        ssn=given.ssn,
        middle_name=given.middle_name,
        relationship=getattr(given, "relationship", None),
        is_disabled=given.is_disabled,
        hire_date=getattr(given, "hire_date", None),
        medicare=given.medicare,
        contact=_contact(given),
    )


def _contact(given: Any) -> MemberChange | None:
    """A subscriber's address, phone and e-mail, if any was given (dependents have none)."""
    address = getattr(given, "address", None)
    phone, email = getattr(given, "phone", None), getattr(given, "email", None)
    if address is None and phone is None and email is None:
        return None
    return MemberChange(address=address_change(address), phone=phone, email=email)


async def _payload(info: Info, result: EnrollmentResult) -> EnrollmentPayload:
    if result.errors:
        return EnrollmentPayload(errors=[to_user_error(error) for error in result.errors])
    assert result.request_id is not None
    context = info.context
    request = await use_cases.loaders(context).request_by_id.load(result.request_id)
    assert request is not None
    found = [await members.member(context, key) for key in result.member_ids]
    return EnrollmentPayload(
        status=request.status,
        request=served_as([request], EnrollmentRequest)[0],
        members=served_as([member for member in found if member is not None], Member),
    )


@strawberry.type
class EnrollmentMutation:
    @strawberry.mutation(
        description="Enroll an employee with its dependents. Matched against the carrier's "
        "records: enrolled at once, or PENDING_REVIEW. Needs MEMBERS_WRITE."
    )
    async def member_enroll(self, info: Info, input: MemberEnrollInput) -> EnrollmentPayload:
        given = EnrollmentInput(
            group_id=parse_global_id(input.group_id, "Group"),
            subscriber=person_input(input.subscriber),
            dependents=tuple(person_input(person) for person in input.dependents),
            plan_id=parse_global_id(input.plan_id, "Plan") or 0,
            tier=input.tier,
            effective_date=input.effective_date,
            division_id=None
            if input.division_id is None
            else parse_global_id(input.division_id, "Division") or 0,
        )
        return await _payload(info, await submit(info.context, enroll, given))

    @strawberry.mutation(
        description="Add a family member to a subscriber, on the family's plan; the family's "
        "tier follows. Needs MEMBERS_WRITE."
    )
    async def dependent_add(self, info: Info, input: DependentAddInput) -> EnrollmentPayload:
        given = DependentInput(
            subscriber_id=parse_global_id(input.subscriber_id, "Member"),
            dependent=person_input(input.dependent),
            effective_date=input.effective_date,
        )
        return await _payload(info, await submit(info.context, add_dependent, given))

    @strawberry.mutation(
        description="COBRA continuation of a terminated member, except in groups whose COBRA "
        "the carrier administers. Needs MEMBERS_WRITE."
    )
    async def cobra_enroll(self, info: Info, input: CobraEnrollInput) -> EnrollmentPayload:
        given = CobraInput(
            member_id=parse_global_id(input.member_id, "Member"),
            effective_date=input.effective_date,
            medicare=input.medicare,
        )
        return await _payload(info, await submit(info.context, continue_cobra, given))

    @strawberry.mutation(
        description="Settle a review item: LINK to a candidate, CREATE_NEW, or REJECT. "
        "Needs REVIEW_QUEUE_WORK."
    )
    async def review_item_resolve(
        self, info: Info, input: ReviewItemResolveInput
    ) -> ReviewItemResolvePayload:
        member_id = None
        if input.member_id is not None:
            member_id = parse_global_id(input.member_id, "Member") or 0
        try:
            resolved = await review.resolve(
                info.context,
                item_id=parse_global_id(input.item_id, "ReviewItem"),
                decision=input.decision,
                member_id=member_id,
                reason=input.reason,
            )
        except Refused as refused:
            return ReviewItemResolvePayload(errors=user_errors(refused))
        return ReviewItemResolvePayload(item=served_as([resolved], ReviewItem)[0])
