"""Matching an enrolling person against the carrier's existing member records (every group).

The rules, in order (`match`):

1. **No candidate** (no record with the same SSN, nor with the same birth date and the same
   first or last name): the person is NEW, enrolled at once.
2. **One person, in full agreement**: the candidate records, grouped by identity (a person who
   moved between groups has one record per group, all with the same identity), make exactly
   one person, and that person agrees with the submission on the SSN (both given and equal),
   the first and last names, the birth date and the sex, after normalisation (case, spacing,
   accents: `data.normalize.name_key`). The person is LINKed to that record and enrolled at
   once (what a link writes is in `resolvers.enrollment`).
3. **Anything else** goes to REVIEW, with a reason a representative can act on:
   several people among the candidates; no SSN submitted (found by name and birth date only);
   a candidate record without an SSN; a partial agreement (naming the fields that differ).

Nothing here reads or writes: it decides from the candidates `data.enrollment.candidates`
found, so that every branch is tested on plain values.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from data.enrollment import CandidateRecord
from data.models.members import Sex


@dataclass(frozen=True, slots=True)
class Identity:
    """What matching compares, already normalised (names by `name_key`, the SSN as its hash)."""

    first_name_key: str
    last_name_key: str
    birth_date: date
    sex: Sex
    ssn_hash: str | None

    @classmethod
    def of(cls, record: CandidateRecord) -> Identity:
        return cls(
            record.first_name_key,
            record.last_name_key,
            record.birth_date,
            record.sex,
            record.ssn_hash,
        )


class MatchOutcome(enum.StrEnum):
    NEW = "NEW"
    LINK = "LINK"
    REVIEW = "REVIEW"


@dataclass(frozen=True, slots=True)
class Match:
    outcome: MatchOutcome
    # LINK: the record linked to (in the enrolling group if the person has one there).
    linked: CandidateRecord | None = None
    # REVIEW: every candidate record, oldest first, and why matching could not decide.
    candidates: tuple[CandidateRecord, ...] = ()
    reason: str | None = None


# Field names as the API spells them, in the order a representative reads them.
COMPARED_FIELDS = ("ssn", "firstName", "lastName", "birthDate", "sex")


def differing_fields(submitted: Identity, candidate: Identity) -> list[str]:
    """The compared fields on which the two disagree; an SSN missing on either side differs."""
    differs = {
        "ssn": submitted.ssn_hash is None
        or candidate.ssn_hash is None
        or submitted.ssn_hash != candidate.ssn_hash,
        "firstName": submitted.first_name_key != candidate.first_name_key,
        "lastName": submitted.last_name_key != candidate.last_name_key,
        "birthDate": submitted.birth_date != candidate.birth_date,
        "sex": submitted.sex != candidate.sex,
    }
    return [name for name in COMPARED_FIELDS if differs[name]]


def match(submitted: Identity, candidates: Sequence[CandidateRecord], group_id: int) -> Match:
    """Decide for one person; `group_id` is the enrolling group (its own record is preferred)."""
    if not candidates:
        return Match(MatchOutcome.NEW)
    people: dict[Identity, list[CandidateRecord]] = {}
    for record in candidates:
        people.setdefault(Identity.of(record), []).append(record)
    if len(people) == 1:
        identity, records = next(iter(people.items()))
        differing = differing_fields(submitted, identity)
        if not differing:
            own = [record for record in records if record.group_id == group_id]
            return Match(MatchOutcome.LINK, linked=(own or records)[-1])
        reason = _partial_reason(submitted, identity, differing)
    else:
        reason = f"several candidates: {len(people)} different people could be this person"
    return Match(MatchOutcome.REVIEW, candidates=tuple(candidates), reason=reason)


def _partial_reason(submitted: Identity, candidate: Identity, differing: list[str]) -> str:
    others = [name for name in differing if name != "ssn"]
    also = f"; differs in {', '.join(others)}" if others else ""
    if submitted.ssn_hash is None:
        return f"no SSN given: found by birth date and name{also}"
    if candidate.ssn_hash is None:
        return f"the candidate record has no SSN to compare{also}"
    return "partial agreement: differs in " + ", ".join(differing)
