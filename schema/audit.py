"""The audit log of a group: who did what, when, from which request."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from data.audit import AuditRecord
from resolvers import audit
from resolvers.audit import AuditPage
from resolvers.context import Context
from schema.common import Info, global_id, served_as
from schema.users import User


@strawberry.type(description="One change, as it was recorded.")
class AuditEvent:
    occurred_at: datetime
    action: str
    target_type: str
    target_id: str | None
    before: JSON | None
    after: JSON | None
    request_id: str | None

    @strawberry.field
    def id(self: AuditRecord) -> strawberry.ID:
        return global_id("AuditEvent", self.id)

    @strawberry.field(description="Who made the change (none for the system itself).")
    async def actor(self: AuditRecord, info: Info) -> User | None:
        if self.actor_user_id is None:
            return None
        found = await info.context.loaders.user_by_id.load(self.actor_user_id)
        return served_as([found], User)[0] if found else None


@strawberry.type
class AuditEventPage:
    end_cursor: str | None
    has_next_page: bool

    @strawberry.field
    def events(self: AuditPage) -> list[AuditEvent]:
        return served_as(self.events, AuditEvent)


async def audit_events(
    context: Context, group_id: int, first: int, after: str | None
) -> AuditEventPage:
    return served_as([await audit.events(context, group_id, first, after)], AuditEventPage)[0]
