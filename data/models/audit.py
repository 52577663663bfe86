"""The append-only audit log: who, acting for which group, did what, when, from which request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, BigId, IdMixin, JsonDocument, utcnow


class AuditEvent(IdMixin, Base):
    """Never updated or deleted: the migrations install triggers that refuse both."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_group_id_occurred_at", "group_id", "occurred_at"),
        Index("ix_audit_events_actor_user_id_occurred_at", "actor_user_id", "occurred_at"),
    )

    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    # NULL for the system itself (migrations, demo data, scheduled jobs).
    actor_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    group_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("groups.id"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    request_id: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
