"""COBRA continuation of a terminated member (cobraEnroll)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from data import audit, enrollment, member_changes
from data.models.enrollment import EnrollmentKind, EnrollmentStatus
from data.models.members import Coverage, MemberStatus, Relationship
from resolvers.context import Context
from resolvers.enrollment import rules
from resolvers.enrollment.enroll import privilege_of
from resolvers.enrollment.model import CobraInput, EnrollmentResult, Outcome
from resolvers.errors import ErrorCode, FieldError, NotAllowed, Refused
from resolvers.members import can_read

# COBRA is elected within 60 days of losing coverage; it continues coverage without a gap.
COBRA_ELECTION_DAYS = 60


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
    privilege = privilege_of(batch_row_id)
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
