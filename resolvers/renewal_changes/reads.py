"""Reading renewal change requests: a renewal's requests and status, their parts and history,
and the carrier's queue across groups. Every list is batched through per-request loaders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from authz.privileges import Privilege
from data import renewal_changes
from data.members import MemberRecord
from data.models.renewals import RenewalChangeStatus
from data.pagination import Page
from data.plans import PlanRecord
from data.renewal_changes import ACTIVE, ChangeEventRecord, ChangeRequestRecord
from resolvers import members
from resolvers.context import Context
from resolvers.enrollment.requests import SubmittedPerson
from resolvers.errors import NotAllowed
from resolvers.loaders import BatchLoader, DomainLoaders
from resolvers.member_changes import TerminationReason
from resolvers.pagination import page_request
from resolvers.renewal_changes.parts import Parts
from resolvers.renewals import RenewalStatus, RenewalView


class RenewalChangeLoaders(DomainLoaders):
    @cached_property
    def request_by_id(self) -> BatchLoader[int, ChangeRequestRecord | None]:
        return BatchLoader(self.reader, renewal_changes.requests_by_id)

    @cached_property
    def requests_by_renewal(self) -> BatchLoader[int, list[ChangeRequestRecord]]:
        return BatchLoader(self.reader, renewal_changes.requests_of_renewals)

    @cached_property
    def events_by_request(self) -> BatchLoader[int, list[ChangeEventRecord]]:
        return BatchLoader(self.reader, renewal_changes.events_of_requests)


def loaders(context: Context) -> RenewalChangeLoaders:
    return context.loaders.domain(RenewalChangeLoaders)


@dataclass(frozen=True, slots=True)
class PlanChangeView:
    name: str
    from_plan: PlanRecord | None
    to_plan: PlanRecord | None


@dataclass(frozen=True, slots=True)
class EnrollmentView:
    name: str
    subscriber: MemberRecord | None  # the existing subscriber that dependents join
    plan: PlanRecord | None  # a new family's plan; null when it follows a family
    tier_value: str | None
    people: list[SubmittedPerson]


@dataclass(frozen=True, slots=True)
class TerminationView:
    name: str
    member: MemberRecord | None
    reason: TerminationReason


async def change_requests(context: Context, renewal: RenewalView) -> list[ChangeRequestRecord]:
    """The renewal's requests, newest first (the caller already holds RENEWAL_READ)."""
    if renewal.renewal_id is None:
        return []
    return await loaders(context).requests_by_renewal.load(renewal.renewal_id)


async def change_status(context: Context, renewal: RenewalView) -> RenewalChangeStatus | None:
    """The latest active request's status; DEFAULT_RENEWAL once the window closed without one;
    None while nothing (or only rejected requests) stands before it closes."""
    for request in await change_requests(context, renewal):
        if request.status in ACTIVE:
            return request.status
    if renewal.status is RenewalStatus.CLOSED:
        return RenewalChangeStatus.DEFAULT_RENEWAL
    return None


async def history(context: Context, request: ChangeRequestRecord) -> list[ChangeEventRecord]:
    return await loaders(context).events_by_request.load(request.id)


async def plan_changes(context: Context, request: ChangeRequestRecord) -> list[PlanChangeView]:
    parts = Parts.from_json(request.payload)
    ids = [plan_id for change in parts.plan_changes for plan_id in change]
    found = dict(zip(ids, await context.loaders.plan_by_id.load_all(ids), strict=True))
    return [
        PlanChangeView(f"planChanges[{index}]", found[from_id], found[to_id])
        for index, (from_id, to_id) in enumerate(parts.plan_changes)
    ]


async def enrollments(context: Context, request: ChangeRequestRecord) -> list[EnrollmentView]:
    parts = Parts.from_json(request.payload)
    plan_ids = [e.plan_id for e in parts.enrollments if e.plan_id is not None]
    plans = dict(zip(plan_ids, await context.loaders.plan_by_id.load_all(plan_ids), strict=True))
    heads = [e.subscriber_id for e in parts.enrollments if e.subscriber_id is not None]
    shown = dict(zip(heads, await _members(context, heads), strict=True))
    return [
        EnrollmentView(
            name=f"enrollments[{index}]",
            subscriber=None if e.subscriber_id is None else shown[e.subscriber_id],
            plan=None if e.plan_id is None else plans[e.plan_id],
            tier_value=None if e.tier is None else e.tier.value,
            people=[
                SubmittedPerson(
                    group_id=request.group_id,
                    division_id=e.division_id,
                    field=person.field,
                    first_name=person.first_name,
                    middle_name=person.middle_name,
                    last_name=person.last_name,
                    birth_date=person.birth_date,
                    sex=person.sex,
                    relationship=person.relationship,
                    is_disabled=person.is_disabled,
                    ssn_last4=person.ssn_last4,
                )
                for person in e.people
            ],
        )
        for index, e in enumerate(parts.enrollments)
    ]


async def terminations(context: Context, request: ChangeRequestRecord) -> list[TerminationView]:
    parts = Parts.from_json(request.payload)
    ids = [member_id for member_id, _ in parts.terminations]
    shown = await _members(context, ids)
    return [
        TerminationView(f"terminations[{index}]", member, reason)
        for index, ((_, reason), member) in enumerate(zip(parts.terminations, shown, strict=True))
    ]


async def _members(context: Context, ids: list[int]) -> list[MemberRecord | None]:
    """The members the caller may read (None for the others), in one batch."""
    found = await context.loaders.member_by_id.load_all(ids)
    return [m if m is not None and members.can_read(context, m) else None for m in found]


async def queue(
    context: Context,
    *,
    status: RenewalChangeStatus | None,
    first: int | None,
    after: str | None,
    count: bool,
) -> tuple[Page, list[ChangeRequestRecord]]:
    """Requests across every group, oldest first: carrier staff with RENEWAL_REVIEW."""
    context.signed_in()
    if not context.access.allows(Privilege.RENEWAL_REVIEW):
        raise NotAllowed(Privilege.RENEWAL_REVIEW.value)
    request = page_request(first=first, after=after, last=None, before=None, kinds=(datetime, int))
    async with context.database.reader.connect() as connection:
        return await renewal_changes.requests_page(
            connection, status=status, request=request, count=count
        )


async def user_name(context: Context, user_id: int | None) -> str | None:
    """Who submitted or moved a request, by name (null: no user, as a command-line operator)."""
    found = None if user_id is None else await context.loaders.user_by_id.load(user_id)
    return None if found is None else found.name
