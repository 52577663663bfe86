"""Renewal change requests: the submitted whole, its status history, and what a confirmation
writes (coverages moved to another plan, coverages ended, the new plan year's contract).

Reads into slotted dataclasses; each batch function answers its keys in key order. The writes
take the caller's session and never commit it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from data.keys import Keyed
from data.models.contracts import Contract, ContractPlan
from data.models.members import Coverage, Member
from data.models.renewals import (
    Renewal,
    RenewalChangeEvent,
    RenewalChangeRequest,
    RenewalChangeStatus,
)
from data.pagination import Page, PageRequest, fetch_page

# A request in one of these holds its renewal: no second one may be submitted meanwhile.
ACTIVE = (
    RenewalChangeStatus.SUBMITTED,
    RenewalChangeStatus.IN_REVIEW,
    RenewalChangeStatus.CONFIRMED,
    RenewalChangeStatus.CONFIRMED_WITH_CHANGES,
)


@dataclass(frozen=True, slots=True)
class ChangeRequestRecord:
    id: int
    renewal_id: int
    group_id: int
    effective_date: date
    plan_year: int
    status: RenewalChangeStatus
    payload: dict[str, Any]
    submitted_by_user_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChangeEventRecord:
    id: int
    change_request_id: int
    status: RenewalChangeStatus
    reasons: str | None
    actor_user_id: int | None
    occurred_at: datetime


_REQUEST = (
    RenewalChangeRequest.id,
    RenewalChangeRequest.renewal_id,
    Renewal.group_id,
    Renewal.effective_date,
    Renewal.plan_year,
    RenewalChangeRequest.status,
    RenewalChangeRequest.payload,
    RenewalChangeRequest.submitted_by_user_id,
    RenewalChangeRequest.created_at,
)
QUEUE_ORDER = (RenewalChangeRequest.created_at, RenewalChangeRequest.id)


def _requests() -> Any:
    return select(*_REQUEST).join(Renewal, Renewal.id == RenewalChangeRequest.renewal_id)


_REQUESTS_OF_RENEWALS = Keyed(
    lambda keys: (
        _requests()
        .where(keys(RenewalChangeRequest.renewal_id))
        .order_by(RenewalChangeRequest.created_at.desc(), RenewalChangeRequest.id.desc())
    )
)


async def requests_of_renewals(
    connection: AsyncConnection, renewal_ids: Sequence[int]
) -> list[list[ChangeRequestRecord]]:
    """Each renewal's change requests, newest first."""
    found: dict[int, list[ChangeRequestRecord]] = defaultdict(list)
    for row in await _REQUESTS_OF_RENEWALS.execute(connection, renewal_ids):
        found[row.renewal_id].append(ChangeRequestRecord(*row))
    return [found.get(renewal_id, []) for renewal_id in renewal_ids]


_REQUESTS_BY_ID = Keyed(lambda keys: _requests().where(keys(RenewalChangeRequest.id)))


async def requests_by_id(
    connection: AsyncConnection, request_ids: Sequence[int]
) -> list[ChangeRequestRecord | None]:
    found = {
        row.id: ChangeRequestRecord(*row)
        for row in await _REQUESTS_BY_ID.execute(connection, request_ids)
    }
    return [found.get(request_id) for request_id in request_ids]


_EVENTS_OF_REQUESTS = Keyed(
    lambda keys: (
        select(
            RenewalChangeEvent.id,
            RenewalChangeEvent.change_request_id,
            RenewalChangeEvent.status,
            RenewalChangeEvent.reasons,
            RenewalChangeEvent.actor_user_id,
            RenewalChangeEvent.occurred_at,
        )
        .where(keys(RenewalChangeEvent.change_request_id))
        .order_by(RenewalChangeEvent.occurred_at, RenewalChangeEvent.id)
    )
)


async def events_of_requests(
    connection: AsyncConnection, request_ids: Sequence[int]
) -> list[list[ChangeEventRecord]]:
    """Each request's history, oldest first."""
    found: dict[int, list[ChangeEventRecord]] = defaultdict(list)
    for row in await _EVENTS_OF_REQUESTS.execute(connection, request_ids):
        found[row.change_request_id].append(ChangeEventRecord(*row))
    return [found.get(request_id, []) for request_id in request_ids]


async def requests_page(
    connection: AsyncConnection,
    *,
    status: RenewalChangeStatus | None,
    request: PageRequest,
    count: bool,
) -> tuple[Page, list[ChangeRequestRecord]]:
    """Change requests across groups, oldest first (the carrier's queue)."""
    statement = _requests().add_columns(*QUEUE_ORDER)
    if status is not None:
        statement = statement.where(RenewalChangeRequest.status == status)
    page = await fetch_page(connection, statement, QUEUE_ORDER, request, count=count)
    width = len(QUEUE_ORDER)
    return page, [ChangeRequestRecord(*row[:-width]) for row in page.rows]


async def lock_renewal(session: AsyncSession, renewal_id: int) -> None:
    """Serialise submissions to one renewal (the one-active-request rule reads, then writes).

    The renewal's row, locked until the transaction ends, as its first statement: a second
    submission waits here and then reads the first one's request. (On SQLite the transaction
    holds the database's write lock from BEGIN: data/database.py.)"""
    await session.execute(select(Renewal.id).where(Renewal.id == renewal_id).with_for_update())


async def active_request(session: AsyncSession, renewal_id: int) -> int | None:
    return await session.scalar(
        select(RenewalChangeRequest.id)
        .where(
            RenewalChangeRequest.renewal_id == renewal_id,
            RenewalChangeRequest.status.in_(ACTIVE),
        )
        .limit(1)
    )


async def add_request(
    session: AsyncSession,
    *,
    renewal_id: int,
    payload: dict[str, Any],
    user_id: int | None,
    now: datetime,
) -> RenewalChangeRequest:
    request = RenewalChangeRequest(
        renewal_id=renewal_id,
        status=RenewalChangeStatus.SUBMITTED,
        payload=payload,
        submitted_by_user_id=user_id,
        created_at=now,
    )
    session.add(request)
    await session.flush()
    return request


def add_event(
    session: AsyncSession,
    request_id: int,
    status: RenewalChangeStatus,
    *,
    reasons: str | None,
    user_id: int | None,
    now: datetime,
) -> None:
    session.add(
        RenewalChangeEvent(
            change_request_id=request_id,
            status=status,
            reasons=reasons,
            actor_user_id=user_id,
            occurred_at=now,
        )
    )


async def request_in_session(session: AsyncSession, request_id: int) -> ChangeRequestRecord | None:
    row = (await session.execute(_requests().where(RenewalChangeRequest.id == request_id))).first()
    return None if row is None else ChangeRequestRecord(*row)


async def move_status(
    session: AsyncSession,
    request_id: int,
    *,
    from_status: RenewalChangeStatus,
    to_status: RenewalChangeStatus,
    payload: dict[str, Any],
) -> bool:
    """Move the request if it is still in `from_status`; False if another reviewer came first.

    The status is the version: every transition changes it. On PostgreSQL the loser's UPDATE
    waits for the winner's row lock and then finds the status moved; on SQLite it waits for
    the write lock, likewise.
    """
    result = await session.execute(
        update(RenewalChangeRequest)
        .where(RenewalChangeRequest.id == request_id, RenewalChangeRequest.status == from_status)
        .values(status=to_status, payload=payload)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def members_for_update(
    session: AsyncSession, group_id: int, member_ids: Sequence[int]
) -> list[Member]:
    """The group's members among `member_ids` (another group's are not even read)."""
    rows = await session.scalars(
        select(Member)
        .where(Member.group_id == group_id, Member.id.in_(member_ids))
        .order_by(Member.id)
        .with_for_update()
    )
    return list(rows)


async def dependents_for_update(
    session: AsyncSession, subscriber_ids: Sequence[int]
) -> dict[int, list[Member]]:
    """The dependents of each subscriber (every subscriber named gets a list), in one statement."""
    found: dict[int, list[Member]] = {subscriber_id: [] for subscriber_id in subscriber_ids}
    if subscriber_ids:
        rows = await session.scalars(
            select(Member)
            .where(Member.subscriber_id.in_(subscriber_ids))
            .order_by(Member.id)
            .with_for_update()
        )
        for row in rows:
            assert row.subscriber_id is not None
            found[row.subscriber_id].append(row)
    return found


async def coverages_on_plans_for_update(
    session: AsyncSession, group_id: int, plan_ids: Sequence[int], day: date
) -> list[Coverage]:
    """The group's coverage spans on these plans in force on `day`."""
    rows = await session.scalars(
        select(Coverage)
        .join(Member, Member.id == Coverage.member_id)
        .where(
            Member.group_id == group_id,
            Coverage.plan_id.in_(plan_ids),
            Coverage.effective_date <= day,
            or_(Coverage.termination_date.is_(None), Coverage.termination_date >= day),
        )
        .order_by(Coverage.id)
        .with_for_update()
    )
    return list(rows)


async def contract_of_year(session: AsyncSession, group_id: int, plan_year: int) -> int | None:
    return await session.scalar(
        select(Contract.id).where(Contract.group_id == group_id, Contract.plan_year == plan_year)
    )


async def latest_contract_number(session: AsyncSession, group_id: int) -> str | None:
    return await session.scalar(
        select(Contract.contract_number)
        .where(Contract.group_id == group_id)
        .order_by(Contract.start_date.desc(), Contract.id.desc())
        .limit(1)
    )


async def contract_plans(session: AsyncSession, contract_id: int) -> set[int]:
    rows = await session.scalars(
        select(ContractPlan.plan_id).where(ContractPlan.contract_id == contract_id)
    )
    return set(rows)


async def add_contract(
    session: AsyncSession,
    *,
    group_id: int,
    contract_number: str,
    plan_year: int,
    start_date: date,
    end_date: date,
    now: datetime,
) -> int:
    contract = Contract(
        group_id=group_id,
        contract_number=contract_number,
        plan_year=plan_year,
        start_date=start_date,
        end_date=end_date,
        created_at=now,
    )
    session.add(contract)
    await session.flush()
    return contract.id


def add_contract_plans(session: AsyncSession, contract_id: int, plan_ids: Sequence[int]) -> None:
    session.add_all(ContractPlan(contract_id=contract_id, plan_id=plan_id) for plan_id in plan_ids)
