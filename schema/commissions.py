"""Broker commissions: `commissionSchedules` and `commissionStatements(period)` (ADR 0012)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from data.commissions import LineRecord, ScheduleRecord
from data.models.commissions import CommissionBasis, CommissionLineKind
from resolvers import brokers, commissions
from resolvers.commissions import GroupSubtotal, Reconciliation, StatementView
from resolvers.errors import Refused
from schema.brokers import Agency
from schema.common import Info, Money, global_id, served_as
from schema.errors import UserError, user_errors

strawberry.enum(
    CommissionBasis,
    description="PERCENT_OF_PREMIUM: basis points of each premium payment; "
    "PER_SUBSCRIBER_PER_MONTH: an amount per subscriber on the bill paid.",
)
strawberry.enum(
    CommissionLineKind,
    description="PAYMENT: commission on a payment settled in the month; REVERSAL: the "
    "commission of a payment credited by an earlier statement and reversed since, taken back.",
)


@strawberry.type(description="An agency's commission for one plan year.")
class CommissionSchedule:
    plan_year: int
    basis: CommissionBasis
    rate_basis_points: int | None = strawberry.field(
        description="PERCENT_OF_PREMIUM: basis points of premium (450 = 4.5 %); else null."
    )

    @strawberry.field(description="PER_SUBSCRIBER_PER_MONTH: per subscriber; else null.")
    def amount_per_subscriber(self: ScheduleRecord) -> Money | None:
        return None if self.amount_cents is None else Money.usd(self.amount_cents)


@strawberry.type(description="Commission on one payment, or taken back for a reversed one.")
class CommissionStatementLine:
    kind: CommissionLineKind
    group_number: str
    group_name: str
    confirmation_number: str = strawberry.field(description="The payment's confirmation number.")
    settled_at: datetime | None = strawberry.field(description="When the payment settled (UTC).")
    bill_number: str
    bill_period: date = strawberry.field(
        description="The coverage month paid: it decides the broker of record and plan year."
    )
    subscriber_count: int = strawberry.field(description="Distinct subscribers on the bill.")
    plan_year: int = strawberry.field(
        description="Whose schedule priced the line: the group's contract year of the bill's "
        "month (the calendar year without a contract). No schedule for it: commission 0."
    )

    @strawberry.field
    def group_id(self: LineRecord) -> strawberry.ID:
        return global_id("Group", self.group_id)

    @strawberry.field
    def payment_id(self: LineRecord) -> strawberry.ID:
        return global_id("Payment", self.payment_id)

    @strawberry.field(description="The payment's amount (positive on REVERSAL lines too).")
    def payment_amount(self: LineRecord) -> Money:
        return Money.usd(self.payment_amount_cents)

    @strawberry.field(description="Premium counted: the payment, negative on a REVERSAL line.")
    def premium_paid(self: LineRecord) -> Money:
        return Money.usd(self.premium_paid_cents)

    @strawberry.field(description="Rounded half to even to the cent; negative on REVERSAL.")
    def commission(self: LineRecord) -> Money:
        return Money.usd(self.commission_cents)


@strawberry.type(description="One group's lines of a statement, summed.")
class CommissionGroupSubtotal:
    group_number: str
    group_name: str
    line_count: int

    @strawberry.field
    def group_id(self: GroupSubtotal) -> strawberry.ID:
        return global_id("Group", self.group_id)

    @strawberry.field
    def premium_paid(self: GroupSubtotal) -> Money:
        return Money.usd(self.premium_paid_cents)

    @strawberry.field
    def commission(self: GroupSubtotal) -> Money:
        return Money.usd(self.commission_cents)


@strawberry.type(
    description="How a statement reconciles: payments credited minus payments taken back is "
    "the premium counted; the commission total is the sum of the lines."
)
class CommissionReconciliation:
    payment_count: int
    reversal_count: int

    @strawberry.field
    def payments_total(self: Reconciliation) -> Money:
        return Money.usd(self.payments_total_cents)

    @strawberry.field
    def reversals_total(self: Reconciliation) -> Money:
        return Money.usd(self.reversals_total_cents)

    @strawberry.field
    def premium_counted(self: Reconciliation) -> Money:
        return Money.usd(self.premium_counted_cents)

    @strawberry.field
    def commission_total(self: Reconciliation) -> Money:
        return Money.usd(self.commission_total_cents)


@strawberry.type(description="An agency's commission on the premiums paid in one month.")
class CommissionStatement:
    period: date = strawberry.field(description="The first day of the month.")
    month: str = strawberry.field(description='The month as "YYYY-MM".')
    provisional: bool = strawberry.field(
        description="True for the current month: computed on each request, not stored."
    )
    closed_at: datetime | None = strawberry.field(
        description="When the ended month's statement was computed and stored."
    )
    lines: list[CommissionStatementLine]
    groups: list[CommissionGroupSubtotal]
    reconciliation: CommissionReconciliation

    @strawberry.field
    def total(self: StatementView) -> Money:
        return Money.usd(self.total_cents)

    @strawberry.field
    async def agency(self: StatementView, info: Info) -> Agency | None:
        found = await brokers.agency(info.context, self.agency_id)
        return served_as([found], Agency)[0] if found else None


@strawberry.type
class CommissionStatementPayload:
    statement: CommissionStatement | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CommissionsQuery:
    @strawberry.field(
        description="Your agency's commission schedules by plan year. Needs COMMISSIONS_READ."
    )
    async def commission_schedules(self, info: Info) -> list[CommissionSchedule]:
        return served_as(await commissions.schedules(info.context), CommissionSchedule)

    @strawberry.field(
        description='Your agency\'s statement of a month ("YYYY-MM", or a day "YYYY-MM-DD" of '
        "it): stored once the month has ended, provisional for the current month. Needs "
        "COMMISSIONS_READ over your agency."
    )
    async def commission_statements(self, info: Info, period: str) -> CommissionStatementPayload:
        try:
            found = await commissions.statement(info.context, period)
        except Refused as refused:
            return CommissionStatementPayload(errors=user_errors(refused))
        return CommissionStatementPayload(statement=served_as([found], CommissionStatement)[0])
