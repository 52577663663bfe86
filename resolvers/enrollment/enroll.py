"""Enrolling a new subscriber with its dependents (memberEnroll), and what every enrollment
shares: matching each person, then enrolling the family at once or keeping it for review.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from authz.privileges import Privilege
from data import audit, enrollment, member_changes
from data.enrollment import CandidateQuery, CandidateRecord
from data.models.enrollment import EnrollmentKind, EnrollmentRequest, EnrollmentStatus
from data.models.groups import GroupStatus
from data.models.members import Member, MemberStatus
from data.models.plans import CoverageTier
from resolvers import groups
from resolvers.context import Context
from resolvers.enrollment import requests, rules
from resolvers.enrollment.model import (
    EnrollmentInput,
    EnrollmentResult,
    Outcome,
    Person,
)
from resolvers.enrollment.writes import CoverageTerms, add_to_family, enroll_people
from resolvers.errors import ErrorCode, FieldError, NotAllowed, Refused
from resolvers.matching import Match, MatchOutcome, match

MAX_DEPENDENTS = 20
REVIEW_NOTE = (
    "could not be matched with certainty against the carrier's records: a membership "
    "representative reviews it (target: 2 business days)"
)


def privilege_of(batch_row_id: int | None) -> Privilege:
    """A batch file's rows are the uploader's (ENROLLMENT_BATCH); single ones need MEMBERS_WRITE."""
    return Privilege.MEMBERS_WRITE if batch_row_id is None else Privilege.ENROLLMENT_BATCH


async def enroll(
    context: Context,
    session: AsyncSession,
    given: EnrollmentInput,
    *,
    batch_row_id: int | None = None,
) -> EnrollmentResult:
    """A new subscriber with its dependents: PROCESSED, PENDING_REVIEW or REJECTED."""
    try:
        return await _enroll(context, session, given, batch_row_id)
    except Refused as refused:
        return EnrollmentResult(Outcome.REJECTED, errors=tuple(refused.errors))


async def _enroll(
    context: Context, session: AsyncSession, given: EnrollmentInput, batch_row_id: int | None
) -> EnrollmentResult:
    if batch_row_id is None:  # a batch row acts with the batch's authority (maybe the operator's)
        context.signed_in()
    group = await groups.visible_group(context, given.group_id, "groupId")
    division = await groups.division_of(context, group.id, given.division_id, "divisionId")
    division_id = None if division is None else division.id
    privilege = privilege_of(batch_row_id)
    if not context.access.allows(privilege, group.id, division_id):
        raise NotAllowed(privilege.value)
    errors: list[FieldError] = []
    if group.status == GroupStatus.TERMINATED:
        errors.append(FieldError("groupId", "the group's coverage has ended", ErrorCode.INVALID))
    effective = given.effective_date
    year = None
    if effective is None:
        errors.append(FieldError("effectiveDate", "required", ErrorCode.REQUIRED))
    else:
        plan_years = await requests.loaders(context).plan_years_by_group.load(group.id)
        year, problem = rules.plan_year(plan_years, context.today, effective)
        errors += [problem] if problem else []
    if len(given.dependents) > MAX_DEPENDENTS:
        errors.append(
            FieldError("dependents", f"at most {MAX_DEPENDENTS} at a time", ErrorCode.INVALID)
        )
    checked = _people(context, given, effective, errors)
    dependents = [person for person in checked[1:] if person is not None]
    if given.tier is None:
        errors.append(FieldError("tier", "required", ErrorCode.REQUIRED))
    elif None not in checked:  # the tier is judged on valid relationships only
        problem = rules.tier_error(given.tier, dependents)
        errors += [problem] if problem else []
    if effective is not None:
        errors += rules.family_errors(dependents, effective)
    if given.plan_id is None:
        errors.append(FieldError("planId", "required", ErrorCode.REQUIRED))
    elif year is not None and given.plan_id not in year.plan_ids:
        errors.append(
            FieldError(
                "planId",
                "not a plan the group's contract offers in the plan year of the effective date",
                ErrorCode.INVALID,
            )
        )
    if errors:
        raise Refused(*errors)
    assert effective is not None
    assert given.tier is not None
    assert given.plan_id is not None
    payload = {
        "divisionId": division_id,
        "planId": given.plan_id,
        "tier": given.tier.value,
        "effectiveDate": effective.isoformat(),
    }
    return await submit_people(
        context,
        session,
        kind=EnrollmentKind.SUBSCRIBER,
        group_id=group.id,
        people=[person for person in checked if person is not None],
        payload=payload,
        subscriber=None,
        batch_row_id=batch_row_id,
    )


def _people(
    context: Context, given: EnrollmentInput, effective: date | None, errors: list[FieldError]
) -> list[Person | None]:
    """Each person validated (None where refused), the subscriber first."""
    found: list[Person | None] = []
    for index, person in enumerate((given.subscriber, *given.dependents)):
        checked = rules.person(
            person,
            "subscriber" if index == 0 else f"dependents[{index - 1}]",
            subscriber=index == 0,
            today=context.today,
            effective_date=effective,
            secret_key=context.secret_key,
            errors=errors,
        )
        found.append(checked)
    return found


async def matches_of(session: AsyncSession, people: list[Person], group_id: int) -> list[Match]:
    queries = [
        CandidateQuery(p.ssn_hash, p.birth_date, p.first_name_key, p.last_name_key) for p in people
    ]
    found = await enrollment.candidates(session, queries)
    return [match(p.identity, c, group_id) for p, c in zip(people, found, strict=True)]


def refuse_active_links(
    people: list[Person], links: list[CandidateRecord | None], group_id: int
) -> None:
    """A person already active in the group is not enrolled twice."""
    errors = [
        FieldError(
            person.field, "is already an active member of this group", ErrorCode.ALREADY_DONE
        )
        for person, link in zip(people, links, strict=True)
        if link is not None and link.group_id == group_id and link.status == MemberStatus.ACTIVE
    ]
    if errors:
        raise Refused(*errors)


def _match_json(found: Match) -> dict[str, Any]:
    return {
        "outcome": found.outcome.value,
        "linkedMemberId": None if found.linked is None else found.linked.id,
        "candidateIds": [candidate.id for candidate in found.candidates],
        "reason": found.reason,
    }


async def submit_people(
    context: Context,
    session: AsyncSession,
    *,
    kind: EnrollmentKind,
    group_id: int,
    people: list[Person],
    payload: dict[str, Any],
    subscriber: Member | None,
    batch_row_id: int | None,
) -> EnrollmentResult:
    """Match every person; enroll the family at once, or keep all of it for review.

    A family with one uncertain person waits whole: enrolling the others first would split it
    (dependents without their subscriber) and the review could still change who is who.
    """
    matches = await matches_of(session, people, group_id)
    links = [found.linked for found in matches]
    refuse_active_links(people, links, group_id)
    waiting = [
        (person, found)
        for person, found in zip(people, matches, strict=True)
        if found.outcome == MatchOutcome.REVIEW
    ]
    request = enrollment.add_request(
        session,
        group_id=group_id,
        kind=kind,
        status=EnrollmentStatus.PENDING_REVIEW if waiting else EnrollmentStatus.PROCESSED,
        payload={
            **payload,
            "people": [person.to_json() for person in people],
            "matches": [_match_json(found) for found in matches],
        },
        member_id=None,
        user_id=context.actor.user_id,
        batch_row_id=batch_row_id,
        now=context.now,
    )
    await session.flush()
    if waiting:
        candidate_ids = sorted({c.id for _, found in waiting for c in found.candidates})
        enrollment.add_review_item(
            session,
            request,
            candidate_member_ids=candidate_ids,
            match_reason="; ".join(f"{person.field}: {found.reason}" for person, found in waiting),
            now=context.now,
        )
        who = ", ".join(person.field for person, _ in waiting)
        enrollment.add_event(
            session,
            request,
            note=f"{who} {REVIEW_NOTE}",
            user_id=context.actor.user_id,
            now=context.now,
        )
        audit.record(
            session,
            context.actor,
            action="enrollment.queued",
            target_type="enrollment_request",
            target_id=request.id,
            group_id=group_id,
            now=context.now,
            after={"kind": kind.value, "status": request.status.value, "waiting": who},
        )
        await session.flush()
        return EnrollmentResult(Outcome.PENDING_REVIEW, request_id=request.id)
    rows = await complete(context, session, request, people, links, subscriber=subscriber)
    enrollment.add_event(
        session,
        request,
        note=_enrolled_note(len(rows), links),
        user_id=context.actor.user_id,
        now=context.now,
    )
    await session.flush()
    return EnrollmentResult(
        Outcome.PROCESSED, request_id=request.id, member_ids=tuple(row.id for row in rows)
    )


def _enrolled_note(count: int, links: list[CandidateRecord | None]) -> str:
    linked = sum(link is not None for link in links)
    note = f"enrolled: {count} member{'s' if count != 1 else ''}"
    return note + (f", {linked} linked to existing records" if linked else "")


async def complete(
    context: Context,
    session: AsyncSession,
    request: EnrollmentRequest,
    people: list[Person],
    links: list[CandidateRecord | None],
    *,
    subscriber: Member | None = None,
) -> list[Member]:
    """Write a request's enrollment (at once, or after review): PROCESSED, with its member."""
    payload = request.payload
    effective = date.fromisoformat(payload["effectiveDate"])
    if request.kind == EnrollmentKind.DEPENDENT:
        if subscriber is None:
            subscriber = await member_changes.member_for_update(session, payload["subscriberId"])
        assert subscriber is not None  # members are never deleted
        rows = await add_to_family(context, session, request, subscriber, people, links, effective)
    else:
        rows = await enroll_people(
            context,
            session,
            group_id=request.group_id,
            division_id=payload["divisionId"],
            people=people,
            links=links,
            subscriber=None,
            coverage=CoverageTerms(payload["planId"], CoverageTier(payload["tier"]), effective),
            request_id=request.id,
        )
    request.status = EnrollmentStatus.PROCESSED
    request.member_id = rows[0].id
    return rows
