"""Commission schedules per agency and the monthly statements computed from premiums paid."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, SmallInteger, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, BigId, CreatedAtMixin, IdMixin, enum_type


class CommissionBasis(enum.StrEnum):
    PERCENT_OF_PREMIUM = "PERCENT_OF_PREMIUM"
    PER_SUBSCRIBER_PER_MONTH = "PER_SUBSCRIBER_PER_MONTH"


class CommissionSchedule(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "commission_schedules"
    __table_args__ = (
        UniqueConstraint("agency_id", "plan_year"),
        # Exactly the figure the basis needs: basis points of premium, or cents per subscriber.
        CheckConstraint(
            "(basis = 'PERCENT_OF_PREMIUM' AND rate_basis_points IS NOT NULL"
            " AND amount_cents IS NULL AND rate_basis_points BETWEEN 0 AND 10000)"
            " OR (basis = 'PER_SUBSCRIBER_PER_MONTH' AND amount_cents IS NOT NULL"
            " AND rate_basis_points IS NULL AND amount_cents >= 0)",
            name="basis_figure",
        ),
    )

    agency_id: Mapped[int] = mapped_column(BigId, ForeignKey("agencies.id"))
    plan_year: Mapped[int] = mapped_column(SmallInteger)
    basis: Mapped[CommissionBasis] = mapped_column(enum_type(CommissionBasis))
    rate_basis_points: Mapped[int | None]
    amount_cents: Mapped[int | None]


class CommissionLineKind(enum.StrEnum):
    PAYMENT = "PAYMENT"  # commission on a payment settled in the statement's month
    REVERSAL = "REVERSAL"  # the same commission taken back: the payment was reversed later


class CommissionStatement(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "commission_statements"
    __table_args__ = (UniqueConstraint("agency_id", "period"),)

    agency_id: Mapped[int] = mapped_column(BigId, ForeignKey("agencies.id"))
    # First day of the month whose payments the statement pays commission on.
    period: Mapped[date] = mapped_column(Date)
    total_cents: Mapped[int]


class CommissionStatementLine(IdMixin, Base):
    """Commission on one payment, so that a statement reconciles to the payments it comes from."""

    __tablename__ = "commission_statement_lines"
    __table_args__ = (
        UniqueConstraint("statement_id", "payment_id"),
        # A payment earns commission once and is taken back at most once, whatever the month.
        UniqueConstraint("payment_id", "kind"),
    )

    statement_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("commission_statements.id", ondelete="CASCADE")
    )
    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("groups.id"), index=True)
    payment_id: Mapped[int] = mapped_column(BigId, ForeignKey("payments.id"), index=True)
    kind: Mapped[CommissionLineKind] = mapped_column(enum_type(CommissionLineKind))
    # The plan year whose schedule priced the line: the group's contract year of the bill's month.
    plan_year: Mapped[int] = mapped_column(SmallInteger)
    premium_paid_cents: Mapped[int]
    subscriber_count: Mapped[int]
    commission_cents: Mapped[int]
