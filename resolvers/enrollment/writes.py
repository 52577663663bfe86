"""What an enrollment writes: members (new, or a former member of the group enrolled again),
their coverages, the request with its history, and the audit rows.

"Linked" (see `resolvers.matching`): the person is a record the carrier already has.
- In the enrolling group: that member row is enrolled again (a former member coming back),
  with a new coverage span; no second row of the same person in one group.
- In another group only: members belong to one group (tenancy), so a new row is made in the
  enrolling group, with the linked record's identity (the same SSN hash); the request's payload
  records the link (`matches[i].linkedMemberId`), shown to carrier staff, never to the group.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from data import audit, member_changes
from data.enrollment import CandidateRecord
from data.models.enrollment import EnrollmentRequest
from data.models.members import Coverage, Member, MemberStatus, Relationship
from data.models.plans import CoverageTier
from resolvers.context import Context
from resolvers.enrollment import rules
from resolvers.enrollment.model import Person
from resolvers.errors import Refused


def new_member_number() -> str:
    """`E` and twelve random digits: unique by the column's constraint, unguessable in order."""
    return f"E{secrets.randbelow(10**12):012d}"


@dataclass(frozen=True, slots=True)
class CoverageTerms:
    plan_id: int
    tier: CoverageTier
    effective_date: date
    is_cobra: bool = False


async def enroll_people(
    context: Context,
    session: AsyncSession,
    *,
    group_id: int,
    division_id: int | None,
    people: list[Person],
    links: list[CandidateRecord | None],
    subscriber: Member | None,
    coverage: CoverageTerms,
    request_id: int | None,
) -> list[Member]:
    """Enroll the people (the subscriber first, unless `subscriber` is an existing one).

    Few statements for a family: the subscriber's row is written first (its id is the others'
    `subscriber_id`), the dependents' rows together, then every coverage and audit row together.
    """
    rows: list[Member] = []
    former: list[bool] = []  # the person's own record in the group, enrolled again
    head = subscriber
    for person, link in zip(people, links, strict=True):
        own = link if link is not None and link.group_id == group_id else None
        row = None if own is None else await member_changes.member_for_update(session, own.id)
        former.append(row is not None)
        is_subscriber = person.relationship == Relationship.SUBSCRIBER
        if row is None:
            row = Member(
                group_id=group_id,
                member_number=new_member_number(),
                first_name=person.first_name,
                middle_name=person.middle_name,
                last_name=person.last_name,
                first_name_key=person.first_name_key,
                last_name_key=person.last_name_key,
                birth_date=person.birth_date,
                sex=person.sex,
                ssn_hash=person.ssn_hash,
                ssn_last4=person.ssn_last4,
                created_at=context.now,
            )
            session.add(row)
        for column, value in (person.contact or {}).items():
            setattr(row, column, value)
        row.division_id = division_id
        row.relationship = person.relationship
        row.subscriber_id = None if is_subscriber or head is None else head.id
        row.is_disabled = person.is_disabled
        row.hire_date = person.hire_date if is_subscriber else None
        row.status = MemberStatus.ACTIVE
        if is_subscriber:
            await session.flush()
            head = row
        rows.append(row)
    await session.flush()
    for row, link, again in zip(rows, links, former, strict=True):
        session.add(
            Coverage(
                member_id=row.id,
                plan_id=coverage.plan_id,
                tier=coverage.tier,
                effective_date=coverage.effective_date,
                is_cobra=coverage.is_cobra,
                created_at=context.now,
            )
        )
        after: dict[str, Any] = {
            "memberNumber": row.member_number,
            "relationship": row.relationship.value,
            "planId": coverage.plan_id,
            "tier": coverage.tier.value,
            "effectiveDate": coverage.effective_date.isoformat(),
            "requestId": request_id,
        }
        if link is not None:
            after["linkedMemberId"] = link.id
        audit.record(
            session,
            context.actor,
            action="member.enrolled",
            target_type="member",
            target_id=row.id,
            group_id=group_id,
            now=context.now,
            before={"status": MemberStatus.TERMINATED.value} if again else None,
            after=after,
        )
    await session.flush()
    return rows


def in_force(span: Coverage | None, day: date) -> bool:
    return (
        span is not None
        and span.effective_date <= day
        and (span.termination_date is None or span.termination_date >= day)
    )


async def add_to_family(
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
    if subscriber.status != MemberStatus.ACTIVE or own is None or not in_force(own, effective):
        raise Refused.on("subscriberId", f"the subscriber has no coverage on {effective} any more")
    covered = [person for person in family if in_force(spans.get(person.id), effective)]
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
            retier(context, session, member, span, tier, effective, request.id)
    return rows


def retier(
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
