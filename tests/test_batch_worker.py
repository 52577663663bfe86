"""Batch workers as processes of their own: `groupgate worker`, `groupgate enrollments import`,
and the crash test — a worker killed (SIGKILL) mid-file, another taking the batch up: every row
has exactly one result and every row's effect happened once."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.enrollment_files import csv_text, to_bytes
from data.database import Database
from data.enrollment_batches import MAX_ATTEMPTS, release
from data.models.audit import AuditEvent
from data.models.enrollment import BatchRowAction, EnrollmentBatch, EnrollmentBatchRow
from data.models.groups import Group
from data.models.members import Member, Relationship
from resolvers.enrollment_batches import Worker, claim
from resolvers.enrollment_files.records import PersonRow
from tests.conftest import TEST_SECRET, make_settings, serve_api
from tests.test_enrollment_batches import ADMIN, send, sent

GROUPGATE = str(Path(sys.executable).parent / "groupgate")


@pytest.fixture
def environment(demo_url: str, tmp_path: Path) -> dict[str, str]:
    kept = {name: value for name, value in os.environ.items() if not name.startswith("GROUPGATE_")}
    return {
        **kept,
        "GROUPGATE_DATABASE_URL": demo_url,
        "GROUPGATE_FILE_STORE_PATH": str(tmp_path / "files"),
        "GROUPGATE_SIGNING_KEY_PATH": str(tmp_path / "keys"),
        "GROUPGATE_SECRET_KEY": TEST_SECRET.decode(),
        "GROUPGATE_LOG_LEVEL": "warning",
    }


@pytest.fixture
async def database(demo_url: str) -> AsyncIterator[Database]:
    opened = Database.connect(demo_url)
    try:
        yield opened
    finally:
        await opened.dispose()


async def groupgate(environment: dict[str, str], *arguments: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        GROUPGATE,
        *arguments,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def members_of(database: Database, legal_name: str) -> list[Member]:
    async with database.sessions() as session:
        found = await session.scalars(
            select(Member)
            .join(Group, Group.id == Member.group_id)
            .where(Group.legal_name == legal_name)
            .order_by(Member.id)
        )
        return list(found)


def phone_changes(people: list[Member]) -> tuple[list[PersonRow], dict[int, str]]:
    """A CHANGE of every member's phone to a number of its own, and the phones expected."""
    numbers = {person.id: person.member_number for person in people}
    rows, expected = [], {}
    for index, person in enumerate(people):
        phone = f"+1212555{index:04d}"
        key = numbers[person.subscriber_id] if person.subscriber_id else person.member_number
        dependent = person.relationship != Relationship.SUBSCRIBER
        rows.append(
            PersonRow(
                0,
                BatchRowAction.CHANGE,
                key,
                person.relationship,
                member_number=person.member_number if dependent else None,
                phone=phone,
            )
        )
        expected[person.id] = phone
    return rows, expected


async def batch_state(database: Database, batch_id: int) -> tuple[str, int, int]:
    async with database.reader.connect() as connection:
        row = (
            await connection.execute(
                select(
                    EnrollmentBatch.status,
                    EnrollmentBatch.processed_rows,
                    EnrollmentBatch.total_rows,
                ).where(EnrollmentBatch.id == batch_id)
            )
        ).one()
    return str(row.status), int(row.processed_rows), int(row.total_rows)


async def test_a_killed_worker_is_resumed_without_doing_a_row_twice(
    demo_url: str, tmp_path: Path, environment: dict[str, str], database: Database
) -> None:
    people = await members_of(database, "Acme Manufacturing")
    rows, expected = phone_changes(people)
    # The server here only queues: no worker of its own.
    async with serve_api(make_settings(demo_url, tmp_path, batch_workers=0)) as api:
        group = next(p.group_id for p in people)
        payload = sent(await send(api, ADMIN, group, to_bytes(csv_text(rows))))
    assert payload["errors"] == []
    async with database.reader.connect() as connection:
        batch_id = int(await connection.scalar(select(func.max(EnrollmentBatch.id))) or 0)
    lease = ["--lease-seconds", "2", "--poll", "0.1"]

    first = await asyncio.create_subprocess_exec(
        GROUPGATE, "worker", "--chunk-rows", "1", *lease, env=environment
    )
    try:
        for _ in range(3000):
            _, processed, _ = await batch_state(database, batch_id)
            if processed >= 5:
                break
            await asyncio.sleep(0.01)
        first.send_signal(signal.SIGKILL)
    finally:
        await first.wait()
    status, processed, total = await batch_state(database, batch_id)
    assert status == "RUNNING"
    assert 5 <= processed < total == len(rows)

    await asyncio.sleep(2.2)  # the dead worker's lease runs out
    code, _, err = await groupgate(
        environment, "worker", "--until-idle", "--chunk-rows", "7", *lease
    )
    assert code == 0, err
    assert await batch_state(database, batch_id) == ("COMPLETED", total, total)

    async with database.reader.connect() as connection:
        numbers = list(
            await connection.scalars(
                select(EnrollmentBatchRow.row_number).where(EnrollmentBatchRow.batch_id == batch_id)
            )
        )
        outcomes = set(
            await connection.scalars(
                select(EnrollmentBatchRow.outcome).where(EnrollmentBatchRow.batch_id == batch_id)
            )
        )
        changed = list(
            await connection.scalars(
                select(AuditEvent.target_id).where(
                    AuditEvent.request_id == f"enrollment-batch:{batch_id}",
                    AuditEvent.action == "member.updated",
                )
            )
        )
    assert sorted(numbers) == list(range(2, total + 2))  # one result for every row
    assert outcomes == {"PROCESSED"}
    assert sorted(map(str, changed)) == sorted(str(member_id) for member_id in expected)  # once
    for person in await members_of(database, "Acme Manufacturing"):
        assert person.phone == expected[person.id]


async def test_two_workers_share_the_queue_and_no_row_is_done_twice(
    demo_url: str, tmp_path: Path, environment: dict[str, str], database: Database
) -> None:
    people = await members_of(database, "Acme Manufacturing")
    rows, expected = phone_changes(people)
    async with serve_api(make_settings(demo_url, tmp_path, batch_workers=0)) as api:
        for part in range(3):
            content = to_bytes(csv_text(rows[part::3]))
            assert sent(await send(api, ADMIN, people[0].group_id, content))["errors"] == []
    options = ["worker", "--until-idle", "--chunk-rows", "3", "--poll", "0.05"]
    (first, _, err), (second, _, _) = await asyncio.gather(
        groupgate(environment, *options), groupgate(environment, *options)
    )
    assert (first, second) == (0, 0), err
    async with database.reader.connect() as connection:
        states = set(await connection.scalars(select(EnrollmentBatch.status)))
        results = await connection.scalar(select(func.count()).select_from(EnrollmentBatchRow))
        changed = list(
            await connection.scalars(
                select(AuditEvent.target_id).where(AuditEvent.action == "member.updated")
            )
        )
    assert states == {"COMPLETED"}
    assert results == len(rows)
    assert sorted(map(str, changed)) == sorted(str(member_id) for member_id in expected)
    for person in await members_of(database, "Acme Manufacturing"):
        assert person.phone == expected[person.id]


async def test_import_processes_a_file_and_summarises_it(
    environment: dict[str, str], database: Database, tmp_path: Path
) -> None:
    people = (await members_of(database, "Acme Manufacturing"))[:3]
    rows, expected = phone_changes(people)
    rows.append(PersonRow(0, BatchRowAction.TERMINATE, "M999999999", Relationship.SUBSCRIBER))
    path = tmp_path / "acme.csv"
    path.write_bytes(to_bytes(csv_text(rows)))

    code, out, err = await groupgate(
        environment, "enrollments", "import", str(path), "--group", "G100000"
    )
    assert code == 0, err
    assert (
        "acme.csv, CSV): COMPLETED, 4 of 4 rows: 3 processed, 0 pending_review, 1 rejected" in out
    )
    assert "row 5 (subscriber_key): no such subscriber in this group" in out
    assert "4/4 rows" in err
    for person in await members_of(database, "Acme Manufacturing"):
        if person.id in expected:
            assert person.phone == expected[person.id]

    code, out, _ = await groupgate(
        environment, "enrollments", "import", str(path), "--group", "g100000"
    )
    assert code == 0
    assert "already uploaded for group G100000" in out
    assert "nothing changed" in out
    async with database.reader.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(EnrollmentBatch)) == 1


@pytest.mark.parametrize(
    ("group", "content", "says"),
    [
        ("G100002", b"", "groups of 20 members or more; this group has 5"),
        ("G999999", b"", "no group G999999"),
        ("G100000", "action,last_name\nCHANGE,Peña\n".encode("latin-1"), "not UTF-8"),
        ("G100000", b"action,subscriber_key\n", "missing required columns"),
    ],
)
async def test_import_refusals(
    environment: dict[str, str], tmp_path: Path, group: str, content: bytes, says: str
) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    code, out, err = await groupgate(
        environment, "enrollments", "import", str(path), "--group", group
    )
    assert code == 1
    assert says in err
    assert out == ""


async def test_a_stopping_server_hands_its_batch_back_to_the_queue(
    demo_url: str, tmp_path: Path, database: Database
) -> None:
    rows = "".join(f"CHANGE,M{n},,CHILD,,,,,,,,,,,,,,,,,,,,,\n" for n in range(10_000))
    content = to_bytes(csv_text([])) + rows.encode()
    acme = (await members_of(database, "Acme Manufacturing"))[0].group_id
    settings = make_settings(demo_url, tmp_path)
    async with serve_api(settings) as api:
        payload = sent(await send(api, ADMIN, acme, content))
        batch_id = int(base64.urlsafe_b64decode(payload["batch"]["id"]).decode().split(":")[1])
        for _ in range(1000):  # stopped once its worker is under way
            if (await batch_state(database, batch_id))[1] > 0:
                break
            await asyncio.sleep(0.005)
    status, processed, total = await batch_state(database, batch_id)
    assert (status, total) == ("QUEUED", 10_000)
    assert 0 < processed < total
    assert await recorded(database, batch_id) == list(range(2, processed + 2))

    async with serve_api(settings) as api:
        # The next server's worker looks after its idle wait; an upload wakes it at once.
        api.app.state.batch_queued.set()
        for _ in range(600):
            if (await batch_state(database, batch_id))[0] == "COMPLETED":
                break
            await asyncio.sleep(0.05)
    assert await batch_state(database, batch_id) == ("COMPLETED", total, total)
    assert await recorded(database, batch_id) == list(range(2, total + 2))


async def recorded(database: Database, batch_id: int) -> list[int]:
    async with database.reader.connect() as connection:
        return sorted(
            await connection.scalars(
                select(EnrollmentBatchRow.row_number).where(EnrollmentBatchRow.batch_id == batch_id)
            )
        )


async def test_a_batch_taken_up_too_often_without_finishing_fails_once_and_for_all(
    demo_url: str, tmp_path: Path, database: Database
) -> None:
    people = await members_of(database, "Acme Manufacturing")
    rows, _ = phone_changes(people[:3])
    async with serve_api(make_settings(demo_url, tmp_path, batch_workers=0)) as api:
        payload = sent(await send(api, ADMIN, people[0].group_id, to_bytes(csv_text(rows))))
        assert payload["errors"] == []
        # A lease already over: each claim is free to be taken again, as after a worker's death.
        worker = Worker(
            database=api.app.state.database,
            store=api.app.state.file_store,
            secret_key=TEST_SECRET,
            name="test:0",
            lease=-timedelta(seconds=1),
        )
        # Handed back (a server stopping): those do not count.
        for _ in range(MAX_ATTEMPTS + 2):
            claimed = await claim(worker)
            assert claimed is not None
            async with database.sessions.begin() as session:
                await release(session, claimed.id, worker.name)
        # Taken up and never finished: the last allowed attempt, then no more.
        for _ in range(MAX_ATTEMPTS):
            assert await claim(worker) is not None
        assert await claim(worker) is None
        body = await api.query(ADMIN, BATCH_STATUS, id=payload["batch"]["id"])
    assert body["data"]["enrollmentBatch"] == {
        "status": "FAILED",
        "error": f"stopped after {MAX_ATTEMPTS} attempts that ended unexpectedly; "
        "the rows processed before keep their results",
    }


BATCH_STATUS = "query ($id: ID!) { enrollmentBatch(id: $id) { status error } }"
