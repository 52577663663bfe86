"""Adding a family member to an existing subscriber (dependentAdd)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from authz.privileges import Privilege
from data import member_changes
from data.models.enrollment import EnrollmentKind
from data.models.members import Member, MemberStatus, Relationship
from resolvers.context import Context
from resolvers.enrollment import requests, rules
from resolvers.enrollment.enroll import privilege_of, submit_people
from resolvers.enrollment.model import DependentInput, EnrollmentResult, Outcome
from resolvers.enrollment.writes import in_force
from resolvers.errors import ErrorCode, FieldError, NotAllowed, Refused
from resolvers.members import can_read


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


async def _add_dependent(
    context: Context, session: AsyncSession, given: DependentInput, batch_row_id: int | None
) -> EnrollmentResult:
    if batch_row_id is None:  # a batch row acts with the batch's authority (maybe the operator's)
        context.signed_in()
    head = (
        None
        if given.subscriber_id is None
        else await member_changes.member_for_update(session, given.subscriber_id)
    )
    if head is None or not _visible(context, head, batch_row_id):
        raise Refused.on("subscriberId", "no such member", ErrorCode.NOT_FOUND)
    privilege = privilege_of(batch_row_id)
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
        plan_years = await requests.loaders(context).plan_years_by_group.load(head.group_id)
        problem = rules.plan_year(plan_years, context.today, effective)[1]
        if problem is None and (head.status != MemberStatus.ACTIVE or not in_force(own, effective)):
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
            if member.relationship in rules.PARTNERS and in_force(spans.get(member.id), effective)
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
    return await submit_people(
        context,
        session,
        kind=EnrollmentKind.DEPENDENT,
        group_id=head.group_id,
        people=[person],
        payload=payload,
        subscriber=head,
        batch_row_id=batch_row_id,
    )


def _visible(context: Context, head: Member, batch_row_id: int | None) -> bool:
    """A reader of the member sees it; a batch's rows see the members of the batch's group (the
    uploader's ENROLLMENT_BATCH over it, checked at upload)."""
    if batch_row_id is not None:
        return context.access.allows(Privilege.ENROLLMENT_BATCH, head.group_id, head.division_id)
    return can_read(context, member_changes.record_of(head))
