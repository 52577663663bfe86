"""Renewals: the offer of plans for the next plan year and the changes a group submits."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, SmallInteger, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, BigId, CreatedAtMixin, IdMixin, JsonDocument, enum_type


class Renewal(IdMixin, CreatedAtMixin, Base):
    """A group's renewal on one effective date; it opens 75 days before it (computed, not kept)."""

    __tablename__ = "renewals"
    __table_args__ = (UniqueConstraint("group_id", "effective_date"),)

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("groups.id"))
    effective_date: Mapped[date] = mapped_column(Date)
    plan_year: Mapped[int] = mapped_column(SmallInteger)


class OfferKind(enum.StrEnum):
    CURRENT = "CURRENT"  # a plan the group has now, at its renewal rates
    ALTERNATIVE = "ALTERNATIVE"


class RenewalOption(IdMixin, Base):
    """A plan offered at renewal; its rates are the plan's rates in the renewal's plan year."""

    __tablename__ = "renewal_options"
    __table_args__ = (UniqueConstraint("renewal_id", "plan_id"),)

    renewal_id: Mapped[int] = mapped_column(BigId, ForeignKey("renewals.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("plans.id"))
    kind: Mapped[OfferKind] = mapped_column(enum_type(OfferKind))


class RenewalChangeStatus(enum.StrEnum):
    SUBMITTED = "SUBMITTED"
    IN_REVIEW = "IN_REVIEW"
    CONFIRMED = "CONFIRMED"
    CONFIRMED_WITH_CHANGES = "CONFIRMED_WITH_CHANGES"
    REJECTED = "REJECTED"
    DEFAULT_RENEWAL = "DEFAULT_RENEWAL"


class RenewalChangeRequest(IdMixin, CreatedAtMixin, Base):
    """Plan changes with enrollments and terminations, submitted as one whole."""

    __tablename__ = "renewal_change_requests"

    renewal_id: Mapped[int] = mapped_column(BigId, ForeignKey("renewals.id"), index=True)
    status: Mapped[RenewalChangeStatus] = mapped_column(enum_type(RenewalChangeStatus))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    submitted_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class RenewalChangeEvent(IdMixin, Base):
    __tablename__ = "renewal_change_events"

    change_request_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("renewal_change_requests.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[RenewalChangeStatus] = mapped_column(enum_type(RenewalChangeStatus))
    reasons: Mapped[str | None] = mapped_column(Text)
    actor_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    occurred_at: Mapped[datetime]
