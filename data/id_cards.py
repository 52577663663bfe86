"""ID card requests: the page of a group's requests, batch reads by id, and the writes.

Every read joins the member, whose division decides who may see a request and its address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from data.keys import key_in
from data.models.enrollment import IdCardRequest, IdCardRequestStatus
from data.models.members import Member
from data.pagination import Page, PageRequest, fetch_group_pages


@dataclass(frozen=True, slots=True)
class IdCardRequestRecord:
    id: int
    group_id: int
    member_id: int
    # The member's division: who may read the request (and its address) is decided there.
    division_id: int | None
    reason: str
    status: IdCardRequestStatus
    # line1, line2, city, state, postalCode: personal data.
    mail_to: dict[str, Any]
    requested_by_user_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewIdCardRequest:
    group_id: int
    member_id: int
    reason: str
    mail_to: dict[str, Any]
    requested_by_user_id: int | None


_COLUMNS: list[Any] = [
    IdCardRequest.id,
    IdCardRequest.group_id,
    IdCardRequest.member_id,
    Member.division_id,
    IdCardRequest.reason,
    IdCardRequest.status,
    IdCardRequest.mail_to,
    IdCardRequest.requested_by_user_id,
    IdCardRequest.created_at,
]
REQUEST_ORDER = (IdCardRequest.created_at, IdCardRequest.id)


def _with_member(statement: Select[Any]) -> Select[Any]:
    return statement.join(Member, Member.id == IdCardRequest.member_id)


@dataclass(frozen=True, slots=True)
class RequestsPageKey:
    """One group's page of ID card requests: what `requests_pages` batches by."""

    group_id: int
    divisions: frozenset[int] | None  # None: the whole group
    status: IdCardRequestStatus | None
    request: PageRequest
    count: bool


async def requests_pages(
    connection: AsyncConnection, keys: Sequence[RequestsPageKey]
) -> list[tuple[Page, list[IdCardRequestRecord]]]:
    """Each key's page of its group's requests, newest first; `divisions` limits them to those
    divisions' members (None: the whole group)."""

    def rows_of(group_ids: list[int], key: RequestsPageKey) -> Select[Any]:
        statement = _with_member(select(*_COLUMNS, *REQUEST_ORDER)).where(
            IdCardRequest.group_id == group_ids[0]
            if len(group_ids) == 1
            else key_in(connection, IdCardRequest.group_id, group_ids)
        )
        if key.divisions is not None:
            statement = statement.where(Member.division_id.in_(sorted(key.divisions)))
        if key.status is not None:
            statement = statement.where(IdCardRequest.status == key.status)
        return statement

    pages = await fetch_group_pages(
        connection, keys, rows_of, IdCardRequest.group_id, REQUEST_ORDER, newest_first=True
    )
    width = len(REQUEST_ORDER)
    return [(page, [IdCardRequestRecord(*row[:-width]) for row in page.rows]) for page in pages]


async def requests_by_id(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[IdCardRequestRecord | None]:
    rows = await connection.execute(
        _with_member(select(*_COLUMNS)).where(IdCardRequest.id.in_(ids))
    )
    found = {row.id: IdCardRequestRecord(*row) for row in rows}
    return [found.get(request_id) for request_id in ids]


async def add_requests(
    session: AsyncSession, new: Sequence[NewIdCardRequest], *, now: datetime
) -> list[IdCardRequest]:
    """The requests, REQUESTED, written at once so that they have their ids (for the audit)."""
    rows = [
        IdCardRequest(
            group_id=item.group_id,
            member_id=item.member_id,
            reason=item.reason,
            status=IdCardRequestStatus.REQUESTED,
            mail_to=item.mail_to,
            requested_by_user_id=item.requested_by_user_id,
            created_at=now,
        )
        for item in new
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def request_for_update(session: AsyncSession, request_id: int) -> IdCardRequest | None:
    return await session.get(IdCardRequest, request_id, with_for_update=True)


async def member_division(session: AsyncSession, member_id: int) -> int | None:
    division: int | None = await session.scalar(
        select(Member.division_id).where(Member.id == member_id)
    )
    return division


def record_of(row: IdCardRequest, division_id: int | None) -> IdCardRequestRecord:
    return IdCardRequestRecord(
        id=row.id,
        group_id=row.group_id,
        member_id=row.member_id,
        division_id=division_id,
        reason=row.reason,
        status=row.status,
        mail_to=row.mail_to,
        requested_by_user_id=row.requested_by_user_id,
        created_at=row.created_at,
    )
