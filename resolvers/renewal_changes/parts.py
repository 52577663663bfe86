"""The parts of a renewal change request: what a group submits, and how it is kept.

A part is named by its input path, `planChanges[0]`, `enrollments[2]`, `terminations[1]`: every
error names the path of what is at fault (`enrollments[1].dependents[0].birthDate`), and a
reviewer excludes parts by these names. The stored payload keeps the parts in input order, so
the names stay valid; SSNs are kept only as their keyed hash and last four (`Person.to_json`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from data.models.plans import CoverageTier
from resolvers.enrollment import PersonInput
from resolvers.enrollment.model import Person
from resolvers.member_changes import TerminationReason

PART_KINDS = ("planChanges", "enrollments", "terminations")
_PART_NAME = re.compile(r"(planChanges|enrollments|terminations)\[([0-9]{1,4})\]")


@dataclass(frozen=True, slots=True)
class PlanChangeInput:
    """The group's members on `from_plan_id` move to `to_plan_id` on the renewal date."""

    from_plan_id: int | None
    to_plan_id: int | None


@dataclass(frozen=True, slots=True)
class RenewalEnrollmentInput:
    """A new subscriber with its dependents (`subscriber`), or dependents joining an existing
    subscriber's family (`subscriber_id`: plan and tier follow the family)."""

    subscriber_id: int | None = None
    subscriber: PersonInput | None = None
    dependents: tuple[PersonInput, ...] = ()
    plan_id: int | None = None
    tier: CoverageTier | None = None
    division_id: int | None = None


@dataclass(frozen=True, slots=True)
class TerminationInput:
    """Coverage ends the day before the renewal date; a subscriber's family ends with it."""

    member_id: int | None
    reason: TerminationReason


@dataclass(frozen=True, slots=True)
class ChangesInput:
    group_id: int | None
    plan_changes: tuple[PlanChangeInput, ...] = ()
    enrollments: tuple[RenewalEnrollmentInput, ...] = ()
    terminations: tuple[TerminationInput, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckedEnrollment:
    """An enrollment once validated; `subscriber_id` set for dependents joining a family."""

    subscriber_id: int | None
    division_id: int | None
    plan_id: int | None
    tier: CoverageTier | None
    people: list[Person]

    def to_json(self) -> dict[str, Any]:
        return {
            "subscriberId": self.subscriber_id,
            "divisionId": self.division_id,
            "planId": self.plan_id,
            "tier": None if self.tier is None else self.tier.value,
            "people": [person.to_json() for person in self.people],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckedEnrollment:
        tier = data.get("tier")
        return cls(
            subscriber_id=data.get("subscriberId"),
            division_id=data.get("divisionId"),
            plan_id=data.get("planId"),
            tier=None if tier is None else CoverageTier(tier),
            people=[Person.from_json(person) for person in data["people"]],
        )


@dataclass(frozen=True, slots=True)
class Parts:
    """A validated submission, as stored in the request's payload."""

    effective_date: date
    plan_changes: list[tuple[int, int]]
    enrollments: list[CheckedEnrollment]
    terminations: list[tuple[int, TerminationReason]]
    excluded: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "effectiveDate": self.effective_date.isoformat(),
            "planChanges": [
                {"fromPlanId": from_id, "toPlanId": to_id} for from_id, to_id in self.plan_changes
            ],
            "enrollments": [enrollment.to_json() for enrollment in self.enrollments],
            "terminations": [
                {"memberId": member_id, "reason": reason.value}
                for member_id, reason in self.terminations
            ],
            "excluded": list(self.excluded),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Parts:
        return cls(
            effective_date=date.fromisoformat(data["effectiveDate"]),
            plan_changes=[(c["fromPlanId"], c["toPlanId"]) for c in data["planChanges"]],
            enrollments=[CheckedEnrollment.from_json(e) for e in data["enrollments"]],
            terminations=[
                (t["memberId"], TerminationReason(t["reason"])) for t in data["terminations"]
            ],
            excluded=list(data.get("excluded", [])),
        )

    def names(self) -> list[str]:
        """Every part's name, in input order."""
        counts = zip(
            PART_KINDS,
            (len(self.plan_changes), len(self.enrollments), len(self.terminations)),
            strict=True,
        )
        return [f"{kind}[{index}]" for kind, count in counts for index in range(count)]

    def applied(self, kind: str) -> list[int]:
        """The indexes of the parts of one kind that a confirmation applies (not excluded)."""
        count = {
            "planChanges": len(self.plan_changes),
            "enrollments": len(self.enrollments),
            "terminations": len(self.terminations),
        }[kind]
        return [index for index in range(count) if f"{kind}[{index}]" not in self.excluded]


def canonical_part_name(text: str) -> str | None:
    """`planChanges[0]` as written (whitespace ignored), or None if it names no kind of part."""
    found = _PART_NAME.fullmatch("".join(text.split()))
    return None if found is None else f"{found.group(1)}[{int(found.group(2))}]"
