"""Single enrollments through the endpoint: new families, links to the carrier's records,
families waiting for review, every validation rule (nothing changed), who may enroll,
dependents added to a family, COBRA and Medicare, and what the group sees of its requests."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from data.models.audit import AuditEvent
from data.models.enrollment import (
    BatchFormat,
    BatchRowOutcome,
    BatchStatus,
    EnrollmentBatch,
    EnrollmentBatchRow,
    EnrollmentRequest,
)
from data.models.members import Member, Sex
from data.models.plans import CoverageTier
from data.normalize import ssn_hash
from data.users import user_by_email
from resolvers.context import Context
from resolvers.enrollment import EnrollmentInput, Outcome, PersonInput
from resolvers.enrollment import enroll as enroll_use_case
from tests.conftest import TEST_SECRET, Api
from tests.enrollment_helpers import (
    ENROLL,
    REQUESTS,
    as_submitted,
    counts,
    dependent,
    enrollment,
    errors_of,
    existing_member,
    group_setup,
    key_of,
    person,
    today,
    years_ago,
)

ADMIN = "admin@acme.example"


async def enroll(api: Api, values: dict[str, Any], as_user: str = ADMIN) -> dict[str, Any]:
    body = await api.query(as_user, ENROLL, input=values)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["memberEnroll"]
    return payload


async def test_a_new_family_is_enrolled_at_once(api: Api) -> None:
    setup = await group_setup(api)
    subscriber = person(firstName="  josé ", middleName="Q", hireDate=years_ago(1).isoformat())
    values = enrollment(
        setup,
        subscriber=subscriber,
        dependents=[dependent("SPOUSE", 38, sex="FEMALE"), dependent("CHILD", 5, ssn=None)],
        tier="FAMILY",
        divisionId=setup.divisions["EAST"],
    )
    before = await counts(api)
    payload = await enroll(api, values)
    assert payload["errors"] == []
    assert payload["status"] == "PROCESSED"
    members = payload["members"]
    assert [m["relationship"] for m in members] == ["SUBSCRIBER", "SPOUSE", "CHILD"]
    assert all(m["status"] == "ACTIVE" for m in members)
    assert {m["coverage"]["tier"] for m in members} == {"FAMILY"}
    assert {m["coverage"]["plan"]["id"] for m in members} == {setup.plan}
    assert [m["subscriber"] for m in members[1:]] == [{"id": members[0]["id"]}] * 2
    request = payload["request"]
    assert request["status"] == "PROCESSED"
    assert request["member"] == {"id": members[0]["id"]}
    assert request["submitted"]["division"] == {"code": "EAST"}
    people = request["submitted"]["people"]
    assert people[0]["firstName"] == "josé"
    assert people[0]["ssnLast4"] == subscriber["ssn"][-4:]
    assert people[2]["ssnLast4"] is None
    assert [event["status"] for event in request["history"]] == ["PROCESSED"]
    after = await counts(api)
    # 3 members, 3 coverages, 1 request, no review item, 3 audit events.
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 3, 1, 0, 3]
    async with api.app.state.database.reader.connect() as connection:
        stored = (
            await connection.execute(select(Member).where(Member.id == key_of(members[0]["id"])))
        ).one()
        payloads = list(await connection.scalars(select(EnrollmentRequest.payload)))
        audits = list(await connection.scalars(select(AuditEvent.after)))
    assert stored.ssn_hash == ssn_hash(subscriber["ssn"], TEST_SECRET)
    assert stored.first_name_key == "jose"
    digits = subscriber["ssn"].replace("-", "")
    # The SSN is kept nowhere, not in the request's payload nor in the audit log.
    for document in [*payloads, *audits]:
        text = json.dumps(document)
        assert digits not in text
        assert subscriber["ssn"] not in text


ADDRESS = {"line1": "1 Main St", "city": "Oakland", "state": "ca", "postalCode": "94607-1234"}


async def test_the_subscriber_s_address_phone_and_e_mail_are_kept_as_member_update_keeps_them(
    api: Api,
) -> None:
    setup = await group_setup(api)
    subscriber = person(address=ADDRESS, phone="(510) 555-0142", email="Ana@Example.COM ")
    payload = await enroll(api, enrollment(setup, subscriber=subscriber))
    assert payload["errors"] == []
    async with api.app.state.database.reader.connect() as connection:
        stored = (
            await connection.execute(
                select(Member).where(Member.id == key_of(payload["members"][0]["id"]))
            )
        ).one()
    assert (stored.address_line1, stored.city, stored.state) == ("1 Main St", "Oakland", "CA")
    assert stored.postal_code == "94607-1234"
    assert stored.phone == "+15105550142"
    assert stored.email == "ana@example.com"


async def test_one_record_agreeing_on_everything_is_linked(api: Api) -> None:
    """The same person in another group, typed with other case, spacing and accents."""
    setup = await group_setup(api)
    other = await existing_member(api, "Globex Corporation")
    typed = as_submitted(
        other,
        firstName=f"  {other.first_name.upper()} ",
        lastName=other.last_name.lower(),
        ssn=other.ssn.replace("-", ""),
    )
    payload = await enroll(api, enrollment(setup, subscriber=typed))
    assert payload["errors"] == []
    assert payload["status"] == "PROCESSED"
    new = key_of(payload["members"][0]["id"])
    assert new != other.key
    async with api.app.state.database.reader.connect() as connection:
        rows = (
            await connection.execute(select(Member).where(Member.id.in_([new, other.key])))
        ).all()
        by_id = {row.id: row for row in rows}
        stored = await connection.scalar(
            select(EnrollmentRequest.payload).where(EnrollmentRequest.member_id == new)
        )
    assert by_id[new].group_id == setup.key
    assert by_id[new].ssn_hash == by_id[other.key].ssn_hash
    assert stored is not None
    assert stored["matches"][0]["outcome"] == "LINK"
    assert stored["matches"][0]["linkedMemberId"] == other.key
    assert "linked" in payload["request"]["history"][0]["note"]


async def test_a_family_with_one_uncertain_person_waits_whole(api: Api) -> None:
    """The spouse agrees with a record on everything but the first name: nobody is enrolled."""
    setup = await group_setup(api)
    other = await existing_member(api, "Globex Corporation")
    spouse = as_submitted(other, firstName="Someoneelse", relationship="SPOUSE")
    values = enrollment(setup, dependents=[spouse], tier="EMPLOYEE_SPOUSE")
    before = await counts(api)
    payload = await enroll(api, values)
    assert payload["errors"] == []
    assert payload["status"] == "PENDING_REVIEW"
    assert payload["members"] == []
    request = payload["request"]
    assert (request["status"], request["member"]) == ("PENDING_REVIEW", None)
    assert request["history"][0]["status"] == "PENDING_REVIEW"
    assert "dependents[0]" in request["history"][0]["note"]
    after = await counts(api)
    # No member, no coverage; one request, one review item, one audit event.
    assert [a - b for a, b in zip(after, before, strict=True)] == [0, 0, 1, 1, 1]
    seen = await api.query(ADMIN, REQUESTS, n=setup.number, status="PENDING_REVIEW")
    nodes = [edge["node"] for edge in seen["data"]["group"]["enrollmentRequests"]["edges"]]
    assert [node["id"] for node in nodes] == [request["id"]]


async def test_a_person_already_active_in_the_group_is_not_enrolled_twice(api: Api) -> None:
    setup = await group_setup(api)
    own = await existing_member(api, "Acme Manufacturing")
    before = await counts(api)
    payload = await enroll(api, enrollment(setup, subscriber=as_submitted(own)))
    assert errors_of(payload) == [("subscriber", "ALREADY_DONE")]
    assert await counts(api) == before


def _spouse(age: int = 40, **fields: Any) -> dict[str, Any]:
    return dependent("SPOUSE", age, sex="FEMALE", **fields)


# (what is wrong, the change to a valid enrollment, the errors expected)
BAD_INPUT: list[tuple[str, dict[str, Any], list[tuple[str | None, str]]]] = [
    ("no SSN", {"subscriber": person(ssn="")}, [("subscriber.ssn", "REQUIRED")]),
    (
        "a ZIP of 4 digits",
        {"subscriber": person(address=ADDRESS | {"postalCode": "1234"})},
        [("subscriber.address.postalCode", "INVALID")],
    ),
    (
        "a phone of 5 digits",
        {"subscriber": person(phone="12345")},
        [("subscriber.phone", "INVALID")],
    ),
    (
        "an e-mail without @",
        {"subscriber": person(email="nobody")},
        [("subscriber.email", "INVALID")],
    ),
    ("SSN of 8 digits", {"subscriber": person(ssn="123-45-678")}, [("subscriber.ssn", "INVALID")]),
    ("SSN area 000", {"subscriber": person(ssn="000-12-3456")}, [("subscriber.ssn", "INVALID")]),
    ("SSN area 666", {"subscriber": person(ssn="666-12-3456")}, [("subscriber.ssn", "INVALID")]),
    ("SSN area 9xx", {"subscriber": person(ssn="912-12-3456")}, [("subscriber.ssn", "INVALID")]),
    ("SSN group 00", {"subscriber": person(ssn="123-00-3456")}, [("subscriber.ssn", "INVALID")]),
    ("SSN serial 0000", {"subscriber": person(ssn="123-45-0000")}, [("subscriber.ssn", "INVALID")]),
    (
        "SSN in other digits",
        {"subscriber": person(ssn="١٢٣٤٥٦٧٨٩")},
        [("subscriber.ssn", "INVALID")],
    ),
    (
        "empty first name",
        {"subscriber": person(firstName="  ")},
        [("subscriber.firstName", "REQUIRED")],
    ),
    (
        "digits for a name",
        {"subscriber": person(lastName="1234")},
        [("subscriber.lastName", "INVALID")],
    ),
    (
        "a name too long",
        {"subscriber": person(lastName="x" * 101)},
        [("subscriber.lastName", "INVALID")],
    ),
    (
        "born tomorrow",
        {"subscriber": person(birthDate=years_ago(0, days=-1).isoformat())},
        [("subscriber.birthDate", "INVALID")],
    ),
    (
        "born in 1899",
        {"subscriber": person(birthDate="1899-12-31")},
        [("subscriber.birthDate", "INVALID")],
    ),
    (
        "Medicare",
        {"subscriber": person(medicare=True)},
        [("subscriber.medicare", "MEDICARE_NOT_ONLINE")],
    ),
    ("dependents for EMPLOYEE", {"dependents": [_spouse()]}, [("tier", "INVALID")]),
    ("no spouse for EMPLOYEE_SPOUSE", {"tier": "EMPLOYEE_SPOUSE"}, [("tier", "INVALID")]),
    (
        "a child for EMPLOYEE_SPOUSE",
        {"tier": "EMPLOYEE_SPOUSE", "dependents": [dependent("CHILD", 3)]},
        [("tier", "INVALID")],
    ),
    (
        "a spouse for EMPLOYEE_CHILDREN",
        {"tier": "EMPLOYEE_CHILDREN", "dependents": [_spouse(), dependent("CHILD", 3)]},
        [("tier", "INVALID")],
    ),
    (
        "FAMILY without children",
        {"tier": "FAMILY", "dependents": [_spouse()]},
        [("tier", "INVALID")],
    ),
    (
        "a spouse and a domestic partner",
        {
            "tier": "FAMILY",
            "dependents": [_spouse(), dependent("DOMESTIC_PARTNER", 40), dependent("CHILD", 2)],
        },
        [("dependents[1].relationship", "INVALID")],
    ),
    (
        "a child of 26",
        {
            "tier": "EMPLOYEE_CHILDREN",
            "dependents": [dependent("CHILD", 3), dependent("CHILD", 26)],
        },
        [("dependents[1].birthDate", "INVALID")],
    ),
    (
        "a dependent as SUBSCRIBER",
        {"tier": "EMPLOYEE_CHILDREN", "dependents": [dependent("SUBSCRIBER", 3)]},
        [("dependents[0].relationship", "INVALID")],
    ),
    (
        "a child with Medicare",
        {"tier": "EMPLOYEE_CHILDREN", "dependents": [dependent("CHILD", 3, medicare=True)]},
        [("dependents[0].medicare", "MEDICARE_NOT_ONLINE")],
    ),
    (
        "effective 61 days back",
        {"effectiveDate": years_ago(0, days=61).isoformat()},
        [("effectiveDate", "INVALID")],
    ),
    (
        "effective beyond the next plan year",
        {"effectiveDate": years_ago(-3).isoformat()},
        [("effectiveDate", "INVALID")],
    ),
    ("a plan of no group", {"planId": "UGxhbjo5OTk5OQ=="}, [("planId", "INVALID")]),
    ("not a plan ID", {"planId": "nonsense"}, [("planId", "INVALID")]),
    ("not a division ID", {"divisionId": "nonsense"}, [("divisionId", "NOT_FOUND")]),
    (
        "a bad subscriber beside a child of 26",
        {
            "tier": "EMPLOYEE_CHILDREN",
            "subscriber": person(ssn=""),
            "dependents": [dependent("CHILD", 27)],
        },
        [("subscriber.ssn", "REQUIRED"), ("dependents[0].birthDate", "INVALID")],
    ),
    (
        "21 dependents",
        {"tier": "EMPLOYEE_CHILDREN", "dependents": [dependent("CHILD", 3) for _ in range(21)]},
        [("dependents", "INVALID")],
    ),
    (
        "two faults at once",
        {"subscriber": person(ssn="1", firstName="")},
        [("subscriber.firstName", "REQUIRED"), ("subscriber.ssn", "INVALID")],
    ),
]


@pytest.mark.parametrize(("what", "change", "expected"), BAD_INPUT, ids=[r[0] for r in BAD_INPUT])
async def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    api: Api, what: str, change: dict[str, Any], expected: list[tuple[str | None, str]]
) -> None:
    setup = await group_setup(api)
    before = await counts(api)
    payload = await enroll(api, enrollment(setup, **change))
    assert sorted(errors_of(payload), key=str) == sorted(expected, key=str), what
    assert payload["status"] is None
    assert payload["request"] is None
    assert await counts(api) == before


async def test_the_group_offers_the_plan_and_owns_the_division(api: Api) -> None:
    setup = await group_setup(api)
    globex = await group_setup(api, "Globex Corporation")
    before = await counts(api)
    payload = await enroll(api, enrollment(setup, planId=setup.foreign_plan))
    assert errors_of(payload) == [("planId", "INVALID")]
    payload = await enroll(api, enrollment(setup, divisionId=globex.divisions["ENG"]))
    assert errors_of(payload) == [("divisionId", "NOT_FOUND")]
    assert await counts(api) == before


async def test_a_disabled_child_over_26_and_a_newborn_without_ssn_are_covered(api: Api) -> None:
    setup = await group_setup(api)
    children = [dependent("CHILD", 30, isDisabled=True), dependent("CHILD", 0, ssn=None)]
    payload = await enroll(api, enrollment(setup, tier="EMPLOYEE_CHILDREN", dependents=children))
    assert payload["errors"] == []
    assert payload["status"] == "PROCESSED"
    assert len(payload["members"]) == 3


@pytest.mark.parametrize(
    ("as_user", "division", "expected"),
    [
        ("admin@acme.example", "WEST", None),
        ("hr.east@acme.example", "EAST", None),
        ("hr.east@acme.example", "WEST", "FORBIDDEN"),
        ("hr.east@acme.example", None, "FORBIDDEN"),
        ("billing@acme.example", None, "FORBIDDEN"),
        ("broker@summit.example", None, "FORBIDDEN"),
        ("rep@carrier.example", None, "FORBIDDEN"),
        ("admin@globex.example", None, "NOT_FOUND"),
    ],
)
async def test_who_may_enroll(
    api: Api, as_user: str, division: str | None, expected: str | None
) -> None:
    setup = await group_setup(api)
    values = enrollment(setup, divisionId=setup.divisions[division] if division else None)
    before = await counts(api)
    body = await api.query(as_user, ENROLL, input=values)
    if expected is None:
        assert body["data"]["memberEnroll"]["status"] == "PROCESSED"
        return
    if expected == "NOT_FOUND":  # another group's ID answers like one that does not exist
        assert errors_of(body["data"]["memberEnroll"]) == [("groupId", "NOT_FOUND")]
    else:
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await counts(api) == before


async def test_anonymous_callers_are_refused(api: Api) -> None:
    setup = await group_setup(api)
    body = await api.query(None, ENROLL, input=enrollment(setup))
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_batch_interface_rejects_a_row_without_writing_and_goes_on(api: Api) -> None:
    """What the batch-file processor does: one unit of work, rows one after the other, each
    request tied to its row; a refused row leaves the session usable."""
    state = api.app.state
    setup = await group_setup(api)
    async with state.database.reader.connect() as connection:
        user = await user_by_email(connection, ADMIN)
    context = Context(
        database=state.database,
        policy=state.policy,
        user=user,
        secret_key=TEST_SECRET,
    )
    before = await counts(api)
    async with context.transaction() as session:
        batch = EnrollmentBatch(
            group_id=setup.key,
            filename="rows.csv",
            format=BatchFormat.CSV,
            sha256="0" * 64,
            status=BatchStatus.RUNNING,
        )
        session.add(batch)
        await session.flush()
        rows = [
            EnrollmentBatchRow(
                batch_id=batch.id,
                row_number=number,
                outcome=BatchRowOutcome.PROCESSED,
                processed_at=context.now,
            )
            for number in (1, 2)
        ]
        session.add_all(rows)
        await session.flush()
        refused = await enroll_use_case(
            context,
            session,
            EnrollmentInput(
                group_id=setup.key,
                subscriber=PersonInput(first_name="Ann", last_name=None, ssn="123-45-6789"),
                plan_id=setup.plan_key,
                tier=CoverageTier.EMPLOYEE,
                effective_date=today(),
            ),
            batch_row_id=rows[0].id,
        )
        done = await enroll_use_case(
            context,
            session,
            EnrollmentInput(
                group_id=setup.key,
                subscriber=PersonInput(
                    first_name="Zenobia",
                    last_name="Batchrowperson",
                    birth_date=years_ago(30),
                    sex=Sex.FEMALE,
                    ssn="899-12-3456",
                ),
                plan_id=setup.plan_key,
                tier=CoverageTier.EMPLOYEE,
                effective_date=today(),
            ),
            batch_row_id=rows[1].id,
        )
    assert refused.outcome == Outcome.REJECTED
    assert {(e.field, e.code.value) for e in refused.errors} == {
        ("subscriber.lastName", "REQUIRED"),
        ("subscriber.birthDate", "REQUIRED"),
        ("subscriber.sex", "REQUIRED"),
    }
    assert done.outcome == Outcome.PROCESSED
    assert len(done.member_ids) == 1
    after = await counts(api)
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1, 0, 1]
    async with state.database.reader.connect() as connection:
        row_of_request = await connection.scalar(
            select(EnrollmentRequest.batch_row_id).where(EnrollmentRequest.id == done.request_id)
        )
    assert row_of_request == rows[1].id


TEXT = st.text(max_size=120)


@settings(
    max_examples=30,
    deadline=None,
    # Examples share the one served database: each answer stands on its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    first=TEXT,
    last=TEXT,
    ssn=st.none() | TEXT,
    born=st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 1, 1)),
    effective=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)),
    relationship=st.sampled_from(["SPOUSE", "DOMESTIC_PARTNER", "CHILD", "SUBSCRIBER"]),
    tier=st.sampled_from(["EMPLOYEE", "EMPLOYEE_SPOUSE", "EMPLOYEE_CHILDREN", "FAMILY"]),
)
async def test_arbitrary_input_never_fails_the_server(
    api: Api,
    first: str,
    last: str,
    ssn: str | None,
    born: date,
    effective: date,
    relationship: str,
    tier: str,
) -> None:
    setup = await group_setup(api)
    values = enrollment(
        setup,
        subscriber=person(firstName=first, ssn=ssn or ""),
        dependents=[dependent(relationship, 5, lastName=last, birthDate=born.isoformat(), ssn=ssn)],
        tier=tier,
        effectiveDate=effective.isoformat(),
    )
    body = await api.query(ADMIN, ENROLL, input=values)
    assert "errors" not in body, body
    payload = body["data"]["memberEnroll"]
    assert (payload["status"] is None) == bool(payload["errors"])
