"""Broker commissions: an agency's schedules and its monthly statements (ADR 0012).

A statement for an agency and a month pays commission on every payment SETTLED in that month
(by `settled_at`, UTC) of a bill whose coverage month the agency served as broker of record
(on the month's first day). The schedule is the agency's for the plan year of the group's
contract covering that month. Amounts are exact: each line's commission is rounded half to
even to the cent, and the statement's total is the sum of its lines.

- PERCENT_OF_PREMIUM: payment * basis points / 10,000.
- PER_SUBSCRIBER_PER_MONTH: the bill's subscribers (distinct subscribers on its lines) * the
  amount, times the share of the bill this payment paid (payment / bill amount, at most 1).

A month that has ended is computed once and stored; the current month is provisional. A payment
reversed before its month closes earns nothing; one reversed after is taken back, as a negative
line, by the agency's next statement to close.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy.exc import IntegrityError

from authz.privileges import Privilege
from data import audit, brokers, commissions
from data.audit import Actor
from data.brokers import AgencyRecord
from data.commissions import EarningPayment, LineRecord, ScheduleRecord, StatementRecord
from data.database import Database
from data.models.commissions import CommissionBasis, CommissionLineKind
from resolvers.context import Context
from resolvers.errors import NotAllowed, Refused

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CENT = Decimal(1)


@dataclass(frozen=True, slots=True)
class GroupSubtotal:
    group_id: int
    group_number: str
    group_name: str
    line_count: int
    premium_paid_cents: int
    commission_cents: int


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What the lines come from: payments credited, minus payments taken back, and the result."""

    payment_count: int
    payments_total_cents: int
    reversal_count: int
    reversals_total_cents: int
    premium_counted_cents: int
    commission_total_cents: int


@dataclass(frozen=True, slots=True)
class StatementView:
    agency_id: int
    period: date
    provisional: bool
    closed_at: datetime | None
    lines: list[LineRecord]

    @property
    def month(self) -> str:
        return self.period.strftime("%Y-%m")

    @property
    def total_cents(self) -> int:
        return sum(line.commission_cents for line in self.lines)

    @property
    def groups(self) -> list[GroupSubtotal]:
        """One subtotal per group, in the lines' order (by group number)."""
        by_group: dict[int, list[LineRecord]] = {}
        for line in self.lines:
            by_group.setdefault(line.group_id, []).append(line)
        return [
            GroupSubtotal(
                group_id=group_id,
                group_number=lines[0].group_number,
                group_name=lines[0].group_name,
                line_count=len(lines),
                premium_paid_cents=sum(line.premium_paid_cents for line in lines),
                commission_cents=sum(line.commission_cents for line in lines),
            )
            for group_id, lines in by_group.items()
        ]

    @property
    def reconciliation(self) -> Reconciliation:
        paid = [line for line in self.lines if line.kind is CommissionLineKind.PAYMENT]
        taken_back = [line for line in self.lines if line.kind is CommissionLineKind.REVERSAL]
        return Reconciliation(
            payment_count=len(paid),
            payments_total_cents=sum(line.payment_amount_cents for line in paid),
            reversal_count=len(taken_back),
            reversals_total_cents=sum(line.payment_amount_cents for line in taken_back),
            premium_counted_cents=sum(line.premium_paid_cents for line in self.lines),
            commission_total_cents=self.total_cents,
        )


def _own_agency(context: Context) -> int:
    """The caller's agency, if the caller holds COMMISSIONS_READ over it; else FORBIDDEN."""
    user = context.signed_in()
    agency_id = user.agency_id
    if agency_id is None or not _reads_commissions(context, agency_id):
        raise NotAllowed(Privilege.COMMISSIONS_READ.value)
    return agency_id


def _reads_commissions(context: Context, agency_id: int) -> bool:
    return Privilege.COMMISSIONS_READ in context.access.privileges(agency_id=agency_id)


async def schedules(context: Context) -> list[ScheduleRecord]:
    agency_id = _own_agency(context)
    async with context.database.reader.connect() as connection:
        return await commissions.schedules_of_agency(connection, agency_id)


def parse_period(value: str, today: date) -> date:
    """The first day of the month `value` names ("YYYY-MM", or any day "YYYY-MM-DD" of it)."""
    text = value.strip()
    match = _MONTH.fullmatch(text)
    try:
        if match is not None:
            period = date(int(match[1]), int(match[2]), 1)
        elif _DAY.fullmatch(text):
            period = date.fromisoformat(text).replace(day=1)
        else:
            raise ValueError(text)
    except ValueError:
        raise Refused.on("period", 'give a month as "YYYY-MM" or a day as "YYYY-MM-DD"') from None
    if period > today.replace(day=1):
        raise Refused.on("period", "this month has not begun yet")
    return period


def _next_month(period: date) -> date:
    return date(period.year + period.month // 12, period.month % 12 + 1, 1)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


async def statement(context: Context, period_text: str) -> StatementView:
    """The agency's statement of a month: stored once the month has ended, else provisional."""
    agency_id = _own_agency(context)
    period = parse_period(period_text, context.today)
    if period == context.today.replace(day=1):
        lines = await _compute(context.database, agency_id, period)
        return StatementView(agency_id, period, provisional=True, closed_at=None, lines=lines)
    return await closed_statement(context.database, context.actor, context.now, agency_id, period)


async def close_month(
    database: Database, actor: Actor, now: datetime, period_text: str | None
) -> list[tuple[AgencyRecord, StatementView]]:
    """Every agency's statement of an ended month (default: the last one), closing those not
    closed yet: for a job on the 1st, so that reversals land in the month they happen."""
    this_month = now.date().replace(day=1)
    if period_text is None:
        period = (this_month - timedelta(days=1)).replace(day=1)
    else:
        period = parse_period(period_text, now.date())
        if period == this_month:
            raise Refused.on("period", "this month has not ended yet")
    async with database.reader.connect() as connection:
        agencies = await brokers.all_agencies(connection)
    # One agency after another: a job's pace, and each closing is its own transaction.
    return [
        (agency, await closed_statement(database, actor, now, agency.id, period))
        for agency in agencies
    ]


async def closed_statement(
    database: Database, actor: Actor, now: datetime, agency_id: int, period: date
) -> StatementView:
    """An ended month's statement: read back if stored, else computed and stored now."""
    # Two tries: a concurrent closing of another month may take back the same reversal first.
    for _ in range(2):
        stored = await _stored(database, agency_id, period)
        if stored is not None:
            return stored
        lines = await _compute(database, agency_id, period)
        try:
            record = await _close(database, actor, now, agency_id, period, lines)
        except IntegrityError:
            continue  # another request closed this month (or took back a line) first
        return _view(record, lines)
    stored = await _stored(database, agency_id, period)
    if stored is None:
        raise RuntimeError(f"statement of agency {agency_id} for {period} neither stored nor read")
    return stored


def _view(record: StatementRecord, lines: list[LineRecord]) -> StatementView:
    return StatementView(
        record.agency_id, record.period, provisional=False, closed_at=record.closed_at, lines=lines
    )


async def _stored(database: Database, agency_id: int, period: date) -> StatementView | None:
    async with database.reader.connect() as connection:
        found = await commissions.stored_statement(connection, agency_id, period)
    return None if found is None else _view(*found)


async def _compute(database: Database, agency_id: int, period: date) -> list[LineRecord]:
    async with database.reader.connect() as connection:
        payments = await commissions.earning_payments(
            connection, agency_id, _midnight(period), _midnight(_next_month(period))
        )
        found = await commissions.schedules_of_agency(connection, agency_id)
        reversed_lines = await commissions.reversed_after_crediting(connection, agency_id, period)
    by_year = {schedule.plan_year: schedule for schedule in found}
    lines = [_earned(payment, by_year) for payment in payments]
    lines += [_taken_back(line) for line in reversed_lines]
    lines.sort(key=lambda line: (line.group_number, line.kind, line.settled_at, line.payment_id))
    return lines


def _earned(payment: EarningPayment, by_year: dict[int, ScheduleRecord]) -> LineRecord:
    plan_year = payment.contract_plan_year or payment.bill_period.year
    return LineRecord(
        kind=CommissionLineKind.PAYMENT,
        group_id=payment.group_id,
        group_number=payment.group_number,
        group_name=payment.group_name,
        payment_id=payment.payment_id,
        confirmation_number=payment.confirmation_number,
        settled_at=payment.settled_at,
        payment_amount_cents=payment.amount_cents,
        bill_number=payment.bill_number,
        bill_period=payment.bill_period,
        premium_paid_cents=payment.amount_cents,
        subscriber_count=payment.subscriber_count,
        plan_year=plan_year,
        commission_cents=commission_cents(payment, by_year.get(plan_year)),
    )


def commission_cents(payment: EarningPayment, schedule: ScheduleRecord | None) -> int:
    """One payment's commission, rounded half to even to the cent; 0 without a schedule."""
    if schedule is None:
        return 0
    if schedule.basis is CommissionBasis.PERCENT_OF_PREMIUM:
        assert schedule.rate_basis_points is not None  # the table's check constraint
        exact = Decimal(payment.amount_cents) * schedule.rate_basis_points / 10_000
    else:
        assert schedule.amount_cents is not None
        full = payment.subscriber_count * schedule.amount_cents
        bill = payment.bill_amount_cents
        # One division of exact integers: a true half cent stays exactly half (a share computed
        # first would be rounded to 28 digits, and a tie could round the wrong way).
        exact = (
            Decimal(full)
            if bill <= payment.amount_cents
            else Decimal(full * payment.amount_cents) / bill
        )
    return int(exact.quantize(_CENT, rounding=ROUND_HALF_EVEN))


def _taken_back(line: LineRecord) -> LineRecord:
    """The credited line, negated: exactly the commission it paid is taken back."""
    return LineRecord(
        kind=CommissionLineKind.REVERSAL,
        group_id=line.group_id,
        group_number=line.group_number,
        group_name=line.group_name,
        payment_id=line.payment_id,
        confirmation_number=line.confirmation_number,
        settled_at=line.settled_at,
        payment_amount_cents=line.payment_amount_cents,
        bill_number=line.bill_number,
        bill_period=line.bill_period,
        premium_paid_cents=-line.premium_paid_cents,
        subscriber_count=line.subscriber_count,
        plan_year=line.plan_year,
        commission_cents=-line.commission_cents,
    )


async def _close(
    database: Database,
    actor: Actor,
    now: datetime,
    agency_id: int,
    period: date,
    lines: list[LineRecord],
) -> StatementRecord:
    async with database.sessions() as session, session.begin():
        record = await commissions.store_statement(
            session, agency_id=agency_id, period=period, lines=lines, now=now
        )
        audit.record(
            session,
            actor,
            action="commission_statement.closed",
            target_type="commission_statement",
            target_id=record.id,
            group_id=None,
            now=now,
            after={
                "agencyId": agency_id,
                "period": period.isoformat(),
                "lines": len(lines),
                "totalCents": record.total_cents,
            },
        )
        return record
