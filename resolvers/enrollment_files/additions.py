"""ADD rows of a batch file, through the enrollment use cases (`resolvers.enrollment`): the same
validation, matching against the carrier's records and manual-review queue as `memberEnroll`
and `dependentAdd`, with the uploader as the actor.

- **A family**: a subscriber's ADD row and the dependents' ADD rows right after it with the
  same `subscriber_key`. It is submitted whole, as one `enroll` (one enrollment request, tied
  to the subscriber's row): the tier on the subscriber's row is checked against the family the
  rows make, and the family is enrolled, waits for review, or is refused together — never a
  subscriber enrolled at a tier its dependents do not fill, never dependents without their
  subscriber. A dependent's row may repeat the family's plan code, tier and effective date;
  if it gives others it is refused, with its family.
- **A family member added to a subscriber the group already has**: a dependent's ADD row that
  does not follow its subscriber's row, its `subscriber_key` naming a subscriber of the group
  (a member number, or the SSN of one enrolled before — in an earlier file, or earlier in this
  one). It goes through `add_dependent`: the family's plan, and the tier the family's covered
  members make.

Every row gets a result: PROCESSED with its member, PENDING_REVIEW (the request waits for a
membership representative; it is tied to the row that made it), or REJECTED with the field,
in the file's terms, and the message. The rows of a family refused for another row's fault say
which row. Address, phone and e-mail on an ADD row are checked and stored as `memberUpdate`
does (a request waiting for review keeps them for when it is enrolled).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from authz.access import AccessMap, Scope
from authz.privileges import Privilege
from data import enrollment_batches, member_changes
from data.audit import Actor
from data.enrollment_batches import RowResult
from data.models.enrollment import BatchRowAction, BatchRowOutcome
from data.models.members import Member, MemberStatus, Relationship
from data.normalize import is_ssn, ssn_hash
from resolvers.context import Context
from resolvers.enrollment import (
    DependentInput,
    EnrollmentInput,
    EnrollmentResult,
    Outcome,
    PersonInput,
    add_dependent,
    enroll,
)
from resolvers.enrollment import rules as enrollment_rules
from resolvers.enrollment.writes import in_force
from resolvers.enrollment_files.records import ParsedRow, PersonRow
from resolvers.errors import ErrorCode, FieldError, Refused
from resolvers.member_changes import AddressChange, MemberChange

WAITING = (
    "waits for a membership representative's review (target: 2 business days): it could not "
    "be matched with certainty against the carrier's records"
)
BROKE_A_RULE = "the enrollment breaks a rule of the member records; nothing of it was applied"

# The enrollment use cases' field names → the person record's (the CSV's columns).
_RECORD_FIELD = {
    "firstName": "first_name",
    "middleName": "middle_name",
    "lastName": "last_name",
    "birthDate": "birth_date",
    "sex": "sex",
    "ssn": "ssn",
    "relationship": "relationship",
    "medicare": "relationship",
    "tier": "tier",
    "planId": "plan_code",
    "effectiveDate": "effective_date",
    "subscriberId": "subscriber_key",
    "groupId": "group_number",
    "divisionId": "division_code",
    "dependents": "subscriber_key",
    "address.line1": "address_line1",
    "address.line2": "address_line2",
    "address.city": "city",
    "address.state": "state",
    "address.postalCode": "postal_code",
    "phone": "phone",
    "email": "email",
}
_PERSON_PATH = re.compile(r"(subscriber|dependent|dependents\[(\d+)\])(?:\.(.+))?")


@dataclass
class BatchContext(Context):
    """The uploader acting through its batch. The authority for every row is ENROLLMENT_BATCH
    over the batch's group, checked when the file was sent (a file sent from the command line
    has no user: the operator's request id names it in the audit log)."""

    group_id: int = 0
    batch_actor: Actor = field(default_factory=lambda: Actor(None, "", None))

    @cached_property
    def access(self) -> AccessMap:
        return AccessMap(
            held=[(Scope(group_id=self.group_id), frozenset({Privilege.ENROLLMENT_BATCH}))]
        )

    @property
    def actor(self) -> Actor:
        return self.batch_actor


@dataclass(frozen=True, slots=True)
class Additions:
    """What the ADD rows of one chunk share: its session, context, and the plans its rows name."""

    session: AsyncSession
    context: BatchContext
    batch_id: int
    group_number: str
    plan_ids: dict[str, int]
    division_ids: dict[str, int]  # the group's divisions the chunk's rows name, by code
    # The records reserved for the rows that make an enrollment request (row number → id).
    row_ids: dict[int, int]
    # How a field is named in the file (a CSV column, or an 834 segment and element).
    file_field: dict[str, str]

    def named(self, record_field: str | None) -> str | None:
        return None if record_field is None else self.file_field.get(record_field, record_field)


def starts_family(row: ParsedRow) -> bool:
    return (
        isinstance(row, PersonRow)
        and row.action == BatchRowAction.ADD
        and row.relationship == Relationship.SUBSCRIBER
    )


def continues_family(head: ParsedRow, row: ParsedRow) -> bool:
    """Whether `row` belongs to the family whose subscriber's row is `head`."""
    return (
        starts_family(head)
        and isinstance(head, PersonRow)
        and isinstance(row, PersonRow)
        and row.action == BatchRowAction.ADD
        and row.relationship != Relationship.SUBSCRIBER
        and row.subscriber_key == head.subscriber_key
    )


async def add_family(adding: Additions, rows: list[PersonRow]) -> list[RowResult]:
    """A new subscriber's row and its dependents' rows, enrolled (or refused) together."""
    head, *dependents = rows
    row_id = adding.row_ids[head.row_number]
    errors: list[tuple[int, str | None, str]] = []  # (index of the row, field, message)
    for index, row in enumerate(rows):
        if problem := _other_group(adding, row):
            errors.append((index, *problem))
    plan_id = None
    if head.plan_code is not None:
        plan_id = adding.plan_ids.get(head.plan_code)
        if plan_id is None:
            errors.append((0, "plan_code", f"no plan has the code {head.plan_code[:32]}"))
    division_id = None
    if head.division_code is not None:
        division_id = adding.division_ids.get(head.division_code)
        if division_id is None:
            errors.append((0, "division_code", f"no division {head.division_code} in this group"))
    for index, row in enumerate(dependents, 1):
        for name, stated, family in (
            ("plan_code", row.plan_code, head.plan_code),
            ("tier", row.tier, head.tier),
            ("effective_date", row.effective_date, head.effective_date),
            ("division_code", row.division_code, head.division_code),
        ):
            if stated is not None and stated != family:
                errors.append(
                    (index, name, f"is not its family's (row {head.row_number}): {family}")
                )
    if errors:
        return _family_refused(adding, rows, errors, row_id)
    given = EnrollmentInput(
        group_id=adding.context.group_id,
        subscriber=_person(head),
        dependents=tuple(_person(row) for row in dependents),
        plan_id=plan_id,
        tier=head.tier,
        effective_date=head.effective_date,
        division_id=division_id,
    )
    try:
        # A REJECTED enrollment wrote nothing; the SAVEPOINT undoes a write that broke anyway.
        async with adding.session.begin_nested():
            result = await enroll(adding.context, adding.session, given, batch_row_id=row_id)
    except IntegrityError:
        return _family_refused(adding, rows, [(0, None, BROKE_A_RULE)], row_id)
    return _family_results(adding, rows, result, row_id)


async def add_to_subscriber(adding: Additions, row: PersonRow) -> RowResult:
    """A dependent's row added to a subscriber the group has (`dependentAdd`)."""
    session = adding.session
    row_id = adding.row_ids[row.row_number]
    try:
        if problem := _other_group(adding, row):
            raise Refused.on("groupId", problem[1])
        async with session.begin_nested():
            head = await _subscriber(adding, row)
            _check_family_division(adding, row, head)
            await _check_family_terms(adding, row, head)
            given = DependentInput(head.id, _person(row), row.effective_date)
            result = await add_dependent(adding.context, session, given, batch_row_id=row_id)
            if result.outcome == Outcome.PROCESSED:
                await _check_tier(adding, row, result.member_ids[0])
            if result.outcome == Outcome.REJECTED:
                raise Refused(*result.errors)
    except IntegrityError:
        return _result(row, BatchRowOutcome.REJECTED, None, BROKE_A_RULE, None, row_id)
    except Refused as refused:
        [(_, name, message), *others] = _row_errors(refused.errors)
        message += "".join(f"; {adding.named(other) or 'row'}: {text}" for _, other, text in others)
        return _result(row, BatchRowOutcome.REJECTED, adding.named(name), message, None, row_id)
    if result.outcome == Outcome.PENDING_REVIEW:
        return _result(row, BatchRowOutcome.PENDING_REVIEW, None, WAITING, None, row_id)
    return _result(row, BatchRowOutcome.PROCESSED, None, None, result.member_ids[0], row_id)


async def _subscriber(adding: Additions, row: PersonRow) -> Member:
    key = row.subscriber_key
    by_ssn = is_ssn(key)
    head = await enrollment_batches.subscriber_for_update(
        adding.session,
        adding.context.group_id,
        member_number=None if by_ssn else key,
        ssn_hash=ssn_hash(key, adding.context.secret_key) if by_ssn else None,
    )
    if head is None:
        raise Refused.on(
            "subscriberId",
            "no such subscriber in this group (a subscriber this file adds must come right "
            "before its dependents' rows; one waiting for review has no members yet)",
            ErrorCode.NOT_FOUND,
        )
    return head


def _check_family_division(adding: Additions, row: PersonRow, head: Member) -> None:
    """A division code on a family member's row must be the family's: dependents follow it."""
    if row.division_code is not None and adding.division_ids.get(row.division_code) != (
        head.division_id
    ):
        raise Refused.on(
            "divisionId",
            "is not the family's division: a family member is in its subscriber's",
            ErrorCode.INVALID,
        )


async def _check_family_terms(adding: Additions, row: PersonRow, head: Member) -> None:
    """A plan code or tier on a family member's row must be the family's: they follow it."""
    if row.plan_code is None and row.tier is None:
        return
    family = await member_changes.dependents_for_update(adding.session, head.id)
    spans = await member_changes.newest_coverages_for_update(
        adding.session, [head.id, *(member.id for member in family)]
    )
    own = spans.get(head.id)
    if own is None or head.status != MemberStatus.ACTIVE:
        return  # add_dependent refuses it, saying why
    errors = []
    if row.plan_code is not None and adding.plan_ids.get(row.plan_code) != own.plan_id:
        errors.append(
            FieldError(
                "planId",
                "is not the family's plan: a family member takes the family's",
                ErrorCode.INVALID,
            )
        )
    if row.tier is not None and row.effective_date is not None:
        covered = [m for m in family if in_force(spans.get(m.id), row.effective_date)]
        tier = enrollment_rules.tier_of([*(m.relationship for m in covered), row.relationship])
        if tier != row.tier:
            errors.append(
                FieldError(
                    "tier",
                    f"the family's tier with this member would be {tier.value}",
                    ErrorCode.INVALID,
                )
            )
    if errors:
        raise Refused(*errors)


async def _check_tier(adding: Additions, row: PersonRow, member_id: int) -> None:
    """The tier the family took, against the one the row gave (if any)."""
    if row.tier is None:
        return
    spans = await member_changes.newest_coverages_for_update(adding.session, [member_id])
    if spans[member_id].tier != row.tier:
        raise Refused.on(
            "tier", f"the family's tier with this member is {spans[member_id].tier.value}"
        )


def _other_group(adding: Additions, row: PersonRow) -> tuple[str, str] | None:
    if row.group_number is None or row.group_number == adding.group_number:
        return None
    return "group_number", (
        f"the row is for group {row.group_number[:16]}; the file was sent for group "
        f"{adding.group_number}"
    )


def _person(row: PersonRow) -> PersonInput:
    return PersonInput(
        first_name=row.first_name,
        last_name=row.last_name,
        birth_date=row.birth_date,
        sex=row.sex,
        ssn=row.ssn,
        middle_name=row.middle_name,
        relationship=None if row.relationship == Relationship.SUBSCRIBER else row.relationship,
        is_disabled=bool(row.is_disabled),
        contact=_contact(row) if _has_contact(row) else None,
    )


def _has_contact(row: PersonRow) -> bool:
    return row.address is not None or row.phone is not None or row.email is not None


def _contact(row: PersonRow) -> MemberChange:
    address = row.address
    return MemberChange(
        address=None
        if address is None
        else AddressChange(
            address.line1, address.line2, address.city, address.state, address.postal_code
        ),
        phone=row.phone,
        email=row.email,
    )


def _record_field(path: str | None) -> str | None:
    """A use case's field path, without the person it is about, as the record names it."""
    if path is None:
        return None
    found = _PERSON_PATH.fullmatch(path)
    name = path if found is None else found.group(3)
    return None if name is None else _RECORD_FIELD.get(name, name)


RowErrors = list[tuple[int, str | None, str]]  # (index of the row in its family, field, message)


def _row_errors(errors: Sequence[FieldError]) -> RowErrors:
    """Each use-case error as (row of the family, record field, message): `subscriber.*` and
    the family's own fields are the subscriber's row, `dependents[i].*` the i-th dependent's."""
    found = []
    for error in errors:
        index = 0
        message = error.message
        person = None if error.field is None else _PERSON_PATH.fullmatch(error.field)
        if person is not None:
            if person.group(2) is not None:
                index = int(person.group(2)) + 1
            if person.group(3) is None:  # the person as a whole (already enrolled, ...)
                message = f"the person {message}"
        found.append((index, _record_field(error.field), message))
    return found


def _family_refused(
    adding: Additions,
    rows: list[PersonRow],
    errors: list[tuple[int, str | None, str]],
    row_id: int,
) -> list[RowResult]:
    """Every row of a refused family REJECTED: its own faults, or the row that refused it."""
    own: dict[int, list[tuple[str | None, str]]] = {}
    for index, name, message in errors:
        own.setdefault(index, []).append((adding.named(name), message))
    first_index = min(own)
    blamed = rows[first_index].row_number
    results = []
    for index, row in enumerate(rows):
        reserved = row_id if index == 0 else None
        if index in own:
            (name, message), *others = own[index]
            message += "".join(f"; {other or 'row'}: {text}" for other, text in others)
            results.append(_result(row, BatchRowOutcome.REJECTED, name, message, None, reserved))
        else:
            message = f"not enrolled: its family was refused (row {blamed})"
            results.append(_result(row, BatchRowOutcome.REJECTED, None, message, None, reserved))
    return results


def _family_results(
    adding: Additions, rows: list[PersonRow], result: EnrollmentResult, row_id: int
) -> list[RowResult]:
    if result.outcome == Outcome.REJECTED:
        return _family_refused(adding, rows, _row_errors(result.errors), row_id)
    if result.outcome == Outcome.PENDING_REVIEW:
        head = rows[0].row_number
        return [
            _result(
                row,
                BatchRowOutcome.PENDING_REVIEW,
                None,
                WAITING if index == 0 else f"waits with its family's request (row {head})",
                None,
                row_id if index == 0 else None,
            )
            for index, row in enumerate(rows)
        ]
    return [
        _result(row, BatchRowOutcome.PROCESSED, None, None, member, row_id if index == 0 else None)
        for index, (row, member) in enumerate(zip(rows, result.member_ids, strict=True))
    ]


def _result(
    row: PersonRow,
    outcome: BatchRowOutcome,
    name: str | None,
    message: str | None,
    member_id: int | None,
    row_id: int | None,
) -> RowResult:
    return RowResult(row.row_number, row.action, outcome, name, message, member_id, row_id)
