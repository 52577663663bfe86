"""Enrollment batch files: upload (from GraphQL or the CLI), progress and row results, and the
processing of a batch by a worker.

An upload is checked whole before anything is stored: the caller's ENROLLMENT_BATCH over the
whole group, the group's size (20 members or more), and the file itself (`enrollment_files`
reads it through once: a refused file changes nothing). The same file for the same group again
is recognised by its SHA-256 and answered with the batch it already is.

A worker processes a batch in chunks. Each chunk's row effects, row results and the progress
commit in one transaction, each row in a SAVEPOINT (see `enrollment_files.rows`): after a
crash, the next worker starts at the first row without a result, and no row is done twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from authz.enforcement import PolicyStore
from authz.privileges import Privilege
from data import audit, enrollment_batches, groups
from data.audit import Actor
from data.database import Database
from data.enrollment_batches import BatchRecord, storage_key
from data.files import FileStore
from data.groups import GroupRecord
from data.models.enrollment import BatchFormat, BatchRowOutcome, BatchStatus
from data.pagination import Page
from resolvers import groups as group_use_cases
from resolvers.context import Context
from resolvers.enrollment_files import FileRefused, ParsedRow, parse
from resolvers.enrollment_files.rows import BatchScope, apply_rows, chunks
from resolvers.errors import ErrorCode, NotAllowed, Refused
from resolvers.pagination import page_request

log = logging.getLogger(__name__)

MIN_GROUP_MEMBERS = 20
MAX_FILE_BYTES = 50 * 1024 * 1024
CHUNK_ROWS = 100
LEASE = timedelta(seconds=60)
POLL_SECONDS = 1.0
IDLE_POLL = timedelta(seconds=30)

# Told after each chunk: rows processed so far, rows in all.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Upload:
    """The batch of an uploaded file; `already_uploaded` when the file was sent before."""

    batch: BatchRecord
    already_uploaded: bool


def read_through(content: bytes) -> tuple[BatchFormat, int]:
    """The file's format and number of rows; FileRefused if the file as a whole is refused."""
    found, rows = parse(io.BytesIO(content))
    return found, sum(1 for _ in rows)


async def upload_batch(
    context: Context, *, group_id: int | None, filename: str, content: bytes
) -> Upload:
    """Queue a file the caller sends; batch files touch any division, so ENROLLMENT_BATCH is
    needed over the whole group."""
    context.signed_in()
    group = await group_use_cases.visible_group(context, group_id, "groupId")
    if not context.access.allows(Privilege.ENROLLMENT_BATCH, group.id):
        raise NotAllowed(Privilege.ENROLLMENT_BATCH.value)
    assert context.files is not None, "the endpoint hands the file store down"
    sent = await submit_file(
        context.database,
        context.files,
        group,
        filename=filename,
        content=content,
        actor=context.actor,
        now=context.now,
    )
    if context.batch_queued is not None and not sent.already_uploaded:
        context.batch_queued.set()
    return sent


async def submit_file(
    database: Database,
    store: FileStore,
    group: GroupRecord,
    *,
    filename: str,
    content: bytes,
    actor: Actor,
    now: datetime,
) -> Upload:
    """Queue a file for a group, once: shared by the upload mutation and the CLI."""
    if group.employee_count < MIN_GROUP_MEMBERS:
        raise Refused.on(
            "groupId",
            f"batch files are for groups of {MIN_GROUP_MEMBERS} members or more; this group has "
            f"{group.employee_count}: enroll its members one by one",
            ErrorCode.GROUP_TOO_SMALL,
        )
    name = " ".join(filename.split())[:255]
    if not name:
        raise Refused.on("file", "the file has no name", ErrorCode.REQUIRED)
    if len(content) > MAX_FILE_BYTES:
        raise Refused.on("file", f"a batch file is at most {MAX_FILE_BYTES // 1024 // 1024} MB")
    sha256 = hashlib.sha256(content).hexdigest()
    async with database.reader.connect() as connection:
        earlier = await enrollment_batches.batch_of_file(connection, group.id, sha256)
    if earlier is not None:
        return Upload(earlier, already_uploaded=True)
    try:
        # Parsing is CPU work: a thread, so that the server keeps answering meanwhile.
        file_format, total = await asyncio.to_thread(read_through, content)
    except FileRefused as refused:
        raise Refused.on("file", refused.message) from None
    if total == 0:
        raise Refused.on("file", "the file holds no person: nothing to do")
    # Stored before the batch exists, under a key of its content: a worker finds it whole.
    await store.put(storage_key(group.id, sha256), content)
    try:
        async with database.sessions() as session, session.begin():
            batch = await enrollment_batches.add_batch(
                session,
                group_id=group.id,
                filename=name,
                file_format=file_format,
                sha256=sha256,
                total_rows=total,
                uploaded_by_user_id=actor.user_id,
                now=now,
            )
            audit.record(
                session,
                actor,
                action="enrollment_batch.uploaded",
                target_type="enrollment_batch",
                target_id=batch.id,
                group_id=group.id,
                now=now,
                after={"filename": name, "format": file_format.value, "rows": total},
            )
    except IntegrityError:
        # The same file, sent twice at once: the other upload made the batch.
        async with database.reader.connect() as connection:
            earlier = await enrollment_batches.batch_of_file(connection, group.id, sha256)
        if earlier is None:
            raise
        return Upload(earlier, already_uploaded=True)
    return Upload(batch, already_uploaded=False)


def can_read(context: Context, batch: BatchRecord) -> bool:
    """A batch is the group's: whoever reads all of its members (or sends its files)."""
    return context.access.allows(Privilege.MEMBERS_READ, batch.group_id) or context.access.allows(
        Privilege.ENROLLMENT_BATCH, batch.group_id
    )


async def batch(context: Context, batch_id: int) -> BatchRecord | None:
    async with context.database.reader.connect() as connection:
        [found] = await enrollment_batches.batches_by_id(connection, [batch_id])
    return found if found is not None and can_read(context, found) else None


async def batch_rows(
    context: Context,
    batch: BatchRecord,
    *,
    outcome: BatchRowOutcome | None,
    first: int | None,
    after: str | None,
) -> Page:
    """The batch's row results in file order (rows are `RowResultRecord`s)."""
    request = page_request(first=first or 20, after=after, last=None, before=None, kinds=[int])
    async with context.database.reader.connect() as connection:
        return await enrollment_batches.row_results_page(connection, batch.id, outcome, request)


class LeaseLost(Exception):
    """Another worker took the batch over (this one stalled past its lease)."""


@dataclass(frozen=True, slots=True)
class Worker:
    """What processing needs, handed down from the app or the CLI."""

    database: Database
    store: FileStore
    secret_key: bytes
    name: str
    lease: timedelta = LEASE
    chunk_rows: int = CHUNK_ROWS


async def claim(worker: Worker, batch_id: int | None = None) -> BatchRecord | None:
    now = datetime.now(UTC)
    async with worker.database.sessions() as session, session.begin():
        return await enrollment_batches.claim_next(
            session, worker.name, now=now, lease_until=now + worker.lease, batch_id=batch_id
        )


async def process(
    worker: Worker,
    batch: BatchRecord,
    *,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Process a batch this worker has claimed, from its first row without a result; when
    `stop` is set, hand it back to the queue after the chunk in hand."""
    try:
        outcome = await _process(worker, batch, progress, stop)
    except LeaseLost:
        log.warning("enrollment batch %s: lease lost to another worker", batch.id)
        return
    async with worker.database.sessions() as session, session.begin():
        if outcome is None:
            await enrollment_batches.release(session, batch.id, worker.name)
            return
        status, error = outcome
        if not await enrollment_batches.finish(
            session, batch.id, worker.name, status, now=datetime.now(UTC), error=error
        ):
            log.warning("enrollment batch %s: lease lost before it was closed", batch.id)


async def _process(
    worker: Worker, batch: BatchRecord, progress: Progress | None, stop: asyncio.Event | None
) -> tuple[BatchStatus, str | None] | None:
    """How the batch ended (None: stopped before its end)."""
    try:
        content = await worker.store.read(storage_key(batch.group_id, batch.sha256))
    except FileNotFoundError:
        # Workers must share the file store; retrying would not bring the file back.
        return BatchStatus.FAILED, "the uploaded file is missing from this worker's file store"
    if hashlib.sha256(content).hexdigest() != batch.sha256:
        return BatchStatus.FAILED, "the stored file differs from the one uploaded"
    async with worker.database.reader.connect() as connection:
        [group] = await groups.groups_by_id(connection, [batch.group_id])
    assert group is not None  # a batch's group is a foreign key
    scope = BatchScope(
        batch_id=batch.id,
        group_id=group.id,
        group_number=group.group_number,
        format=batch.format,
        actor=Actor(
            user_id=batch.uploaded_by_user_id,
            request_id=f"enrollment-batch:{batch.id}",
            address=None,
        ),
        secret_key=worker.secret_key,
        database=worker.database,
        policy=PolicyStore(worker.database),
    )
    try:
        _, parsed = parse(io.BytesIO(content))
        # The rows recorded are a prefix of the file: skip them.
        rows = itertools.islice(parsed, batch.processed_rows, None)
        processed = batch.processed_rows
        for chunk in chunks(rows, worker.chunk_rows):
            processed = await _commit_chunk(worker, scope, chunk, processed)
            if progress is not None:
                progress(processed, batch.total_rows)
            if stop is not None and stop.is_set() and processed < batch.total_rows:
                return None
    except FileRefused as refused:  # only if the file changed under its hash
        return BatchStatus.FAILED, refused.message
    return BatchStatus.COMPLETED, None


async def _commit_chunk(
    worker: Worker, scope: BatchScope, chunk: list[ParsedRow], processed: int
) -> int:
    now = datetime.now(UTC)
    async with worker.database.sessions() as session, session.begin():
        recorded = await enrollment_batches.hold_lease(
            session, scope.batch_id, worker.name, lease_until=now + worker.lease
        )
        if recorded is None or recorded != processed:
            raise LeaseLost
        results = await apply_rows(session, scope, chunk, now)
        await enrollment_batches.record_results(session, scope.batch_id, results, now)
        await enrollment_batches.advance(session, scope.batch_id, len(results))
    return processed + len(results)


async def run(
    worker: Worker,
    stop: asyncio.Event,
    *,
    wake: asyncio.Event | None = None,
    poll_seconds: float = POLL_SECONDS,
    until_idle: bool = False,
) -> None:
    """Claim and process batches until `stop` is set (or, `until_idle`, none is waiting).

    A separate worker process polls every `poll_seconds`. The server's own workers are woken
    by uploads in their process (`wake`) and otherwise look only every `IDLE_POLL`, for
    batches queued elsewhere or abandoned by a worker that died.
    """
    if wake is not None:
        await _pause(stop, wake, IDLE_POLL.total_seconds())
    while not stop.is_set():
        if wake is not None:
            wake.clear()
        try:
            batch = await claim(worker)
            if batch is not None:
                log.info("enrollment batch %s: %s processing", batch.id, worker.name)
                await process(worker, batch, stop=stop)
                continue
        except Exception:
            # A database that went away, say: the lease lets another worker (or this one, later)
            # take the batch up again where its last chunk committed.
            log.exception("enrollment batch worker %s", worker.name)
        if until_idle:
            return
        await _pause(stop, wake, poll_seconds if wake is None else IDLE_POLL.total_seconds())


async def _pause(stop: asyncio.Event, wake: asyncio.Event | None, seconds: float) -> None:
    waits = [asyncio.create_task(event.wait()) for event in (stop, wake) if event is not None]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
