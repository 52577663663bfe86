"""Reads and locked lookups of bills, their lines and adjustments, payments, autopay, delivery.

Amounts are integer cents throughout. A bill's paid amount counts settled and pending payments
(failed and reversed ones paid nothing); it is computed in the statement that reads the bill.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from data.keys import Keyed, key_in
from data.models.billing import (
    AutopayMandate,
    AutopayStatus,
    Bill,
    BillAdjustment,
    BillLine,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from data.models.groups import BillingDelivery, Group
from data.models.members import Member
from data.models.plans import CoverageTier
from data.pagination import Page, PageRequest, fetch_page_newest_first

# Payments that reduce what is owed: a pending one is money on its way.
COUNTED_PAYMENTS = (PaymentStatus.SETTLED, PaymentStatus.PENDING)


@dataclass(frozen=True, slots=True)
class BillRecord:
    id: int
    group_id: int
    bill_number: str
    period: date
    issue_date: date
    due_date: date
    amount_cents: int
    paid_cents: int

    @property
    def balance_cents(self) -> int:
        """What is still owed; negative when overpaid (a credit)."""
        return self.amount_cents - self.paid_cents


@dataclass(frozen=True, slots=True)
class BillLineRecord:
    id: int
    bill_id: int
    subscriber_id: int
    plan_id: int
    tier: CoverageTier
    amount_cents: int


@dataclass(frozen=True, slots=True)
class AdjustmentRecord:
    id: int
    bill_id: int
    member_id: int | None
    reason: str
    amount_cents: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    id: int
    group_id: int
    bill_id: int
    amount_cents: int
    method: PaymentMethod
    status: PaymentStatus
    confirmation_number: str
    submitted_at: datetime
    settled_at: datetime | None


@dataclass(frozen=True, slots=True)
class MandateRecord:
    id: int
    group_id: int
    status: AutopayStatus
    account_holder: str
    account_last4: str
    since: datetime
    cancelled_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    group_id: int
    mode: BillingDelivery
    email: str | None


@dataclass(frozen=True, slots=True)
class LinesKey:
    """One bill's page of lines; bills asked for the same page share one statement."""

    bill_id: int
    request: PageRequest
    count: bool


def _paid_on(bill_id: Any) -> Select[Any]:
    """What was paid on a bill (a bill id, or the column of the bill being read)."""
    return select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
        Payment.bill_id == bill_id, Payment.status.in_(COUNTED_PAYMENTS)
    )


_BILL: list[Any] = [getattr(Bill, name) for name in BillRecord.__slots__[:-1]] + [
    _paid_on(Bill.id).scalar_subquery().label("paid_cents")
]
_LINE: list[Any] = [getattr(BillLine, name) for name in BillLineRecord.__slots__]
_ADJUSTMENT: list[Any] = [getattr(BillAdjustment, name) for name in AdjustmentRecord.__slots__]
# Typed as rows of Any, like the columns named after a record's slots elsewhere.
_PAYMENT: list[Any] = [
    Payment.id,
    Payment.group_id,
    Payment.bill_id,
    Payment.amount_cents,
    Payment.method,
    Payment.status,
    Payment.confirmation_number,
    Payment.created_at,
    Payment.settled_at,
]
_MANDATE: list[Any] = [
    AutopayMandate.id,
    AutopayMandate.group_id,
    AutopayMandate.status,
    AutopayMandate.account_holder,
    AutopayMandate.account_last4,
    AutopayMandate.created_at,
    AutopayMandate.cancelled_at,
]
BILL_ORDER = (Bill.period, Bill.id)
PAYMENT_ORDER = (Payment.created_at, Payment.id)
# Lines by subscriber name, as a printed bill lists them.
LINE_ORDER = (Member.last_name_key, Member.first_name_key, BillLine.id)


def account_hash(account_number: str, key: bytes) -> str:
    """Keyed hash of a bank account number: equal numbers match, the number is not kept."""
    if not key:
        raise ValueError("a keyed hash needs a key")
    return hmac.new(key, account_number.encode(), hashlib.sha256).hexdigest()


async def bills_page(
    connection: AsyncConnection,
    *,
    group_id: int,
    periods_from: date | None,
    periods_to: date | None,
    request: PageRequest,
    count: bool,
) -> tuple[Page, list[BillRecord]]:
    """A page of a group's bills, newest period first, optionally within a span of periods."""
    statement = select(*_BILL, *BILL_ORDER).where(Bill.group_id == group_id)
    if periods_from is not None:
        statement = statement.where(Bill.period >= periods_from)
    if periods_to is not None:
        statement = statement.where(Bill.period <= periods_to)
    page = await fetch_page_newest_first(connection, statement, BILL_ORDER, request, count=count)
    width = len(BILL_ORDER)
    return page, [BillRecord(*row[:-width]) for row in page.rows]


_BILLS_BY_ID = Keyed(lambda keys: select(*_BILL).where(keys(Bill.id)))


async def bills_by_id(connection: AsyncConnection, ids: Sequence[int]) -> list[BillRecord | None]:
    rows = await _BILLS_BY_ID.execute(connection, ids)
    found = {row.id: BillRecord(*row) for row in rows}
    return [found.get(bill_id) for bill_id in ids]


_LINES_BY_ID = Keyed(lambda keys: select(*_LINE).where(keys(BillLine.id)))


async def lines_by_id(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[BillLineRecord | None]:
    rows = await _LINES_BY_ID.execute(connection, ids)
    found = {row.id: BillLineRecord(*row) for row in rows}
    return [found.get(line_id) for line_id in ids]


async def bills_of_periods(
    connection: AsyncConnection, keys: Sequence[tuple[int, date]]
) -> list[BillRecord | None]:
    """Each (group, first day of a month)'s bill for that month."""
    rows = await connection.execute(
        select(*_BILL).where(tuple_(Bill.group_id, Bill.period).in_(keys))
    )
    found = {(row.group_id, row.period): BillRecord(*row) for row in rows}
    return [found.get(key) for key in keys]


async def balances_of_groups(connection: AsyncConnection, group_ids: Sequence[int]) -> list[int]:
    """Each group's balance due: everything billed minus everything paid or on its way."""
    billed = (
        select(func.coalesce(func.sum(Bill.amount_cents), 0))
        .where(Bill.group_id == Group.id)
        .scalar_subquery()
    )
    paid = (
        select(func.coalesce(func.sum(Payment.amount_cents), 0))
        .where(Payment.group_id == Group.id, Payment.status.in_(COUNTED_PAYMENTS))
        .scalar_subquery()
    )
    rows = await connection.execute(
        select(Group.id, billed - paid).where(key_in(connection, Group.id, group_ids))
    )
    found = {group_id: int(balance) for group_id, balance in rows}
    return [found.get(group_id, 0) for group_id in group_ids]


async def line_pages(
    connection: AsyncConnection, keys: Sequence[LinesKey]
) -> list[tuple[Page, list[BillLineRecord]]]:
    """Each key's page of its bill's lines: one statement (and a count) per distinct request."""
    bills_by_request: dict[tuple[PageRequest, bool], list[int]] = defaultdict(list)
    for key in keys:
        bills_by_request[(key.request, key.count)].append(key.bill_id)
    found: dict[LinesKey, tuple[Page, list[BillLineRecord]]] = {}
    for (request, count), bill_ids in bills_by_request.items():
        pages = await _line_pages(connection, bill_ids, request, count=count)
        for bill_id, page in zip(bill_ids, pages, strict=True):
            found[LinesKey(bill_id, request, count)] = page
    return [found[key] for key in keys]


async def _line_pages(
    connection: AsyncConnection, bill_ids: list[int], request: PageRequest, *, count: bool
) -> list[tuple[Page, list[BillLineRecord]]]:
    """Keyset pages of many bills at once: rows are numbered per bill, and each bill keeps
    its first `size + 1` beyond the cursor (the extra one tells that there is more)."""
    forward = request.last is None
    size = request.first if forward else request.last
    assert size is not None
    statement = (
        select(
            *_LINE,
            Member.last_name_key.label("sort_last"),
            Member.first_name_key.label("sort_first"),
            func.row_number()
            .over(
                partition_by=BillLine.bill_id,
                order_by=[c if forward else c.desc() for c in LINE_ORDER],
            )
            .label("rank"),
        )
        .join(Member, Member.id == BillLine.subscriber_id)
        .where(key_in(connection, BillLine.bill_id, bill_ids))
    )
    if request.after is not None:
        statement = statement.where(tuple_(*LINE_ORDER) > tuple_(*request.after))
    if request.before is not None:
        statement = statement.where(tuple_(*LINE_ORDER) < tuple_(*request.before))
    ranked = statement.subquery()
    rows = await connection.execute(
        select(ranked).where(ranked.c.rank <= size + 1).order_by(ranked.c.bill_id, ranked.c.rank)
    )
    by_bill: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_bill[row.bill_id].append(row)
    totals = await _line_counts(connection, bill_ids) if count else {}
    width = len(_LINE)
    pages = []
    for bill_id in bill_ids:
        found = by_bill.get(bill_id, [])
        more = len(found) > size
        found = found[:size] if forward else found[:size][::-1]
        pages.append(
            (
                Page(
                    rows=found,
                    positions=[(row.sort_last, row.sort_first, row.id) for row in found],
                    has_next_page=more if forward else request.before is not None,
                    has_previous_page=request.after is not None if forward else more,
                    total_count=totals.get(bill_id, 0) if count else None,
                ),
                [BillLineRecord(*row[:width]) for row in found],
            )
        )
    return pages


_LINE_COUNTS = Keyed(
    lambda keys: (
        select(BillLine.bill_id, func.count())
        .where(keys(BillLine.bill_id))
        .group_by(BillLine.bill_id)
    )
)


async def _line_counts(connection: AsyncConnection, bill_ids: list[int]) -> dict[int, int]:
    rows = await _LINE_COUNTS.execute(connection, bill_ids)
    return {bill_id: int(total) for bill_id, total in rows}


_ADJUSTMENTS_OF_BILLS = Keyed(
    lambda keys: (
        select(*_ADJUSTMENT)
        .where(keys(BillAdjustment.bill_id))
        .order_by(BillAdjustment.created_at, BillAdjustment.id)
    )
)


async def adjustments_of_bills(
    connection: AsyncConnection, bill_ids: Sequence[int]
) -> list[list[AdjustmentRecord]]:
    rows = await _ADJUSTMENTS_OF_BILLS.execute(connection, bill_ids)
    found: dict[int, list[AdjustmentRecord]] = defaultdict(list)
    for row in rows:
        found[row.bill_id].append(AdjustmentRecord(*row))
    return [found.get(bill_id, []) for bill_id in bill_ids]


async def payments_page(
    connection: AsyncConnection, *, group_id: int, request: PageRequest, count: bool
) -> tuple[Page, list[PaymentRecord]]:
    """A page of a group's payment history, newest first."""
    statement = select(*_PAYMENT, *PAYMENT_ORDER).where(Payment.group_id == group_id)
    page = await fetch_page_newest_first(connection, statement, PAYMENT_ORDER, request, count=count)
    width = len(PAYMENT_ORDER)
    return page, [PaymentRecord(*row[:-width]) for row in page.rows]


_PAYMENTS_BY_ID = Keyed(lambda keys: select(*_PAYMENT).where(keys(Payment.id)))


async def payments_by_id(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[PaymentRecord | None]:
    rows = await _PAYMENTS_BY_ID.execute(connection, ids)
    found = {row.id: PaymentRecord(*row) for row in rows}
    return [found.get(payment_id) for payment_id in ids]


async def active_mandates(
    connection: AsyncConnection, group_ids: Sequence[int]
) -> list[MandateRecord | None]:
    rows = await connection.execute(
        select(*_MANDATE).where(
            key_in(connection, AutopayMandate.group_id, group_ids),
            AutopayMandate.status == AutopayStatus.ACTIVE,
        )
    )
    found = {row.group_id: MandateRecord(*row) for row in rows}
    return [found.get(group_id) for group_id in group_ids]


async def deliveries_of_groups(
    connection: AsyncConnection, group_ids: Sequence[int]
) -> list[DeliveryRecord | None]:
    rows = await connection.execute(
        select(Group.id, Group.billing_delivery, Group.billing_email).where(
            key_in(connection, Group.id, group_ids)
        )
    )
    found = {row.id: DeliveryRecord(*row) for row in rows}
    return [found.get(group_id) for group_id in group_ids]


# Writes: lookups inside the writer's transaction, locking what the change depends on.


async def lock_bill(session: AsyncSession, bill_id: int) -> Bill | None:
    """The bill, locked until the transaction ends: payments of one bill go one at a time."""
    found: Bill | None = await session.scalar(
        select(Bill).where(Bill.id == bill_id).with_for_update()
    )
    return found


async def paid_on_bill(session: AsyncSession, bill_id: int) -> int:
    return int(await session.scalar(_paid_on(bill_id)) or 0)


async def payment_by_key(
    executor: AsyncConnection | AsyncSession, group_id: int, idempotency_key: str
) -> PaymentRecord | None:
    row = (
        await executor.execute(
            select(*_PAYMENT).where(
                Payment.group_id == group_id, Payment.idempotency_key == idempotency_key
            )
        )
    ).first()
    return PaymentRecord(*row) if row else None


async def active_mandate(session: AsyncSession, group_id: int) -> AutopayMandate | None:
    found: AutopayMandate | None = await session.scalar(
        select(AutopayMandate)
        .where(AutopayMandate.group_id == group_id, AutopayMandate.status == AutopayStatus.ACTIVE)
        .with_for_update()
    )
    return found


async def lock_group(session: AsyncSession, group_id: int) -> Group | None:
    found: Group | None = await session.scalar(
        select(Group).where(Group.id == group_id).with_for_update()
    )
    return found


def payment_record(payment: Payment) -> PaymentRecord:
    return PaymentRecord(
        id=payment.id,
        group_id=payment.group_id,
        bill_id=payment.bill_id,
        amount_cents=payment.amount_cents,
        method=payment.method,
        status=payment.status,
        confirmation_number=payment.confirmation_number,
        submitted_at=payment.created_at,
        settled_at=payment.settled_at,
    )


def mandate_record(mandate: AutopayMandate) -> MandateRecord:
    return MandateRecord(
        id=mandate.id,
        group_id=mandate.group_id,
        status=mandate.status,
        account_holder=mandate.account_holder,
        account_last4=mandate.account_last4,
        since=mandate.created_at,
        cancelled_at=mandate.cancelled_at,
    )
