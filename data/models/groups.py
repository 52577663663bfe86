"""Employer groups, their divisions and the plans their contracts offer."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, BigId, CreatedAtMixin, IdMixin, enum_type


class GroupStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    PENDING = "PENDING"  # approved application, coverage not started yet
    TERMINATED = "TERMINATED"


class BillingDelivery(enum.StrEnum):
    PAPER = "PAPER"
    PAPERLESS = "PAPERLESS"


class Group(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "groups"
    __table_args__ = (
        CheckConstraint(
            "billing_delivery = 'PAPER' OR billing_email IS NOT NULL",
            name="paperless_needs_email",
        ),
    )

    group_number: Mapped[str] = mapped_column(String(16), unique=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    # Lower-cased, accent-free copy of the name for case- and accent-insensitive search.
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    region: Mapped[str] = mapped_column(String(8))
    status: Mapped[GroupStatus] = mapped_column(enum_type(GroupStatus), default=GroupStatus.ACTIVE)
    # Eligible employees as reported by the employer (drives EFI eligibility and rating).
    employee_count: Mapped[int]
    renewal_date: Mapped[date] = mapped_column(Date, index=True)
    cobra_administered_by_carrier: Mapped[bool] = mapped_column(default=False)
    billing_delivery: Mapped[BillingDelivery] = mapped_column(
        enum_type(BillingDelivery), default=BillingDelivery.PAPER
    )
    billing_email: Mapped[str | None] = mapped_column(String(320))


class Division(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "divisions"
    __table_args__ = (UniqueConstraint("group_id", "code"),)

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("groups.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
