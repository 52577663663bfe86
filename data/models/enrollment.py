"""Enrollment requests with their history, the manual-review queue, batch files, ID cards."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, BigId, CreatedAtMixin, IdMixin, JsonDocument, enum_type


class EnrollmentKind(enum.StrEnum):
    SUBSCRIBER = "SUBSCRIBER"  # a new employee with its dependents
    DEPENDENT = "DEPENDENT"  # a family member added to an existing subscriber
    COBRA = "COBRA"  # continuation for a terminated member
    CHANGE = "CHANGE"  # a demographic change from a batch file
    TERMINATION = "TERMINATION"  # a termination from a batch file


class EnrollmentStatus(enum.StrEnum):
    PROCESSED = "PROCESSED"
    PENDING_REVIEW = "PENDING_REVIEW"
    REJECTED = "REJECTED"


class EnrollmentRequest(IdMixin, CreatedAtMixin, Base):
    """What a group submitted, kept as submitted, and where it stands."""

    __tablename__ = "enrollment_requests"
    __table_args__ = (Index("ix_enrollment_requests_group_id_status", "group_id", "status"),)

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("groups.id"))
    kind: Mapped[EnrollmentKind] = mapped_column(enum_type(EnrollmentKind))
    status: Mapped[EnrollmentStatus] = mapped_column(enum_type(EnrollmentStatus))
    # The submitted data, with the SSN replaced by its hash and last four.
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"), index=True)
    submitted_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    batch_row_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("enrollment_batch_rows.id"), unique=True
    )


class EnrollmentRequestEvent(IdMixin, Base):
    """One step of a request's history (submitted, queued, linked, rejected, ...)."""

    __tablename__ = "enrollment_request_events"

    request_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enrollment_requests.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[EnrollmentStatus] = mapped_column(enum_type(EnrollmentStatus))
    note: Mapped[str] = mapped_column(Text)
    actor_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    occurred_at: Mapped[datetime]


class ReviewDecision(enum.StrEnum):
    LINK = "LINK"
    CREATE_NEW = "CREATE_NEW"
    REJECT = "REJECT"


class ReviewItemStatus(enum.StrEnum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class ReviewItem(IdMixin, CreatedAtMixin, Base):
    """An enrollment that matching could not settle, for a membership representative."""

    __tablename__ = "review_items"
    __table_args__ = (
        Index("ix_review_items_status_created_at", "status", "created_at"),
        CheckConstraint(
            "(status = 'RESOLVED') = (decision IS NOT NULL)", name="resolved_has_decision"
        ),
    )

    request_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enrollment_requests.id"), unique=True
    )
    status: Mapped[ReviewItemStatus] = mapped_column(enum_type(ReviewItemStatus))
    candidate_member_ids: Mapped[list[int]] = mapped_column(JsonDocument)
    # Why matching could not decide (several candidates, partial agreement, ...).
    match_reason: Mapped[str] = mapped_column(Text)
    decision: Mapped[ReviewDecision | None] = mapped_column(enum_type(ReviewDecision))
    linked_member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    resolved_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    # Optimistic lock: two representatives resolving at once yield one resolution.
    version: Mapped[int] = mapped_column(default=0)


class BatchFormat(enum.StrEnum):
    CSV = "CSV"
    X12_834 = "X12_834"


class BatchStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class EnrollmentBatch(IdMixin, CreatedAtMixin, Base):
    """An uploaded enrollment file (Electronic File Integration), processed as a job."""

    __tablename__ = "enrollment_batches"
    __table_args__ = (
        # The same file uploaded again is recognised and changes nothing.
        UniqueConstraint("group_id", "sha256"),
        Index("ix_enrollment_batches_status_created_at", "status", "created_at"),
    )

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("groups.id"))
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[BatchFormat] = mapped_column(enum_type(BatchFormat))
    sha256: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("documents.id"))
    status: Mapped[BatchStatus] = mapped_column(enum_type(BatchStatus))
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    # Times a worker took the batch up (a claim); processing that keeps failing stops at a few.
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    uploaded_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    # Worker lease, so that a crashed worker's batch is picked up again.
    leased_by: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class BatchRowOutcome(enum.StrEnum):
    PROCESSED = "PROCESSED"
    PENDING_REVIEW = "PENDING_REVIEW"
    REJECTED = "REJECTED"


class BatchRowAction(enum.StrEnum):
    ADD = "ADD"
    CHANGE = "CHANGE"
    TERMINATE = "TERMINATE"


class EnrollmentBatchRow(IdMixin, Base):
    """One row of a batch file and its result; every row gets one."""

    __tablename__ = "enrollment_batch_rows"
    __table_args__ = (UniqueConstraint("batch_id", "row_number"),)

    batch_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enrollment_batches.id", ondelete="CASCADE")
    )
    row_number: Mapped[int]
    action: Mapped[BatchRowAction | None] = mapped_column(enum_type(BatchRowAction))
    outcome: Mapped[BatchRowOutcome] = mapped_column(enum_type(BatchRowOutcome))
    field: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str | None] = mapped_column(Text)
    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"))
    processed_at: Mapped[datetime]


class IdCardRequestStatus(enum.StrEnum):
    REQUESTED = "REQUESTED"
    PRINTED = "PRINTED"
    MAILED = "MAILED"


class IdCardRequest(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "id_card_requests"

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("groups.id"), index=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[IdCardRequestStatus] = mapped_column(enum_type(IdCardRequestStatus))
    # Where the card is mailed: the given address, or the subscriber's for a dependent.
    mail_to: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    requested_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
