"""Applying one row of a batch file, in the batch's unit of work, each row in a SAVEPOINT: a
row refused or gone wrong is undone alone, and every row gets one result.

CHANGE and TERMINATE go through the same use cases as the GraphQL mutations
(`resolvers.member_changes.apply_update` / `apply_termination`), so a file obeys the same
rules. ADD rows go to `add_members`, the single dispatch point for new enrollments (see
`additions`: a new subscriber's row and its dependents' rows after it are one family).

Members are looked up inside the batch's group only: a member number or SSN of another group
is "not found", exactly like one that does not exist. The uploader's ENROLLMENT_BATCH over the
whole group, checked at upload, is the authority for every row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from authz.enforcement import PolicyStore
from data import enrollment_batches
from data.audit import Actor
from data.database import Database
from data.enrollment_batches import RowResult
from data.models.enrollment import BatchFormat, BatchRowAction, BatchRowOutcome
from data.models.members import Member, Relationship
from data.normalize import is_ssn, name_key, ssn_hash
from resolvers.enrollment_files.additions import (
    Additions,
    BatchContext,
    add_family,
    add_to_subscriber,
    continues_family,
    starts_family,
)
from resolvers.enrollment_files.records import ParsedRow, PersonRow, RowProblem
from resolvers.enrollment_files.x12_834 import FIELDS as X12_FIELDS
from resolvers.errors import ErrorCode, FieldError, Refused
from resolvers.member_changes import (
    AddressChange,
    MemberChange,
    TerminationReason,
    apply_termination,
    apply_update,
)


@dataclass(frozen=True, slots=True)
class BatchScope:
    """What every row of one batch shares."""

    batch_id: int
    group_id: int
    group_number: str
    format: BatchFormat
    actor: Actor
    secret_key: bytes
    database: Database
    # Never asked: a batch's authority is the one checked at upload (see `BatchContext`).
    policy: PolicyStore


# The use cases' field names → the person record's (which are the CSV's columns).
_RECORD_FIELD = {
    "firstName": "first_name",
    "middleName": "middle_name",
    "lastName": "last_name",
    "birthDate": "birth_date",
    "sex": "sex",
    "address.line1": "address_line1",
    "address.line2": "address_line2",
    "address.city": "city",
    "address.state": "state",
    "address.postalCode": "postal_code",
    "phone": "phone",
    "email": "email",
    "isDisabled": "disabled",
    "terminationDate": "termination_date",
    "reason": "termination_reason",
    "memberId": "member_number",
}
# Coverage values: a CHANGE row changes demographics only.
_NOT_CHANGED_BY_FILE = (
    "plan_code",
    "tier",
    "effective_date",
    "termination_date",
    "termination_reason",
)


def file_field(scope: BatchScope, field: str | None) -> str | None:
    """A field as the file names it: a CSV column, or an 834 segment and element."""
    if field is None:
        return None
    name = _RECORD_FIELD.get(field, field)
    return X12_FIELDS.get(name, name) if scope.format == BatchFormat.X12_834 else name


async def apply_row(
    session: AsyncSession, scope: BatchScope, row: ParsedRow, now: datetime
) -> RowResult:
    if isinstance(row, RowProblem):
        return RowResult(
            row.row_number, row.action, BatchRowOutcome.REJECTED, row.field, row.message, None
        )
    if row.group_number is not None and row.group_number != scope.group_number:
        return _rejected(
            scope,
            row,
            Refused.on(
                "group_number",
                f"the row is for group {row.group_number[:16]}; the file was sent for group "
                f"{scope.group_number}",
            ),
        )
    assert row.action != BatchRowAction.ADD, "ADD rows go to add_members"
    member_id = None
    try:
        async with session.begin_nested():
            member = await _member_of(session, scope, row)
            member_id = member.id
            _check_identity(scope, row, member)
            if row.action == BatchRowAction.CHANGE:
                apply_update(session, member, _change(row), actor=scope.actor, now=now)
            else:
                reason = row.termination_reason or _default_reason(member.relationship)
                await apply_termination(
                    session, member, row.termination_date, reason, actor=scope.actor, now=now
                )
    except Refused as refused:
        if all(error.code == ErrorCode.ALREADY_DONE for error in refused.errors):
            message = f"nothing changed: {refused.errors[0].message}"
            return RowResult(
                row.row_number, row.action, BatchRowOutcome.PROCESSED, None, message, member_id
            )
        return _rejected(scope, row, refused, member_id)
    except IntegrityError:
        # A rule of the records that no check above foresaw: the SAVEPOINT undid the row's
        # change, and the row says so instead of stopping the file.
        message = "the change breaks a rule of the member records; nothing of it was applied"
        return RowResult(
            row.row_number, row.action, BatchRowOutcome.REJECTED, None, message, member_id
        )
    return RowResult(row.row_number, row.action, BatchRowOutcome.PROCESSED, None, None, member_id)


def chunks(rows: Iterator[ParsedRow], size: int) -> Iterator[list[ParsedRow]]:
    """The rows in chunks of `size`, a chunk longer where a family would straddle its end: a
    family is enrolled whole, in one transaction, so the rows recorded stay a prefix."""
    chunk: list[ParsedRow] = []
    head: ParsedRow | None = None
    for row in rows:
        if len(chunk) >= size and not (head is not None and continues_family(head, row)):
            yield chunk
            chunk = []
        if starts_family(row):
            head = row
        elif head is not None and not continues_family(head, row):
            head = None
        chunk.append(row)
    if chunk:
        yield chunk


async def apply_rows(
    session: AsyncSession, scope: BatchScope, rows: list[ParsedRow], now: datetime
) -> list[RowResult]:
    """A chunk's rows in file order, each with its result."""
    units = list(_units(rows))
    adding = None
    if any(isinstance(unit, list) for unit in units):
        adding = await _additions(session, scope, units, now)
    results: list[RowResult] = []
    for unit in units:
        if isinstance(unit, list):
            assert adding is not None
            results += await add_members(adding, unit)
        else:
            results.append(await apply_row(session, scope, unit, now))
    return results


def _units(rows: list[ParsedRow]) -> Iterator[ParsedRow | list[PersonRow]]:
    """The rows one by one, ADD rows as lists: a family's rows together."""
    index = 0
    while index < len(rows):
        row = rows[index]
        end = index + 1
        if isinstance(row, PersonRow) and row.action == BatchRowAction.ADD:
            while end < len(rows) and continues_family(row, rows[end]):
                end += 1
            yield [person for person in rows[index:end] if isinstance(person, PersonRow)]
        else:
            yield row
        index = end


async def add_members(adding: Additions, rows: list[PersonRow]) -> list[RowResult]:
    """THE dispatch point for ADD rows, enrolled by the enrollment use cases (matching, the
    manual-review queue) in the chunk's session: a new subscriber's row with its dependents'
    rows, or one dependent's row for a subscriber the group has."""
    if starts_family(rows[0]):
        return await add_family(adding, rows)
    [row] = rows
    return [await add_to_subscriber(adding, row)]


async def _additions(
    session: AsyncSession,
    scope: BatchScope,
    units: list[ParsedRow | list[PersonRow]],
    now: datetime,
) -> Additions:
    """What the chunk's ADD rows share, read or written once for all of them: the plans their
    codes name, and the records of the rows that make an enrollment request."""
    additions = [unit for unit in units if isinstance(unit, list)]
    codes = [row.plan_code for unit in additions for row in unit if row.plan_code]
    divisions = [row.division_code for unit in additions for row in unit if row.division_code]
    heads = [(unit[0].row_number, unit[0].action) for unit in additions]
    context = BatchContext(
        database=scope.database,
        policy=scope.policy,
        now=now,
        request_id=scope.actor.request_id or f"enrollment-batch:{scope.batch_id}",
        secret_key=scope.secret_key,
        group_id=scope.group_id,
        batch_actor=scope.actor,
    )
    return Additions(
        session=session,
        context=context,
        batch_id=scope.batch_id,
        group_number=scope.group_number,
        plan_ids=await enrollment_batches.plan_ids_by_code(session, codes),
        division_ids=await enrollment_batches.division_ids_by_code(
            session, scope.group_id, divisions
        ),
        row_ids=await enrollment_batches.reserve_rows(session, scope.batch_id, heads, now),
        file_field=X12_FIELDS if scope.format == BatchFormat.X12_834 else {},
    )


def _rejected(
    scope: BatchScope, row: PersonRow, refused: Refused, member_id: int | None = None
) -> RowResult:
    first, *others = refused.errors
    message = first.message
    if others:
        message += "; " + "; ".join(
            f"{file_field(scope, error.field) or 'row'}: {error.message}" for error in others
        )
    return RowResult(
        row.row_number,
        row.action,
        BatchRowOutcome.REJECTED,
        file_field(scope, first.field),
        message,
        member_id,
    )


def _default_reason(relationship: Relationship) -> TerminationReason:
    if relationship == Relationship.SUBSCRIBER:
        return TerminationReason.EMPLOYMENT_ENDED
    return TerminationReason.LOSS_OF_ELIGIBILITY


async def _member_of(session: AsyncSession, scope: BatchScope, row: PersonRow) -> Member:
    """The row's member in the batch's group, locked: the subscriber by its key, a dependent
    by its member number among that subscriber's dependents."""
    key = row.subscriber_key
    by_ssn = is_ssn(key)
    subscriber = await enrollment_batches.subscriber_for_update(
        session,
        scope.group_id,
        member_number=None if by_ssn else key,
        ssn_hash=ssn_hash(key, scope.secret_key) if by_ssn else None,
    )
    if subscriber is None:
        raise Refused.on("subscriber_key", "no such subscriber in this group", ErrorCode.NOT_FOUND)
    if row.relationship == Relationship.SUBSCRIBER:
        if row.member_number is not None and row.member_number != subscriber.member_number:
            raise Refused.on(
                "member_number", "is not the member number of the subscriber of subscriber_key"
            )
        return subscriber
    assert row.member_number is not None  # the parsers require it of a dependent's row
    dependent = await enrollment_batches.dependent_for_update(
        session, subscriber.id, row.member_number
    )
    if dependent is None:
        raise Refused.on(
            "member_number", "no such dependent of this subscriber", ErrorCode.NOT_FOUND
        )
    return dependent


def _check_identity(scope: BatchScope, row: PersonRow, member: Member) -> None:
    """What a row says of who the member is must be so: a typo in a number never changes or
    terminates someone else. A TERMINATE row's names, birth date and sex identify; so does an
    SSN in any row (an SSN is never changed by file)."""
    errors = []
    if row.relationship != member.relationship:
        errors.append(_error("relationship", f"the member is {member.relationship.value}"))
    if row.ssn is not None and member.ssn_hash != ssn_hash(row.ssn, scope.secret_key):
        errors.append(_error("ssn", "is not the member's SSN (an SSN is not changed by file)"))
    if row.action == BatchRowAction.TERMINATE:
        for field, given, stored in (
            ("first_name", row.first_name, member.first_name),
            ("last_name", row.last_name, member.last_name),
        ):
            if given is not None and name_key(given) != name_key(stored):
                errors.append(_error(field, "is not the member's name"))
        if row.birth_date is not None and row.birth_date != member.birth_date:
            errors.append(_error("birth_date", "is not the member's birth date"))
        if row.sex is not None and row.sex != member.sex:
            errors.append(_error("sex", "is not the member's sex"))
    if row.action == BatchRowAction.CHANGE:
        errors += [
            _error(field, "a CHANGE row changes demographics only, not coverage")
            for field in _NOT_CHANGED_BY_FILE
            if getattr(row, field) is not None
        ]
    if errors:
        raise Refused(*errors)


def _error(field: str, message: str) -> FieldError:
    return FieldError(field, message, ErrorCode.INVALID)


def _change(row: PersonRow) -> MemberChange:
    address = row.address
    return MemberChange(
        first_name=row.first_name,
        middle_name=row.middle_name,
        last_name=row.last_name,
        birth_date=row.birth_date,
        sex=row.sex,
        address=None
        if address is None
        else AddressChange(
            address.line1, address.line2, address.city, address.state, address.postal_code
        ),
        phone=row.phone,
        email=row.email,
        is_disabled=row.is_disabled,
    )
