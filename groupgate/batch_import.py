"""`groupgate enrollments import FILE --group NUMBER`: queue a file, process it here with a
progress bar, and summarise every row's outcome (the rejected rows with their reasons)."""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime

from data import enrollment_batches, groups
from data.audit import Actor
from data.database import Database
from data.enrollment_batches import BatchRecord, RowResultRecord
from data.files import LocalFileStore
from data.models.enrollment import BatchRowOutcome, BatchStatus
from data.pagination import PageRequest
from groupgate.app import worker_name
from groupgate.settings import Settings
from resolvers import enrollment_batches as use_cases
from resolvers.errors import Refused

SHOWN_REJECTIONS = 20
BAR_WIDTH = 30
WAIT_SECONDS = 0.5


def progress_bar(processed: int, total: int) -> None:
    done = BAR_WIDTH * processed // max(total, 1)
    bar = "#" * done + "-" * (BAR_WIDTH - done)
    sys.stderr.write(f"\r[{bar}] {processed}/{total} rows")
    sys.stderr.flush()


async def import_file(settings: Settings, *, group_number: str, name: str, content: bytes) -> int:
    database = Database.connect(settings.database_url)
    try:
        async with database.reader.connect() as connection:
            group = await groups.group_by_number(connection, group_number.strip().upper())
        if group is None:
            print(f"groupgate: no group {group_number}", file=sys.stderr)
            return 1
        store = LocalFileStore(settings.file_store_path)
        # An operator at the server: no user, and the audit log says it came from here.
        actor = Actor(user_id=None, request_id=f"cli:{uuid.uuid4().hex}", address=None)
        try:
            sent = await use_cases.submit_file(
                database,
                store,
                group,
                filename=name,
                content=content,
                actor=actor,
                now=datetime.now(UTC),
            )
        except Refused as refused:
            for error in refused.errors:
                print(f"groupgate: {name} refused: {error.message}", file=sys.stderr)
            return 1
        batch = sent.batch
        if sent.already_uploaded:
            print(f"{name} was already uploaded for group {group.group_number} as batch "
                  f"{batch.id}: nothing changed")  # fmt: skip
        else:
            batch = await _process(settings, database, store, batch)
        print(await summary(database, batch))
        return 0 if batch.status == BatchStatus.COMPLETED else 1
    finally:
        await database.dispose()


async def _process(
    settings: Settings, database: Database, store: LocalFileStore, batch: BatchRecord
) -> BatchRecord:
    """Work the batch here; if a server's worker took it first, follow its progress."""
    worker = use_cases.Worker(
        database=database,
        store=store,
        secret_key=settings.secret_key.get_secret_value().encode(),
        name=worker_name(),
    )
    progress_bar(0, batch.total_rows)
    claimed = await use_cases.claim(worker, batch.id)
    if claimed is not None:
        await use_cases.process(worker, claimed, progress=progress_bar)
    current = await _reload(database, batch.id)
    while current.status in (BatchStatus.QUEUED, BatchStatus.RUNNING):
        progress_bar(current.processed_rows, current.total_rows)
        await asyncio.sleep(WAIT_SECONDS)
        current = await _reload(database, batch.id)
    progress_bar(current.processed_rows, current.total_rows)
    sys.stderr.write("\n")
    return current


async def _reload(database: Database, batch_id: int) -> BatchRecord:
    async with database.reader.connect() as connection:
        [found] = await enrollment_batches.batches_by_id(connection, [batch_id])
    assert found is not None
    return found


async def summary(database: Database, batch: BatchRecord) -> str:
    async with database.reader.connect() as connection:
        counts = await enrollment_batches.outcome_counts(connection, batch.id)
        rejected = await enrollment_batches.row_results_page(
            connection,
            batch.id,
            BatchRowOutcome.REJECTED,
            PageRequest(first=SHOWN_REJECTIONS),
        )
    lines = [
        f"batch {batch.id} ({batch.filename}, {batch.format.value}): {batch.status.value}, "
        f"{batch.processed_rows} of {batch.total_rows} rows: "
        + ", ".join(
            f"{counts.get(outcome, 0)} {outcome.value.lower()}" for outcome in BatchRowOutcome
        )
    ]
    if batch.error:
        lines.append(f"error: {batch.error}")
    lines += [_rejection(row) for row in rejected.rows]
    more = counts.get(BatchRowOutcome.REJECTED, 0) - len(rejected.rows)
    if more > 0:
        lines.append(f"... and {more} more rejected rows (see enrollmentBatch.rows)")
    return "\n".join(lines)


def _rejection(row: RowResultRecord) -> str:
    field = f" ({row.field})" if row.field else ""
    return f"row {row.row_number}{field}: {row.message}"
