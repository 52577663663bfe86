"""Billing: balance due, bills with their lines and adjustments, payments, autopay, delivery.

Reading needs BILLING_READ over the group; paying, autopay and the choice of paper or paperless
bills need BILLING_PAY. A bill of a group the caller cannot see answers like one that does not
exist. Money is integer cents in US dollars.
"""

from __future__ import annotations

import enum
import re
import secrets
from datetime import date, datetime
from functools import cached_property

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from authz.privileges import Privilege
from data import audit, billing
from data.billing import (
    AdjustmentRecord,
    BillLineRecord,
    BillRecord,
    DeliveryRecord,
    LinesKey,
    MandateRecord,
    PaymentRecord,
)
from data.groups import GroupRecord
from data.models.billing import AutopayMandate, AutopayStatus, Payment, PaymentMethod, PaymentStatus
from data.models.groups import BillingDelivery
from data.pagination import Page
from resolvers import groups
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError, Refused
from resolvers.loaders import BatchLoader, DomainLoaders
from resolvers.pagination import page_request
from resolvers.users import valid_email

CURRENCY = "USD"
_ROUTING_NUMBER = re.compile(r"^\d{9}$")
_ACCOUNT_NUMBER = re.compile(r"^\d{4,17}$")
# ABA routing numbers: 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) is a multiple of 10.
_ABA_WEIGHTS = (3, 7, 1) * 3


class BillStatus(enum.StrEnum):
    PAID = "PAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    UNPAID = "UNPAID"
    OVERDUE = "OVERDUE"  # a balance left after the due date


class BillingLoaders(DomainLoaders):
    @cached_property
    def bill_by_id(self) -> BatchLoader[int, BillRecord | None]:
        return BatchLoader(self.reader, billing.bills_by_id)

    @cached_property
    def line_by_id(self) -> BatchLoader[int, BillLineRecord | None]:
        return BatchLoader(self.reader, billing.lines_by_id)

    @cached_property
    def payment_by_id(self) -> BatchLoader[int, PaymentRecord | None]:
        return BatchLoader(self.reader, billing.payments_by_id)

    @cached_property
    def bill_by_period(self) -> BatchLoader[tuple[int, date], BillRecord | None]:
        return BatchLoader(self.reader, billing.bills_of_periods)

    @cached_property
    def balance_by_group(self) -> BatchLoader[int, int]:
        return BatchLoader(self.reader, billing.balances_of_groups)

    @cached_property
    def lines_by_bill(self) -> BatchLoader[LinesKey, tuple[Page, list[BillLineRecord]]]:
        return BatchLoader(self.reader, billing.line_pages)

    @cached_property
    def adjustments_by_bill(self) -> BatchLoader[int, list[AdjustmentRecord]]:
        return BatchLoader(self.reader, billing.adjustments_of_bills)

    @cached_property
    def autopay_by_group(self) -> BatchLoader[int, MandateRecord | None]:
        return BatchLoader(self.reader, billing.active_mandates)

    @cached_property
    def delivery_by_group(self) -> BatchLoader[int, DeliveryRecord | None]:
        return BatchLoader(self.reader, billing.deliveries_of_groups)


def _loaders(context: Context) -> BillingLoaders:
    return context.loaders.domain(BillingLoaders)


def bill_status(bill: BillRecord, today: date) -> BillStatus:
    if bill.balance_cents <= 0:
        return BillStatus.PAID
    if bill.due_date < today:
        return BillStatus.OVERDUE
    return BillStatus.PARTIALLY_PAID if bill.paid_cents > 0 else BillStatus.UNPAID


# Reads. The group-level ones check BILLING_READ; what hangs off a bill was reached through them.


async def balance_due(context: Context, group_id: int) -> int:
    groups.require(context, Privilege.BILLING_READ, group_id)
    return await _loaders(context).balance_by_group.load(group_id)


async def current_bill(context: Context, group_id: int) -> BillRecord | None:
    """The bill of the month the caller's today falls in."""
    groups.require(context, Privilege.BILLING_READ, group_id)
    return await _loaders(context).bill_by_period.load((group_id, context.today.replace(day=1)))


async def bill(context: Context, bill_id: int) -> BillRecord | None:
    """A bill the caller may read; any other answers like one that does not exist."""
    found = await _loaders(context).bill_by_id.load(bill_id)
    if found is None or not context.access.allows(Privilege.BILLING_READ, found.group_id):
        return None
    return found


async def bill_line(context: Context, line_id: int) -> BillLineRecord | None:
    found = await _loaders(context).line_by_id.load(line_id)
    return found if found is not None and await bill(context, found.bill_id) else None


async def payment(context: Context, payment_id: int) -> PaymentRecord | None:
    found = await _loaders(context).payment_by_id.load(payment_id)
    if found is None or not context.access.allows(Privilege.BILLING_READ, found.group_id):
        return None
    return found


async def bills_page(
    context: Context,
    group_id: int,
    *,
    periods_from: date | None,
    periods_to: date | None,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    count: bool,
) -> tuple[Page, list[BillRecord]]:
    groups.require(context, Privilege.BILLING_READ, group_id)
    if periods_from is not None and periods_to is not None and periods_from > periods_to:
        raise Refused.on("to", "must not lie before `from`")
    request = page_request(first=first, after=after, last=last, before=before, kinds=(date, int))
    async with context.database.reader.connect() as connection:
        return await billing.bills_page(
            connection,
            group_id=group_id,
            periods_from=periods_from,
            periods_to=periods_to,
            request=request,
            count=count,
        )


async def bill_lines(
    context: Context,
    bill: BillRecord,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    count: bool,
) -> tuple[Page, list[BillLineRecord]]:
    request = page_request(
        first=first, after=after, last=last, before=before, kinds=(str, str, int)
    )
    return await _loaders(context).lines_by_bill.load(LinesKey(bill.id, request, count))


async def adjustments(context: Context, bill: BillRecord) -> list[AdjustmentRecord]:
    return await _loaders(context).adjustments_by_bill.load(bill.id)


async def payments_page(
    context: Context,
    group_id: int,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    count: bool,
) -> tuple[Page, list[PaymentRecord]]:
    groups.require(context, Privilege.BILLING_READ, group_id)
    request = page_request(
        first=first, after=after, last=last, before=before, kinds=(datetime, int)
    )
    async with context.database.reader.connect() as connection:
        return await billing.payments_page(
            connection, group_id=group_id, request=request, count=count
        )


async def autopay(context: Context, group_id: int) -> MandateRecord | None:
    groups.require(context, Privilege.BILLING_READ, group_id)
    return await _loaders(context).autopay_by_group.load(group_id)


async def delivery(context: Context, group_id: int) -> DeliveryRecord | None:
    groups.require(context, Privilege.BILLING_READ, group_id)
    return await _loaders(context).delivery_by_group.load(group_id)


# Paying a bill.


def _payment_errors(amount_cents: int, currency: str, idempotency_key: str) -> list[FieldError]:
    errors = []
    if amount_cents <= 0:
        errors.append(FieldError("amount.amount", "must be more than zero", ErrorCode.INVALID))
    if currency != CURRENCY:
        errors.append(
            FieldError("amount.currency", f"bills are paid in {CURRENCY}", ErrorCode.INVALID)
        )
    if not 1 <= len(idempotency_key) <= 100 or not idempotency_key.isprintable():
        errors.append(
            FieldError("idempotencyKey", "give 1 to 100 printable characters", ErrorCode.INVALID)
        )
    return errors


async def pay_bill(
    context: Context,
    *,
    bill_id: int | None,
    amount_cents: int,
    currency: str,
    idempotency_key: str,
) -> PaymentRecord:
    """Pay a bill in part or in full; the same idempotency key again answers the same payment.

    Two requests with one key may race: the unique (group, key) constraint lets one of them
    insert, and the other then answers with the payment the first one made.
    """
    context.signed_in()
    found = None if bill_id is None else await _loaders(context).bill_by_id.load(bill_id)
    if found is None or not groups.can_see(context, found.group_id):
        raise Refused.on("billId", "no such bill", ErrorCode.NOT_FOUND)
    groups.require(context, Privilege.BILLING_PAY, found.group_id)
    errors = _payment_errors(amount_cents, currency, idempotency_key)
    if errors:
        raise Refused(*errors)
    try:
        async with context.transaction() as session:
            paid = await _pay(context, session, found, amount_cents, idempotency_key)
    except IntegrityError:
        async with context.database.reader.connect() as connection:
            earlier = await billing.payment_by_key(connection, found.group_id, idempotency_key)
        if earlier is None:
            raise
        paid = _same_payment(earlier, found.id, amount_cents)
    # The bill read above predates the payment: the payload's bill must show its new balance.
    _loaders(context).bill_by_id.clear(found.id)
    return paid


async def _pay(
    context: Context, session: AsyncSession, bill: BillRecord, amount_cents: int, key: str
) -> PaymentRecord:
    locked = await billing.lock_bill(session, bill.id)
    assert locked is not None  # bills are never deleted
    earlier = await billing.payment_by_key(session, bill.group_id, key)
    if earlier is not None:
        return _same_payment(earlier, bill.id, amount_cents)
    payment = Payment(
        group_id=bill.group_id,
        bill_id=bill.id,
        idempotency_key=key,
        amount_cents=amount_cents,
        # The portal takes no card or cheque: it debits the group's bank account (ACH).
        method=PaymentMethod.ACH,
        status=PaymentStatus.PENDING,
        confirmation_number=f"GG{secrets.token_hex(8).upper()}",
        submitted_by_user_id=context.actor.user_id,
        created_at=context.now,
    )
    session.add(payment)
    await session.flush()
    # Checked after the insert, which holds the write lock on SQLite (PostgreSQL holds the
    # bill's row lock): payments racing with other keys cannot together exceed the bill.
    balance = locked.amount_cents - (await billing.paid_on_bill(session, bill.id) - amount_cents)
    if balance <= 0:
        raise Refused.on("billId", "this bill is paid in full", ErrorCode.ALREADY_DONE)
    if amount_cents > balance:
        raise Refused.on("amount.amount", f"at most {balance} cents, the bill's balance")
    audit.record(
        session,
        context.actor,
        action="payment.submitted",
        target_type="payment",
        target_id=payment.id,
        group_id=bill.group_id,
        now=context.now,
        before={"billBalanceCents": balance},
        after={
            "billId": bill.id,
            "amountCents": amount_cents,
            "idempotencyKey": key,
            "confirmationNumber": payment.confirmation_number,
            "status": payment.status.value,
        },
    )
    return billing.payment_record(payment)


def _same_payment(earlier: PaymentRecord, bill_id: int, amount_cents: int) -> PaymentRecord:
    if earlier.bill_id != bill_id or earlier.amount_cents != amount_cents:
        raise Refused.on(
            "idempotencyKey",
            "already used for a payment of another bill or amount",
            ErrorCode.CONFLICT,
        )
    return earlier


# Autopay.


def _routing_number_valid(routing_number: str) -> bool:
    if _ROUTING_NUMBER.match(routing_number) is None:
        return False
    weighted = sum(w * int(d) for w, d in zip(_ABA_WEIGHTS, routing_number, strict=True))
    return weighted % 10 == 0


def _mandate_errors(holder: str, routing_number: str, account_number: str) -> list[FieldError]:
    errors = []
    if not holder.strip() or len(holder.strip()) > 200:
        errors.append(
            FieldError("accountHolder", "give a name of 1 to 200 characters", ErrorCode.INVALID)
        )
    if not _routing_number_valid(routing_number):
        errors.append(
            FieldError("routingNumber", "not an ABA routing number (9 digits)", ErrorCode.INVALID)
        )
    if _ACCOUNT_NUMBER.match(account_number) is None:
        errors.append(FieldError("accountNumber", "give 4 to 17 digits", ErrorCode.INVALID))
    return errors


async def _payable_group(context: Context, group_id: int | None) -> GroupRecord:
    context.signed_in()
    group = await groups.visible_group(context, group_id, "groupId")
    groups.require(context, Privilege.BILLING_PAY, group.id)
    return group


async def enable_autopay(
    context: Context,
    *,
    group_id: int | None,
    account_holder: str,
    routing_number: str,
    account_number: str,
) -> MandateRecord:
    """Debit a bank account for each bill on its due date; one mandate at a time."""
    group = await _payable_group(context, group_id)
    errors = _mandate_errors(account_holder, routing_number, account_number)
    if errors:
        raise Refused(*errors)
    already = Refused.on("groupId", "autopay is already on: cancel it first", ErrorCode.CONFLICT)
    try:
        async with context.transaction() as session:
            if await billing.active_mandate(session, group.id) is not None:
                raise already
            mandate = AutopayMandate(
                group_id=group.id,
                status=AutopayStatus.ACTIVE,
                account_holder=account_holder.strip(),
                routing_number=routing_number,
                account_last4=account_number[-4:],
                account_hash=billing.account_hash(account_number, context.secret_key),
                created_by_user_id=context.actor.user_id,
                created_at=context.now,
            )
            session.add(mandate)
            await session.flush()
            audit.record(
                session,
                context.actor,
                action="autopay.enabled",
                target_type="autopay_mandate",
                target_id=mandate.id,
                group_id=group.id,
                now=context.now,
                after={
                    "accountHolder": mandate.account_holder,
                    "routingNumber": routing_number,
                    "accountLast4": mandate.account_last4,
                },
            )
            return billing.mandate_record(mandate)
    except IntegrityError:
        # Another request enabled autopay at the same moment: one active mandate per group.
        raise already from None


async def cancel_autopay(context: Context, *, group_id: int | None) -> MandateRecord:
    group = await _payable_group(context, group_id)
    async with context.transaction() as session:
        mandate = await billing.active_mandate(session, group.id)
        if mandate is None:
            raise Refused.on("groupId", "autopay is not on", ErrorCode.ALREADY_DONE)
        mandate.status = AutopayStatus.CANCELLED
        mandate.cancelled_at = context.now
        mandate.cancelled_by_user_id = context.actor.user_id
        audit.record(
            session,
            context.actor,
            action="autopay.cancelled",
            target_type="autopay_mandate",
            target_id=mandate.id,
            group_id=group.id,
            now=context.now,
            before={"status": AutopayStatus.ACTIVE.value},
            after={"status": AutopayStatus.CANCELLED.value},
        )
        return billing.mandate_record(mandate)


# Paper or paperless bills.


async def set_delivery(
    context: Context, *, group_id: int | None, mode: BillingDelivery, email: str | None
) -> DeliveryRecord:
    """Paperless is opt-in and needs an address; the address given replaces the one on file."""
    group = await _payable_group(context, group_id)
    address = email.strip().lower() if email is not None and email.strip() else None
    if address is not None and not valid_email(address):
        raise Refused.on("email", "not an e-mail address", ErrorCode.INVALID)
    if mode == BillingDelivery.PAPERLESS and address is None:
        raise Refused.on("email", "paperless bills need an e-mail address", ErrorCode.REQUIRED)
    async with context.transaction() as session:
        row = await billing.lock_group(session, group.id)
        assert row is not None  # visible, hence there
        before = DeliveryRecord(group.id, row.billing_delivery, row.billing_email)
        after = DeliveryRecord(group.id, mode, address)
        if after == before:
            return after  # nothing changes, so nothing is recorded
        row.billing_delivery, row.billing_email = mode, address
        audit.record(
            session,
            context.actor,
            action="billing_delivery.set",
            target_type="group",
            target_id=group.id,
            group_id=group.id,
            now=context.now,
            before={"mode": before.mode.value, "email": before.email},
            after={"mode": mode.value, "email": address},
        )
        return after
