"""`renewalChangesSubmit`: plan changes, enrollments and terminations, validated as a whole.

Every part is checked and every error collected before anything is written; one error refuses
the whole submission. Enrollments are checked as `memberEnroll` and `dependentAdd` check them
(`resolvers.enrollment.rules`), dated the renewal effective date, on a plan offered at renewal.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from authz.privileges import Privilege
from data import audit, member_changes, renewal_changes
from data.groups import GroupRecord
from data.models.members import Coverage, Member, MemberStatus, Relationship
from data.models.renewals import OfferKind
from resolvers import groups, renewals
from resolvers.context import Context
from resolvers.enrollment import PersonInput
from resolvers.enrollment import rules as enrollment_rules
from resolvers.enrollment.enroll import MAX_DEPENDENTS, matches_of, refuse_active_links
from resolvers.enrollment.model import Person
from resolvers.enrollment.writes import in_force
from resolvers.errors import ErrorCode, FieldError, Refused
from resolvers.member_changes import TerminationReason, reason_error
from resolvers.renewal_changes.parts import (
    ChangesInput,
    CheckedEnrollment,
    Parts,
    PlanChangeInput,
    RenewalEnrollmentInput,
    TerminationInput,
)
from resolvers.renewals import RenewalView

MAX_PARTS = 200  # of each kind: a larger change goes through an enrollment batch file


async def open_renewal(
    context: Context, group_id: int | None, privilege: Privilege
) -> tuple[GroupRecord, RenewalView]:
    """The caller's group with its renewal, if it holds `privilege` over the whole group and the
    renewal is prepared and open; else refused on `groupId`."""
    group = await groups.visible_group(context, group_id, "groupId")
    if not context.access.allows(privilege, group.id):
        raise Refused.on("groupId", f"needs {privilege.value}", ErrorCode.FORBIDDEN)
    renewal = await renewals.renewal_of(context, group)
    if renewal.renewal_id is None:
        raise Refused.on(
            "groupId", "no renewal offer is prepared for this group yet", ErrorCode.RENEWAL_NOT_OPEN
        )
    if renewal.today < renewal.opens_on:
        raise Refused.on(
            "groupId", f"the renewal opens on {renewal.opens_on}", ErrorCode.RENEWAL_NOT_OPEN
        )
    if renewal.today > renewal.closes_on:
        raise Refused.on(
            "groupId", f"the renewal closed on {renewal.closes_on}", ErrorCode.RENEWAL_NOT_OPEN
        )
    return group, renewal


async def submit(context: Context, given: ChangesInput) -> int:
    """Store the whole submission as one SUBMITTED request (its id), or refuse it whole."""
    context.signed_in()
    group, renewal = await open_renewal(context, given.group_id, Privilege.RENEWAL_SUBMIT)
    assert renewal.renewal_id is not None
    if not (given.plan_changes or given.enrollments or given.terminations):
        raise Refused.on(
            None,
            "give at least one plan change, enrollment or termination: a group that changes "
            "nothing renews on its current plans",
            ErrorCode.REQUIRED,
        )
    errors = [
        FieldError(kind, f"at most {MAX_PARTS} at a time", ErrorCode.INVALID)
        for kind, parts in (
            ("planChanges", given.plan_changes),
            ("enrollments", given.enrollments),
            ("terminations", given.terminations),
        )
        if len(parts) > MAX_PARTS
    ]
    if errors:
        raise Refused(*errors)
    offered = {
        option.plan_id: option.kind for option in await renewals.offered_options(context, renewal)
    }
    async with context.transaction() as session:
        await renewal_changes.lock_renewal(session, renewal.renewal_id)
        if await renewal_changes.active_request(session, renewal.renewal_id) is not None:
            raise Refused.on(
                "groupId",
                "a change request for this renewal is already submitted, in review or "
                "confirmed; it can be submitted again only after a rejection",
                ErrorCode.CONFLICT,
            )
        parts = await Checker(context, session, group, renewal.effective_date, offered).check(given)
        request = await renewal_changes.add_request(
            session,
            renewal_id=renewal.renewal_id,
            payload=parts.to_json(),
            user_id=context.actor.user_id,
            now=context.now,
        )
        renewal_changes.add_event(
            session,
            request.id,
            request.status,
            reasons=None,
            user_id=context.actor.user_id,
            now=context.now,
        )
        audit.record(
            session,
            context.actor,
            action="renewal_change.submitted",
            target_type="renewal_change_request",
            target_id=request.id,
            group_id=group.id,
            now=context.now,
            after={
                "effectiveDate": renewal.effective_date.isoformat(),
                "planChanges": len(parts.plan_changes),
                "enrollments": len(parts.enrollments),
                "terminations": len(parts.terminations),
            },
        )
        return request.id


class Checker:
    """The checks of one submission, every error collected in `errors`."""

    def __init__(
        self,
        context: Context,
        session: AsyncSession,
        group: GroupRecord,
        effective: date,
        offered: dict[int, OfferKind],
    ) -> None:
        self.context = context
        self.session = session
        self.group = group
        self.effective = effective
        self.offered = offered
        self.errors: list[FieldError] = []

    def _error(self, field: str | None, message: str, code: ErrorCode = ErrorCode.INVALID) -> None:
        self.errors.append(FieldError(field, message, code))

    async def check(self, given: ChangesInput) -> Parts:
        plan_changes = self.plan_changes(given.plan_changes)
        moved_away = {from_id: index for index, (from_id, _) in enumerate(plan_changes) if from_id}
        terminations, ended = await self.terminations(given.terminations)
        enrollments = await self.enrollments(given.enrollments, moved_away, ended)
        if self.errors:
            raise Refused(*self.errors)
        return Parts(
            effective_date=self.effective,
            plan_changes=[(f, t) for f, t in plan_changes if f is not None and t is not None],
            enrollments=[e for e in enrollments if e is not None],
            terminations=[t for t in terminations if t is not None],
        )

    def plan_changes(
        self, given: tuple[PlanChangeInput, ...]
    ) -> list[tuple[int | None, int | None]]:
        """Each change as (from, to); None where refused."""
        found: list[tuple[int | None, int | None]] = []
        sources: dict[int, int] = {}
        for index, change in enumerate(given):
            path = f"planChanges[{index}]"
            from_id, to_id = change.from_plan_id, change.to_plan_id
            if from_id is None or self.offered.get(from_id) != OfferKind.CURRENT:
                self._error(
                    f"{path}.fromPlanId",
                    "not one of the group's current plans offered at renewal",
                    ErrorCode.NOT_FOUND,
                )
                from_id = None
            elif from_id in sources:
                self._error(
                    f"{path}.fromPlanId", f"already changed by planChanges[{sources[from_id]}]"
                )
                from_id = None
            else:
                sources[from_id] = index
            if to_id is None or to_id not in self.offered:
                self._error(
                    f"{path}.toPlanId",
                    "not a plan offered to this group at renewal",
                    ErrorCode.NOT_FOUND,
                )
                to_id = None
            elif to_id == change.from_plan_id:
                self._error(f"{path}.toPlanId", "the same plan as fromPlanId")
                to_id = None
            found.append((from_id, to_id))
        for index, (_, to_id) in enumerate(found):
            if to_id is not None and to_id in sources:
                self._error(
                    f"planChanges[{index}].toPlanId",
                    f"is itself changed by planChanges[{sources[to_id]}]: name the final plan",
                )
        return found

    async def terminations(
        self, given: tuple[TerminationInput, ...]
    ) -> tuple[list[tuple[int, TerminationReason] | None], set[int]]:
        """Each termination (None where refused), and every member whose coverage it ends."""
        ids = [t.member_id for t in given if t.member_id is not None]
        found_rows = await renewal_changes.members_for_update(self.session, self.group.id, ids)
        rows = {row.id: row for row in found_rows}
        heads = [row.id for row in rows.values() if row.relationship == Relationship.SUBSCRIBER]
        families = await renewal_changes.dependents_for_update(self.session, heads)
        spans = await member_changes.newest_coverages_for_update(self.session, list(rows))
        named: dict[int, int] = {}
        found: list[tuple[int, TerminationReason] | None] = []
        for index, termination in enumerate(given):
            path = f"terminations[{index}]"
            row = None if termination.member_id is None else rows.get(termination.member_id)
            if row is None:
                self._error(f"{path}.memberId", "no such member in this group", ErrorCode.NOT_FOUND)
                found.append(None)
                continue
            problems = len(self.errors)
            if row.id in named:
                self._error(f"{path}.memberId", f"already named by terminations[{named[row.id]}]")
            named.setdefault(row.id, index)
            self.coverage_ends(f"{path}.memberId", row, spans.get(row.id))
            if (problem := reason_error(termination.reason, row.relationship)) is not None:
                self._error(f"{path}.reason", problem)
            found.append(None if len(self.errors) > problems else (row.id, termination.reason))
        ended = set(named)
        for head in heads:
            if head in named:
                ended |= {dependent.id for dependent in families[head]}
        for index, termination in enumerate(given):
            row = None if termination.member_id is None else rows.get(termination.member_id)
            if row is not None and row.subscriber_id in named:
                self._error(
                    f"terminations[{index}].memberId",
                    f"ends with its subscriber (terminations[{named[row.subscriber_id]}])",
                )
                found[index] = None
        return found, ended

    def coverage_ends(self, path: str, row: Member, span: Coverage | None) -> None:
        """A termination needs coverage on the renewal date that began before it."""
        if row.status != MemberStatus.ACTIVE or not in_force(span, self.effective):
            self._error(path, f"has no coverage on the renewal date ({self.effective})")
        elif span is not None and span.effective_date >= self.effective:
            self._error(
                path, "its coverage begins on the renewal date: it cannot end the day before"
            )

    async def enrollments(
        self,
        given: tuple[RenewalEnrollmentInput, ...],
        moved_away: dict[int, int],
        ended: set[int],
    ) -> list[CheckedEnrollment | None]:
        found: list[CheckedEnrollment | None] = []
        for index, enrollment in enumerate(given):
            path = f"enrollments[{index}]"
            problems = len(self.errors)
            if enrollment.subscriber is not None and enrollment.subscriber_id is not None:
                self._error(
                    path,
                    "give subscriber (a new family) or subscriberId (an existing one), not both",
                )
                checked = None
            elif enrollment.subscriber is not None:
                checked = await self.new_family(path, enrollment, enrollment.subscriber, moved_away)
            elif enrollment.subscriber_id is not None:
                checked = await self.joining_family(
                    path, enrollment, enrollment.subscriber_id, ended
                )
            else:
                self._error(
                    f"{path}.subscriber",
                    "give subscriber (a new family) or subscriberId (an existing one)",
                    ErrorCode.REQUIRED,
                )
                checked = None
            found.append(None if len(self.errors) > problems else checked)
        people = [person for checked in found if checked for person in checked.people]
        if people:
            matches = await matches_of(self.session, people, self.group.id)
            try:
                refuse_active_links(people, [m.linked for m in matches], self.group.id)
            except Refused as refused:
                self.errors += refused.errors
        return found

    def _people(
        self, path: str, given: tuple[PersonInput, ...], head: PersonInput | None
    ) -> list[Person | None]:
        found: list[Person | None] = []
        if head is not None:
            found.append(self._person(head, f"{path}.subscriber", subscriber=True))
        if len(given) > MAX_DEPENDENTS:
            self._error(f"{path}.dependents", f"at most {MAX_DEPENDENTS} at a time")
        for number, person in enumerate(given):
            found.append(self._person(person, f"{path}.dependents[{number}]", subscriber=False))
        return found

    def _person(self, given: PersonInput, path: str, *, subscriber: bool) -> Person | None:
        return enrollment_rules.person(
            given,
            path,
            subscriber=subscriber,
            today=self.context.today,
            effective_date=self.effective,
            secret_key=self.context.secret_key,
            errors=self.errors,
        )

    async def new_family(
        self,
        path: str,
        given: RenewalEnrollmentInput,
        subscriber: PersonInput,
        moved_away: dict[int, int],
    ) -> CheckedEnrollment | None:
        division_id = None
        try:
            division = await groups.division_of(
                self.context, self.group.id, given.division_id, f"{path}.divisionId"
            )
            division_id = None if division is None else division.id
        except Refused as refused:
            self.errors += refused.errors
        people = self._people(path, given.dependents, subscriber)
        dependents = [person for person in people[1:] if person is not None]
        if given.tier is None:
            self._error(f"{path}.tier", "required", ErrorCode.REQUIRED)
        elif None not in people and (
            problem := enrollment_rules.tier_error(given.tier, dependents)
        ):
            self._error(f"{path}.tier", problem.message)
        self.errors += enrollment_rules.family_errors(dependents, self.effective)
        plan_id = given.plan_id
        if plan_id is None or plan_id not in self.offered:
            self._error(
                f"{path}.planId", "not a plan offered to this group at renewal", ErrorCode.NOT_FOUND
            )
        elif plan_id in moved_away:
            self._error(
                f"{path}.planId",
                f"this plan is changed to another by planChanges[{moved_away[plan_id]}]",
            )
        return CheckedEnrollment(
            subscriber_id=None,
            division_id=division_id,
            plan_id=plan_id,
            tier=given.tier,
            people=[person for person in people if person is not None],
        )

    async def joining_family(
        self, path: str, given: RenewalEnrollmentInput, subscriber_id: int, ended: set[int]
    ) -> CheckedEnrollment | None:
        for name, value in (
            ("planId", given.plan_id),
            ("tier", given.tier),
            ("divisionId", given.division_id),
        ):
            if value is not None:
                self._error(f"{path}.{name}", "follows the subscriber's family: leave it out")
        found = await renewal_changes.members_for_update(
            self.session, self.group.id, [subscriber_id]
        )
        head = found[0] if found else None
        if head is None:
            self._error(f"{path}.subscriberId", "no such member in this group", ErrorCode.NOT_FOUND)
            return None
        if head.relationship != Relationship.SUBSCRIBER:
            self._error(
                f"{path}.subscriberId", "not a subscriber: add family members to the employee"
            )
            return None
        if head.id in ended:
            self._error(
                f"{path}.subscriberId",
                "this subscriber's coverage is terminated by this submission",
            )
        family = await member_changes.dependents_for_update(self.session, head.id)
        spans = await member_changes.newest_coverages_for_update(
            self.session, [head.id, *(person.id for person in family)]
        )
        if head.status != MemberStatus.ACTIVE or not in_force(spans.get(head.id), self.effective):
            self._error(
                f"{path}.subscriberId", f"the subscriber has no coverage on {self.effective}"
            )
        if not given.dependents:
            self._error(f"{path}.dependents", "name at least one family member", ErrorCode.REQUIRED)
        people = self._people(path, given.dependents, None)
        partners = sum(
            1
            for member in family
            if member.relationship in enrollment_rules.PARTNERS
            and member.id not in ended
            and in_force(spans.get(member.id), self.effective)
        )
        checked = [person for person in people if person is not None]
        self.errors += enrollment_rules.family_errors(
            checked, self.effective, partners_covered=partners
        )
        return CheckedEnrollment(
            subscriber_id=head.id,
            division_id=head.division_id,
            plan_id=None,
            tier=None,
            people=checked,
        )
