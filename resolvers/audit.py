"""Reading a group's audit log (AUDIT_READ), newest first, page by page."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

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


# Recorded values that are personal data: shown only to readers who may see personal data.
PERSONAL_KEYS = ("birthDate", "address", "phone", "email", "ssn")
REDACTED = "(personal data)"


def _redacted(event: AuditRecord) -> AuditRecord:
    def clean(values: dict[str, Any] | None) -> dict[str, Any] | None:
        if values is None:
            return None
        return {
            key: REDACTED if key.split(".")[0] in PERSONAL_KEYS else value
            for key, value in values.items()
        }

    if event.target_type != "member":
        return event
    return replace(event, before=clean(event.before), after=clean(event.after))


async def events(context: Context, group_id: int, first: int, after: str | None) -> AuditPage:
    groups.require(context, Privilege.AUDIT_READ, group_id)
    if not 1 <= first <= MAX_PAGE:
        raise Refused.on("first", f"must be between 1 and {MAX_PAGE}")
    before = _position(after) if after else None
    async with context.database.reader.connect() as connection:
        found = await audit.events_of_group(connection, group_id, first=first + 1, before=before)
    page = found[:first]
    if not context.access.allows(Privilege.MEMBERS_READ_PII, group_id):
        page = [_redacted(event) for event in page]
    return AuditPage(
        events=page,
        end_cursor=_cursor(page[-1]) if page else None,
        has_next_page=len(found) > first,
    )
