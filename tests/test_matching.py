"""Matching rules, every branch: on plain values (resolvers.matching), and through the endpoint
for the cases that depend on stored records (no SSN given, a record without one, several)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, select

from data.enrollment import CandidateRecord
from data.models.enrollment import ReviewItem
from data.models.members import Member, MemberStatus, Relationship, Sex
from data.normalize import name_key
from resolvers.enrollment.rules import ssn_error
from resolvers.matching import Identity, MatchOutcome, differing_fields, match
from tests.conftest import Api
from tests.enrollment_helpers import (
    ENROLL,
    as_submitted,
    enrollment,
    existing_member,
    group_setup,
    person,
)

SUBMITTED = Identity("ana maria", "nunez", date(1980, 2, 29), Sex.FEMALE, "hash-1")


def record(key: int, group_id: int = 1, **fields: Any) -> CandidateRecord:
    values: dict[str, Any] = {
        "id": key,
        "group_id": group_id,
        "division_id": None,
        "subscriber_id": None,
        "relationship": Relationship.SUBSCRIBER,
        "member_number": f"M{key}",
        "first_name": "Ana María",
        "last_name": "Núñez",
        "first_name_key": "ana maria",
        "last_name_key": "nunez",
        "birth_date": date(1980, 2, 29),
        "sex": Sex.FEMALE,
        "ssn_hash": "hash-1",
        "ssn_last4": "1234",
        "status": MemberStatus.ACTIVE,
    }
    return CandidateRecord(**(values | fields))


def test_no_candidate_is_new() -> None:
    assert match(SUBMITTED, [], group_id=1).outcome == MatchOutcome.NEW


def test_one_record_in_full_agreement_is_linked() -> None:
    found = match(SUBMITTED, [record(7)], group_id=2)
    assert (found.outcome, found.linked, found.reason) == (MatchOutcome.LINK, record(7), None)


def test_records_of_one_person_in_several_groups_are_one_candidate() -> None:
    """A person who moved between groups: the enrolling group's own record is preferred, else
    the newest."""
    records = [record(3, group_id=5), record(8, group_id=2), record(9, group_id=6)]
    assert match(SUBMITTED, records, group_id=2).linked == record(8, group_id=2)
    assert match(SUBMITTED, records, group_id=1).linked == record(9, group_id=6)


@pytest.mark.parametrize(
    ("change", "differing"),
    [
        ({"first_name_key": "anna"}, ["firstName"]),
        ({"last_name_key": "nunes"}, ["lastName"]),
        ({"birth_date": date(1980, 3, 1)}, ["birthDate"]),
        ({"sex": Sex.UNKNOWN}, ["sex"]),
        ({"ssn_hash": "hash-2"}, ["ssn"]),
        ({"ssn_hash": "hash-2", "sex": Sex.MALE}, ["ssn", "sex"]),
    ],
)
def test_a_partial_agreement_goes_to_review_naming_what_differs(
    change: dict[str, Any], differing: list[str]
) -> None:
    found = match(SUBMITTED, [record(7, **change)], group_id=1)
    assert found.outcome == MatchOutcome.REVIEW
    assert found.candidates == (record(7, **change),)
    assert found.reason == "partial agreement: differs in " + ", ".join(differing)


def test_no_ssn_given_goes_to_review() -> None:
    found = match(replace(SUBMITTED, ssn_hash=None), [record(7)], group_id=1)
    assert found.outcome == MatchOutcome.REVIEW
    assert found.reason == "no SSN given: found by birth date and name"
    other = match(replace(SUBMITTED, ssn_hash=None), [record(7, sex=Sex.MALE)], group_id=1)
    assert other.reason == "no SSN given: found by birth date and name; differs in sex"


def test_a_record_without_ssn_goes_to_review() -> None:
    found = match(SUBMITTED, [record(7, ssn_hash=None, ssn_last4=None)], group_id=1)
    assert found.outcome == MatchOutcome.REVIEW
    assert found.reason == "the candidate record has no SSN to compare"


def test_several_people_go_to_review_even_if_one_agrees() -> None:
    records = [record(7), record(8, ssn_hash="hash-2")]
    found = match(SUBMITTED, records, group_id=1)
    assert found.outcome == MatchOutcome.REVIEW
    assert found.candidates == tuple(records)
    assert found.reason == "several candidates: 2 different people could be this person"


def test_differing_fields_treat_a_missing_ssn_as_different() -> None:
    assert differing_fields(SUBMITTED, SUBMITTED) == []
    missing = replace(SUBMITTED, ssn_hash=None)
    assert differing_fields(missing, missing) == ["ssn"]


def test_names_are_compared_without_case_spacing_or_accents() -> None:
    assert name_key("  ANA   María ") == SUBMITTED.first_name_key
    assert name_key("NÚÑEZ") == SUBMITTED.last_name_key


@pytest.mark.parametrize(
    ("ssn", "valid"),
    [
        ("123-45-6789", True),
        ("123456789", True),
        (" 123-45-6789 ", True),
        ("899-99-9999", True),
        ("12345678", False),
        ("1234567890", False),
        ("123 45 6789", False),
        ("000-45-6789", False),
        ("666-45-6789", False),
        ("900-45-6789", False),
        ("999-45-6789", False),
        ("123-00-6789", False),
        ("123-45-0000", False),
        ("abc-de-fghi", False),
        ("".join(chr(0xFF10 + int(d)) for d in "123456789"), False),  # full-width digits
    ],
)
def test_ssn_format(ssn: str, valid: bool) -> None:
    assert (ssn_error(ssn) is None) == valid


@given(st.text(max_size=20))
def test_ssn_check_never_raises_and_accepts_only_ascii_digits(text: str) -> None:
    if ssn_error(text) is None:
        assert set(text.strip()) <= set("0123456789-")


# Through the endpoint: the candidates come from every group's records.


async def enroll(api: Api, values: dict[str, Any]) -> dict[str, Any]:
    body = await api.query("admin@acme.example", ENROLL, input=values)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["memberEnroll"]
    return found


async def review_reason(api: Api) -> str:
    async with api.app.state.database.reader.connect() as connection:
        reason = await connection.scalar(
            select(ReviewItem.match_reason).order_by(ReviewItem.id.desc()).limit(1)
        )
    assert reason is not None
    return str(reason)


async def test_a_dependent_without_ssn_matching_by_name_and_birth_date_waits(api: Api) -> None:
    setup = await group_setup(api)
    other = await existing_member(api, "Globex Corporation")
    child = as_submitted(other, ssn=None, relationship="SPOUSE")
    payload = await enroll(api, enrollment(setup, dependents=[child], tier="EMPLOYEE_SPOUSE"))
    assert payload["status"] == "PENDING_REVIEW"
    assert await review_reason(api) == "dependents[0]: no SSN given: found by birth date and name"


async def test_a_stored_record_without_ssn_waits(api: Api) -> None:
    setup = await group_setup(api)
    async with api.app.state.database.reader.connect() as connection:
        row = (
            await connection.execute(
                select(Member).where(Member.ssn_hash.is_(None)).order_by(Member.id).limit(1)
            )
        ).one()
    sex = {"F": "FEMALE", "M": "MALE", "U": "UNKNOWN"}[row.sex.value]
    subscriber = person(
        firstName=row.first_name,
        lastName=row.last_name,
        birthDate=row.birth_date.isoformat(),
        sex=sex,
    )
    payload = await enroll(api, enrollment(setup, subscriber=subscriber))
    assert payload["status"] == "PENDING_REVIEW"
    assert await review_reason(api) == "subscriber: the candidate record has no SSN to compare"


async def test_several_candidates_wait(api: Api) -> None:
    """Two records share a name and birth date with different SSNs; the submission agrees fully
    with one of them, and still a person decides."""
    setup = await group_setup(api)
    other = await existing_member(api, "Globex Corporation")
    async with api.app.state.database.engine.begin() as connection:
        twin = (
            (await connection.execute(select(Member).where(Member.id == other.key))).one()._asdict()
        )
        twin.pop("id")
        twin |= {"member_number": "X0000000001", "ssn_hash": "another-hash", "ssn_last4": "0001"}
        await connection.execute(insert(Member).values(**twin))
    payload = await enroll(api, enrollment(setup, subscriber=as_submitted(other)))
    assert payload["status"] == "PENDING_REVIEW"
    assert await review_reason(api) == (
        "subscriber: several candidates: 2 different people could be this person"
    )
