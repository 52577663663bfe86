"""The public plan catalogue: plans with their benefits and monthly rates per coverage tier."""

from __future__ import annotations

from typing import Any

import strawberry

from data.models import plans as model
from data.plans import BenefitsRecord, PlanRecord, RateRecord
from resolvers import plans
from schema.common import Info, Money, global_id, served_as
from schema.relay import Node

# The stored enums are the schema's: one definition of each closed set.
strawberry.enum(model.CoverageTier, description="Who a coverage covers; each has its own rate.")
strawberry.enum(model.PlanKind)
strawberry.enum(model.MetalLevel)


@strawberry.type(description="What a plan covers in one plan year.")
class PlanBenefits:
    plan_year: int
    coinsurance_percent: int

    @strawberry.field
    def deductible_individual(self: BenefitsRecord) -> Money:
        return Money.usd(self.deductible_individual_cents)

    @strawberry.field
    def deductible_family(self: BenefitsRecord) -> Money:
        return Money.usd(self.deductible_family_cents)

    @strawberry.field
    def out_of_pocket_max_individual(self: BenefitsRecord) -> Money:
        return Money.usd(self.oop_max_individual_cents)

    @strawberry.field
    def out_of_pocket_max_family(self: BenefitsRecord) -> Money:
        return Money.usd(self.oop_max_family_cents)

    @strawberry.field
    def primary_care_copay(self: BenefitsRecord) -> Money:
        return Money.usd(self.primary_care_copay_cents)

    @strawberry.field
    def specialist_copay(self: BenefitsRecord) -> Money:
        return Money.usd(self.specialist_copay_cents)

    @strawberry.field
    def urgent_care_copay(self: BenefitsRecord) -> Money:
        return Money.usd(self.urgent_care_copay_cents)

    @strawberry.field
    def emergency_copay(self: BenefitsRecord) -> Money:
        return Money.usd(self.emergency_copay_cents)

    @strawberry.field
    def generic_drug_copay(self: BenefitsRecord) -> Money:
        return Money.usd(self.generic_drug_copay_cents)


@strawberry.type(description="The monthly premium of one coverage tier.")
class PlanRate:
    tier: model.CoverageTier

    @strawberry.field
    def monthly_rate(self: RateRecord) -> Money:
        return Money.usd(self.monthly_rate_cents)


@strawberry.type(description="A health plan of the carrier's catalogue.")
class Plan(Node):
    code: str
    name: str
    kind: model.PlanKind
    metal_level: model.MetalLevel
    region: str

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, PlanRecord)

    @strawberry.field
    def id(self: PlanRecord) -> strawberry.ID:
        return global_id("Plan", self.id)

    @strawberry.field(description="Benefits in a plan year (default: the current one).")
    async def benefits(
        self: PlanRecord, info: Info, plan_year: int | None = None
    ) -> PlanBenefits | None:
        context = info.context
        record = await plans.plan_benefits(context, self.id, plan_year or context.today.year)
        return served_as([record], PlanBenefits)[0] if record else None

    @strawberry.field(description="Monthly rates per tier in a plan year (default: the current).")
    async def rates(self: PlanRecord, info: Info, plan_year: int | None = None) -> list[PlanRate]:
        context = info.context
        records = await plans.plan_rates(context, self.id, plan_year or context.today.year)
        return served_as(records, PlanRate)


@strawberry.type
class PlansQuery:
    @strawberry.field(description="Plans on sale, optionally in one region.")
    async def plans(self, info: Info, region: str | None = None) -> list[Plan]:
        return served_as(await plans.offered_plans(info.context, region), Plan)
