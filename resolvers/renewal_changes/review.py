"""`renewalChangeReview`: carrier staff (RENEWAL_REVIEW) move a request's status, and a
confirmation applies its parts, dated the renewal effective date, in the same transaction.

Transitions, and only these: SUBMITTED → IN_REVIEW; IN_REVIEW → CONFIRMED,
CONFIRMED_WITH_CHANGES or REJECTED. The request's status is its version: of two reviewers moving
it at once, one wins and the other gets CONFLICT, whether it lost the conditional update or read
the status after the winner had moved it (asking for a step the request has already passed).

A confirmation applies, in this order: terminations (coverage ends the day before the renewal
date, a subscriber's family with it), plan changes (spans on the old plan end the day before, the
same members and tiers continue on the new plan), the new plan year's contract (see ADR 0010),
then enrollments through the enrollment use cases (matched; an uncertain match waits in the
review queue as any enrollment does). A part that no longer holds refuses the confirmation,
naming the part, so that the reviewer can exclude it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from authz.privileges import Privilege
from data import audit, member_changes, renewal_changes
from data.models.enrollment import EnrollmentKind
from data.models.members import Coverage, Member, MemberStatus, Relationship
from data.models.renewals import OfferKind
from data.models.renewals import RenewalChangeStatus as Status
from data.renewal_changes import ChangeRequestRecord
from resolvers import groups, renewals
from resolvers.context import Context
from resolvers.enrollment import rules as enrollment_rules
from resolvers.enrollment.enroll import submit_people
from resolvers.enrollment.writes import in_force
from resolvers.errors import ErrorCode, FieldError, Refused
from resolvers.renewal_changes.parts import CheckedEnrollment, Parts, canonical_part_name
from resolvers.renewal_changes.reads import loaders

NEXT: dict[Status, tuple[Status, ...]] = {
    Status.SUBMITTED: (Status.IN_REVIEW,),
    Status.IN_REVIEW: (Status.CONFIRMED, Status.CONFIRMED_WITH_CHANGES, Status.REJECTED),
}
# How far along a request is: asking for a step it has already passed means that another
# reviewer moved it meanwhile (CONFLICT), not that the step is wrong.
STEP = {
    Status.SUBMITTED: 0,
    Status.IN_REVIEW: 1,
    Status.CONFIRMED: 2,
    Status.CONFIRMED_WITH_CHANGES: 2,
    Status.REJECTED: 2,
}
NEEDS_REASONS = frozenset({Status.CONFIRMED_WITH_CHANGES, Status.REJECTED})
CONFIRMING = frozenset({Status.CONFIRMED, Status.CONFIRMED_WITH_CHANGES})
MAX_REASONS = 2000


async def reviewable(context: Context, request_id: int | None) -> ChangeRequestRecord:
    """The request, if the caller sees its group; FORBIDDEN without RENEWAL_REVIEW there."""
    found = None
    if request_id is not None:
        found = await loaders(context).request_by_id.load(request_id)
    if found is None or not groups.can_see(context, found.group_id):
        raise Refused.on("changeRequestId", "no such change request", ErrorCode.NOT_FOUND)
    if not context.access.allows(Privilege.RENEWAL_REVIEW, found.group_id):
        raise Refused.on(
            "changeRequestId", f"needs {Privilege.RENEWAL_REVIEW.value}", ErrorCode.FORBIDDEN
        )
    return found


async def review(
    context: Context,
    *,
    request_id: int | None,
    status: Status,
    reasons: str | None,
    excluded: list[str],
) -> int:
    """Move the request to `status` (applying it if confirmed); its id."""
    context.signed_in()
    found = await reviewable(context, request_id)
    submitted = Parts.from_json(found.payload)
    text = " ".join((reasons or "").split()) or None
    parts = replace(submitted, excluded=_check(found.status, status, text, excluded, submitted))
    async with context.transaction() as session:
        moved = await renewal_changes.move_status(
            session,
            found.id,
            from_status=found.status,
            to_status=status,
            payload=parts.to_json(),
        )
        if not moved:
            raise Refused.on(
                "changeRequestId",
                "its status was just moved by another reviewer: reload it",
                ErrorCode.CONFLICT,
            )
        if status in CONFIRMING:
            await Confirmation(context, session, found, parts).apply()
        renewal_changes.add_event(
            session, found.id, status, reasons=text, user_id=context.actor.user_id, now=context.now
        )
        audit.record(
            session,
            context.actor,
            action="renewal_change.reviewed",
            target_type="renewal_change_request",
            target_id=found.id,
            group_id=found.group_id,
            now=context.now,
            before={"status": found.status.value},
            after={"status": status.value, "reasons": text, "excluded": parts.excluded},
        )
        return found.id


def _check(
    current: Status, wanted: Status, reasons: str | None, excluded: list[str], parts: Parts
) -> list[str]:
    """The status first, then every other error of the review's input at once; the excluded
    parts' names, canonical."""
    errors: list[FieldError] = []
    allowed = NEXT.get(current, ())
    if wanted not in allowed and STEP.get(wanted, 0) > 0 and STEP[wanted] <= STEP[current]:
        raise Refused.on(
            "changeRequestId",
            f"already {current.value}: another reviewer moved it; reload it",
            ErrorCode.CONFLICT,
        )
    if wanted not in allowed:  # reasons and exclusions depend on the status: judged after it
        after = ", ".join(status.value for status in allowed) or "none: it is final"
        raise Refused.on(
            "status", f"a {current.value} request cannot become {wanted.value}; next: {after}"
        )
    if wanted in NEEDS_REASONS and reasons is None:
        errors.append(
            FieldError("reasons", f"required to make it {wanted.value}", ErrorCode.REQUIRED)
        )
    elif reasons is not None and len(reasons) > MAX_REASONS:
        errors.append(FieldError("reasons", f"at most {MAX_REASONS} characters", ErrorCode.INVALID))
    chosen: list[str] = []
    names = set(parts.names())
    for index, text in enumerate(excluded):
        name = canonical_part_name(text)
        if name is None or name not in names:
            errors.append(
                FieldError(
                    f"excluded[{index}]", "no such part of this request", ErrorCode.NOT_FOUND
                )
            )
        elif name in chosen:
            errors.append(FieldError(f"excluded[{index}]", "named twice", ErrorCode.INVALID))
        else:
            chosen.append(name)
    if wanted == Status.CONFIRMED_WITH_CHANGES:
        if not excluded:
            errors.append(
                FieldError(
                    "excluded",
                    "name the parts not applied, as planChanges[0]",
                    ErrorCode.REQUIRED,
                )
            )
        elif len(chosen) == len(names):
            errors.append(
                FieldError("excluded", "excludes every part: reject it instead", ErrorCode.INVALID)
            )
    elif excluded:
        errors.append(
            FieldError("excluded", "only CONFIRMED_WITH_CHANGES excludes parts", ErrorCode.INVALID)
        )
    if errors:
        raise Refused(*errors)
    return chosen


class Confirmation:
    """The parts of a confirmed request applied, each refused (by its name) if it no longer
    holds; every error is collected before the whole is refused."""

    def __init__(
        self,
        context: Context,
        session: AsyncSession,
        request: ChangeRequestRecord,
        parts: Parts,
    ) -> None:
        self.context = context
        self.session = session
        self.request = request
        self.parts = parts
        self.effective = parts.effective_date
        self.day_before = parts.effective_date - timedelta(days=1)
        self.errors: list[FieldError] = []

    def _refuse(self, part: str, message: str) -> None:
        self.errors.append(FieldError(part, f"no longer holds: {message}", ErrorCode.CONFLICT))

    async def apply(self) -> None:
        await self.terminations()
        await self.session.flush()
        await self.plan_changes()
        await self.session.flush()
        await self.contract()
        await self.enrollments()
        if self.errors:
            raise Refused(*self.errors)

    def _audit(
        self, action: str, member: Member, before: dict[str, Any], after: dict[str, Any]
    ) -> None:
        audit.record(
            self.session,
            self.context.actor,
            action=action,
            target_type="member",
            target_id=member.id,
            group_id=member.group_id,
            now=self.context.now,
            before=before,
            after={**after, "renewalChangeRequestId": self.request.id},
        )

    async def terminations(self) -> None:
        for index in self.parts.applied("terminations"):
            member_id, reason = self.parts.terminations[index]
            part = f"terminations[{index}]"
            row = await member_changes.member_for_update(self.session, member_id)
            assert row is not None  # members are never deleted
            family = [row]
            if row.relationship == Relationship.SUBSCRIBER:
                family += await member_changes.dependents_for_update(self.session, row.id)
            spans = await member_changes.newest_coverages_for_update(
                self.session, [person.id for person in family]
            )
            own = spans.get(row.id)
            if row.status != MemberStatus.ACTIVE or not in_force(own, self.effective):
                self._refuse(part, f"the member has no coverage on {self.effective} any more")
                continue
            assert own is not None
            if own.effective_date >= self.effective:
                self._refuse(part, "the member's coverage now begins on the renewal date")
                continue
            for person in family:
                span = spans.get(person.id)
                if not in_force(span, self.effective) or span is None:
                    continue  # a dependent whose coverage ends earlier keeps its date
                if span.effective_date >= self.effective:
                    self._refuse(
                        part, f"{person.member_number}'s coverage begins on the renewal date"
                    )
                    continue
                before = span.termination_date
                span.termination_date = self.day_before
                after: dict[str, Any] = {
                    "terminationDate": self.day_before.isoformat(),
                    "reason": reason.value,
                }
                if person is not row:
                    after["withSubscriberId"] = row.id
                self._audit(
                    "coverage.terminated",
                    person,
                    {"terminationDate": None if before is None else before.isoformat()},
                    after,
                )

    async def plan_changes(self) -> None:
        applied = self.parts.applied("planChanges")
        moves = {
            self.parts.plan_changes[index][0]: self.parts.plan_changes[index][1]
            for index in applied
        }
        if not moves:
            return
        spans = await renewal_changes.coverages_on_plans_for_update(
            self.session, self.request.group_id, list(moves), self.effective
        )
        members = {
            row.id: row
            for row in await renewal_changes.members_for_update(
                self.session, self.request.group_id, sorted({span.member_id for span in spans})
            )
        }
        for span in spans:
            target = moves[span.plan_id]
            source = span.plan_id
            if span.effective_date >= self.effective:
                span.plan_id = target  # begins on the renewal date: moved as a whole
            else:
                self.session.add(
                    Coverage(
                        member_id=span.member_id,
                        plan_id=target,
                        tier=span.tier,
                        effective_date=self.effective,
                        termination_date=span.termination_date,
                        is_cobra=span.is_cobra,
                        is_medicare=span.is_medicare,
                        created_at=self.context.now,
                    )
                )
                span.termination_date = self.day_before
            self._audit(
                "coverage.plan_changed",
                members[span.member_id],
                {"planId": source},
                {"planId": target, "effectiveDate": self.effective.isoformat()},
            )

    async def contract(self) -> None:
        """The new plan year's contract: recorded if the carrier has not yet, else completed
        with the plans this confirmation puts members on (ADR 0010)."""
        options = await renewals.options_of_renewal(self.context, self.request.renewal_id)
        current = {option.plan_id for option in options if option.kind == OfferKind.CURRENT}
        moves = [self.parts.plan_changes[i] for i in self.parts.applied("planChanges")]
        enrolled = [self.parts.enrollments[i].plan_id for i in self.parts.applied("enrollments")]
        plans = (
            (current - {from_id for from_id, _ in moves})
            | {to_id for _, to_id in moves}
            | {plan_id for plan_id in enrolled if plan_id is not None}
        )
        group_id = self.request.group_id
        year = self.request.plan_year
        contract_id = await renewal_changes.contract_of_year(self.session, group_id, year)
        after: dict[str, Any] = {"renewalChangeRequestId": self.request.id}
        if contract_id is None:
            number = await renewal_changes.latest_contract_number(self.session, group_id)
            prefix = number.rsplit("-", 1)[0] if number else f"C{group_id}"
            ends_on = year_after(self.effective) - timedelta(days=1)
            contract_id = await renewal_changes.add_contract(
                self.session,
                group_id=group_id,
                contract_number=f"{prefix}-{year}",
                plan_year=year,
                start_date=self.effective,
                end_date=ends_on,
                now=self.context.now,
            )
            action, missing = "contract.recorded", sorted(plans)
            after |= {
                "contractNumber": f"{prefix}-{year}",
                "planYear": year,
                "startDate": self.effective.isoformat(),
                "endDate": ends_on.isoformat(),
            }
        else:
            recorded = await renewal_changes.contract_plans(self.session, contract_id)
            action, missing = "contract.plans_added", sorted(plans - recorded)
            if not missing:
                return
        renewal_changes.add_contract_plans(self.session, contract_id, missing)
        audit.record(
            self.session,
            self.context.actor,
            action=action,
            target_type="contract",
            target_id=contract_id,
            group_id=group_id,
            now=self.context.now,
            after=after | {"planIds": missing},
        )
        await self.session.flush()

    async def enrollments(self) -> None:
        for index in self.parts.applied("enrollments"):
            enrollment = self.parts.enrollments[index]
            part = f"enrollments[{index}]"
            try:
                if enrollment.subscriber_id is None:
                    await self._new_family(enrollment)
                else:
                    await self._join_family(part, enrollment)
            except Refused as refused:
                self.errors += refused.errors

    async def _new_family(self, enrollment: CheckedEnrollment) -> None:
        assert enrollment.plan_id is not None
        assert enrollment.tier is not None
        await submit_people(
            self.context,
            self.session,
            kind=EnrollmentKind.SUBSCRIBER,
            group_id=self.request.group_id,
            people=enrollment.people,
            payload={
                "divisionId": enrollment.division_id,
                "planId": enrollment.plan_id,
                "tier": enrollment.tier.value,
                "effectiveDate": self.effective.isoformat(),
            },
            subscriber=None,
            batch_row_id=None,
        )

    async def _join_family(self, part: str, enrollment: CheckedEnrollment) -> None:
        assert enrollment.subscriber_id is not None
        head = await member_changes.member_for_update(self.session, enrollment.subscriber_id)
        assert head is not None
        family = await member_changes.dependents_for_update(self.session, head.id)
        spans = await member_changes.newest_coverages_for_update(
            self.session, [head.id, *(person.id for person in family)]
        )
        own = spans.get(head.id)
        if head.status != MemberStatus.ACTIVE or own is None or not in_force(own, self.effective):
            self._refuse(part, f"the subscriber has no coverage on {self.effective} any more")
            return
        partners = sum(
            1
            for member in family
            if member.relationship in enrollment_rules.PARTNERS
            and in_force(spans.get(member.id), self.effective)
        )
        problems = enrollment_rules.family_errors(
            enrollment.people, self.effective, partners_covered=partners
        )
        if problems:
            self.errors += [
                FieldError(p.field, f"no longer holds: {p.message}", ErrorCode.CONFLICT)
                for p in problems
            ]
            return
        for person in enrollment.people:
            await submit_people(
                self.context,
                self.session,
                kind=EnrollmentKind.DEPENDENT,
                group_id=head.group_id,
                people=[person],
                payload={
                    "subscriberId": head.id,
                    "divisionId": head.division_id,
                    "planId": own.plan_id,
                    "effectiveDate": self.effective.isoformat(),
                },
                subscriber=head,
                batch_row_id=None,
            )


def year_after(day: date) -> date:
    """The same day a year later; 29 February's anniversary is 1 March."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 3, 1)
