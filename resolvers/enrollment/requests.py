"""A group's enrollment requests as the group sees them: status, what was submitted (no SSN
beyond its last four), the member enrolled, and the history. Needs MEMBERS_READ; a reader
limited to divisions sees the requests of those divisions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

from authz.privileges import Privilege
from data import enrollment
from data.enrollment import (
    CandidateRecord,
    EventRecord,
    PlanYear,
    Reader,
    RequestRecord,
    ReviewItemRecord,
)
from data.members import MemberRecord
from data.models.enrollment import EnrollmentStatus
from data.models.members import Relationship, Sex
from data.models.plans import CoverageTier
from data.pagination import Page
from resolvers import members
from resolvers.context import Context
from resolvers.loaders import BatchLoader, DomainLoaders
from resolvers.pagination import page_request


class EnrollmentLoaders(DomainLoaders):
    @cached_property
    def request_by_id(self) -> BatchLoader[int, RequestRecord | None]:
        return BatchLoader(self.reader, enrollment.requests_by_id)

    @cached_property
    def requests_page(
        self,
    ) -> BatchLoader[enrollment.RequestsPageKey, tuple[Page, list[RequestRecord]]]:
        """Pages of several groups (a list of groups with their requests) share a statement."""
        return BatchLoader(self.reader, enrollment.requests_pages)

    @cached_property
    def events_by_request(self) -> BatchLoader[int, list[EventRecord]]:
        return BatchLoader(self.reader, enrollment.events_of_requests)

    @cached_property
    def review_item_by_id(self) -> BatchLoader[int, ReviewItemRecord | None]:
        return BatchLoader(self.reader, enrollment.review_items_by_id)

    @cached_property
    def candidate_by_id(self) -> BatchLoader[int, CandidateRecord | None]:
        return BatchLoader(self.reader, enrollment.candidates_by_id)

    @cached_property
    def plan_years_by_group(self) -> BatchLoader[int, list[PlanYear]]:
        """Read once per request: a batch file's chunk enrolls many families of one group."""
        return BatchLoader(self.reader, _plan_years_of_groups)


async def _plan_years_of_groups(reader: Reader, group_ids: Sequence[int]) -> list[list[PlanYear]]:
    return [await enrollment.plan_years_of_group(reader, group_id) for group_id in group_ids]


def loaders(context: Context) -> EnrollmentLoaders:
    return context.loaders.domain(EnrollmentLoaders)


@dataclass(frozen=True, slots=True)
class SubmittedPerson:
    """One person of a request as submitted; carries its group and division for the PII guard."""

    group_id: int
    division_id: int | None
    field: str
    first_name: str
    middle_name: str | None
    last_name: str
    birth_date: date
    sex: Sex
    relationship: Relationship
    is_disabled: bool
    ssn_last4: str | None


@dataclass(frozen=True, slots=True)
class Submission:
    """What a request asked for."""

    effective_date: date
    plan_id: int | None
    tier: CoverageTier | None
    division_id: int | None
    people: list[SubmittedPerson]


def submitted_people(request: RequestRecord) -> list[SubmittedPerson]:
    payload = request.payload
    return [
        SubmittedPerson(
            group_id=request.group_id,
            division_id=payload.get("divisionId"),
            field=person["field"],
            first_name=person["firstName"],
            middle_name=person.get("middleName"),
            last_name=person["lastName"],
            birth_date=date.fromisoformat(person["birthDate"]),
            sex=Sex(person["sex"]),
            relationship=Relationship(person["relationship"]),
            is_disabled=bool(person.get("isDisabled")),
            ssn_last4=person.get("ssnLast4"),
        )
        for person in payload.get("people", [])
    ]


def submission(request: RequestRecord) -> Submission:
    payload: dict[str, Any] = request.payload
    tier = payload.get("tier")
    return Submission(
        effective_date=date.fromisoformat(payload["effectiveDate"]),
        plan_id=payload.get("planId"),
        tier=None if tier is None else CoverageTier(tier),
        division_id=payload.get("divisionId"),
        people=submitted_people(request),
    )


def can_read(context: Context, request: RequestRecord) -> bool:
    return context.access.allows(
        Privilege.MEMBERS_READ, request.group_id, request.payload.get("divisionId")
    )


async def requests_page(
    context: Context,
    group_id: int,
    *,
    status: EnrollmentStatus | None,
    first: int | None,
    after: str | None,
    count: bool,
) -> tuple[Page, list[RequestRecord]]:
    """The group's requests, oldest first."""
    divisions = members.readable_divisions(context, group_id)
    request = page_request(first=first, after=after, last=None, before=None, kinds=(datetime, int))
    key = enrollment.RequestsPageKey(group_id, divisions, status, request, count)
    return await loaders(context).requests_page.load(key)


async def request(context: Context, request_id: int) -> RequestRecord | None:
    """A request the caller reads in its group's list (over its division, for a division's
    reader); any other answers like one that does not exist."""
    found = await loaders(context).request_by_id.load(request_id)
    if found is None:
        return None
    division_id = found.payload.get("divisionId")
    allowed = context.access.allows(Privilege.MEMBERS_READ, found.group_id, division_id)
    return found if allowed else None


async def history(context: Context, request: RequestRecord) -> list[EventRecord]:
    return await loaders(context).events_by_request.load(request.id)


async def member(context: Context, request: RequestRecord) -> MemberRecord | None:
    return None if request.member_id is None else await members.member(context, request.member_id)
