"""Enrollment batch files through the endpoint: the multipart upload, who may send one, files
refused whole (nothing changes), the same file twice, a result for every row — CHANGE and
TERMINATE applied, bad rows rejected with row number, field and message — and who may read it.

The server's own batch worker processes the uploads (it is woken by them)."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bench.enrollment_files import csv_text, to_bytes, x12_text
from data.demo.design import demo_ssn
from data.models.audit import AuditEvent
from data.models.enrollment import BatchRowAction, EnrollmentBatch, EnrollmentBatchRow
from data.models.groups import Group
from data.models.members import Coverage, Member, MemberStatus, Relationship, Sex
from data.models.plans import CoverageTier
from resolvers.enrollment_files.records import PersonRow
from schema.common import global_id
from tests.conftest import Api

ADMIN = "admin@acme.example"
UPLOAD = """
mutation ($input: EnrollmentBatchUploadInput!) {
  enrollmentBatchUpload(input: $input) {
    batch { id status total processed filename format }
    errors { field message code }
  }
}"""
BATCH = """
query ($id: ID!, $outcome: BatchRowOutcome, $first: Int, $after: String) {
  enrollmentBatch(id: $id) {
    id status total processed error
    rows(outcome: $outcome, first: $first, after: $after) {
      totalCount
      edges { node { rowNumber action outcome field message member { memberNumber } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


def today() -> date:
    return datetime.now(UTC).date()


def month_end(day: date) -> date:
    following = day.year * 12 + day.month
    return date(following // 12, following % 12 + 1, 1) - timedelta(days=1)


async def send(
    api: Api,
    email: str | None,
    group_id: int,
    content: bytes,
    filename: str = "members.csv",
) -> dict[str, Any]:
    """A GraphQL multipart request: the operation, the map, and the file."""
    operations = {
        "query": UPLOAD,
        "variables": {"input": {"groupId": global_id("Group", group_id), "file": None}},
    }
    headers = {"authorization": f"Bearer {await api.token(email)}"} if email else {}
    response = await api.client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (filename, content, "application/octet-stream")},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sent(body: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = body["data"]["enrollmentBatchUpload"]
    return payload


async def finished(api: Api, batch_id: str, email: str = ADMIN) -> dict[str, Any]:
    """The batch once its worker is done with it, with every row's result."""
    for _ in range(300):
        body = await api.query(email, BATCH, id=batch_id, first=100)
        batch: dict[str, Any] = body["data"]["enrollmentBatch"]
        if batch["status"] in ("COMPLETED", "FAILED"):
            return batch
        await asyncio.sleep(0.1)
    raise AssertionError(f"batch {batch_id} still {batch['status']}")


def results(batch: dict[str, Any]) -> dict[int, tuple[str, str | None, str | None]]:
    return {
        edge["node"]["rowNumber"]: (
            edge["node"]["outcome"],
            edge["node"]["field"],
            edge["node"]["message"],
        )
        for edge in batch["rows"]["edges"]
    }


@dataclass(frozen=True)
class Person:
    id: int
    number: str
    first_name: str
    last_name: str
    birth_date: date
    relationship: Relationship


@dataclass(frozen=True)
class Family:
    subscriber: Person
    dependents: tuple[Person, ...]


async def group_id(api: Api, name: str) -> int:
    async with api.app.state.database.reader.connect() as connection:
        found = await connection.scalar(select(Group.id).where(Group.legal_name == name))
    assert found is not None
    return int(found)


async def families(api: Api, group: str = "Acme Manufacturing") -> list[Family]:
    """Active families whose every coverage is open and began over 60 days ago."""
    async with api.app.state.database.reader.connect() as connection:
        people = (
            await connection.execute(
                select(Member)
                .join(Group, Group.id == Member.group_id)
                .where(Group.legal_name == group, Member.status == MemberStatus.ACTIVE)
                .order_by(Member.id)
            )
        ).all()
        spans = (await connection.execute(select(Coverage))).all()
    settled = today() - timedelta(days=70)
    unsettled = {
        span.member_id
        for span in spans
        if span.termination_date is not None or span.effective_date > settled
    }
    covered = {span.member_id for span in spans} - unsettled

    def person(row: Any) -> Person:
        return Person(
            row.id,
            row.member_number,
            row.first_name,
            row.last_name,
            row.birth_date,
            row.relationship,
        )

    found = []
    for row in people:
        if row.relationship != Relationship.SUBSCRIBER or row.id not in covered:
            continue
        dependents = [p for p in people if p.subscriber_id == row.id]
        if all(d.id in covered for d in dependents):
            found.append(Family(person(row), tuple(person(d) for d in dependents)))
    return found


def change(person: Person, subscriber: Person | None = None, **values: Any) -> PersonRow:
    head = subscriber or person
    return PersonRow(
        0,
        BatchRowAction.CHANGE,
        head.number,
        person.relationship,
        member_number=None if subscriber is None else person.number,
        **values,
    )


def terminate(person: Person, key: str | None = None, **values: Any) -> PersonRow:
    return PersonRow(
        0,
        BatchRowAction.TERMINATE,
        key or person.number,
        Relationship.SUBSCRIBER,
        **values,
    )


async def member(api: Api, member_id: int) -> Any:
    async with api.app.state.database.reader.connect() as connection:
        return (await connection.execute(select(Member).where(Member.id == member_id))).one()


async def coverage_end(api: Api, member_id: int) -> date | None:
    async with api.app.state.database.reader.connect() as connection:
        ends: date | None = await connection.scalar(
            select(Coverage.termination_date)
            .where(Coverage.member_id == member_id)
            .order_by(Coverage.effective_date.desc())
            .limit(1)
        )
    return ends


async def counts(api: Api) -> tuple[int, int, int]:
    async with api.app.state.database.reader.connect() as connection:
        batches = await connection.scalar(select(func.count()).select_from(EnrollmentBatch))
        rows = await connection.scalar(select(func.count()).select_from(EnrollmentBatchRow))
        audits = await connection.scalar(select(func.count()).select_from(AuditEvent))
    return int(batches or 0), int(rows or 0), int(audits or 0)


async def test_a_csv_file_gives_every_row_its_result(api: Api) -> None:
    acme = await group_id(api, "Acme Manufacturing")
    globex = (await families(api, "Globex Corporation"))[0]
    with_dependent = [f for f in await families(api) if f.dependents]
    changed, terminated, mistyped = with_dependent[:3]
    child = changed.dependents[0]
    ends = month_end(today())
    persons = [
        change(changed.subscriber, last_name="Okonkwo-Smith", phone="(212) 555-0123"),  # 2
        change(child, changed.subscriber, first_name="Renamed"),  # 3
        terminate(
            terminated.subscriber,
            demo_ssn(terminated.subscriber.number),
            first_name=terminated.subscriber.first_name.upper(),
            last_name=terminated.subscriber.last_name,
            termination_date=ends,
        ),  # 4
        terminate(mistyped.subscriber, last_name="Nobody"),  # 5
        change(globex.subscriber, phone="2125550100"),  # 6: another group's member
        change(changed.subscriber, last_name="Okonkwo-Smith"),  # 7: already so
        change(changed.subscriber, phone="2125550124", plan_code="NCAL-HMO-P90"),  # 8
        PersonRow(
            0,
            BatchRowAction.ADD,
            "123456789",
            Relationship.SUBSCRIBER,
            first_name="New",
            last_name="Hire",
            birth_date=date(1990, 1, 1),
            sex=Sex.MALE,
            effective_date=today(),
            plan_code="NCAL-HMO-G80",
            tier=CoverageTier.EMPLOYEE,
        ),
    ]
    content = to_bytes(csv_text(persons))
    content = content.replace(b"\n", b"\nCHANGE,M1,,SUBSCRIBER,,,31/12/1980,,,,,,,,,,,,,,,,,,\n", 1)
    # The parse problem went in as line 2: the persons are lines 3 to 10.
    payload = sent(await send(api, ADMIN, acme, content))
    assert payload["errors"] == []
    assert payload["batch"]["total"] == 9
    assert payload["batch"]["format"] == "CSV"
    batch = await finished(api, payload["batch"]["id"])
    assert (batch["status"], batch["processed"], batch["total"]) == ("COMPLETED", 9, 9)
    got = results(batch)
    assert got[2][:2] == ("REJECTED", "birth_date")
    assert got[3] == ("PROCESSED", None, None)
    assert got[4] == ("PROCESSED", None, None)
    assert got[5] == ("PROCESSED", None, None)
    assert got[6] == ("REJECTED", "last_name", "is not the member's name")
    assert got[7] == ("REJECTED", "subscriber_key", "no such subscriber in this group")
    assert got[8][:2] == ("PROCESSED", None)
    assert got[8][2] is not None
    assert got[8][2].startswith("nothing changed")
    assert got[9][:2] == ("REJECTED", "plan_code")
    assert got[10] == ("REJECTED", "ssn", "required for a subscriber")

    renamed = await member(api, changed.subscriber.id)
    assert (renamed.last_name, renamed.phone) == ("Okonkwo-Smith", "+12125550123")
    assert (await member(api, child.id)).first_name == "Renamed"
    for person in (terminated.subscriber, *terminated.dependents):
        assert await coverage_end(api, person.id) == ends
    assert await coverage_end(api, mistyped.subscriber.id) is None
    assert await coverage_end(api, globex.subscriber.id) is None

    batch_number = int(base64.urlsafe_b64decode(batch["id"]).decode().split(":")[1])
    async with api.app.state.database.reader.connect() as connection:
        audited = (
            await connection.execute(
                select(AuditEvent.action, AuditEvent.target_id, AuditEvent.actor_user_id).where(
                    AuditEvent.request_id == f"enrollment-batch:{batch_number}"
                )
            )
        ).all()
    admin = await api.user_id(ADMIN)
    assert {(action, user) for action, _, user in audited} == {
        ("member.updated", admin),
        ("coverage.terminated", admin),
    }
    assert len(audited) == 2 + 1 + len(terminated.dependents)


async def test_the_same_file_again_changes_nothing_and_says_so(api: Api) -> None:
    acme = await group_id(api, "Acme Manufacturing")
    family = (await families(api))[0]
    content = to_bytes(csv_text([change(family.subscriber, phone="2125550199")]))
    first = sent(await send(api, ADMIN, acme, content))
    await finished(api, first["batch"]["id"])
    before = await counts(api)
    again = sent(await send(api, ADMIN, acme, content, filename="renamed.csv"))
    assert again["batch"]["id"] == first["batch"]["id"]
    assert again["batch"]["filename"] == "members.csv"
    [error] = again["errors"]
    assert error["code"] == "ALREADY_DONE"
    assert error["field"] == "file"
    assert "already uploaded" in error["message"]
    assert await counts(api) == before


@pytest.mark.parametrize(
    ("email", "group", "code"),
    [
        ("admin@initech.example", "Initech", "GROUP_TOO_SMALL"),
        ("admin@globex.example", "Acme Manufacturing", "NOT_FOUND"),
        ("broker@summit.example", "Acme Manufacturing", "FORBIDDEN"),
        ("billing@acme.example", "Acme Manufacturing", "FORBIDDEN"),
        ("hr.east@acme.example", "Acme Manufacturing", "FORBIDDEN"),
    ],
)
async def test_who_may_send_a_file(api: Api, email: str, group: str, code: str) -> None:
    family = (await families(api))[0]
    content = to_bytes(csv_text([change(family.subscriber, phone="2125550100")]))
    before = await counts(api)
    body = await send(api, email, await group_id(api, group), content)
    if code == "FORBIDDEN":
        assert body["data"]["enrollmentBatchUpload"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    else:
        [error] = sent(body)["errors"]
        assert (error["field"], error["code"]) == ("groupId", code)
        assert sent(body)["batch"] is None
    assert await counts(api) == before


def _x12_cut(persons: list[PersonRow]) -> bytes:
    text = to_bytes(x12_text(persons))
    return text[: text.index(b"SE*")]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "empty"),
        ("action,subscriber_key\nCHANGE,Peña\n".encode("latin-1"), "not UTF-8"),
        (b"action,subscriber_key,relationship\nTERMINATE,M1,SUBSCRIBER\n", "missing required"),
        (b"action,shoe_size\n", "unknown columns: shoe_size"),
        (b"ISA*00*", "truncated"),
        (bytes(range(256)) * 400, "not UTF-8"),
        (to_bytes(csv_text([])), "holds no person"),
    ],
    ids=["empty", "latin-1", "missing-columns", "unknown-column", "cut-isa", "junk", "no-rows"],
)
async def test_files_refused_whole_change_nothing(
    api: Api, tmp_path: Path, content: bytes, says: str
) -> None:
    acme = await group_id(api, "Acme Manufacturing")
    before = await counts(api)
    payload = sent(await send(api, ADMIN, acme, content))
    [error] = payload["errors"]
    assert (error["field"], error["code"]) == ("file", "INVALID")
    assert says in error["message"]
    assert payload["batch"] is None
    assert await counts(api) == before
    assert not list((tmp_path / "files").glob("enrollment-batches/**/*"))


async def test_a_truncated_834_is_refused(api: Api) -> None:
    family = (await families(api))[0]
    payload = sent(
        await send(
            api,
            ADMIN,
            await group_id(api, "Acme Manufacturing"),
            _x12_cut([change(family.subscriber, phone="2125550100")]),
            "members.834",
        )
    )
    assert "ends before its SE trailer" in payload["errors"][0]["message"]


async def test_an_834_file_names_segments_in_its_results(api: Api) -> None:
    acme = await group_id(api, "Acme Manufacturing")
    first, second, third = (await families(api))[:3]
    persons = [
        change(first.subscriber, phone="2125550142", group_number="G100000"),
        change(second.subscriber, phone="2125550143", group_number="G100001"),
        terminate(third.subscriber, birth_date=date(1901, 1, 1)),
    ]
    payload = sent(await send(api, ADMIN, acme, to_bytes(x12_text(persons)), "members.x12"))
    assert payload["batch"]["format"] == "X12_834"
    got = results(await finished(api, payload["batch"]["id"]))
    assert got[1] == ("PROCESSED", None, None)
    assert got[2][:2] == ("REJECTED", "REF*1L")
    assert got[3] == ("REJECTED", "DMG02", "is not the member's birth date")
    assert (await member(api, first.subscriber.id)).phone == "+12125550142"
    assert (await member(api, second.subscriber.id)).phone != "+12125550143"
    assert await coverage_end(api, third.subscriber.id) is None


BATCH_NODE = "query ($id: ID!) { node(id: $id) { id ... on EnrollmentBatch { status } } }"


async def test_who_may_read_a_batch_and_its_rows_page_by_page(api: Api) -> None:
    acme = await group_id(api, "Acme Manufacturing")
    subscribers = [family.subscriber for family in (await families(api))[:5]]
    persons = [change(person, phone=f"212555{1000 + n}") for n, person in enumerate(subscribers)]
    persons += [change(person, plan_code="X") for person in subscribers]
    payload = sent(await send(api, ADMIN, acme, to_bytes(csv_text(persons))))
    batch_id = payload["batch"]["id"]
    await finished(api, batch_id)
    for email, sees in [
        ("admin@acme.example", True),
        ("rep@carrier.example", True),
        ("hr.east@acme.example", False),  # members of one division only
        ("billing@acme.example", False),
        ("admin@globex.example", False),
    ]:
        body = await api.query(email, BATCH, id=batch_id, first=2)
        assert (body["data"]["enrollmentBatch"] is not None) is sees, email
        # As a Relay node it answers alike: the same batch, or null as if there were none.
        node = await api.query(email, BATCH_NODE, id=batch_id)
        assert node["data"]["node"] == ({"id": batch_id, "status": "COMPLETED"} if sees else None)
    seen: list[int] = []
    after = None
    while True:
        body = await api.query(ADMIN, BATCH, id=batch_id, outcome="REJECTED", first=2, after=after)
        rows = body["data"]["enrollmentBatch"]["rows"]
        assert rows["totalCount"] == 5
        seen += [edge["node"]["rowNumber"] for edge in rows["edges"]]
        if not rows["pageInfo"]["hasNextPage"]:
            break
        after = rows["pageInfo"]["endCursor"]
    assert seen == [7, 8, 9, 10, 11]
    body = await api.query(ADMIN, BATCH, id=batch_id, outcome="PROCESSED", first=1)
    [edge] = body["data"]["enrollmentBatch"]["rows"]["edges"]
    assert edge["node"]["member"]["memberNumber"] == subscribers[0].number
    missing = await api.query(ADMIN, BATCH, id=global_id("EnrollmentBatch", 999_999))
    assert missing["data"]["enrollmentBatch"] is None


async def test_uploads_have_their_own_body_limit_for_signed_requests(api: Api) -> None:
    acme = await group_id(api, "Acme Manufacturing")
    bad = b"CHANGE,M1,,CHILD,,,,,,,,,,,,,,,,,,,,,\n" * 6_000  # ~200 KB of rows without a number
    content = to_bytes(csv_text([])) + bad
    # A request without a token may only send a prospect's application (at most 25 MB).
    anonymous = await api.client.post(
        "/graphql",
        data={"operations": "{}", "map": "{}"},
        files={"0": ("members.csv", content * 130, "text/csv")},
    )
    assert anonymous.status_code == 413
    payload = sent(await send(api, ADMIN, acme, content))
    assert payload["batch"]["total"] == 6_000
    batch = await finished(api, payload["batch"]["id"])
    assert batch["rows"]["totalCount"] == 6_000
    assert results(batch)[2][:2] == ("REJECTED", "member_number")
    assert str(results(batch)[2][2]).startswith("required for CHANGE row")
    json_body = await api.client.post(
        "/graphql",
        json={"query": "{ __typename }", "variables": {"padding": "x" * 200_000}},
        headers={"authorization": f"Bearer {await api.token(ADMIN)}"},
    )
    assert json_body.status_code == 413


async def test_a_file_that_is_not_a_multipart_upload_is_refused(api: Api) -> None:
    acme = await group_id(api, "Acme Manufacturing")
    body = await api.query(
        ADMIN, UPLOAD, input={"groupId": global_id("Group", acme), "file": "members.csv"}
    )
    assert body["data"]["enrollmentBatchUpload"]["errors"][0]["field"] == "file"


@settings(
    max_examples=25,
    deadline=None,
    # Examples share the served app and its database: the property holds whatever came before.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    content=st.one_of(
        st.binary(max_size=400),
        st.builds(
            lambda edits, cut: _damaged(edits, cut),
            st.lists(st.tuples(st.integers(0, 3000), st.binary(max_size=4)), max_size=4),
            st.integers(0, 3000),
        ),
    ),
    filename=st.text(max_size=30),
)
async def test_any_upload_is_answered_in_the_payload(
    api: Api, content: bytes, filename: str
) -> None:
    """Whatever is sent: a refusal in `errors`, or a batch whose every row gets its result;
    never a top-level error (so never a 500)."""
    acme = await group_id(api, "Acme Manufacturing")
    body = await send(api, ADMIN, acme, content, filename=filename or "x")
    assert "errors" not in body, body
    payload = sent(body)
    if payload["batch"] is None:
        assert payload["errors"]
        return
    batch = await finished(api, payload["batch"]["id"])
    assert batch["status"] == "COMPLETED"
    assert batch["processed"] == batch["total"] == batch["rows"]["totalCount"]


def _damaged(edits: list[tuple[int, bytes]], cut: int) -> bytes:
    persons = [
        PersonRow(
            0, BatchRowAction.CHANGE, f"M10000{n:04d}", Relationship.SUBSCRIBER, phone="2125550100"
        )
        for n in range(4)
    ]
    content = bytearray(to_bytes(x12_text(persons) if cut % 2 else csv_text(persons)))
    for position, replacement in edits:
        position %= len(content) + 1
        content[position : position + len(replacement)] = replacement
    return bytes(content[: cut or None])
