"""ADD rows of enrollment batch files through the endpoint (multipart upload, the server's own
worker) and the CLI: new families enrolled, an exact match with another group's member linked,
an uncertain match waiting for review (in the group's requests and the carrier's queue, its
row pointing at it), bad rows rejected with row number, field and message beside good ones —
in CSV and in 834 — and a killed worker never enrolling a person twice."""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import signal
import string
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bench.enrollment_files import csv_text, families, to_bytes, x12_text
from data.database import Database
from data.models.audit import AuditEvent
from data.models.enrollment import (
    BatchRowAction,
    EnrollmentBatch,
    EnrollmentBatchRow,
    EnrollmentRequest,
    ReviewItem,
)
from data.models.members import Coverage, Member, Relationship, Sex
from data.models.plans import CoverageTier, Plan
from data.normalize import ssn_hash
from resolvers.enrollment_files.records import Address, PersonRow
from tests.conftest import TEST_SECRET, Api, make_settings, serve_api
from tests.enrollment_helpers import (
    REQUESTS,
    Existing,
    existing_member,
    gid,
    group_setup,
    years_ago,
)
from tests.test_batch_worker import GROUPGATE, batch_state, groupgate
from tests.test_enrollment_batches import ADMIN, send, sent, today
from tests.test_enrollment_batches import families as demo_families
from tests.test_review_queue import resolve

REP = "rep@carrier.example"
BATCH = """
query ($id: ID!, $first: Int, $after: String) {
  enrollmentBatch(id: $id) {
    status total processed
    rows(first: $first, after: $after) {
      pageInfo { endCursor }
      edges { node { rowNumber action outcome field message member { id memberNumber }
                     enrollmentRequest { id status kind } } }
    }
  }
}"""
QUEUE = """
query { reviewQueue(status: OPEN, first: 100) { edges { node { request { id status } } } } }"""

_serial = itertools.count(1)


def _letters(number: int) -> str:
    text = ""
    while number:
        number, digit = divmod(number, 26)
        text += string.ascii_lowercase[digit]
    return text


def add(
    relationship: Relationship = Relationship.SUBSCRIBER,
    *,
    key: str | None = None,
    age: int = 40,
    **fields: Any,
) -> PersonRow:
    """An ADD row of a person nobody has: unusual names, an SSN of area 897."""
    n = next(_serial)
    ssn = f"897{10 + n % 89:02d}{1000 + n:04d}"
    values: dict[str, Any] = {
        "first_name": f"Ozymandias{_letters(n + 900).capitalize()}",
        "last_name": f"Thistlewaite{_letters(n + 500)}",
        "birth_date": years_ago(age),
        "sex": Sex.FEMALE,
        "ssn": ssn,
        "effective_date": today(),
    }
    return PersonRow(
        0,
        BatchRowAction.ADD,
        key or ssn,
        relationship,
        **(values | fields),
    )


def family(
    plan: str, tier: CoverageTier, *dependents: tuple[Relationship, int], **fields: Any
) -> list[PersonRow]:
    head = add(plan_code=plan, tier=tier, **fields)
    return [head] + [
        add(relationship, key=head.subscriber_key, age=age) for relationship, age in dependents
    ]


def as_row(member: Existing, plan: str, **fields: Any) -> PersonRow:
    """An ADD row of a demo member of another group, as the carrier knows it."""
    values: dict[str, Any] = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "birth_date": member.birth_date,
        "sex": Sex(member.sex[0]),
        "ssn": member.ssn,
        "effective_date": today(),
        "plan_code": plan,
        "tier": CoverageTier.EMPLOYEE,
    }
    return PersonRow(
        0, BatchRowAction.ADD, member.ssn, Relationship.SUBSCRIBER, **(values | fields)
    )


def content_of(persons: list[PersonRow], file_format: str) -> bytes:
    return to_bytes(csv_text(persons) if file_format == "CSV" else x12_text(persons))


def numbered(persons: list[PersonRow], file_format: str) -> dict[int, PersonRow]:
    """Each person by its row number: CSV lines from 2 (the header is 1), 834 loops from 1."""
    first = 2 if file_format == "CSV" else 1
    return dict(enumerate(persons, first))


async def plan_code(api: Api) -> str:
    setup = await group_setup(api)
    async with api.app.state.database.reader.connect() as connection:
        code = await connection.scalar(select(Plan.code).where(Plan.id == setup.plan_key))
    assert code is not None
    return str(code)


async def batch_of(api: Api, batch_id: str) -> dict[str, Any]:
    for _ in range(600):
        body = await api.query(ADMIN, BATCH, id=batch_id, first=100)
        found: dict[str, Any] = body["data"]["enrollmentBatch"]
        if found["status"] in ("COMPLETED", "FAILED"):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"batch {batch_id} still {found['status']}")


def rows_of(batch: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {edge["node"]["rowNumber"]: edge["node"] for edge in batch["rows"]["edges"]}


def key_of(global_id: str) -> int:
    return int(base64.urlsafe_b64decode(global_id).decode().partition(":")[2])


async def count(api: Api, table: Any) -> int:
    async with api.app.state.database.reader.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def tiers(api: Api, member_ids: Iterable[int]) -> set[CoverageTier]:
    async with api.app.state.database.reader.connect() as connection:
        found = await connection.scalars(
            select(Coverage.tier).where(
                Coverage.member_id.in_(list(member_ids)), Coverage.termination_date.is_(None)
            )
        )
        return set(found)


FIELDS = {
    # record field → (CSV column, 834 segment and element)
    "tier": ("tier", "HD05"),
    "plan_code": ("plan_code", "HD04"),
    "birth_date": ("birth_date", "DMG02"),
    "subscriber_key": ("subscriber_key", "REF*0F"),
    "effective_date": ("effective_date", "DTP*348"),
    "phone": ("phone", "PER"),
    "relationship": ("relationship", "INS02"),
}


@pytest.mark.parametrize("file_format", ["CSV", "X12_834"])
async def test_add_rows_enroll_link_wait_for_review_or_are_rejected(
    api: Api, file_format: str
) -> None:
    plan = await plan_code(api)
    acme = (await group_setup(api)).key
    exact = await existing_member(api, "Globex Corporation")
    uncertain = await existing_member(api, "Initech")
    known = next(f for f in await demo_families(api) if len(f.dependents) < 2)
    address = Address("12 Elm St", None, "Oakland", "CA", "94601")
    alone = family(plan, CoverageTier.EMPLOYEE, phone="2125550170")
    whole = family(
        plan,
        CoverageTier.FAMILY,
        (Relationship.SPOUSE, 38),
        (Relationship.CHILD, 6),
        address=address,
    )
    short = family(plan, CoverageTier.FAMILY, (Relationship.SPOUSE, 38))  # no child
    too_old = family(plan, CoverageTier.EMPLOYEE_CHILDREN, (Relationship.CHILD, 30))
    linked_row = as_row(exact, plan)
    uncertain_row = as_row(uncertain, plan, first_name="Somebodyelse")
    [no_plan] = family("NO-SUCH-PLAN", CoverageTier.EMPLOYEE)
    known_child = add(Relationship.CHILD, key=known.subscriber.number, age=3)
    orphan = add(Relationship.CHILD, key="M999999999", age=3)
    second_spouse = add(Relationship.SPOUSE, key=whole[0].subscriber_key)
    [bad_phone] = family(plan, CoverageTier.EMPLOYEE, phone="not a phone")
    persons = [
        *alone,
        *whole,
        linked_row,
        uncertain_row,
        *short,
        no_plan,
        *too_old,
        known_child,
        orphan,
        second_spouse,
        bad_phone,
    ]
    rows = numbered(persons, file_format)
    number = {id(person): row for row, person in rows.items()}
    members_before = await count(api, Member)

    payload = sent(await send(api, ADMIN, acme, content_of(persons, file_format)))
    assert payload["errors"] == []
    batch = await batch_of(api, payload["batch"]["id"])
    assert (batch["status"], batch["processed"], batch["total"]) == (
        "COMPLETED",
        len(persons),
        len(persons),
    )
    got = rows_of(batch)
    assert sorted(got) == sorted(rows)  # every row has its result
    column = 0 if file_format == "CSV" else 1

    def result(person: PersonRow) -> tuple[str, str | None, str | None]:
        node = got[number[id(person)]]
        return node["outcome"], node["field"], node["message"]

    def named(field: str) -> str:
        return FIELDS[field][column]

    processed = [*alone, *whole, linked_row]
    for person in processed:
        assert result(person) == ("PROCESSED", None, None)
        assert got[number[id(person)]]["member"] is not None
    enrolled = {key_of(got[number[id(p)]]["member"]["id"]) for p in whole}
    assert await tiers(api, enrolled) == {CoverageTier.FAMILY}
    async with api.app.state.database.reader.connect() as connection:
        head = (
            await connection.execute(
                select(Member).where(Member.id == key_of(got[number[id(whole[0])]]["member"]["id"]))
            )
        ).one()
        lone = (
            await connection.execute(
                select(Member).where(Member.id == key_of(got[number[id(alone[0])]]["member"]["id"]))
            )
        ).one()
    assert (head.address_line1, head.city, head.postal_code) == ("12 Elm St", "Oakland", "94601")
    assert lone.phone == "+12125550170"
    assert head.ssn_hash == ssn_hash(whole[0].ssn or "", TEST_SECRET)

    # The exact match: a member of Acme now, the same person as Globex's (same SSN hash).
    linked = got[number[id(linked_row)]]
    async with api.app.state.database.reader.connect() as connection:
        copy = (
            await connection.execute(
                select(Member).where(Member.id == key_of(linked["member"]["id"]))
            )
        ).one()
        request = (
            await connection.execute(
                select(EnrollmentRequest).where(
                    EnrollmentRequest.id == key_of(linked["enrollmentRequest"]["id"])
                )
            )
        ).one()
    assert copy.group_id == acme != exact.group_id
    assert copy.ssn_hash == ssn_hash(exact.ssn, TEST_SECRET)
    assert request.payload["matches"][0]["linkedMemberId"] == exact.key
    assert linked["enrollmentRequest"]["status"] == "PROCESSED"

    # The uncertain match waits, its row pointing at its request.
    waiting = got[number[id(uncertain_row)]]
    assert (waiting["outcome"], waiting["member"]) == ("PENDING_REVIEW", None)
    assert waiting["message"].startswith("waits for a membership representative's review")
    request_id = waiting["enrollmentRequest"]["id"]
    assert waiting["enrollmentRequest"]["status"] == "PENDING_REVIEW"
    pending = await api.query(ADMIN, REQUESTS, n="G100000", status="PENDING_REVIEW", first=50)
    edges = pending["data"]["group"]["enrollmentRequests"]["edges"]
    assert request_id in [edge["node"]["id"] for edge in edges]
    queue = (await api.query(REP, QUEUE))["data"]["reviewQueue"]["edges"]
    assert request_id in [edge["node"]["request"]["id"] for edge in queue]

    # A family whose tier its rows do not fill: both rows rejected, nothing enrolled.
    assert result(short[0]) == (
        "REJECTED",
        named("tier"),
        "FAMILY covers a spouse or domestic partner and at least one child",
    )
    assert result(short[1]) == (
        "REJECTED",
        None,
        f"not enrolled: its family was refused (row {number[id(short[0])]})",
    )
    assert result(no_plan) == (
        "REJECTED",
        named("plan_code"),
        "no plan has the code NO-SUCH-PLAN",
    )
    # A dependent's own fault is on its row; its subscriber's row names it.
    assert result(too_old[1])[:2] == ("REJECTED", named("birth_date"))
    assert str(result(too_old[1])[2]).startswith("a child is covered until 26 unless disabled")
    assert result(too_old[0]) == (
        "REJECTED",
        None,
        f"not enrolled: its family was refused (row {number[id(too_old[1])]})",
    )
    # A child added to a family the group has: enrolled, on the family's plan.
    added = got[number[id(known_child)]]
    assert added["outcome"] == "PROCESSED"
    async with api.app.state.database.reader.connect() as connection:
        child = (
            await connection.execute(
                select(Member).where(Member.id == key_of(added["member"]["id"]))
            )
        ).one()
    assert child.subscriber_id == known.subscriber.id
    assert result(orphan)[:2] == ("REJECTED", named("subscriber_key"))
    assert str(result(orphan)[2]).startswith("no such subscriber in this group")
    # Not right after its family's rows: added to the family enrolled above, where a second
    # spouse is refused (one spouse or partner per subscriber).
    assert result(second_spouse) == (
        "REJECTED",
        named("relationship"),
        "a subscriber covers at most one spouse or domestic partner",
    )
    # Contact details that memberUpdate would refuse refuse the enrollment.
    assert result(bad_phone)[:2] == ("REJECTED", named("phone"))

    enrolled_now = len(processed) + 1  # the child added to a known family
    assert await count(api, Member) == members_before + enrolled_now
    async with api.app.state.database.reader.connect() as connection:
        audited = await connection.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "member.enrolled",
                AuditEvent.request_id == f"enrollment-batch:{key_of(payload['batch']['id'])}",
                AuditEvent.actor_user_id == await api.user_id(ADMIN),
            )
        )
    assert audited == enrolled_now

    # The same file again: recognised, and nothing changes.
    before = (await count(api, Member), await count(api, EnrollmentRequest))
    again = await send(api, ADMIN, acme, content_of(persons, file_format))
    assert again["data"]["enrollmentBatchUpload"]["errors"][0]["code"] == "ALREADY_DONE"
    assert (await count(api, Member), await count(api, EnrollmentRequest)) == before


async def test_a_family_is_never_split_between_chunks(api: Api) -> None:
    """Chunks of 100 rows: a family across the 100th row is still enrolled whole."""
    plan = await plan_code(api)
    acme = (await group_setup(api)).key
    singles = [add(plan_code=plan, tier=CoverageTier.EMPLOYEE) for _ in range(98)]
    straddling = family(
        plan, CoverageTier.FAMILY, (Relationship.SPOUSE, 40), (Relationship.CHILD, 9)
    )
    payload = sent(await send(api, ADMIN, acme, content_of([*singles, *straddling], "CSV")))
    batch = await batch_of(api, payload["batch"]["id"])
    assert batch["status"] == "COMPLETED"
    rest = await api.query(
        ADMIN,
        BATCH,
        id=payload["batch"]["id"],
        first=100,
        after=batch["rows"]["pageInfo"]["endCursor"],
    )
    got = rows_of(batch) | rows_of(rest["data"]["enrollmentBatch"])
    assert sorted(got) == list(range(2, 103))
    assert {node["outcome"] for node in got.values()} == {"PROCESSED"}
    assert await tiers(api, [key_of(got[n]["member"]["id"]) for n in (100, 101, 102)]) == {
        CoverageTier.FAMILY
    }


async def test_the_command_line_import_enrolls_add_rows(demo_url: str, tmp_path: Path) -> None:
    environment = await _environment(demo_url, tmp_path)
    database = Database.connect(demo_url)
    try:
        async with serve_api(make_settings(demo_url, tmp_path, batch_workers=0)) as api:
            plan = await plan_code(api)
        persons = [
            *family(plan, CoverageTier.EMPLOYEE_SPOUSE, (Relationship.SPOUSE, 35)),
            *family(plan, CoverageTier.EMPLOYEE, birth_date=date(2999, 1, 1)),
        ]
        path = tmp_path / "adds.csv"
        path.write_bytes(content_of(persons, "CSV"))
        code, out, err = await groupgate(
            environment, "enrollments", "import", str(path), "--group", "G100000"
        )
        assert code == 0, err
        assert "COMPLETED, 3 of 3 rows: 2 processed, 0 pending_review, 1 rejected" in out
        assert "row 4 (birth_date): may not lie in the future" in out
        async with database.reader.connect() as connection:
            enrolled = await connection.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "member.enrolled", AuditEvent.actor_user_id.is_(None))
            )
        assert enrolled == 2
    finally:
        await database.dispose()


async def _environment(demo_url: str, tmp_path: Path) -> dict[str, str]:
    kept = {name: value for name, value in os.environ.items() if not name.startswith("GROUPGATE_")}
    return {
        **kept,
        "GROUPGATE_DATABASE_URL": demo_url,
        "GROUPGATE_FILE_STORE_PATH": str(tmp_path / "files"),
        "GROUPGATE_SIGNING_KEY_PATH": str(tmp_path / "keys"),
        "GROUPGATE_SECRET_KEY": TEST_SECRET.decode(),
        "GROUPGATE_LOG_LEVEL": "warning",
    }


async def test_a_killed_worker_never_enrolls_a_person_twice(demo_url: str, tmp_path: Path) -> None:
    environment = await _environment(demo_url, tmp_path)
    database = Database.connect(demo_url)
    try:
        async with serve_api(make_settings(demo_url, tmp_path, batch_workers=0)) as api:
            plan = await plan_code(api)
            acme = (await group_setup(api)).key
            persons = [
                replace(person, effective_date=today())
                for person in families(60, seed=7, plan_code=plan)
            ]
            payload = sent(await send(api, ADMIN, acme, content_of(persons, "CSV")))
        assert payload["errors"] == []
        batch_id = key_of(payload["batch"]["id"])
        lease = ["--lease-seconds", "2", "--poll", "0.1"]
        first = await asyncio.create_subprocess_exec(
            GROUPGATE, "worker", "--chunk-rows", "1", *lease, env=environment
        )
        try:
            for _ in range(3000):
                if (await batch_state(database, batch_id))[1] >= 10:
                    break
                await asyncio.sleep(0.01)
            first.send_signal(signal.SIGKILL)
        finally:
            await first.wait()
        status, processed, total = await batch_state(database, batch_id)
        assert status == "RUNNING"
        assert 10 <= processed < total == len(persons)

        await asyncio.sleep(2.2)  # the dead worker's lease runs out
        code, _, err = await groupgate(
            environment, "worker", "--until-idle", "--chunk-rows", "7", *lease
        )
        assert code == 0, err
        assert await batch_state(database, batch_id) == ("COMPLETED", total, total)
        async with database.reader.connect() as connection:
            results = (
                await connection.execute(
                    select(EnrollmentBatchRow.row_number, EnrollmentBatchRow.outcome).where(
                        EnrollmentBatchRow.batch_id == batch_id
                    )
                )
            ).all()
            enrolled = list(
                await connection.scalars(
                    select(AuditEvent.target_id).where(
                        AuditEvent.request_id == f"enrollment-batch:{batch_id}",
                        AuditEvent.action == "member.enrolled",
                    )
                )
            )
            hashes = list(
                await connection.scalars(
                    select(Member.ssn_hash).where(
                        Member.group_id == acme,
                        Member.ssn_hash.in_([ssn_hash(p.ssn or "", TEST_SECRET) for p in persons]),
                    )
                )
            )
            requests = await connection.scalar(
                select(func.count())
                .select_from(EnrollmentRequest)
                .join(EnrollmentBatchRow, EnrollmentBatchRow.id == EnrollmentRequest.batch_row_id)
                .where(EnrollmentBatchRow.batch_id == batch_id)
            )
            batches = await connection.scalar(select(func.count()).select_from(EnrollmentBatch))
        assert sorted(number for number, _ in results) == list(range(2, total + 2))
        processed_rows = sum(outcome == "PROCESSED" for _, outcome in results)
        assert processed_rows > 0
        assert len(enrolled) == len(set(enrolled)) == processed_rows  # each person once
        assert len(hashes) == len(set(hashes)) == processed_rows
        heads = sum(p.relationship == Relationship.SUBSCRIBER for p in persons)
        assert requests == heads  # one request per family, tied to its subscriber's row
        assert batches == 1
    finally:
        await database.dispose()


async def test_a_waiting_family_keeps_its_address_until_the_review_enrolls_it(api: Api) -> None:
    plan = await plan_code(api)
    acme = (await group_setup(api)).key
    other = await existing_member(api, "Globex Corporation")
    address = Address("7 Birch Ave", "Apt 2", "Fresno", "CA", "93701")
    waiting = as_row(other, plan, first_name="Differentname", address=address, email="A@B.example")
    payload = sent(await send(api, ADMIN, acme, content_of([waiting], "X12_834")))
    [row] = rows_of(await batch_of(api, payload["batch"]["id"])).values()
    assert (row["outcome"], row["member"]) == ("PENDING_REVIEW", None)
    async with api.app.state.database.reader.connect() as connection:
        item = await connection.scalar(
            select(ReviewItem.id).where(
                ReviewItem.request_id == key_of(row["enrollmentRequest"]["id"])
            )
        )
    assert item is not None
    resolved = await resolve(api, itemId=gid("ReviewItem", item), decision="CREATE_NEW")
    assert resolved["errors"] == []
    enrolled = resolved["item"]["request"]["member"]["id"]
    async with api.app.state.database.reader.connect() as connection:
        member = (
            await connection.execute(select(Member).where(Member.id == key_of(enrolled)))
        ).one()
    assert (member.address_line1, member.address_line2, member.city, member.email) == (
        "7 Birch Ave",
        "Apt 2",
        "Fresno",
        "a@b.example",
    )
    assert member.group_id == acme


DIVISION_OF = "query ($id: ID!) { node(id: $id) { ... on Member { division { code } } } }"


async def test_csv_rows_place_new_families_in_a_division(api: Api) -> None:
    """`division_code` puts a new family in a division of the group (its dependents follow it),
    so that the division's own administrators see it; a code the group lacks, or a family
    member's that is not its family's, rejects the row naming the column."""
    plan = await plan_code(api)
    acme = (await group_setup(api)).key
    east = family(
        plan, CoverageTier.EMPLOYEE_CHILDREN, (Relationship.CHILD, 9), division_code="east"
    )
    nowhere = family(plan, CoverageTier.EMPLOYEE, division_code="NOWHERE")
    split = family(plan, CoverageTier.EMPLOYEE_SPOUSE, division_code="EAST")
    split.append(add(Relationship.SPOUSE, key=split[0].subscriber_key, division_code="WEST"))
    payload = sent(await send(api, ADMIN, acme, content_of([*east, *nowhere, *split], "CSV")))
    got = rows_of(await batch_of(api, payload["batch"]["id"]))
    assert [got[n]["outcome"] for n in (2, 3)] == ["PROCESSED", "PROCESSED"]
    assert (got[4]["outcome"], got[4]["field"]) == ("REJECTED", "division_code")
    assert "no division NOWHERE" in got[4]["message"]
    assert [got[n]["outcome"] for n in (5, 6)] == ["REJECTED", "REJECTED"]
    assert got[6]["field"] == "division_code"
    # The division's administrator sees the family; its code is the division's.
    for number in (2, 3):
        member = got[number]["member"]["id"]
        seen = await api.query("hr.east@acme.example", DIVISION_OF, id=member)
        assert seen["data"]["node"] == {"division": {"code": "EAST"}}
    # A dependent added later to that family: its division, if given, must be the family's.
    later = [
        add(Relationship.CHILD, key=east[0].subscriber_key, age=4, division_code="WEST"),
        add(Relationship.CHILD, key=east[0].subscriber_key, age=3, division_code="EAST"),
    ]
    payload = sent(await send(api, ADMIN, acme, content_of(later, "CSV")))
    got = rows_of(await batch_of(api, payload["batch"]["id"]))
    assert (got[2]["outcome"], got[2]["field"]) == ("REJECTED", "division_code")
    assert got[3]["outcome"] == "PROCESSED"
    child = await api.query("hr.east@acme.example", DIVISION_OF, id=got[3]["member"]["id"])
    assert child["data"]["node"] == {"division": {"code": "EAST"}}
