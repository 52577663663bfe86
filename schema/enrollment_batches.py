"""Enrollment batch files: the upload (GraphQL multipart request) and the batch's progress with
a result for every row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from data.enrollment_batches import BatchRecord, RowResultRecord
from data.models import enrollment as model
from resolvers import enrollment_batches as use_cases
from resolvers import members
from resolvers.enrollment import requests
from resolvers.errors import ErrorCode, Refused
from schema.common import Info, global_id, parse_global_id, served_as
from schema.enrollment import EnrollmentRequest
from schema.errors import UserError, user_errors
from schema.members import Member
from schema.relay import Connection, Node, connection

strawberry.enum(model.BatchFormat, description="The format of an enrollment file.")
strawberry.enum(
    model.BatchStatus,
    description="QUEUED until a worker takes the batch up; RUNNING; COMPLETED when every row "
    "has its result; FAILED if processing broke on something no row caused (see `error`).",
)
strawberry.enum(model.BatchRowAction, description="What a row of an enrollment file asks.")
strawberry.enum(
    model.BatchRowOutcome,
    description="PROCESSED: done (or already so, said in `message`); PENDING_REVIEW: waiting "
    "for the carrier's review; REJECTED: refused, `field` and `message` say why.",
)


@strawberry.type(description="The result of one row (one person) of an enrollment file.")
class EnrollmentBatchRow:
    row_number: int = strawberry.field(
        description="The CSV line number (the header is 1), or the 834 member loop's ordinal."
    )
    action: model.BatchRowAction | None = strawberry.field(
        description="Null when the row did not say which, readably."
    )
    outcome: model.BatchRowOutcome
    field: str | None = strawberry.field(
        description="The CSV column, or the 834 segment and element, at fault."
    )
    message: str | None

    @strawberry.field(description="The member the row changed, if the caller may read it.")
    async def member(self: RowResultRecord, info: Info) -> Member | None:
        if self.member_id is None:
            return None
        found = await members.member(info.context, self.member_id)
        return served_as([found], Member)[0] if found else None

    @strawberry.field(
        description="The enrollment request an ADD row made (a family's is on its subscriber's "
        "row), if the caller may read it: PENDING_REVIEW ones wait in the carrier's review queue."
    )
    async def enrollment_request(self: RowResultRecord, info: Info) -> EnrollmentRequest | None:
        if self.request_id is None:
            return None
        found = await requests.loaders(info.context).request_by_id.load(self.request_id)
        if found is None or not requests.can_read(info.context, found):
            return None
        return served_as([found], EnrollmentRequest)[0]


@strawberry.type
class EnrollmentBatchRowConnection(Connection[EnrollmentBatchRow]):
    """Row results in file order, a page at a time."""


@strawberry.type(description="An uploaded enrollment file, processed as a background job.")
class EnrollmentBatch(Node):
    filename: str
    format: model.BatchFormat
    status: model.BatchStatus
    error: str | None = strawberry.field(description="Why a FAILED batch stopped.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, BatchRecord)

    @strawberry.field
    def id(self: BatchRecord) -> strawberry.ID:
        return global_id("EnrollmentBatch", self.id)

    @strawberry.field(description="Rows (persons) in the file.")
    def total(self: BatchRecord) -> int:
        return self.total_rows

    @strawberry.field(description="Rows with their result so far.")
    def processed(self: BatchRecord) -> int:
        return self.processed_rows

    @strawberry.field(description="Row results in file order, of one outcome or all.")
    async def rows(
        self: BatchRecord,
        info: Info,
        outcome: model.BatchRowOutcome | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> EnrollmentBatchRowConnection:
        page = await use_cases.batch_rows(
            info.context, self, outcome=outcome, first=first, after=after
        )
        return connection(page, page.rows, EnrollmentBatchRow, EnrollmentBatchRowConnection)


@strawberry.input
class EnrollmentBatchUploadInput:
    group_id: strawberry.ID
    file: Upload = strawberry.field(
        description="A CSV or X12 834 file, UTF-8 (docs/enrollment-files.md), sent as a "
        "GraphQL multipart request; at most 50 MB."
    )


@strawberry.type
class EnrollmentBatchUploadPayload:
    batch: EnrollmentBatch | None = None
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="ALREADY_DONE with the batch when this file was uploaded before: nothing "
        "changed.",
    )


@strawberry.type
class EnrollmentBatchesQuery:
    @strawberry.field(
        description="A batch and its row results, for whoever reads all the group's members."
    )
    async def enrollment_batch(self, info: Info, id: strawberry.ID) -> EnrollmentBatch | None:
        batch_id = parse_global_id(id, "EnrollmentBatch")
        found = None if batch_id is None else await use_cases.batch(info.context, batch_id)
        return served_as([found], EnrollmentBatch)[0] if found else None


@strawberry.type
class EnrollmentBatchesMutation:
    @strawberry.mutation(
        description="Send an enrollment file (groups of 20 members or more). It is checked "
        "whole at once (a refused file changes nothing), then processed in the background: "
        "follow it with `enrollmentBatch`. Needs ENROLLMENT_BATCH over the whole group."
    )
    async def enrollment_batch_upload(
        self, info: Info, input: EnrollmentBatchUploadInput
    ) -> EnrollmentBatchUploadPayload | None:
        upload: object = input.file
        try:
            if not isinstance(upload, UploadFile):
                raise Refused.on("file", "send the file as a GraphQL multipart request")
            try:
                content = await upload.read()
            finally:
                await upload.close()  # a temporary file once it is over 1 MB
            sent = await use_cases.upload_batch(
                info.context,
                group_id=parse_global_id(input.group_id, "Group"),
                filename=upload.filename or "",
                content=content,
            )
        except Refused as refused:
            return EnrollmentBatchUploadPayload(errors=user_errors(refused))
        batch = served_as([sent.batch], EnrollmentBatch)[0]
        if not sent.already_uploaded:
            return EnrollmentBatchUploadPayload(batch=batch)
        uploaded = f"{sent.batch.created_at:%Y-%m-%d %H:%M} UTC"
        return EnrollmentBatchUploadPayload(
            batch=batch,
            errors=[
                UserError(
                    field="file",
                    message=f"this file was already uploaded for the group on {uploaded}: "
                    "nothing changed",
                    code=ErrorCode.ALREADY_DONE,
                )
            ],
        )
