"""Reads and writes of commission schedules and statements (ADR 0012).

A statement's lines come from three reads, whatever the number of groups: the payments that earn
commission in a month, the agency's schedules, and commission to take back for payments reversed
after an earlier statement credited them. Core rows into slotted dataclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from data.models.billing import Bill, BillLine, Payment, PaymentStatus
from data.models.commissions import (
    CommissionBasis,
    CommissionLineKind,
    CommissionSchedule,
    CommissionStatement,
    CommissionStatementLine,
)
from data.models.contracts import Contract
from data.models.groups import Group
from data.models.users import BrokerOfRecord


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    agency_id: int
    plan_year: int
    basis: CommissionBasis
    rate_basis_points: int | None
    amount_cents: int | None


@dataclass(frozen=True, slots=True)
class EarningPayment:
    """A settled payment of a bill whose coverage month the agency served as broker of record."""

    payment_id: int
    group_id: int
    group_number: str
    group_name: str
    confirmation_number: str
    settled_at: datetime | None
    amount_cents: int
    bill_number: str
    bill_period: date
    bill_amount_cents: int
    subscriber_count: int
    # The plan year of the group's contract covering the bill's month (None: no contract).
    contract_plan_year: int | None


@dataclass(frozen=True, slots=True)
class LineRecord:
    kind: CommissionLineKind
    group_id: int
    group_number: str
    group_name: str
    payment_id: int
    confirmation_number: str
    settled_at: datetime | None
    payment_amount_cents: int
    bill_number: str
    bill_period: date
    premium_paid_cents: int
    subscriber_count: int
    plan_year: int
    commission_cents: int


@dataclass(frozen=True, slots=True)
class StatementRecord:
    id: int
    agency_id: int
    period: date
    total_cents: int
    closed_at: datetime


_SCHEDULE: list[Any] = [getattr(CommissionSchedule, name) for name in ScheduleRecord.__slots__]
_STATEMENT: list[Any] = [
    CommissionStatement.id,
    CommissionStatement.agency_id,
    CommissionStatement.period,
    CommissionStatement.total_cents,
    CommissionStatement.created_at,
]
_LINE: list[Any] = [
    CommissionStatementLine.kind,
    CommissionStatementLine.group_id,
    Group.group_number,
    Group.legal_name,
    CommissionStatementLine.payment_id,
    Payment.confirmation_number,
    Payment.settled_at,
    Payment.amount_cents,
    Bill.bill_number,
    Bill.period,
    CommissionStatementLine.premium_paid_cents,
    CommissionStatementLine.subscriber_count,
    CommissionStatementLine.plan_year,
    CommissionStatementLine.commission_cents,
]
LINE_ORDER = (Group.group_number, CommissionStatementLine.kind, Payment.settled_at, Payment.id)


def _serves(appointment: Any, group_id: Any, day: Any) -> ColumnElement[bool]:
    return and_(
        appointment.group_id == group_id,
        appointment.start_date <= day,
        or_(appointment.end_date.is_(None), appointment.end_date >= day),
    )


def _broker_of_record_on_period(agency_id: int) -> ColumnElement[bool]:
    """The agency is the bill's broker of record on its coverage month's first day.

    Appointments of one group do not overlap (an appointment ends the day before the next one
    starts); should they, the one that started last counts, so a payment earns one agency."""
    later = aliased(BrokerOfRecord)
    return and_(
        BrokerOfRecord.agency_id == agency_id,
        ~exists().where(
            _serves(later, Bill.group_id, Bill.period),
            or_(
                later.start_date > BrokerOfRecord.start_date,
                and_(later.start_date == BrokerOfRecord.start_date, later.id > BrokerOfRecord.id),
            ),
        ),
    )


_SUBSCRIBERS = (
    select(func.count(func.distinct(BillLine.subscriber_id)))
    .where(BillLine.bill_id == Bill.id)
    .scalar_subquery()
)
_CONTRACT_PLAN_YEAR = (
    select(Contract.plan_year)
    .where(
        Contract.group_id == Bill.group_id,
        Contract.start_date <= Bill.period,
        Contract.end_date >= Bill.period,
    )
    .order_by(Contract.start_date.desc())
    .limit(1)
    .scalar_subquery()
)

_EARNING: list[Any] = [
    Payment.id,
    Bill.group_id,
    Group.group_number,
    Group.legal_name,
    Payment.confirmation_number,
    Payment.settled_at,
    Payment.amount_cents,
    Bill.bill_number,
    Bill.period,
    Bill.amount_cents,
    _SUBSCRIBERS,
    _CONTRACT_PLAN_YEAR,
]


async def schedules_of_agency(connection: AsyncConnection, agency_id: int) -> list[ScheduleRecord]:
    rows = await connection.execute(
        select(*_SCHEDULE)
        .where(CommissionSchedule.agency_id == agency_id)
        .order_by(CommissionSchedule.plan_year)
    )
    return [ScheduleRecord(*row) for row in rows]


async def earning_payments(
    connection: AsyncConnection, agency_id: int, settled_from: datetime, settled_before: datetime
) -> list[EarningPayment]:
    """Payments SETTLED now, settled in [from, before), of bills the agency was broker of."""
    rows = await connection.execute(
        select(*_EARNING)
        .join(Bill, Bill.id == Payment.bill_id)
        .join(Group, Group.id == Bill.group_id)
        .join(BrokerOfRecord, _serves(BrokerOfRecord, Bill.group_id, Bill.period))
        .where(
            _broker_of_record_on_period(agency_id),
            Payment.status == PaymentStatus.SETTLED,
            Payment.settled_at >= settled_from,
            Payment.settled_at < settled_before,
        )
        .order_by(Group.group_number, Payment.settled_at, Payment.id)
    )
    return [EarningPayment(*row) for row in rows]


def _lines() -> Any:
    return (
        select(*_LINE)
        .join(Payment, Payment.id == CommissionStatementLine.payment_id)
        .join(Bill, Bill.id == Payment.bill_id)
        .join(Group, Group.id == CommissionStatementLine.group_id)
    )


async def reversed_after_crediting(
    connection: AsyncConnection, agency_id: int, before_period: date
) -> list[LineRecord]:
    """Lines of the agency's closed statements of earlier months whose payment is REVERSED now
    and whose commission has not been taken back yet: what the next statement takes back."""
    taken_back = aliased(CommissionStatementLine)
    rows = await connection.execute(
        _lines()
        .join(CommissionStatement, CommissionStatement.id == CommissionStatementLine.statement_id)
        .where(
            CommissionStatement.agency_id == agency_id,
            CommissionStatement.period < before_period,
            CommissionStatementLine.kind == CommissionLineKind.PAYMENT,
            Payment.status == PaymentStatus.REVERSED,
            ~exists().where(
                taken_back.payment_id == CommissionStatementLine.payment_id,
                taken_back.kind == CommissionLineKind.REVERSAL,
            ),
        )
        .order_by(*LINE_ORDER)
    )
    return [LineRecord(*row) for row in rows]


async def stored_statement(
    connection: AsyncConnection, agency_id: int, period: date
) -> tuple[StatementRecord, list[LineRecord]] | None:
    row = (
        await connection.execute(
            select(*_STATEMENT).where(
                CommissionStatement.agency_id == agency_id, CommissionStatement.period == period
            )
        )
    ).first()
    if row is None:
        return None
    statement = StatementRecord(*row)
    rows = await connection.execute(
        _lines().where(CommissionStatementLine.statement_id == statement.id).order_by(*LINE_ORDER)
    )
    return statement, [LineRecord(*line) for line in rows]


async def store_statement(
    session: AsyncSession,
    *,
    agency_id: int,
    period: date,
    lines: Sequence[LineRecord],
    now: datetime,
) -> StatementRecord:
    """Insert a closed statement with its lines; the unique (agency, period) constraint makes
    a second, concurrent closing of the same month fail, and its caller read the first one."""
    total = sum(line.commission_cents for line in lines)
    statement = CommissionStatement(
        agency_id=agency_id, period=period, total_cents=total, created_at=now
    )
    session.add(statement)
    await session.flush()
    if lines:
        await session.execute(
            insert(CommissionStatementLine),
            [
                {
                    "statement_id": statement.id,
                    "group_id": line.group_id,
                    "payment_id": line.payment_id,
                    "kind": line.kind,
                    "premium_paid_cents": line.premium_paid_cents,
                    "subscriber_count": line.subscriber_count,
                    "plan_year": line.plan_year,
                    "commission_cents": line.commission_cents,
                }
                for line in lines
            ],
        )
    return StatementRecord(statement.id, agency_id, period, total, now)
