"""Quotes for prospective groups and their enrollment applications."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, BigId, CreatedAtMixin, IdMixin, JsonDocument, enum_type
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
    expires_at: Mapped[datetime]


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


class GroupApplication(IdMixin, CreatedAtMixin, Base):
    """A prospective group's enrollment application; approval creates the group."""

    __tablename__ = "group_applications"

    quote_id: Mapped[int] = mapped_column(BigId, ForeignKey("quotes.id"), index=True)
    company: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    officer_name: Mapped[str] = mapped_column(String(200))
    officer_email: Mapped[str] = mapped_column(String(320))
    plan_ids: Mapped[list[int]] = mapped_column(JsonDocument)
    status: Mapped[ApplicationStatus] = mapped_column(enum_type(ApplicationStatus))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    group_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("groups.id"), unique=True)
    submitted_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
