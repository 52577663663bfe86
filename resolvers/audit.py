"""Reading a group's audit log (AUDIT_READ), newest first, page by page."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from authz.privileges import Privilege
from data import audit
from data.audit import AuditRecord
from resolvers import groups
from resolvers.context import Context
from resolvers.errors import ErrorCode, Refused

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class AuditPage:
    events: list[AuditRecord]
    end_cursor: str | None
    has_next_page: bool


def _cursor(event: AuditRecord) -> str:
    return base64.urlsafe_b64encode(f"{event.occurred_at.isoformat()}|{event.id}".encode()).decode()


def _position(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), int(key)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Refused.on("after", "not a cursor from this list", ErrorCode.INVALID) from None


async def events(context: Context, group_id: int, first: int, after: str | None) -> AuditPage:
    groups.require(context, Privilege.AUDIT_READ, group_id)
    if not 1 <= first <= MAX_PAGE:
        raise Refused.on("first", f"must be between 1 and {MAX_PAGE}")
    before = _position(after) if after else None
    async with context.database.reader.connect() as connection:
        found = await audit.events_of_group(connection, group_id, first=first + 1, before=before)
    page = found[:first]
    return AuditPage(
        events=page,
        end_cursor=_cursor(page[-1]) if page else None,
        has_next_page=len(found) > first,
    )
