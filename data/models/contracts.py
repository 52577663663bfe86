"""Contracts per plan year, the plans they carry, and stored documents."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, BigId, CreatedAtMixin, IdMixin, enum_type


class Contract(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "contracts"
    __table_args__ = (
        UniqueConstraint("group_id", "plan_year"),
        CheckConstraint("end_date > start_date", name="dates_ordered"),
    )

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("groups.id"))
    contract_number: Mapped[str] = mapped_column(String(24), unique=True)
    plan_year: Mapped[int] = mapped_column(SmallInteger)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)


class ContractPlan(IdMixin, Base):
    """A plan a contract offers to the group's members."""

    __tablename__ = "contract_plans"
    __table_args__ = (UniqueConstraint("contract_id", "plan_id"),)

    contract_id: Mapped[int] = mapped_column(BigId, ForeignKey("contracts.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("plans.id"), index=True)


class DocumentKind(enum.StrEnum):
    CONTRACT = "CONTRACT"
    ARBITRATION_AGREEMENT = "ARBITRATION_AGREEMENT"
    AMENDMENT = "AMENDMENT"
    SUMMARY_OF_BENEFITS = "SUMMARY_OF_BENEFITS"
    ENROLLMENT_APPLICATION = "ENROLLMENT_APPLICATION"
    BROKER_OF_RECORD_LETTER = "BROKER_OF_RECORD_LETTER"
    ENROLLMENT_FILE = "ENROLLMENT_FILE"
    OTHER = "OTHER"


class Document(IdMixin, CreatedAtMixin, Base):
    """A stored file; exactly one owner (a group or a prospective group's application)."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("(group_id IS NULL) <> (application_id IS NULL)", name="exactly_one_owner"),
        CheckConstraint("size_bytes >= 0", name="size_not_negative"),
    )

    group_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("groups.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("group_applications.id"), index=True
    )
    contract_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contracts.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_type(DocumentKind))
    title: Mapped[str] = mapped_column(String(200))
    # Key of the file in the file store (a relative path for the local directory store).
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
