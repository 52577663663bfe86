"""The audit log: one append-only row per change, written in the change's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from data.keys import Keyed
from data.models.audit import AuditEvent


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change and from which request."""

    user_id: int | None
    request_id: str | None
    address: str | None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    occurred_at: datetime
    actor_user_id: int | None
    group_id: int | None
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


_COLUMNS = [getattr(AuditEvent, name) for name in AuditRecord.__slots__]


# Changes the gateway makes on its own (expiry sweeps, housekeeping): no user, no request.
SYSTEM = Actor(user_id=None, request_id=None, address=None)


def record(
    session: AsyncSession,
    actor: Actor,
    *,
    action: str,
    target_type: str,
    target_id: int | str | None,
    group_id: int | None,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            occurred_at=now,
            actor_user_id=actor.user_id,
            group_id=group_id,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            before=before,
            after=after,
            request_id=actor.request_id,
            address=actor.address,
        )
    )


async def events_of_group(
    connection: AsyncConnection,
    group_id: int,
    *,
    first: int,
    before: tuple[datetime, int] | None,
) -> list[AuditRecord]:
    """Newest first; `before` is the (time, id) of the last event of the previous page."""
    statement = (
        select(*_COLUMNS)
        .where(AuditEvent.group_id == group_id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(first)
    )
    if before is not None:
        statement = statement.where(tuple_(AuditEvent.occurred_at, AuditEvent.id) < tuple_(*before))
    return [AuditRecord(*row) for row in await connection.execute(statement)]


_EVENTS_BY_ID = Keyed(lambda keys: select(*_COLUMNS).where(keys(AuditEvent.id)))


async def events_by_id(connection: AsyncConnection, ids: Sequence[int]) -> list[AuditRecord | None]:
    rows = await _EVENTS_BY_ID.execute(connection, ids)
    found = {row.id: AuditRecord(*row) for row in rows}
    return [found.get(event_id) for event_id in ids]
