"""A group's renewal: its window and status, the offer, and `renewalCompare`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from authz.privileges import Privilege
from data.groups import GroupRecord
from data.models.plans import CoverageTier
from data.models.renewals import OfferKind, RenewalChangeStatus
from resolvers import renewal_changes, renewals
from resolvers.errors import Refused
from resolvers.renewals import (
    ComparedPlan,
    Comparison,
    OfferedPlan,
    RateChange,
    RenewalStatus,
    RenewalView,
)
from schema.common import Info, Money, parse_global_id, served_as
from schema.errors import UserError, user_errors
from schema.permissions import guarded
from schema.plans import Plan, PlanBenefits, PlanRate

if TYPE_CHECKING:
    from schema.renewal_changes import RenewalChangeRequest

strawberry.enum(
    RenewalStatus,
    description="NOT_OPEN: before the window; OPEN: from 75 days before the effective date "
    "through the effective date itself; CLOSED: after it.",
)
strawberry.enum(OfferKind, description="CURRENT: a plan the group has now; ALTERNATIVE: another.")
# Here rather than in schema.renewal_changes: `Renewal.changeStatus` answers it.
strawberry.enum(
    RenewalChangeStatus,
    description="SUBMITTED → IN_REVIEW → CONFIRMED, CONFIRMED_WITH_CHANGES (some parts not "
    "applied) or REJECTED (the group may submit again while the renewal is open). "
    "DEFAULT_RENEWAL: the window closed with no active request; the group renews on its "
    "current plans (computed, never stored on a request).",
)


@strawberry.type(description="A tier's monthly rate at renewal against this plan year's.")
class RenewalRate:
    tier: CoverageTier

    @strawberry.field(description="The monthly rate in the renewal plan year.")
    def monthly_rate(self: RateChange) -> Money:
        return Money.usd(self.monthly_rate_cents)

    @strawberry.field(description="The monthly rate in the plan year before (null: none).")
    def current_monthly_rate(self: RateChange) -> Money | None:
        cents = self.current_monthly_rate_cents
        return None if cents is None else Money.usd(cents)

    @strawberry.field(description="Renewal rate minus this year's rate, exact (null: no rate).")
    def change(self: RateChange) -> Money | None:
        cents = self.change_cents
        return None if cents is None else Money.usd(cents)

    @strawberry.field(
        description="The change in percent of this year's rate: a decimal string with one "
        'decimal, rounded half to even, e.g. "4.5" or "-0.2" (null: no rate this year).'
    )
    def change_percent(self: RateChange) -> str | None:
        return self.change_percent


@strawberry.type(description="A plan offered at renewal with its rates per tier.")
class RenewalOffer:
    kind: OfferKind

    @strawberry.field
    def plan(self: OfferedPlan) -> Plan:
        return served_as([self.plan], Plan)[0]

    @strawberry.field
    def rates(self: OfferedPlan) -> list[RenewalRate]:
        return served_as(self.rates, RenewalRate)


@strawberry.type(description="The group's renewal on its renewal date.")
class Renewal:
    effective_date: date
    plan_year: int = strawberry.field(description="The plan year the renewal starts.")
    status: RenewalStatus
    is_open: bool

    @strawberry.field(description="The first open day: 75 days before the effective date.")
    def opens_on(self: RenewalView) -> date:
        return self.opens_on

    @strawberry.field(description="The last open day: the effective date itself.")
    def closes_on(self: RenewalView) -> date:
        return self.closes_on

    @strawberry.field(description="The group's current plans at their renewal rates.")
    async def current_plans(self: RenewalView, info: Info) -> list[RenewalOffer]:
        found = await renewals.offer(info.context, self, OfferKind.CURRENT)
        return served_as(found, RenewalOffer)

    @strawberry.field(description="Other plans offered at renewal, at their renewal rates.")
    async def alternative_plans(self: RenewalView, info: Info) -> list[RenewalOffer]:
        found = await renewals.offer(info.context, self, OfferKind.ALTERNATIVE)
        return served_as(found, RenewalOffer)

    @strawberry.field(description="Change requests for this renewal, newest first.")
    async def change_requests(
        self: RenewalView, info: Info
    ) -> list[Annotated[RenewalChangeRequest, strawberry.lazy("schema.renewal_changes")]]:
        from schema.renewal_changes import RenewalChangeRequest

        found = await renewal_changes.change_requests(info.context, self)
        return served_as(found, RenewalChangeRequest)

    @strawberry.field(
        description="The latest active change request's status; DEFAULT_RENEWAL once the "
        "window closed with none; null while open with nothing (or only a rejection) submitted."
    )
    async def change_status(self: RenewalView, info: Info) -> RenewalChangeStatus | None:
        return await renewal_changes.change_status(info.context, self)


@strawberry.type
class GroupRenewal:
    """The group's field of this domain; `Group` inherits it."""

    @strawberry.field(
        description="The renewal: window, status and offer. Needs RENEWAL_READ.",
        extensions=guarded(Privilege.RENEWAL_READ),
    )
    async def renewal(self: GroupRecord, info: Info) -> Renewal | None:
        found = await renewals.group_renewal(info.context, self)
        return served_as([found], Renewal)[0]


@strawberry.type(description="Subscribers covered in one tier today.")
class CensusTier:
    tier: CoverageTier
    subscribers: int


@strawberry.type(description="One plan of a comparison, for the renewal plan year.")
class ComparedRenewalPlan:
    kind: OfferKind

    @strawberry.field
    def plan(self: ComparedPlan) -> Plan:
        return served_as([self.plan], Plan)[0]

    @strawberry.field(description="Monthly rates per tier in the renewal plan year.")
    def rates(self: ComparedPlan) -> list[PlanRate]:
        return served_as(self.rates, PlanRate)

    @strawberry.field(description="Benefits in the renewal plan year (null: not published).")
    def benefits(self: ComparedPlan) -> PlanBenefits | None:
        return None if self.benefits is None else served_as([self.benefits], PlanBenefits)[0]

    @strawberry.field(
        description="Active subscribers per tier today times this plan's rate for the tier."
    )
    def projected_monthly_premium(self: ComparedPlan) -> Money:
        return Money.usd(self.projected_monthly_premium_cents)


@strawberry.type(description="Plans side by side for the group's renewal.")
class RenewalComparison:
    census: list[CensusTier]
    plans: list[ComparedRenewalPlan]

    @strawberry.field
    def renewal(self: Comparison) -> Renewal:
        return served_as([self.renewal], Renewal)[0]


@strawberry.type
class RenewalComparePayload:
    comparison: RenewalComparison | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RenewalsQuery:
    @strawberry.field(
        description="Up to 4 plans offered to the group at renewal, side by side. Needs "
        "RENEWAL_READ; a group you cannot see is NOT_FOUND."
    )
    async def renewal_compare(
        self, info: Info, group_id: strawberry.ID, plan_ids: list[strawberry.ID]
    ) -> RenewalComparePayload:
        try:
            found = await renewals.compare(
                info.context,
                parse_global_id(group_id, "Group"),
                [parse_global_id(plan_id, "Plan") for plan_id in plan_ids],
            )
        except Refused as refused:
            return RenewalComparePayload(errors=user_errors(refused))
        return RenewalComparePayload(comparison=served_as([found], RenewalComparison)[0])
