"""The plan catalogue: public, since prospects compare plans before they have an account."""

from __future__ import annotations

from collections.abc import Awaitable

from data import plans
from data.plans import BenefitsRecord, PlanRecord, RateRecord
from resolvers.context import Context
from resolvers.loaders import MISSING


async def offered_plans(context: Context, region: str | None) -> list[PlanRecord]:
    async with context.database.reader.connect() as connection:
        return await plans.offered_plans(connection, region)


async def plan(context: Context, plan_id: int) -> PlanRecord | None:
    """Any plan of the catalogue: it is public."""
    return await context.loaders.plan_by_id.load(plan_id)


def plan_now(context: Context, plan_id: int) -> PlanRecord | Awaitable[PlanRecord | None] | None:
    """`plan`, answered at once when already loaded (a page's plans are, see `members.include`)."""
    found = context.loaders.plan_by_id.cached(plan_id)
    return context.loaders.plan_by_id.load(plan_id) if found is MISSING else found


async def plan_benefits(context: Context, plan_id: int, plan_year: int) -> BenefitsRecord | None:
    return await context.loaders.benefits_by_plan_year.load((plan_id, plan_year))


async def plan_rates(context: Context, plan_id: int, plan_year: int) -> list[RateRecord]:
    return await context.loaders.rates_by_plan_year.load((plan_id, plan_year))
