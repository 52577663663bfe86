"""The enrollment use cases: a new subscriber with dependents, a dependent added to a family,
COBRA continuation. Each validates, matches and writes in the caller's session.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from authz.privileges import Privilege
from data import audit, enrollment, member_changes
from data.enrollment import CandidateQuery, CandidateRecord
from data.models.enrollment import EnrollmentKind, EnrollmentRequest, EnrollmentStatus
from data.models.groups import GroupStatus
from data.models.members import Coverage, Member, MemberStatus, Relationship
from data.models.plans import CoverageTier
from resolvers import groups
from resolvers.context import Context
from resolvers.enrollment import rules
from resolvers.enrollment.model import (
    CobraInput,
    DependentInput,
    EnrollmentInput,
    EnrollmentResult,
    Outcome,
    Person,
)
from resolvers.enrollment.writes import CoverageTerms, enroll_people
from resolvers.errors import ErrorCode, FieldError, NotAllowed, Refused
from resolvers.matching import Match, MatchOutcome, match
from resolvers.members import can_read

# COBRA is elected within 60 days of losing coverage; it continues coverage without a gap.
COBRA_ELECTION_DAYS = 60
REVIEW_NOTE = (
    "could not be matched with certainty against the carrier's records: a membership "
    "representative reviews it (target: 2 business days)"
)


def _privilege(batch_row_id: int | None) -> Privilege:
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


async def add_dependent(
    context: Context,
    session: AsyncSession,
    given: DependentInput,
    *,
    batch_row_id: int | None = None,
) -> EnrollmentResult:
    """A family member added to an existing subscriber, on the family's plan; the family's tier
    follows its new members (the covered ones' spans end the day before, new spans begin)."""
    try:
        return await _add_dependent(context, session, given, batch_row_id)
    except Refused as refused:
        return EnrollmentResult(Outcome.REJECTED, errors=tuple(refused.errors))


async def continue_cobra(
    context: Context,
    session: AsyncSession,
    given: CobraInput,
    *,
    batch_row_id: int | None = None,
) -> EnrollmentResult:
    """COBRA continuation of a terminated member (a subscriber with the dependents who ended
    with it): a new coverage span, marked COBRA, from the day after the last one ended."""
    try:
        return await _continue_cobra(context, session, given, batch_row_id)
    except Refused as refused:
        return EnrollmentResult(Outcome.REJECTED, errors=tuple(refused.errors))


async def _enroll(
    context: Context, session: AsyncSession, given: EnrollmentInput, batch_row_id: int | None
) -> EnrollmentResult:
    context.signed_in()
    group = await groups.visible_group(context, given.group_id, "groupId")
    division = await groups.division_of(context, group.id, given.division_id, "divisionId")
    division_id = None if division is None else division.id
    privilege = _privilege(batch_row_id)
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
        plan_years = await enrollment.plan_years_of_group(session, group.id)
        year, problem = rules.plan_year(plan_years, context.today, effective)
        errors += [problem] if problem else []
    people = _people(context, given, effective, errors)
    if given.tier is None:
        errors.append(FieldError("tier", "required", ErrorCode.REQUIRED))
    elif len(people) == 1 + len(given.dependents):
        problem = rules.tier_error(given.tier, people[1:])
        errors += [problem] if problem else []
    if effective is not None:
        errors += rules.family_errors(people[1:], effective)
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
    return await _submit(
        context,
        session,
        kind=EnrollmentKind.SUBSCRIBER,
        group_id=group.id,
        people=people,
        payload=payload,
        subscriber=None,
        batch_row_id=batch_row_id,
    )


def _people(
    context: Context, given: EnrollmentInput, effective: date | None, errors: list[FieldError]
) -> list[Person]:
    found = []
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
        if checked is not None:
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


async def _submit(
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
        rows = await _add_to_family(context, session, request, subscriber, people, links, effective)
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


def _in_force(span: Coverage | None, day: date) -> bool:
    return (
        span is not None
        and span.effective_date <= day
        and (span.termination_date is None or span.termination_date >= day)
    )


async def _add_dependent(
    context: Context, session: AsyncSession, given: DependentInput, batch_row_id: int | None
) -> EnrollmentResult:
    context.signed_in()
    head = (
        None
        if given.subscriber_id is None
        else await member_changes.member_for_update(session, given.subscriber_id)
    )
    if head is None or not can_read(context, member_changes.record_of(head)):
        raise Refused.on("subscriberId", "no such member", ErrorCode.NOT_FOUND)
    privilege = _privilege(batch_row_id)
    if not context.access.allows(privilege, head.group_id, head.division_id):
        raise NotAllowed(privilege.value)
    if head.relationship != Relationship.SUBSCRIBER:
        raise Refused.on("subscriberId", "not a subscriber: add family members to the employee")
    errors: list[FieldError] = []
    effective = given.effective_date
    family = await member_changes.dependents_for_update(session, head.id)
    spans = await member_changes.newest_coverages_for_update(
        session, [head.id, *(person.id for person in family)]
    )
    own = spans.get(head.id)
    if effective is None:
        errors.append(FieldError("effectiveDate", "required", ErrorCode.REQUIRED))
    else:
        plan_years = await enrollment.plan_years_of_group(session, head.group_id)
        problem = rules.plan_year(plan_years, context.today, effective)[1]
        if problem is None and (
            head.status != MemberStatus.ACTIVE or not _in_force(own, effective)
        ):
            problem = FieldError(
                "effectiveDate", f"the subscriber has no coverage on {effective}", ErrorCode.INVALID
            )
        errors += [problem] if problem else []
    person = rules.person(
        given.dependent,
        "dependent",
        subscriber=False,
        today=context.today,
        effective_date=effective,
        secret_key=context.secret_key,
        errors=errors,
    )
    if person is not None and effective is not None:
        partners = sum(
            1
            for member in family
            if member.relationship in rules.PARTNERS and _in_force(spans.get(member.id), effective)
        )
        errors += rules.family_errors([person], effective, partners_covered=partners)
    if errors:
        raise Refused(*errors)
    assert person is not None
    assert effective is not None
    assert own is not None
    payload = {
        "subscriberId": head.id,
        "divisionId": head.division_id,
        "planId": own.plan_id,
        "effectiveDate": effective.isoformat(),
    }
    return await _submit(
        context,
        session,
        kind=EnrollmentKind.DEPENDENT,
        group_id=head.group_id,
        people=[person],
        payload=payload,
        subscriber=head,
        batch_row_id=batch_row_id,
    )


async def _add_to_family(
    context: Context,
    session: AsyncSession,
    request: EnrollmentRequest,
    subscriber: Member,
    people: list[Person],
    links: list[CandidateRecord | None],
    effective: date,
) -> list[Member]:
    family = await member_changes.dependents_for_update(session, subscriber.id)
    spans = await member_changes.newest_coverages_for_update(
        session, [subscriber.id, *(person.id for person in family)]
    )
    own = spans.get(subscriber.id)
    if subscriber.status != MemberStatus.ACTIVE or own is None or not _in_force(own, effective):
        raise Refused.on("subscriberId", f"the subscriber has no coverage on {effective} any more")
    covered = [person for person in family if _in_force(spans.get(person.id), effective)]
    tier = rules.tier_of([p.relationship for p in covered] + [p.relationship for p in people])
    rows = await enroll_people(
        context,
        session,
        group_id=subscriber.group_id,
        division_id=subscriber.division_id,
        people=people,
        links=links,
        subscriber=subscriber,
        coverage=CoverageTerms(own.plan_id, tier, effective),
        request_id=request.id,
    )
    for member in (subscriber, *covered):
        span = spans[member.id]
        if span.tier != tier:
            _retier(context, session, member, span, tier, effective, request.id)
    return rows


def _retier(
    context: Context,
    session: AsyncSession,
    member: Member,
    span: Coverage,
    tier: CoverageTier,
    effective: date,
    request_id: int,
) -> None:
    """The family's tier changes on the effective date: the span ends the day before and a new
    one begins (bills stay right for the months before); a span starting that day is retiered."""
    before = span.tier
    if span.effective_date >= effective:
        span.tier = tier
    else:
        session.add(
            Coverage(
                member_id=member.id,
                plan_id=span.plan_id,
                tier=tier,
                effective_date=effective,
                termination_date=span.termination_date,
                is_cobra=span.is_cobra,
                created_at=context.now,
            )
        )
        span.termination_date = effective - timedelta(days=1)
    audit.record(
        session,
        context.actor,
        action="coverage.tier_changed",
        target_type="member",
        target_id=member.id,
        group_id=member.group_id,
        now=context.now,
        before={"tier": before.value},
        after={"tier": tier.value, "effectiveDate": effective.isoformat(), "requestId": request_id},
    )


async def _continue_cobra(
    context: Context, session: AsyncSession, given: CobraInput, batch_row_id: int | None
) -> EnrollmentResult:
    context.signed_in()
    row = (
        None
        if given.member_id is None
        else await member_changes.member_for_update(session, given.member_id)
    )
    if row is None or not can_read(context, member_changes.record_of(row)):
        raise Refused.on("memberId", "no such member", ErrorCode.NOT_FOUND)
    privilege = _privilege(batch_row_id)
    if not context.access.allows(privilege, row.group_id, row.division_id):
        raise NotAllowed(privilege.value)
    if given.medicare:
        raise Refused.on("medicare", rules.MEDICARE_MESSAGE, ErrorCode.MEDICARE_NOT_ONLINE)
    group = await context.loaders.group_by_id.load(row.group_id)
    assert group is not None  # a member's group exists
    if group.cobra_administered_by_carrier:
        raise Refused.on(
            "memberId",
            "the carrier administers this group's COBRA continuation: it is not enrolled "
            "online, the carrier offers it to the member directly",
            ErrorCode.COBRA_ADMINISTERED_BY_CARRIER,
        )
    if row.status != MemberStatus.TERMINATED:
        raise Refused.on("memberId", "only a terminated member continues under COBRA")
    family = (
        await member_changes.dependents_for_update(session, row.id)
        if row.relationship == Relationship.SUBSCRIBER
        else []
    )
    spans = await member_changes.newest_coverages_for_update(
        session, [row.id, *(person.id for person in family)]
    )
    last = spans.get(row.id)
    if last is None or last.termination_date is None:
        raise Refused.on("memberId", "this member has no ended coverage to continue")
    if last.is_cobra:
        raise Refused.on("memberId", "this member's COBRA continuation has already ended")
    ended = last.termination_date
    starts = ended + timedelta(days=1)
    errors = []
    if given.effective_date is not None and given.effective_date != starts:
        errors.append(
            FieldError(
                "effectiveDate",
                f"COBRA continues coverage without a gap: it starts on {starts}, the day after "
                "coverage ended",
                ErrorCode.INVALID,
            )
        )
    if context.today > ended + timedelta(days=COBRA_ELECTION_DAYS):
        errors.append(
            FieldError(
                "memberId",
                f"the {COBRA_ELECTION_DAYS}-day COBRA election period ended on "
                f"{ended + timedelta(days=COBRA_ELECTION_DAYS)}",
                ErrorCode.INVALID,
            )
        )
    if errors:
        raise Refused(*errors)
    continuing = [row] + [
        person
        for person in family
        if person.status == MemberStatus.TERMINATED
        and (span := spans.get(person.id)) is not None
        and span.termination_date == ended
        and not span.is_cobra
    ]
    tier = rules.tier_of([person.relationship for person in continuing[1:]])
    request = enrollment.add_request(
        session,
        group_id=row.group_id,
        kind=EnrollmentKind.COBRA,
        status=EnrollmentStatus.PROCESSED,
        payload={
            "memberId": row.id,
            "divisionId": row.division_id,
            "planId": last.plan_id,
            "tier": tier.value,
            "effectiveDate": starts.isoformat(),
            "memberIds": [person.id for person in continuing],
        },
        member_id=row.id,
        user_id=context.actor.user_id,
        batch_row_id=batch_row_id,
        now=context.now,
    )
    await session.flush()
    for person in continuing:
        person.status = MemberStatus.ACTIVE
        session.add(
            Coverage(
                member_id=person.id,
                plan_id=last.plan_id,
                tier=tier,
                effective_date=starts,
                is_cobra=True,
                created_at=context.now,
            )
        )
        audit.record(
            session,
            context.actor,
            action="coverage.cobra_started",
            target_type="member",
            target_id=person.id,
            group_id=row.group_id,
            now=context.now,
            before={"status": MemberStatus.TERMINATED.value},
            after={
                "status": MemberStatus.ACTIVE.value,
                "effectiveDate": starts.isoformat(),
                "tier": tier.value,
                "requestId": request.id,
            },
        )
    enrollment.add_event(
        session,
        request,
        note=f"COBRA continuation from {starts}: {len(continuing)} member(s)",
        user_id=context.actor.user_id,
        now=context.now,
    )
    await session.flush()
    return EnrollmentResult(
        Outcome.PROCESSED, request_id=request.id, member_ids=tuple(p.id for p in continuing)
    )
