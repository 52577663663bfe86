"""The enrollment use cases' inputs and outcomes: plain dataclasses, no GraphQL, no SQL.

`PersonInput`, `EnrollmentInput`, `DependentInput` and `CobraInput` are what a caller submits
(every field optional, so that a batch row missing one gets a REQUIRED error naming it);
`Person` is a submitted person once validated, with the SSN replaced by its keyed hash and last
four, as kept in the request's payload; `EnrollmentResult` is the typed outcome.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from data.models.members import Relationship, Sex
from data.models.plans import CoverageTier
from data.normalize import name_key
from resolvers.errors import FieldError
from resolvers.matching import Identity
from resolvers.member_changes import MemberChange


@dataclass(frozen=True, slots=True)
class PersonInput:
    """A subscriber or a dependent as submitted. `ssn` is read, hashed and never kept."""

    first_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    ssn: str | None = field(default=None, repr=False)
    middle_name: str | None = None
    relationship: Relationship | None = None  # dependents only
    is_disabled: bool = False
    hire_date: date | None = None  # subscribers only
    # A Medicare enrollment is refused (MEDICARE_NOT_ONLINE): it is not done online.
    medicare: bool = False
    # Address, phone and e-mail (other values not read), checked and stored as memberUpdate's.
    contact: MemberChange | None = None


@dataclass(frozen=True, slots=True)
class EnrollmentInput:
    """A new subscriber (an employee) with its dependents."""

    group_id: int | None
    subscriber: PersonInput
    dependents: tuple[PersonInput, ...] = ()
    plan_id: int | None = None
    tier: CoverageTier | None = None
    effective_date: date | None = None
    division_id: int | None = None


@dataclass(frozen=True, slots=True)
class DependentInput:
    """A family member added to an existing subscriber: plan and tier follow the family."""

    subscriber_id: int | None
    dependent: PersonInput
    effective_date: date | None = None


@dataclass(frozen=True, slots=True)
class CobraInput:
    """Continuation for a terminated member (with the dependents who ended with a subscriber)."""

    member_id: int | None
    effective_date: date | None = None
    medicare: bool = False


class Outcome(enum.StrEnum):
    PROCESSED = "PROCESSED"
    PENDING_REVIEW = "PENDING_REVIEW"
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class EnrollmentResult:
    """PROCESSED: `member_ids` enrolled (subscriber first); PENDING_REVIEW: `request_id` waits
    for a representative; REJECTED: `errors` name the fields, and nothing was written."""

    outcome: Outcome
    request_id: int | None = None
    member_ids: tuple[int, ...] = ()
    errors: tuple[FieldError, ...] = ()


@dataclass(frozen=True, slots=True)
class Person:
    """A validated person, as kept in a request's payload (no raw SSN)."""

    field: str  # the input path: "subscriber", "dependents[1]", "dependent"
    first_name: str
    middle_name: str | None
    last_name: str
    first_name_key: str
    last_name_key: str
    birth_date: date
    sex: Sex
    relationship: Relationship
    is_disabled: bool
    hire_date: date | None
    ssn_hash: str | None
    ssn_last4: str | None
    # The member's address, phone and e-mail columns, normalised (kept while a request waits).
    contact: dict[str, Any] | None = None

    @property
    def identity(self) -> Identity:
        return Identity(
            self.first_name_key, self.last_name_key, self.birth_date, self.sex, self.ssn_hash
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "firstName": self.first_name,
            "middleName": self.middle_name,
            "lastName": self.last_name,
            "birthDate": self.birth_date.isoformat(),
            "sex": self.sex.value,
            "relationship": self.relationship.value,
            "isDisabled": self.is_disabled,
            "hireDate": None if self.hire_date is None else self.hire_date.isoformat(),
            "ssnHash": self.ssn_hash,
            "ssnLast4": self.ssn_last4,
            **({"contact": self.contact} if self.contact else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Person:
        hire = data.get("hireDate")
        return cls(
            field=data["field"],
            first_name=data["firstName"],
            middle_name=data.get("middleName"),
            last_name=data["lastName"],
            first_name_key=name_key(data["firstName"]),
            last_name_key=name_key(data["lastName"]),
            birth_date=date.fromisoformat(data["birthDate"]),
            sex=Sex(data["sex"]),
            relationship=Relationship(data["relationship"]),
            is_disabled=bool(data.get("isDisabled")),
            hire_date=None if hire is None else date.fromisoformat(hire),
            ssn_hash=data.get("ssnHash"),
            ssn_last4=data.get("ssnLast4"),
            contact=data.get("contact"),
        )
