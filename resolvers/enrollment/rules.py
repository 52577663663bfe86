"""Validation rules of enrollments; each failure names the input field it is about.

- Names: first and last required, at most 100 characters, with letters; middle optional.
- Birth date: required, not in the future, not before 1900, not after the effective date.
- SSN: required for a subscriber, optional for a dependent (a newborn may have none); nine
  digits with optional dashes, never area 000, 666 or 900-999, group 00 or serial 0000.
- Relationship: a dependent is a SPOUSE, DOMESTIC_PARTNER, CHILD or OTHER_DEPENDENT; at most one
  spouse or domestic partner per subscriber (those already covered count); a CHILD is under 26
  on the effective date unless disabled.
- Tier: EMPLOYEE has no dependents; EMPLOYEE_SPOUSE exactly one, a spouse or partner;
  EMPLOYEE_CHILDREN children (and other dependents) only, at least one; FAMILY a spouse or
  partner and at least one child.
- Effective date: at most 60 days back (as for terminations), and within the group's plan year
  in force today or the next one. The next plan year is the next contract if one is recorded,
  else the year from the current contract's end (the renewal date), offering the current
  contract's plans until the renewal is recorded.
- Plan: one the contract of the effective date's plan year offers to the group.
- Medicare: not enrolled online (MEDICARE_NOT_ONLINE), whoever the person is.
- Address, phone and e-mail (optional; batch files give them): as `memberUpdate` takes them.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from data.enrollment import PlanYear
from data.models.members import Relationship
from data.models.plans import CoverageTier
from data.normalize import name_key, ssn_hash
from resolvers.enrollment.model import Person, PersonInput
from resolvers.errors import ErrorCode, FieldError, Refused
from resolvers.member_changes import contact_columns

MAX_DAYS_BACK = 60
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
CHILD_AGE_LIMIT = 26
MEDICARE_MESSAGE = (
    "Medicare enrollments are not done online: please contact your group representative"
)

# ASCII digits only: `\d` would take other scripts' digits too.
_SSN = re.compile(r"([0-9]{3})-?([0-9]{2})-?([0-9]{4})")
PARTNERS = frozenset({Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER})
CHILDREN = frozenset({Relationship.CHILD, Relationship.OTHER_DEPENDENT})


def ssn_error(value: str) -> str | None:
    found = _SSN.fullmatch(value.strip())
    if found is None:
        return "an SSN has nine digits, as 123-45-6789 or 123456789"
    area, group, serial = found.groups()
    if area in ("000", "666") or area.startswith("9"):
        return "not a valid SSN: its first three digits are never 000, 666 or 900-999"
    if group == "00":
        return "not a valid SSN: its middle two digits are never 00"
    if serial == "0000":
        return "not a valid SSN: its last four digits are never 0000"
    return None


def _name(value: str | None, path: str, errors: list[FieldError], *, required: bool) -> str | None:
    text = " ".join((value or "").split())
    if not text:
        if required:
            errors.append(FieldError(path, "required", ErrorCode.REQUIRED))
        return None
    if len(text) > 100:
        errors.append(FieldError(path, "at most 100 characters", ErrorCode.INVALID))
    elif not text.isprintable() or not any(character.isalpha() for character in text):
        errors.append(
            FieldError(path, "must be letters, without control characters", ErrorCode.INVALID)
        )
    return text


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def person(
    given: PersonInput,
    path: str,
    *,
    subscriber: bool,
    today: date,
    effective_date: date | None,
    secret_key: bytes,
    errors: list[FieldError],
) -> Person | None:
    """The validated person, or None with its errors appended (every field checked)."""
    found = len(errors)
    if given.medicare:
        errors.append(
            FieldError(f"{path}.medicare", MEDICARE_MESSAGE, ErrorCode.MEDICARE_NOT_ONLINE)
        )
    first = _name(given.first_name, f"{path}.firstName", errors, required=True)
    middle = _name(given.middle_name, f"{path}.middleName", errors, required=False)
    last = _name(given.last_name, f"{path}.lastName", errors, required=True)
    born = given.birth_date
    if born is None:
        errors.append(FieldError(f"{path}.birthDate", "required", ErrorCode.REQUIRED))
    elif born > today:
        errors.append(
            FieldError(f"{path}.birthDate", "may not lie in the future", ErrorCode.INVALID)
        )
    elif born < EARLIEST_BIRTH_DATE:
        errors.append(FieldError(f"{path}.birthDate", "may not lie before 1900", ErrorCode.INVALID))
    elif effective_date is not None and born > effective_date:
        errors.append(
            FieldError(f"{path}.birthDate", "lies after the effective date", ErrorCode.INVALID)
        )
    if given.sex is None:
        errors.append(FieldError(f"{path}.sex", "required", ErrorCode.REQUIRED))
    ssn = (given.ssn or "").strip()
    if not ssn:
        if subscriber:
            errors.append(
                FieldError(f"{path}.ssn", "required for a subscriber", ErrorCode.REQUIRED)
            )
    elif (problem := ssn_error(ssn)) is not None:
        errors.append(FieldError(f"{path}.ssn", problem, ErrorCode.INVALID))
    relationship = Relationship.SUBSCRIBER
    if not subscriber:
        if given.relationship is None:
            errors.append(FieldError(f"{path}.relationship", "required", ErrorCode.REQUIRED))
        elif given.relationship == Relationship.SUBSCRIBER:
            errors.append(
                FieldError(
                    f"{path}.relationship",
                    "a dependent is a spouse, domestic partner, child or other dependent",
                    ErrorCode.INVALID,
                )
            )
        else:
            relationship = given.relationship
    contact = None
    if given.contact is not None:
        try:
            contact = contact_columns(given.contact, path) or None
        except Refused as refused:
            errors += refused.errors
    if len(errors) > found:
        return None
    assert first is not None
    assert last is not None
    assert born is not None
    assert given.sex is not None
    return Person(
        field=path,
        first_name=first,
        middle_name=middle,
        last_name=last,
        first_name_key=name_key(first),
        last_name_key=name_key(last),
        birth_date=born,
        sex=given.sex,
        relationship=relationship,
        is_disabled=given.is_disabled,
        hire_date=given.hire_date if subscriber else None,
        ssn_hash=ssn_hash(ssn, secret_key) if ssn else None,
        ssn_last4=ssn.replace("-", "")[-4:] if ssn else None,
        contact=contact,
    )


def family_errors(
    dependents: list[Person], effective_date: date, *, partners_covered: int = 0
) -> list[FieldError]:
    """At most one spouse or partner (counting those covered); children under 26 unless disabled."""
    errors = []
    partners = partners_covered
    for dependent in dependents:
        if dependent.relationship in PARTNERS:
            partners += 1
            if partners > 1:
                errors.append(
                    FieldError(
                        f"{dependent.field}.relationship",
                        "a subscriber covers at most one spouse or domestic partner",
                        ErrorCode.INVALID,
                    )
                )
        if (
            dependent.relationship == Relationship.CHILD
            and not dependent.is_disabled
            and age_on(dependent.birth_date, effective_date) >= CHILD_AGE_LIMIT
        ):
            errors.append(
                FieldError(
                    f"{dependent.field}.birthDate",
                    f"a child is covered until 26 unless disabled: {CHILD_AGE_LIMIT} or older "
                    f"on {effective_date}",
                    ErrorCode.INVALID,
                )
            )
    return errors


def tier_of(relationships: list[Relationship]) -> CoverageTier:
    """The tier a family's dependents make."""
    partner = any(relationship in PARTNERS for relationship in relationships)
    children = any(relationship in CHILDREN for relationship in relationships)
    if partner and children:
        return CoverageTier.FAMILY
    if partner:
        return CoverageTier.EMPLOYEE_SPOUSE
    return CoverageTier.EMPLOYEE_CHILDREN if children else CoverageTier.EMPLOYEE


def tier_error(tier: CoverageTier, dependents: list[Person]) -> FieldError | None:
    relationships = [dependent.relationship for dependent in dependents]
    if tier_of(relationships) == tier and (
        tier != CoverageTier.EMPLOYEE_SPOUSE or len(relationships) == 1
    ):
        return None
    wanted = {
        CoverageTier.EMPLOYEE: "no dependents",
        CoverageTier.EMPLOYEE_SPOUSE: "exactly one dependent, a spouse or domestic partner",
        CoverageTier.EMPLOYEE_CHILDREN: "children only, at least one",
        CoverageTier.FAMILY: "a spouse or domestic partner and at least one child",
    }[tier]
    return FieldError("tier", f"{tier.value} covers {wanted}", ErrorCode.INVALID)


def plan_year(
    plan_years: list[PlanYear], today: date, effective_date: date
) -> tuple[PlanYear | None, FieldError | None]:
    """The plan year the effective date falls in, if enrollments may take effect then."""
    if effective_date < today - timedelta(days=MAX_DAYS_BACK):
        earliest = today - timedelta(days=MAX_DAYS_BACK)
        return None, FieldError(
            "effectiveDate",
            f"may lie at most {MAX_DAYS_BACK} days in the past (not before {earliest})",
            ErrorCode.INVALID,
        )
    allowed = _current_and_next(plan_years, today)
    if not allowed:
        return None, FieldError("groupId", "the group has no contract in force", ErrorCode.INVALID)
    for year in allowed:
        if year.start_date <= effective_date <= year.end_date:
            return year, None
    return None, FieldError(
        "effectiveDate",
        f"must lie within the group's current or next plan year "
        f"({allowed[0].start_date} to {allowed[-1].end_date})",
        ErrorCode.INVALID,
    )


def _current_and_next(plan_years: list[PlanYear], today: date) -> list[PlanYear]:
    ahead = [year for year in plan_years if year.end_date >= today]  # oldest first
    if not ahead:
        return []
    current = ahead[0]
    if len(ahead) > 1:
        return [current, ahead[1]]
    start = current.end_date + timedelta(days=1)
    end = date(start.year + 1, start.month, 1) - timedelta(days=1)  # contracts start on a 1st
    return [current, PlanYear(start, end, current.plan_ids)]
