"""Members (subscribers and their dependents) and their coverages."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, BigId, CreatedAtMixin, IdMixin, enum_type, utcnow
from data.models.plans import CoverageTier


class Relationship(enum.StrEnum):
    SUBSCRIBER = "SUBSCRIBER"
    SPOUSE = "SPOUSE"
    DOMESTIC_PARTNER = "DOMESTIC_PARTNER"
    CHILD = "CHILD"
    OTHER_DEPENDENT = "OTHER_DEPENDENT"


class Sex(enum.StrEnum):
    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class MemberStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    TERMINATED = "TERMINATED"


class Member(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "members"
    __table_args__ = (
        # A subscriber heads its family; every dependent points at one.
        CheckConstraint(
            "(relationship = 'SUBSCRIBER') = (subscriber_id IS NULL)", name="subscriber_link"
        ),
        CheckConstraint(
            "ssn_last4 IS NULL OR (length(ssn_last4) = 4 AND ssn_hash IS NOT NULL)",
            name="ssn_last4",
        ),
        # Prefix search on normalised names; text_pattern_ops lets PostgreSQL use it for LIKE.
        Index(
            "ix_members_group_id_last_name_key",
            "group_id",
            "last_name_key",
            postgresql_ops={"last_name_key": "text_pattern_ops"},
        ),
        Index(
            "ix_members_group_id_first_name_key",
            "group_id",
            "first_name_key",
            postgresql_ops={"first_name_key": "text_pattern_ops"},
        ),
        # Candidate lookup when matching enrollments across groups.
        Index("ix_members_birth_date_last_name_key", "birth_date", "last_name_key"),
    )

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("groups.id"), index=True)
    division_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("divisions.id"), index=True)
    subscriber_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"), index=True)
    relationship: Mapped[Relationship] = mapped_column(enum_type(Relationship))
    member_number: Mapped[str] = mapped_column(String(16), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # Lower-cased, accent-free copies of the names, for search and matching.
    first_name_key: Mapped[str] = mapped_column(String(100))
    last_name_key: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[Sex] = mapped_column(enum_type(Sex))
    # The SSN itself is never stored: a keyed hash to match on, the last four to show.
    ssn_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    ssn_last4: Mapped[str | None] = mapped_column(String(4))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    is_disabled: Mapped[bool] = mapped_column(default=False)
    hire_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[MemberStatus] = mapped_column(
        enum_type(MemberStatus), default=MemberStatus.ACTIVE
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Coverage(IdMixin, CreatedAtMixin, Base):
    """One member on one plan over a span of dates; a termination closes the span."""

    __tablename__ = "coverages"
    __table_args__ = (
        CheckConstraint(
            "termination_date IS NULL OR termination_date >= effective_date",
            name="dates_ordered",
        ),
    )

    member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("plans.id"), index=True)
    tier: Mapped[CoverageTier] = mapped_column(enum_type(CoverageTier))
    effective_date: Mapped[date] = mapped_column(Date)
    termination_date: Mapped[date | None] = mapped_column(Date)
    is_cobra: Mapped[bool] = mapped_column(default=False)
    is_medicare: Mapped[bool] = mapped_column(default=False)
