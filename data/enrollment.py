"""Enrollment requests, their history and the manual-review queue: reads and writes.

Reads take a connection (or the caller's session, for the use cases that read and write in one
unit of work) and return slotted records; writes add ORM rows to the caller's session.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from data.keys import key_in
from data.models.contracts import Contract, ContractPlan
from data.models.enrollment import (
    EnrollmentKind,
    EnrollmentRequest,
    EnrollmentRequestEvent,
    EnrollmentStatus,
    ReviewDecision,
    ReviewItem,
    ReviewItemStatus,
)
from data.models.members import Member, MemberStatus, Relationship, Sex
from data.pagination import Page, PageRequest, fetch_group_pages, fetch_page

Reader = AsyncConnection | AsyncSession


@dataclass(frozen=True, slots=True)
class CandidateRecord:
    """An existing member record, in any group, that an enrolling person may be."""

    id: int
    group_id: int
    division_id: int | None
    subscriber_id: int | None
    relationship: Relationship
    member_number: str
    first_name: str
    last_name: str
    first_name_key: str
    last_name_key: str
    birth_date: date
    sex: Sex
    ssn_hash: str | None
    ssn_last4: str | None
    status: MemberStatus


@dataclass(frozen=True, slots=True)
class CandidateQuery:
    """What candidates are looked up by: the SSN hash, or the birth date with either name."""

    ssn_hash: str | None
    birth_date: date
    first_name_key: str
    last_name_key: str


@dataclass(frozen=True, slots=True)
class RequestRecord:
    id: int
    group_id: int
    kind: EnrollmentKind
    status: EnrollmentStatus
    payload: dict[str, Any]
    member_id: int | None
    submitted_by_user_id: int | None
    batch_row_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    request_id: int
    status: EnrollmentStatus
    note: str
    actor_user_id: int | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewItemRecord:
    id: int
    request_id: int
    status: ReviewItemStatus
    candidate_member_ids: list[int]
    match_reason: str
    decision: ReviewDecision | None
    linked_member_id: int | None
    reason: str | None
    resolved_by_user_id: int | None
    resolved_at: datetime | None
    version: int
    created_at: datetime


_CANDIDATE = [getattr(Member, name) for name in CandidateRecord.__slots__]
_REQUEST = [getattr(EnrollmentRequest, name) for name in RequestRecord.__slots__]
_EVENT = [getattr(EnrollmentRequestEvent, name) for name in EventRecord.__slots__]
_ITEM = [getattr(ReviewItem, name) for name in ReviewItemRecord.__slots__]
REQUEST_ORDER = (EnrollmentRequest.created_at, EnrollmentRequest.id)
ITEM_ORDER = (ReviewItem.created_at, ReviewItem.id)


async def candidates(
    reader: Reader, queries: Sequence[CandidateQuery]
) -> list[list[CandidateRecord]]:
    """Each query's candidates across every group, in one statement, oldest record first.

    A record is a candidate when it has the same SSN hash, or the same birth date and the same
    first or last name (normalised): a married name or a typed SSN still finds the person.
    """
    if not queries:
        return []
    conditions = []
    for query in queries:
        same_person = and_(
            Member.birth_date == query.birth_date,
            or_(
                Member.last_name_key == query.last_name_key,
                Member.first_name_key == query.first_name_key,
            ),
        )
        if query.ssn_hash is not None:
            same_person = or_(Member.ssn_hash == query.ssn_hash, same_person)
        conditions.append(same_person)
    rows = await reader.execute(select(*_CANDIDATE).where(or_(*conditions)).order_by(Member.id))
    found = [CandidateRecord(*row) for row in rows]
    return [[record for record in found if _found_by(query, record)] for query in queries]


def _found_by(query: CandidateQuery, record: CandidateRecord) -> bool:
    if query.ssn_hash is not None and record.ssn_hash == query.ssn_hash:
        return True
    return record.birth_date == query.birth_date and (
        record.last_name_key == query.last_name_key or record.first_name_key == query.first_name_key
    )


async def candidates_by_id(reader: Reader, ids: Sequence[int]) -> list[CandidateRecord | None]:
    rows = await reader.execute(select(*_CANDIDATE).where(Member.id.in_(ids)))
    found = {row.id: CandidateRecord(*row) for row in rows}
    return [found.get(member_id) for member_id in ids]


@dataclass(frozen=True, slots=True)
class PlanYear:
    """A contract's plan year and the plans it offers."""

    start_date: date
    end_date: date
    plan_ids: frozenset[int]


async def plan_years_of_group(reader: Reader, group_id: int) -> list[PlanYear]:
    """The group's contracts, oldest first, each with the plans it offers."""
    rows = await reader.execute(
        select(Contract.id, Contract.start_date, Contract.end_date, ContractPlan.plan_id)
        .outerjoin(ContractPlan, ContractPlan.contract_id == Contract.id)
        .where(Contract.group_id == group_id)
        .order_by(Contract.start_date, Contract.id)
    )
    spans: dict[int, tuple[date, date]] = {}
    plans: dict[int, set[int]] = defaultdict(set)
    for contract_id, start, end, plan_id in rows:
        spans[contract_id] = (start, end)
        if plan_id is not None:
            plans[contract_id].add(plan_id)
    return [
        PlanYear(start, end, frozenset(plans[contract_id]))
        for contract_id, (start, end) in spans.items()
    ]


def add_request(
    session: AsyncSession,
    *,
    group_id: int,
    kind: EnrollmentKind,
    status: EnrollmentStatus,
    payload: dict[str, Any],
    member_id: int | None,
    user_id: int | None,
    batch_row_id: int | None,
    now: datetime,
) -> EnrollmentRequest:
    request = EnrollmentRequest(
        group_id=group_id,
        kind=kind,
        status=status,
        payload=payload,
        member_id=member_id,
        submitted_by_user_id=user_id,
        batch_row_id=batch_row_id,
        created_at=now,
    )
    session.add(request)
    return request


def add_event(
    session: AsyncSession,
    request: EnrollmentRequest,
    *,
    note: str,
    user_id: int | None,
    now: datetime,
) -> None:
    """One step of the request's history, at the request's status."""
    session.add(
        EnrollmentRequestEvent(
            request_id=request.id,
            status=request.status,
            note=note,
            actor_user_id=user_id,
            occurred_at=now,
        )
    )


def add_review_item(
    session: AsyncSession,
    request: EnrollmentRequest,
    *,
    candidate_member_ids: list[int],
    match_reason: str,
    now: datetime,
) -> ReviewItem:
    item = ReviewItem(
        request_id=request.id,
        status=ReviewItemStatus.OPEN,
        candidate_member_ids=candidate_member_ids,
        match_reason=match_reason,
        created_at=now,
    )
    session.add(item)
    return item


async def claim_review_item(
    session: AsyncSession,
    item_id: int,
    *,
    version: int,
    decision: ReviewDecision,
    linked_member_id: int | None,
    reason: str,
    user_id: int | None,
    now: datetime,
) -> bool:
    """Resolve the item if it is still open at `version`; False if someone else came first.

    The first write of the unit of work: on PostgreSQL a racing claim waits for the row lock
    and then finds the version moved; on SQLite it waits for the write lock, likewise.
    """
    result = await session.execute(
        update(ReviewItem)
        .where(
            ReviewItem.id == item_id,
            ReviewItem.version == version,
            ReviewItem.status == ReviewItemStatus.OPEN,
        )
        .values(
            status=ReviewItemStatus.RESOLVED,
            decision=decision,
            linked_member_id=linked_member_id,
            reason=reason,
            resolved_by_user_id=user_id,
            resolved_at=now,
            version=ReviewItem.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def request_for_update(session: AsyncSession, request_id: int) -> EnrollmentRequest | None:
    return await session.get(EnrollmentRequest, request_id, with_for_update=True)


@dataclass(frozen=True, slots=True)
class RequestsPageKey:
    """One group's page of enrollment requests: what `requests_pages` batches by."""

    group_id: int
    divisions: frozenset[int] | None  # None: the whole group
    status: EnrollmentStatus | None
    request: PageRequest
    count: bool


async def requests_pages(
    connection: AsyncConnection, keys: Sequence[RequestsPageKey]
) -> list[tuple[Page, list[RequestRecord]]]:
    """Each key's page of its group's requests, oldest first; `divisions` limits them."""

    def rows_of(group_ids: list[int], key: RequestsPageKey) -> Select[Any]:
        statement = select(*_REQUEST, *REQUEST_ORDER).where(
            EnrollmentRequest.group_id == group_ids[0]
            if len(group_ids) == 1
            else key_in(connection, EnrollmentRequest.group_id, group_ids)
        )
        if key.divisions is not None:
            division = EnrollmentRequest.payload["divisionId"].as_integer()
            statement = statement.where(division.in_(sorted(key.divisions)))
        if key.status is not None:
            statement = statement.where(EnrollmentRequest.status == key.status)
        return statement

    pages = await fetch_group_pages(
        connection, keys, rows_of, EnrollmentRequest.group_id, REQUEST_ORDER
    )
    width = len(REQUEST_ORDER)
    return [(page, [RequestRecord(*row[:-width]) for row in page.rows]) for page in pages]


async def requests_by_id(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[RequestRecord | None]:
    rows = await connection.execute(select(*_REQUEST).where(EnrollmentRequest.id.in_(ids)))
    found = {row.id: RequestRecord(*row) for row in rows}
    return [found.get(request_id) for request_id in ids]


async def events_of_requests(
    connection: AsyncConnection, request_ids: Sequence[int]
) -> list[list[EventRecord]]:
    """Each request's history, oldest first."""
    rows = await connection.execute(
        select(*_EVENT)
        .where(EnrollmentRequestEvent.request_id.in_(request_ids))
        .order_by(EnrollmentRequestEvent.occurred_at, EnrollmentRequestEvent.id)
    )
    found: dict[int, list[EventRecord]] = defaultdict(list)
    for row in rows:
        found[row.request_id].append(EventRecord(*row))
    return [found.get(request_id, []) for request_id in request_ids]


async def review_items_page(
    connection: AsyncConnection,
    *,
    status: ReviewItemStatus | None,
    request: PageRequest,
    count: bool,
) -> tuple[Page, list[ReviewItemRecord]]:
    """The review queue, oldest first."""
    statement = select(*_ITEM, *ITEM_ORDER)
    if status is not None:
        statement = statement.where(ReviewItem.status == status)
    page = await fetch_page(connection, statement, ITEM_ORDER, request, count=count)
    width = len(ITEM_ORDER)
    return page, [ReviewItemRecord(*row[:-width]) for row in page.rows]


async def review_items_by_id(reader: Reader, ids: Sequence[int]) -> list[ReviewItemRecord | None]:
    rows = await reader.execute(select(*_ITEM).where(ReviewItem.id.in_(ids)))
    found = {row.id: ReviewItemRecord(*row) for row in rows}
    return [found.get(item_id) for item_id in ids]
