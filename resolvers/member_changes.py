"""Changes to members, registered at once: demographic updates and coverage terminations.

Both need MEMBERS_WRITE over the member's division (or its whole group). A member the caller
cannot read answers NOT_FOUND, exactly like one that does not exist; one it can read but not
change is a top-level FORBIDDEN. Personal data (birth date, address, phone, e-mail) is changed
only by whoever may read it (MEMBERS_READ_PII): a refusal or an "already so" answer would
otherwise reveal what is stored.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from authz.privileges import Privilege
from data import audit, member_changes
from data.audit import Actor
from data.members import MemberRecord
from data.models.members import Coverage, Member, MemberStatus, Relationship, Sex
from data.normalize import name_key
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError, NotAllowed, Refused
from resolvers.members import can_read
from resolvers.users import valid_email

MAX_DAYS_BACK = 60
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# USPS codes: the states, DC, the inhabited territories and the military "states".
_USPS_CODES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR VI AA AE AP"
)
US_STATES = frozenset(_USPS_CODES.split())

# ASCII only: `\d` would also take other scripts' digits.
_INTERNATIONAL_PHONE = re.compile(r"\+[1-9][0-9]{7,14}")
_US_PHONE = re.compile(r"1?([2-9][0-9]{2}[2-9][0-9]{6})")  # NANP: no area/exchange from 0 or 1
_PHONE_PUNCTUATION = re.compile(r"[\s().-]")
_ZIP = re.compile(r"([0-9]{5})(?:-?([0-9]{4}))?")


class TerminationReason(enum.StrEnum):
    EMPLOYMENT_ENDED = "EMPLOYMENT_ENDED"
    VOLUNTARY = "VOLUNTARY"
    LOSS_OF_ELIGIBILITY = "LOSS_OF_ELIGIBILITY"
    DIVORCE = "DIVORCE"
    DEATH = "DEATH"


# Reasons that fit only some members; the others fit anyone.
_REASON_FITS: dict[TerminationReason, tuple[frozenset[Relationship], str]] = {
    TerminationReason.EMPLOYMENT_ENDED: (
        frozenset({Relationship.SUBSCRIBER}),
        "applies to subscribers (employees) only",
    ),
    TerminationReason.DIVORCE: (
        frozenset({Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER}),
        "applies to spouses and domestic partners only",
    ),
}


@dataclass(frozen=True, slots=True)
class AddressChange:
    """A whole new address: it replaces the stored one (no second line: `line2` None)."""

    line1: str
    line2: str | None
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True, slots=True)
class MemberChange:
    """What the caller asked to change; None leaves a field as it is, "" clears an optional one."""

    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    address: AddressChange | None = None
    phone: str | None = None
    email: str | None = None
    is_disabled: bool | None = None


_PERSONAL = ("birth_date", "address", "phone", "email")

# Column → the input field that sets it: errors name it, and so do the audit's before/after.
_INPUT_FIELD = {
    "first_name": "firstName",
    "middle_name": "middleName",
    "last_name": "lastName",
    "birth_date": "birthDate",
    "sex": "sex",
    "address_line1": "address.line1",
    "address_line2": "address.line2",
    "city": "address.city",
    "state": "address.state",
    "postal_code": "address.postalCode",
    "phone": "phone",
    "email": "email",
    "is_disabled": "isDisabled",
}


class _Bad(ValueError):
    def __init__(self, message: str, code: ErrorCode = ErrorCode.INVALID) -> None:
        super().__init__(message)
        self.code = code


def _text(value: str, *, longest: int, letters: bool) -> str:
    """Whitespace collapsed; empty is a clearing, refused here (see `_optional`)."""
    text = " ".join(value.split())
    if not text:
        raise _Bad("may not be empty", ErrorCode.REQUIRED)
    if len(text) > longest:
        raise _Bad(f"at most {longest} characters")
    if not text.isprintable():
        raise _Bad("may not contain control characters")
    if letters and not any(character.isalpha() for character in text):
        raise _Bad("must contain letters, not only digits or signs")
    return text


def _name(value: str) -> str:
    return _text(value, longest=100, letters=True)


def _line(value: str) -> str:
    return _text(value, longest=200, letters=False)


def _optional(normalise: Callable[[str], Any]) -> Callable[[str], Any]:
    """For a field that may be empty: "" clears it (None is "unchanged" and never gets here)."""
    return lambda value: normalise(value) if value.strip() else None


def _state(value: str) -> str:
    code = value.strip().upper()
    if code not in US_STATES:
        raise _Bad("not a US state or territory: give its two-letter code, as NY")
    return code


def _postal_code(value: str) -> str:
    found = _ZIP.fullmatch(value.strip())
    if found is None:
        raise _Bad("a ZIP code has 5 or 9 digits, as 10001 or 10001-1234")
    five, four = found.groups()
    return f"{five}-{four}" if four else five


def _phone(value: str) -> str:
    """Stored in E.164 (+12125550123), whatever punctuation it was typed with."""
    compact = _PHONE_PUNCTUATION.sub("", value)
    if _INTERNATIONAL_PHONE.fullmatch(compact):
        return compact
    us = _US_PHONE.fullmatch(compact)
    if us is None:
        raise _Bad("give 10 US digits, as (212) 555-0123, or +<country code><number>")
    return "+1" + us.group(1)


def _email(value: str) -> str:
    # One case for the whole address, as for users: no false "changes" by case alone.
    email = value.strip().lower()
    if not valid_email(email):
        raise _Bad("not an e-mail address")
    return email


def _birth_date(today: date) -> Callable[[date], date]:
    def check(value: date) -> date:
        if value > today:
            raise _Bad("may not lie in the future")
        if value < EARLIEST_BIRTH_DATE:
            raise _Bad("may not lie before 1900")
        return value

    return check


def _same(value: Any) -> Any:
    return value


def _address_parts(address: AddressChange) -> list[tuple[str, Any, Callable[[Any], Any]]]:
    return [
        ("address_line1", address.line1, _line),
        ("address_line2", address.line2 or "", _optional(_line)),
        ("city", address.city, _name),
        ("state", address.state, _state),
        ("postal_code", address.postal_code, _postal_code),
    ]


def valid_address(address: AddressChange, field: str) -> AddressChange:
    """The address normalised exactly as `memberUpdate` stores one, for any use case taking an
    address; Refused naming each part at fault under `field` (as `mailTo.postalCode`)."""
    normalised: dict[str, Any] = {}
    errors = []
    for column, value, normalise in _address_parts(address):
        try:
            normalised[column] = normalise(value)
        except _Bad as bad:
            part = _INPUT_FIELD[column].removeprefix("address.")
            errors.append(FieldError(f"{field}.{part}", str(bad), bad.code))
    if errors:
        raise Refused(*errors)
    return AddressChange(
        line1=normalised["address_line1"],
        line2=normalised["address_line2"],
        city=normalised["city"],
        state=normalised["state"],
        postal_code=normalised["postal_code"],
    )


def contact_columns(change: MemberChange, field: str) -> dict[str, Any]:
    """The address, phone and e-mail of `change`, normalised as `memberUpdate` stores them,
    for a use case writing a new member (an enrollment); Refused naming each under `field`
    (as `subscriber.phone`). Other values of `change` are not read."""
    only = MemberChange(address=change.address, phone=change.phone, email=change.email)
    try:
        return _wanted(only, date.min)  # the day matters to birth dates only
    except Refused as refused:
        raise Refused(
            *(FieldError(f"{field}.{e.field}", e.message, e.code) for e in refused.errors)
        ) from None


def _wanted(change: MemberChange, today: date) -> dict[str, Any]:
    """The columns to set, normalised; Refused naming every field at fault."""
    asked: list[tuple[str, Any, Callable[[Any], Any]]] = [
        ("first_name", change.first_name, _name),
        ("middle_name", change.middle_name, _optional(_name)),
        ("last_name", change.last_name, _name),
        ("birth_date", change.birth_date, _birth_date(today)),
        ("sex", change.sex, _same),
        ("phone", change.phone, _optional(_phone)),
        ("email", change.email, _optional(_email)),
        ("is_disabled", change.is_disabled, _same),
    ]
    if change.address is not None:
        asked += _address_parts(change.address)
    wanted: dict[str, Any] = {}
    errors = []
    for column, value, normalise in asked:
        if value is None:
            continue
        try:
            wanted[column] = normalise(value)
        except _Bad as bad:
            errors.append(FieldError(_INPUT_FIELD[column], str(bad), bad.code))
    if errors:
        raise Refused(*errors)
    return wanted


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


async def _writable(context: Context, session: AsyncSession, member_id: int | None) -> Member:
    """The member, locked for the change, if the caller may change it."""
    row = None if member_id is None else await member_changes.member_for_update(session, member_id)
    if row is None or not can_read(context, member_changes.record_of(row)):
        raise Refused.on("memberId", "no such member", ErrorCode.NOT_FOUND)
    if not context.access.allows(Privilege.MEMBERS_WRITE, row.group_id, row.division_id):
        raise NotAllowed(Privilege.MEMBERS_WRITE.value)
    return row


async def update_member(
    context: Context, *, member_id: int | None, change: MemberChange
) -> MemberRecord:
    """Apply the fields given; every one is either applied, already so, or refused."""
    context.signed_in()
    async with context.transaction() as session:
        row = await _writable(context, session, member_id)
        if change == MemberChange():
            raise Refused.on(None, "give at least one field to change")
        personal = any(getattr(change, name) is not None for name in _PERSONAL)
        if personal and not context.access.allows(
            Privilege.MEMBERS_READ_PII, row.group_id, row.division_id
        ):
            raise NotAllowed(Privilege.MEMBERS_READ_PII.value)
        return apply_update(session, row, change, actor=context.actor, now=context.now)


def apply_update(
    session: AsyncSession, row: Member, change: MemberChange, *, actor: Actor, now: datetime
) -> MemberRecord:
    """The update itself, in the caller's unit of work, on a member it locked and may change
    (a request, or a batch file's row)."""
    wanted = _wanted(change, now.date())
    changed = {column: value for column, value in wanted.items() if getattr(row, column) != value}
    if not changed:
        raise Refused.on(
            None,
            "nothing to change: the member already has these values",
            ErrorCode.ALREADY_DONE,
        )
    before = {_INPUT_FIELD[column]: _jsonable(getattr(row, column)) for column in changed}
    for column, value in changed.items():
        setattr(row, column, value)
    # The search keys follow the names they are made from.
    row.first_name_key = name_key(row.first_name)
    row.last_name_key = name_key(row.last_name)
    audit.record(
        session,
        actor,
        action="member.updated",
        target_type="member",
        target_id=row.id,
        group_id=row.group_id,
        now=now,
        before=before,
        after={_INPUT_FIELD[column]: _jsonable(value) for column, value in changed.items()},
    )
    return member_changes.record_of(row)


def month_end(day: date, months_ahead: int = 0) -> date:
    following = day.year * 12 + day.month + months_ahead  # months since year 0 of the next one
    return date(following // 12, following % 12 + 1, 1) - timedelta(days=1)


def _termination_errors(
    ends_on: date, today: date, reason: TerminationReason, relationship: Relationship
) -> list[FieldError]:
    """The date lies in the allowed window (see ADR), and the reason fits the member."""
    errors = []
    earliest, latest = today - timedelta(days=MAX_DAYS_BACK), month_end(today, 1)
    if ends_on < earliest:
        errors.append(
            FieldError(
                "terminationDate",
                f"may lie at most {MAX_DAYS_BACK} days in the past (not before {earliest})",
                ErrorCode.INVALID,
            )
        )
    elif ends_on > latest:
        errors.append(
            FieldError(
                "terminationDate",
                f"may lie at most until the end of next month ({latest})",
                ErrorCode.INVALID,
            )
        )
    problem = reason_error(reason, relationship)
    if problem is not None:
        errors.append(FieldError("reason", problem, ErrorCode.INVALID))
    return errors


def reason_error(reason: TerminationReason, relationship: Relationship) -> str | None:
    """Why the reason does not fit the member, or None if it does."""
    fits = _REASON_FITS.get(reason)
    if fits is not None and relationship not in fits[0]:
        return f"{reason.value} {fits[1]}"
    return None


async def terminate_coverage(
    context: Context,
    *,
    member_id: int | None,
    termination_date: date | None,
    reason: TerminationReason,
) -> MemberRecord:
    """End the member's coverage on the date (by default, the end of this month); a subscriber's
    dependents end with it, except those whose coverage already ends earlier."""
    context.signed_in()
    async with context.transaction() as session:
        row = await _writable(context, session, member_id)
        return await apply_termination(
            session, row, termination_date, reason, actor=context.actor, now=context.now
        )


async def apply_termination(
    session: AsyncSession,
    row: Member,
    termination_date: date | None,
    reason: TerminationReason,
    *,
    actor: Actor,
    now: datetime,
) -> MemberRecord:
    """The termination itself, in the caller's unit of work, of a member it locked and may
    change (a request, or a batch file's row)."""
    today = now.date()
    ends_on = termination_date or month_end(today)
    errors = _termination_errors(ends_on, today, reason, row.relationship)
    if errors:
        raise Refused(*errors)
    # A family shares its subscriber's division: whoever may change it may change them.
    family = [row]
    if row.relationship == Relationship.SUBSCRIBER:
        family += await member_changes.dependents_for_update(session, row.id)
    coverages = await member_changes.newest_coverages_for_update(
        session, [person.id for person in family]
    )
    own = coverages.get(row.id)
    if own is None:
        raise Refused.on("memberId", "this member has no coverage to terminate")
    if own.termination_date is not None and own.termination_date <= ends_on:
        raise Refused.on(
            "memberId",
            f"coverage already ends on {own.termination_date}",
            ErrorCode.ALREADY_DONE,
        )
    for person in family:
        coverage = coverages.get(person.id)
        if coverage is None or (
            coverage.termination_date is not None and coverage.termination_date <= ends_on
        ):
            continue  # a dependent whose coverage already ends earlier keeps its date
        if coverage.effective_date > ends_on:
            whose = "the coverage" if person is row else f"{person.member_number}'s coverage"
            raise Refused.on(
                "terminationDate", f"lies before {whose} starts ({coverage.effective_date})"
            )
        _end(session, person, coverage, ends_on, reason, named=row, actor=actor, now=now)
    return member_changes.record_of(row)


def _end(
    session: AsyncSession,
    person: Member,
    coverage: Coverage,
    ends_on: date,
    reason: TerminationReason,
    *,
    named: Member,
    actor: Actor,
    now: datetime,
) -> None:
    """A future-dated termination leaves the member ACTIVE: its coverage still runs until then."""
    before: dict[str, Any] = {"terminationDate": _jsonable(coverage.termination_date)}
    after: dict[str, Any] = {"terminationDate": ends_on.isoformat(), "reason": reason.value}
    coverage.termination_date = ends_on
    if ends_on <= now.date() and person.status != MemberStatus.TERMINATED:
        before["status"], after["status"] = person.status.value, MemberStatus.TERMINATED.value
        person.status = MemberStatus.TERMINATED
    if person is not named:  # a dependent, ended with its subscriber
        after["withSubscriberId"] = named.id
    audit.record(
        session,
        actor,
        action="coverage.terminated",
        target_type="member",
        target_id=person.id,
        group_id=person.group_id,
        now=now,
        before=before,
        after=after,
    )
