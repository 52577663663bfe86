"""Enrollment batch jobs: their state lives in the database, so any worker can take one up.

A batch is QUEUED when uploaded, RUNNING while a worker holds its lease, COMPLETED when every
row has its result (FAILED if processing broke on something no row caused). A worker claims a
batch by a compare-and-set UPDATE — the next QUEUED one, or a RUNNING one whose lease expired
because its worker died — and renews the lease with each chunk it commits. The chunk's row
results, its effects and the progress commit together, so the recorded rows are always a
prefix of the file: a new worker resumes at the first unrecorded row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ColumnElement

from data.models.enrollment import (
    BatchFormat,
    BatchRowAction,
    BatchRowOutcome,
    BatchStatus,
    EnrollmentBatch,
    EnrollmentBatchRow,
    EnrollmentRequest,
)
from data.models.groups import Division
from data.models.members import Member, Relationship
from data.models.plans import Plan
from data.pagination import Page, PageRequest, fetch_page


@dataclass(frozen=True, slots=True)
class BatchRecord:
    id: int
    group_id: int
    filename: str
    format: BatchFormat
    sha256: str
    status: BatchStatus
    total_rows: int
    processed_rows: int
    error: str | None
    uploaded_by_user_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class RowResult:
    """What became of one row; `member_id` is the member it changed, if any; `row_id` the
    row's record when it was reserved before the row was applied (`reserve_row`)."""

    row_number: int
    action: BatchRowAction | None
    outcome: BatchRowOutcome
    field: str | None
    message: str | None
    member_id: int | None
    row_id: int | None = None


@dataclass(frozen=True, slots=True)
class RowResultRecord:
    id: int
    batch_id: int
    row_number: int
    action: BatchRowAction | None
    outcome: BatchRowOutcome
    field: str | None
    message: str | None
    member_id: int | None
    processed_at: datetime
    # The enrollment request an ADD row made (a family's, on its subscriber's row).
    request_id: int | None


_BATCH = [getattr(EnrollmentBatch, name) for name in BatchRecord.__slots__]
# Claims of one batch that may end without finishing it (a worker that died, an unexpected error).
MAX_ATTEMPTS = 5
_ROW = [
    *(getattr(EnrollmentBatchRow, name) for name in RowResultRecord.__slots__[:-1]),
    EnrollmentRequest.id,
]
ROW_ORDER = (EnrollmentBatchRow.row_number,)


def storage_key(group_id: int, sha256: str) -> str:
    """Where a batch's file lives in the file store: the same file of a group, the same key."""
    return f"enrollment-batches/{group_id}/{sha256}"


async def batch_of_file(
    connection: AsyncConnection, group_id: int, sha256: str
) -> BatchRecord | None:
    row = (
        await connection.execute(
            select(*_BATCH).where(
                EnrollmentBatch.group_id == group_id, EnrollmentBatch.sha256 == sha256
            )
        )
    ).first()
    return None if row is None else BatchRecord(*row)


async def batches_by_id(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[BatchRecord | None]:
    rows = await connection.execute(select(*_BATCH).where(EnrollmentBatch.id.in_(ids)))
    found = {row.id: BatchRecord(*row) for row in rows}
    return [found.get(batch_id) for batch_id in ids]


async def add_batch(
    session: AsyncSession,
    *,
    group_id: int,
    filename: str,
    file_format: BatchFormat,
    sha256: str,
    total_rows: int,
    uploaded_by_user_id: int | None,
    now: datetime,
) -> BatchRecord:
    """A new QUEUED batch; the (group, sha256) unique key refuses the same file twice."""
    batch = EnrollmentBatch(
        group_id=group_id,
        filename=filename,
        format=file_format,
        sha256=sha256,
        status=BatchStatus.QUEUED,
        total_rows=total_rows,
        processed_rows=0,
        uploaded_by_user_id=uploaded_by_user_id,
        created_at=now,
    )
    session.add(batch)
    await session.flush()
    return BatchRecord(*(getattr(batch, name) for name in BatchRecord.__slots__))


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        EnrollmentBatch.status == BatchStatus.QUEUED,
        and_(EnrollmentBatch.status == BatchStatus.RUNNING, EnrollmentBatch.lease_expires_at < now),
    )


async def claim_next(
    session: AsyncSession,
    worker: str,
    *,
    now: datetime,
    lease_until: datetime,
    batch_id: int | None = None,
) -> BatchRecord | None:
    """Lease the oldest batch waiting for a worker (or abandoned by one), if any — or only
    the batch given.

    The UPDATE repeats the condition, so of two workers racing for one batch only one wins; the
    loser tries the next candidate. Each claim counts an attempt (a hand-back does not): a batch
    taken up MAX_ATTEMPTS times without finishing — its worker died, or its processing failed
    unexpectedly — is FAILED instead of being tried again at every lease expiry.
    """
    while True:
        query = select(EnrollmentBatch.id, EnrollmentBatch.attempts).where(_claimable(now))
        if batch_id is not None:
            query = query.where(EnrollmentBatch.id == batch_id)
        found = (
            await session.execute(
                query.order_by(EnrollmentBatch.created_at, EnrollmentBatch.id).limit(1)
            )
        ).first()
        if found is None:
            return None
        candidate, attempts = found
        if attempts >= MAX_ATTEMPTS:
            # Taken up that often and never finished: processing it ends the same way each time.
            await session.execute(
                update(EnrollmentBatch)
                .where(EnrollmentBatch.id == candidate, _claimable(now))
                .values(
                    status=BatchStatus.FAILED,
                    error=f"stopped after {MAX_ATTEMPTS} attempts that ended unexpectedly; "
                    "the rows processed before keep their results",
                    finished_at=now,
                    leased_by=None,
                    lease_expires_at=None,
                )
            )
            continue
        claimed = await session.execute(
            update(EnrollmentBatch)
            .where(EnrollmentBatch.id == candidate, _claimable(now))
            .values(
                status=BatchStatus.RUNNING,
                leased_by=worker,
                lease_expires_at=lease_until,
                started_at=func.coalesce(EnrollmentBatch.started_at, now),
                attempts=EnrollmentBatch.attempts + 1,
            )
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            row = (
                await session.execute(select(*_BATCH).where(EnrollmentBatch.id == candidate))
            ).one()
            return BatchRecord(*row)


async def hold_lease(
    session: AsyncSession, batch_id: int, worker: str, *, lease_until: datetime
) -> int | None:
    """Renew this worker's lease, locking the batch row until the chunk commits; the rows
    processed so far, or None when the lease passed to another worker."""
    renewed = await session.execute(
        update(EnrollmentBatch)
        .where(
            EnrollmentBatch.id == batch_id,
            EnrollmentBatch.leased_by == worker,
            EnrollmentBatch.status == BatchStatus.RUNNING,
        )
        .values(lease_expires_at=lease_until)
    )
    if renewed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    processed: int | None = await session.scalar(
        select(EnrollmentBatch.processed_rows).where(EnrollmentBatch.id == batch_id)
    )
    return processed


async def reserve_rows(
    session: AsyncSession,
    batch_id: int,
    rows: Sequence[tuple[int, BatchRowAction | None]],
    now: datetime,
) -> dict[int, int]:
    """Records for rows about to be applied (row number → id), in one statement, for what the
    rows make to point at (an enrollment request's `batch_row_id`). Their outcomes are written by
    `record_results` in the same transaction, so no reader ever sees the placeholders."""
    if not rows:
        return {}
    connection = await session.connection()
    reserved = await connection.execute(
        insert(EnrollmentBatchRow).returning(EnrollmentBatchRow.row_number, EnrollmentBatchRow.id),
        [
            {
                "batch_id": batch_id,
                "row_number": row_number,
                "action": action,
                "outcome": BatchRowOutcome.REJECTED,
                "message": "being applied",
                "processed_at": now,
            }
            for row_number, action in rows
        ],
    )
    return dict(reserved.all())


async def record_results(
    session: AsyncSession, batch_id: int, results: Sequence[RowResult], now: datetime
) -> None:
    """A chunk's results: one multi-row INSERT (the unique row number: each row once), and
    one executemany UPDATE for the rows reserved beforehand."""
    values = [
        {
            "outcome": result.outcome,
            "field": result.field,
            "message": result.message,
            "member_id": result.member_id,
            "processed_at": now,
        }
        for result in results
    ]
    fresh = [
        {"batch_id": batch_id, "row_number": result.row_number, "action": result.action, **row}
        for result, row in zip(results, values, strict=True)
        if result.row_id is None
    ]
    # Bound names may not be the columns' own in an UPDATE's SET clause.
    reserved = [
        {"reserved_id": result.row_id, **{f"new_{key}": value for key, value in row.items()}}
        for result, row in zip(results, values, strict=True)
        if result.row_id is not None
    ]
    if fresh:
        await session.execute(insert(EnrollmentBatchRow), fresh)
    if reserved:
        await session.flush()  # the Core UPDATE below does not flush the unit of work
        connection = await session.connection()
        await connection.execute(
            update(EnrollmentBatchRow)
            .where(EnrollmentBatchRow.id == bindparam("reserved_id"))
            .values(
                outcome=bindparam("new_outcome"),
                field=bindparam("new_field"),
                message=bindparam("new_message"),
                member_id=bindparam("new_member_id"),
                processed_at=bindparam("new_processed_at"),
            ),
            reserved,
        )


async def division_ids_by_code(
    session: AsyncSession, group_id: int, codes: Sequence[str]
) -> dict[str, int]:
    """The group's divisions of these codes (one statement a chunk); unknown codes are absent."""
    if not codes:
        return {}
    rows = await session.execute(
        select(Division.code, Division.id).where(
            Division.group_id == group_id, Division.code.in_(set(codes))
        )
    )
    return dict(rows.all())


async def plan_ids_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, int]:
    """The plans of these codes (one statement for a chunk's rows); unknown codes are absent."""
    if not codes:
        return {}
    rows = await session.execute(select(Plan.code, Plan.id).where(Plan.code.in_(set(codes))))
    return dict(rows.all())


async def advance(session: AsyncSession, batch_id: int, rows: int) -> None:
    await session.execute(
        update(EnrollmentBatch)
        .where(EnrollmentBatch.id == batch_id)
        .values(processed_rows=EnrollmentBatch.processed_rows + rows)
    )


async def finish(
    session: AsyncSession,
    batch_id: int,
    worker: str,
    status: BatchStatus,
    *,
    now: datetime,
    error: str | None = None,
) -> bool:
    """Close the batch this worker holds; False if the lease was lost meanwhile."""
    done = await session.execute(
        update(EnrollmentBatch)
        .where(EnrollmentBatch.id == batch_id, EnrollmentBatch.leased_by == worker)
        .values(
            status=status,
            error=error,
            finished_at=now,
            leased_by=None,
            lease_expires_at=None,
        )
    )
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


async def release(session: AsyncSession, batch_id: int, worker: str) -> None:
    """Give a batch back to the queue (a worker stopping): another takes it up at once, and the
    attempt does not count."""
    await session.execute(
        update(EnrollmentBatch)
        .where(EnrollmentBatch.id == batch_id, EnrollmentBatch.leased_by == worker)
        .values(
            status=BatchStatus.QUEUED,
            leased_by=None,
            lease_expires_at=None,
            attempts=EnrollmentBatch.attempts - 1,
        )
    )


async def outcome_counts(connection: AsyncConnection, batch_id: int) -> dict[BatchRowOutcome, int]:
    rows = await connection.execute(
        select(EnrollmentBatchRow.outcome, func.count())
        .where(EnrollmentBatchRow.batch_id == batch_id)
        .group_by(EnrollmentBatchRow.outcome)
    )
    return {BatchRowOutcome(outcome): count for outcome, count in rows}


async def row_results_page(
    connection: AsyncConnection,
    batch_id: int,
    outcome: BatchRowOutcome | None,
    request: PageRequest,
) -> Page:
    """A page of a batch's row results in file order; rows are `RowResultRecord`s."""
    statement = (
        select(*_ROW, *ROW_ORDER)
        .outerjoin(EnrollmentRequest, EnrollmentRequest.batch_row_id == EnrollmentBatchRow.id)
        .where(EnrollmentBatchRow.batch_id == batch_id)
    )
    if outcome is not None:
        statement = statement.where(EnrollmentBatchRow.outcome == outcome)
    page = await fetch_page(connection, statement, ROW_ORDER, request, count=True)
    width = len(ROW_ORDER)
    return Page(
        rows=[RowResultRecord(*row[:-width]) for row in page.rows],
        positions=page.positions,
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        total_count=page.total_count,
    )


async def subscriber_for_update(
    session: AsyncSession, group_id: int, *, member_number: str | None, ssn_hash: str | None
) -> Member | None:
    """A subscriber of the group by its member number or its SSN's hash, locked for a change;
    one of another group is not found, like one that does not exist."""
    statement = select(Member).where(
        Member.group_id == group_id, Member.relationship == Relationship.SUBSCRIBER
    )
    if member_number is not None:
        statement = statement.where(Member.member_number == member_number)
    else:
        statement = statement.where(Member.ssn_hash == ssn_hash)
    found = list(await session.scalars(statement.order_by(Member.id).limit(2).with_for_update()))
    # Two subscribers of one group sharing an SSN is a data error, not a match.
    return found[0] if len(found) == 1 else None


async def dependent_for_update(
    session: AsyncSession, subscriber_id: int, member_number: str
) -> Member | None:
    return await session.scalar(
        select(Member)
        .where(Member.subscriber_id == subscriber_id, Member.member_number == member_number)
        .with_for_update()
    )
