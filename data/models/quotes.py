"""Quotes for prospective groups and their enrollment applications."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import (
    Base,
    BigId,
    CreatedAtMixin,
    IdMixin,
    JsonDocument,
    UtcDateTime,
    enum_type,
)
from data.models.plans import CoverageTier


class Quote(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "quotes"
    __table_args__ = (CheckConstraint("employee_count > 0", name="employee_count_positive"),)

    quote_number: Mapped[str] = mapped_column(String(24), unique=True)
    # NULL for an anonymous prospect's quote.
    agency_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agencies.id"), index=True)
    created_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    prospect_name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(8))
    postal_code: Mapped[str] = mapped_column(String(10))
    employee_count: Mapped[int]
    # Count of employees per coverage tier, when a census was given.
    census: Mapped[dict[str, int] | None] = mapped_column(JsonDocument)
    plan_year: Mapped[int]
    # The day the quoted coverage would start; `plan_year` is its year.
    effective_date: Mapped[date] = mapped_column(Date)
    expires_at: Mapped[datetime]
    # SHA-256 of an anonymous prospect's access key (the key itself is shown once, never kept).
    access_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)


class QuotePlan(IdMixin, Base):
    """A plan priced in a quote: the projected monthly premium and the rate of each tier."""

    __tablename__ = "quote_plans"
    __table_args__ = (UniqueConstraint("quote_id", "plan_id"),)

    quote_id: Mapped[int] = mapped_column(BigId, ForeignKey("quotes.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("plans.id"))
    projected_monthly_premium_cents: Mapped[int]
    rates_cents: Mapped[dict[CoverageTier, int]] = mapped_column(JsonDocument)


class ApplicationStatus(enum.StrEnum):
    SUBMITTED = "SUBMITTED"
    IN_REVIEW = "IN_REVIEW"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"


# Every status but DECLINED holds the quote: one such application per quote.
_HOLDS_QUOTE = "status <> 'DECLINED'"


class GroupApplication(IdMixin, CreatedAtMixin, Base):
    """A prospective group's enrollment application; approval creates the group."""

    __tablename__ = "group_applications"
    __table_args__ = (
        Index(
            "uq_group_applications_quote_id_open",
            "quote_id",
            unique=True,
            postgresql_where=text(_HOLDS_QUOTE),
            sqlite_where=text(_HOLDS_QUOTE),
        ),
    )

    application_number: Mapped[str] = mapped_column(String(24), unique=True)
    quote_id: Mapped[int] = mapped_column(BigId, ForeignKey("quotes.id"), index=True)
    company: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    officer_name: Mapped[str] = mapped_column(String(200))
    officer_email: Mapped[str] = mapped_column(String(320))
    officer_title: Mapped[str] = mapped_column(String(100))
    plan_ids: Mapped[list[int]] = mapped_column(JsonDocument)
    status: Mapped[ApplicationStatus] = mapped_column(enum_type(ApplicationStatus))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    group_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("groups.id"), unique=True)
    submitted_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class GroupApplicationEvent(IdMixin, Base):
    """An application's status history: one row per status it entered, with who and why."""

    __tablename__ = "group_application_events"

    application_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("group_applications.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ApplicationStatus] = mapped_column(enum_type(ApplicationStatus))
    reason: Mapped[str | None] = mapped_column(Text)
    # NULL when an anonymous prospect submitted the application.
    actor_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    occurred_at: Mapped[datetime]


class AnonymousQuoteWindow(Base):
    """Quotes made anonymously from one client address in one clock hour (the rate limit).

    Counted in the database, so that the limit holds across every worker and instance."""

    __tablename__ = "anonymous_quote_windows"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    quotes: Mapped[int]
