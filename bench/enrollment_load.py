"""`python -m bench enrollment-files`: a 10,000-row CSV and a 10,000-member 834 of ADD rows,
each imported end to end as `groupgate enrollments import` does it (the upload's checks and
read-through, the file store, a worker claiming the batch and processing it in chunks), on
SQLite and (with GROUPGATE_TEST_POSTGRES_URL) PostgreSQL.

Each backend gets a new database, migrated and loaded with the demo, dropped afterwards. The
files (`bench.enrollment_files.families`) are families of mostly new people; one subscriber in
250 is a demo member of another group, exactly (linked), and one in 250 that member with another
first name (an uncertain match: pending review). Printed per file: seconds, rows/s, the outcome
counts, and the process's resident memory after 1,000 and after 10,000 rows (flat memory: the
two are close) with its peak.
"""

from __future__ import annotations

import resource
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from bench.enrollment_files import csv_text, families, to_bytes, x12_text
from data import enrollment_batches, groups, migrate
from data.audit import Actor
from data.database import Database, create_engine
from data.demo import load_demo
from data.demo.design import demo_ssn
from data.files import LocalFileStore
from data.groups import GroupRecord
from data.models.contracts import Contract, ContractPlan
from data.models.enrollment import BatchRowOutcome
from data.models.members import Member, MemberStatus, Relationship, Sex
from data.models.plans import CoverageTier, Plan
from data.pagination import PageRequest
from resolvers import enrollment_batches as use_cases
from resolvers.enrollment_files.records import PersonRow
from tests.databases import backends, fresh_database

SECRET = b"benchmark-secret"
ROWS = 10_000
GROUP = "G100000"  # Acme: a group of the demo with 20 members or more
MATCH_EVERY = 250
PAGE_BYTES = resource.getpagesize()


def rss_mib() -> float:
    """The process's resident memory now (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_BYTES / 2**20


@dataclass(frozen=True, slots=True)
class Known:
    """A demo member of another group, as the carrier knows it."""

    first_name: str
    last_name: str
    birth_date: date
    sex: Sex
    ssn: str


@dataclass
class Run:
    file_format: str
    rows: int
    seconds: float
    counts: dict[str, int]
    rss_at_1000: float
    rss_at_end: float
    rejections: list[str]


async def _setting(database: Database) -> tuple[GroupRecord, str, list[Known]]:
    """The group, a plan its contract in force offers, and members of other groups."""
    today = datetime.now(UTC).date()
    async with database.reader.connect() as connection:
        group = await groups.group_by_number(connection, GROUP)
        assert group is not None
        plan = await connection.scalar(
            select(Plan.code)
            .join(ContractPlan, ContractPlan.plan_id == Plan.id)
            .join(Contract, Contract.id == ContractPlan.contract_id)
            .where(
                Contract.group_id == group.id,
                Contract.start_date <= today,
                Contract.end_date >= today,
            )
            .order_by(Plan.code)
            .limit(1)
        )
        others = (
            await connection.execute(
                select(Member)
                .where(
                    Member.group_id != group.id,
                    Member.ssn_hash.is_not(None),
                    Member.status == MemberStatus.ACTIVE,
                    Member.relationship == Relationship.SUBSCRIBER,
                )
                .order_by(Member.id)
                .limit(2 * ROWS // MATCH_EVERY)
            )
        ).all()
    assert plan is not None
    known = [
        Known(m.first_name, m.last_name, m.birth_date, m.sex, demo_ssn(m.member_number))
        for m in others
    ]
    return group, plan, known


def population(seed: int, plan: str, known: list[Known]) -> Iterator[PersonRow]:
    """ADD rows of families; now and then a subscriber replaced by a known person (exactly, or
    with another first name)."""
    today = datetime.now(UTC).date()
    people = iter(known)
    heads = 0
    for person in families(ROWS, seed=seed, plan_code=plan, effective_date=today):
        if person.relationship != Relationship.SUBSCRIBER:
            yield person
            continue
        heads += 1
        other = None
        if heads % MATCH_EVERY in (0, MATCH_EVERY // 2) and person.tier == CoverageTier.EMPLOYEE:
            other = next(people, None)
        if other is not None:
            exact = heads % MATCH_EVERY == 0
            person = replace(
                person,
                subscriber_key=other.ssn,
                ssn=other.ssn,
                first_name=other.first_name if exact else f"{other.first_name}xyz",
                last_name=other.last_name,
                birth_date=other.birth_date,
                sex=other.sex,
            )
        yield person


async def import_file(
    database: Database, store: LocalFileStore, group: GroupRecord, name: str, content: bytes
) -> Run:
    worker = use_cases.Worker(
        database=database, store=store, secret_key=SECRET, name=f"bench-{uuid.uuid4().hex[:8]}"
    )
    actor = Actor(user_id=None, request_id=f"bench:{uuid.uuid4().hex}", address=None)
    memory: dict[str, float] = {}

    def progress(processed: int, total: int) -> None:
        if processed >= min(1_000, total) and "first" not in memory:
            memory["first"] = rss_mib()
        if processed == total:
            memory["end"] = rss_mib()

    started = time.perf_counter()
    sent = await use_cases.submit_file(
        database, store, group, filename=name, content=content, actor=actor, now=datetime.now(UTC)
    )
    claimed = await use_cases.claim(worker, sent.batch.id)
    assert claimed is not None
    await use_cases.process(worker, claimed, progress=progress)
    seconds = time.perf_counter() - started
    async with database.reader.connect() as connection:
        counts = await enrollment_batches.outcome_counts(connection, sent.batch.id)
        rejected = await enrollment_batches.row_results_page(
            connection, sent.batch.id, BatchRowOutcome.REJECTED, PageRequest(first=3)
        )
        [batch] = await enrollment_batches.batches_by_id(connection, [sent.batch.id])
    assert batch is not None
    assert batch.status.value == "COMPLETED", batch.error
    return Run(
        batch.format.value,
        batch.processed_rows,
        seconds,
        {outcome.value: count for outcome, count in counts.items()},
        memory["first"],
        memory["end"],
        [f"row {row.row_number} ({row.field}): {row.message}" for row in rejected.rows],
    )


async def run_backend(backend: str, directory: Path) -> list[Run]:
    async with fresh_database(backend, directory) as url:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
            await load_demo(engine, secret_key=SECRET)
        finally:
            await engine.dispose()
        database = Database.connect(url)
        try:
            group, plan, known = await _setting(database)
            store = LocalFileStore(directory / f"files-{backend}")
            half = len(known) // 2
            csv_content = to_bytes(csv_text(population(1, plan, known[:half])))
            x12_content = to_bytes(x12_text(population(2, plan, known[half:])))
            return [
                await import_file(database, store, group, "bench.csv", csv_content),
                await import_file(database, store, group, "bench.834", x12_content),
            ]
        finally:
            await database.dispose()


async def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        for backend in backends():
            for run in await run_backend(backend, Path(directory)):
                outcomes = ", ".join(
                    f"{count:,} {name.lower()}" for name, count in sorted(run.counts.items())
                )
                print(
                    f"{backend:10} {run.file_format:8} {run.rows:,} rows in {run.seconds:5.1f} s "
                    f"({run.rows / run.seconds:,.0f} rows/s): {outcomes}; RSS "
                    f"{run.rss_at_1000:.0f} MiB after 1,000 rows, {run.rss_at_end:.0f} MiB after "
                    f"{run.rows:,}"
                )
                for rejection in run.rejections:
                    print(f"{'':10} rejected {rejection}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the process: {peak_mib:,.0f} MiB")
