"""Billing: a group's balance, bills with their lines, payments, autopay and bill delivery.

`Group` inherits `GroupBilling`, so this module must not import `schema.groups`; `Member`
comes lazily because `schema.members` does import it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from authz.privileges import Privilege
from data.billing import (
    AdjustmentRecord,
    BillLineRecord,
    BillRecord,
    DeliveryRecord,
    MandateRecord,
    PaymentRecord,
)
from data.groups import GroupRecord
from data.models import billing as model
from data.models.groups import BillingDelivery
from data.models.plans import CoverageTier
from data.plans import PlanRecord
from resolvers import billing, members, plans
from resolvers.billing import BillStatus
from resolvers.errors import Refused
from schema.common import (
    Info,
    MaybeAwaitable,
    Money,
    global_id,
    parse_global_id,
    selects,
    served_as,
)
from schema.errors import UserError, user_errors
from schema.permissions import guarded
from schema.plans import Plan
from schema.relay import Connection, Node, connection

if TYPE_CHECKING:
    from schema.members import Member

strawberry.enum(BillStatus, description="Where a bill stands; OVERDUE: unpaid after its due date.")
strawberry.enum(model.PaymentMethod)
strawberry.enum(model.PaymentStatus)
strawberry.enum(model.AutopayStatus)

BILLING_READ = guarded(Privilege.BILLING_READ)
LazyMember = Annotated["Member", strawberry.lazy("schema.members")]


async def _member(info: Info, member_id: int | None) -> Member | None:
    """A member named on a bill, as far as the caller may read members (else null)."""
    from schema.members import Member

    found = None if member_id is None else await members.member(info.context, member_id)
    return served_as([found], Member)[0] if found else None


@strawberry.type(description="One subscriber's premium on a bill, for its whole family's tier.")
class BillLine(Node):
    tier: CoverageTier

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, BillLineRecord)

    @strawberry.field
    def id(self: BillLineRecord) -> strawberry.ID:
        return global_id("BillLine", self.id)

    @strawberry.field
    def amount(self: BillLineRecord) -> Money:
        return Money.usd(self.amount_cents)

    @strawberry.field(description="Null unless you may read this member (MEMBERS_READ).")
    async def subscriber(self: BillLineRecord, info: Info) -> LazyMember | None:
        return await _member(info, self.subscriber_id)

    @strawberry.field(graphql_type=Plan | None)
    def plan(self: BillLineRecord, info: Info) -> MaybeAwaitable[PlanRecord | None]:
        return plans.plan_now(info.context, self.plan_id)


@strawberry.type
class BillLineConnection(Connection[BillLine]):
    """A bill's lines by subscriber name, a page at a time."""


@strawberry.type(description="A correction carried by a bill: a credit (negative) or a charge.")
class BillAdjustment:
    reason: str
    created_at: datetime

    @strawberry.field
    def amount(self: AdjustmentRecord) -> Money:
        return Money.usd(self.amount_cents)

    @strawberry.field(description="The member it concerns, if one; null unless readable.")
    async def member(self: AdjustmentRecord, info: Info) -> LazyMember | None:
        return await _member(info, self.member_id)


@strawberry.type(description="The bill of one coverage month.")
class Bill(Node):
    bill_number: str
    period: date = strawberry.field(description="First day of the coverage month billed.")
    issue_date: date
    due_date: date

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, BillRecord)

    @strawberry.field
    def id(self: BillRecord) -> strawberry.ID:
        return global_id("Bill", self.id)

    @strawberry.field(description="Its lines and adjustments together.")
    def amount(self: BillRecord) -> Money:
        return Money.usd(self.amount_cents)

    @strawberry.field(description="Settled and pending payments.")
    def amount_paid(self: BillRecord) -> Money:
        return Money.usd(self.paid_cents)

    @strawberry.field(description="What is still owed; negative when overpaid.")
    def balance(self: BillRecord) -> Money:
        return Money.usd(self.balance_cents)

    @strawberry.field
    def status(self: BillRecord, info: Info) -> BillStatus:
        return billing.bill_status(self, info.context.today)

    @strawberry.field
    async def lines(
        self: BillRecord,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> BillLineConnection:
        page, records = await billing.bill_lines(
            info.context,
            self,
            first=first,
            after=after,
            last=last,
            before=before,
            count=selects(info, "totalCount"),
        )
        return connection(page, list(records), BillLine, BillLineConnection)

    @strawberry.field
    async def adjustments(self: BillRecord, info: Info) -> list[BillAdjustment]:
        return served_as(await billing.adjustments(info.context, self), BillAdjustment)


@strawberry.type
class BillConnection(Connection[Bill]):
    """Bills, newest period first, a page at a time."""


@strawberry.type(description="A payment toward a bill.")
class Payment(Node):
    method: model.PaymentMethod
    status: model.PaymentStatus
    confirmation_number: str
    submitted_at: datetime
    settled_at: datetime | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, PaymentRecord)

    @strawberry.field
    def id(self: PaymentRecord) -> strawberry.ID:
        return global_id("Payment", self.id)

    @strawberry.field
    def amount(self: PaymentRecord) -> Money:
        return Money.usd(self.amount_cents)

    @strawberry.field
    async def bill(self: PaymentRecord, info: Info) -> Bill | None:
        found = await billing.bill(info.context, self.bill_id)
        return served_as([found], Bill)[0] if found else None


@strawberry.type
class PaymentConnection(Connection[Payment]):
    """Payments, newest first, a page at a time."""


@strawberry.type(description="Standing authorisation to pay each bill on its due date.")
class Autopay:
    status: model.AutopayStatus
    account_holder: str
    account_last4: str = strawberry.field(description="The rest of the number is not kept.")
    since: datetime
    cancelled_at: datetime | None


@strawberry.type(description="How the group receives its bills.")
class BillingDeliveryPreference:
    mode: BillingDelivery
    email: str | None = strawberry.field(description="Where paperless bills are sent.")


@strawberry.type
class GroupBilling:
    """Billing fields of `Group`, each needing BILLING_READ."""

    @strawberry.field(
        description="Everything billed minus settled and pending payments.",
        extensions=BILLING_READ,
    )
    async def balance_due(self: GroupRecord, info: Info) -> Money | None:
        return Money.usd(await billing.balance_due(info.context, self.id))

    @strawberry.field(description="This month's bill.", extensions=BILLING_READ)
    async def current_bill(self: GroupRecord, info: Info) -> Bill | None:
        found = await billing.current_bill(info.context, self.id)
        return served_as([found], Bill)[0] if found else None

    @strawberry.field(
        description="Bills, newest first; `from`/`to` limit the coverage months.",
        extensions=BILLING_READ,
    )
    async def bills(
        self: GroupRecord,
        info: Info,
        periods_from: Annotated[date | None, strawberry.argument(name="from")] = None,
        periods_to: Annotated[date | None, strawberry.argument(name="to")] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> BillConnection | None:
        page, records = await billing.bills_page(
            info.context,
            self.id,
            periods_from=periods_from,
            periods_to=periods_to,
            first=first,
            after=after,
            last=last,
            before=before,
            count=selects(info, "totalCount"),
        )
        return connection(page, list(records), Bill, BillConnection)

    @strawberry.field(description="Payment history, newest first.", extensions=BILLING_READ)
    async def payments(
        self: GroupRecord,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> PaymentConnection | None:
        page, records = await billing.payments_page(
            info.context,
            self.id,
            first=first,
            after=after,
            last=last,
            before=before,
            count=selects(info, "totalCount"),
        )
        return connection(page, list(records), Payment, PaymentConnection)

    @strawberry.field(description="The active autopay mandate, if any.", extensions=BILLING_READ)
    async def autopay(self: GroupRecord, info: Info) -> Autopay | None:
        found = await billing.autopay(info.context, self.id)
        return served_as([found], Autopay)[0] if found else None

    @strawberry.field(description="Paper or paperless bills.", extensions=BILLING_READ)
    async def billing_delivery(self: GroupRecord, info: Info) -> BillingDeliveryPreference | None:
        found: DeliveryRecord | None = await billing.delivery(info.context, self.id)
        return served_as([found], BillingDeliveryPreference)[0] if found else None


@strawberry.input(description="An exact amount of money.")
class MoneyInput:
    amount: int = strawberry.field(description="In the currency's minor unit (cents).")
    currency: str = strawberry.field(description="ISO 4217 code; bills are paid in USD.")


@strawberry.input
class BillPayInput:
    bill_id: strawberry.ID
    amount: MoneyInput = strawberry.field(description="Part or all of the bill's balance.")
    idempotency_key: str = strawberry.field(
        description="1 to 100 printable characters; sending it again answers the same payment."
    )


@strawberry.input
class AutopayEnableInput:
    group_id: strawberry.ID
    account_holder: str
    routing_number: str = strawberry.field(description="The bank's 9-digit ABA number.")
    account_number: str = strawberry.field(description="4 to 17 digits; only the last 4 kept.")


@strawberry.input
class AutopayCancelInput:
    group_id: strawberry.ID


@strawberry.input
class BillingDeliverySetInput:
    group_id: strawberry.ID
    mode: BillingDelivery
    email: str | None = strawberry.field(default=None, description="Required for PAPERLESS.")


@strawberry.type
class BillPayPayload:
    payment: Payment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AutopayPayload:
    autopay: Autopay | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class BillingDeliveryPayload:
    billing_delivery: BillingDeliveryPreference | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _autopay(found: MandateRecord) -> Autopay:
    return served_as([found], Autopay)[0]


@strawberry.type
class BillingMutation:
    @strawberry.mutation(description="Pay a bill, in part or in full. Needs BILLING_PAY.")
    async def bill_pay(self, info: Info, input: BillPayInput) -> BillPayPayload | None:
        try:
            payment = await billing.pay_bill(
                info.context,
                bill_id=parse_global_id(input.bill_id, "Bill"),
                amount_cents=input.amount.amount,
                currency=input.amount.currency,
                idempotency_key=input.idempotency_key,
            )
        except Refused as refused:
            return BillPayPayload(errors=user_errors(refused))
        return BillPayPayload(payment=served_as([payment], Payment)[0])

    @strawberry.mutation(description="Pay each bill on its due date. Needs BILLING_PAY.")
    async def autopay_enable(self, info: Info, input: AutopayEnableInput) -> AutopayPayload | None:
        try:
            mandate = await billing.enable_autopay(
                info.context,
                group_id=parse_global_id(input.group_id, "Group"),
                account_holder=input.account_holder,
                routing_number=input.routing_number,
                account_number=input.account_number,
            )
        except Refused as refused:
            return AutopayPayload(errors=user_errors(refused))
        return AutopayPayload(autopay=_autopay(mandate))

    @strawberry.mutation(description="Stop automatic payments. Needs BILLING_PAY.")
    async def autopay_cancel(self, info: Info, input: AutopayCancelInput) -> AutopayPayload | None:
        try:
            mandate = await billing.cancel_autopay(
                info.context, group_id=parse_global_id(input.group_id, "Group")
            )
        except Refused as refused:
            return AutopayPayload(errors=user_errors(refused))
        return AutopayPayload(autopay=_autopay(mandate))

    @strawberry.mutation(
        description="Choose paper or paperless bills (paperless is opt-in). Needs BILLING_PAY."
    )
    async def billing_delivery_set(
        self, info: Info, input: BillingDeliverySetInput
    ) -> BillingDeliveryPayload | None:
        try:
            found = await billing.set_delivery(
                info.context,
                group_id=parse_global_id(input.group_id, "Group"),
                mode=input.mode,
                email=input.email,
            )
        except Refused as refused:
            return BillingDeliveryPayload(errors=user_errors(refused))
        return BillingDeliveryPayload(
            billing_delivery=served_as([found], BillingDeliveryPreference)[0]
        )
