"""Single enrollments through the endpoint: new families, links to the carrier's records,
families waiting for review, every validation rule (nothing changed), who may enroll,
dependents added to a family, COBRA and Medicare, and what the group sees of its requests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from data.models.audit import AuditEvent
from data.models.enrollment import EnrollmentRequest
from data.models.members import Coverage, Member
from data.normalize import ssn_hash
from tests.conftest import TEST_SECRET, Api
from tests.enrollment_helpers import (
    COBRA,
    DEPENDENT_ADD,
    ENROLL,
    REQUESTS,
    as_submitted,
    counts,
    dependent,
    enrollment,
    errors_of,
    existing_member,
    gid,
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
