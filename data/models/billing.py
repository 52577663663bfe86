"""Monthly bills with their lines and adjustments, payments and autopay mandates."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, BigId, CreatedAtMixin, IdMixin, enum_type
from data.models.plans import CoverageTier


class Bill(IdMixin, CreatedAtMixin, Base):
    """The bill of one coverage month; its amount is the sum of its lines and adjustments."""

    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("group_id", "period"),
        CheckConstraint("due_date >= issue_date", name="dates_ordered"),
    )

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("groups.id"))
    bill_number: Mapped[str] = mapped_column(String(24), unique=True)
    # First day of the coverage month billed.
    period: Mapped[date] = mapped_column(Date)
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int]


class BillLine(IdMixin, Base):
    """One subscriber's premium (its whole family's tier) on a bill."""

    __tablename__ = "bill_lines"
    __table_args__ = (
        UniqueConstraint("bill_id", "subscriber_id"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    )

    bill_id: Mapped[int] = mapped_column(BigId, ForeignKey("bills.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), index=True)
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("plans.id"))
    tier: Mapped[CoverageTier] = mapped_column(enum_type(CoverageTier))
    amount_cents: Mapped[int]


class BillAdjustment(IdMixin, CreatedAtMixin, Base):
    """A retroactive correction (credit negative, charge positive) carried by a bill."""

    __tablename__ = "bill_adjustments"
    __table_args__ = (CheckConstraint("amount_cents <> 0", name="amount_not_zero"),)

    bill_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("bills.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    amount_cents: Mapped[int]


class PaymentMethod(enum.StrEnum):
    ACH = "ACH"
    CARD = "CARD"
    CHECK = "CHECK"
    AUTOPAY = "AUTOPAY"


class PaymentStatus(enum.StrEnum):
    PENDING = "PENDING"
    SETTLED = "SETTLED"
    FAILED = "FAILED"
    REVERSED = "REVERSED"


class Payment(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        # The same idempotency key twice is one payment.
        UniqueConstraint("group_id", "idempotency_key"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_payments_group_id_created_at", "group_id", "created_at"),
    )

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("groups.id"))
    bill_id: Mapped[int] = mapped_column(BigId, ForeignKey("bills.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    amount_cents: Mapped[int]
    method: Mapped[PaymentMethod] = mapped_column(enum_type(PaymentMethod))
    status: Mapped[PaymentStatus] = mapped_column(enum_type(PaymentStatus))
    confirmation_number: Mapped[str] = mapped_column(String(24), unique=True)
    submitted_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    settled_at: Mapped[datetime | None]


class AutopayStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"


class AutopayMandate(IdMixin, CreatedAtMixin, Base):
    """Standing authorisation to debit a bank account for each bill on its due date."""

    __tablename__ = "autopay_mandates"
    __table_args__ = (
        # At most one active mandate per group.
        Index(
            "uq_autopay_mandates_group_id_active",
            "group_id",
            unique=True,
            postgresql_where=text("status = 'ACTIVE'"),
            sqlite_where=text("status = 'ACTIVE'"),
        ),
    )

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("groups.id"), index=True)
    status: Mapped[AutopayStatus] = mapped_column(enum_type(AutopayStatus))
    account_holder: Mapped[str] = mapped_column(String(200))
    routing_number: Mapped[str] = mapped_column(String(9))
    account_last4: Mapped[str] = mapped_column(String(4))
    # Keyed hash of the full account number: the number itself is kept by the payment processor.
    account_hash: Mapped[str] = mapped_column(String(64))
    created_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None]
    cancelled_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
