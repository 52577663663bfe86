"""Reads of the plan catalogue: Core rows into slotted dataclasses, batch functions in key order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from data.keys import Keyed
from data.models.plans import CoverageTier, MetalLevel, Plan, PlanBenefits, PlanKind, PlanRate

# (plan id, plan year): benefits and rates are per plan year.
PlanYearKey = tuple[int, int]


@dataclass(frozen=True, slots=True)
class PlanRecord:
    id: int
    code: str
    name: str
    kind: PlanKind
    metal_level: MetalLevel
    region: str
    is_offered: bool


@dataclass(frozen=True, slots=True)
class BenefitsRecord:
    plan_id: int
    plan_year: int
    deductible_individual_cents: int
    deductible_family_cents: int
    oop_max_individual_cents: int
    oop_max_family_cents: int
    primary_care_copay_cents: int
    specialist_copay_cents: int
    urgent_care_copay_cents: int
    emergency_copay_cents: int
    generic_drug_copay_cents: int
    coinsurance_percent: int


@dataclass(frozen=True, slots=True)
class RateRecord:
    plan_id: int
    plan_year: int
    tier: CoverageTier
    monthly_rate_cents: int


_PLAN_COLUMNS = (
    Plan.id,
    Plan.code,
    Plan.name,
    Plan.kind,
    Plan.metal_level,
    Plan.region,
    Plan.is_offered,
)
_TIER_ORDER = list(CoverageTier)


async def offered_plans(connection: AsyncConnection, region: str | None) -> list[PlanRecord]:
    """Plans on sale, optionally in one region, by code."""
    statement = select(*_PLAN_COLUMNS).where(Plan.is_offered).order_by(Plan.code)
    if region is not None:
        statement = statement.where(Plan.region == region)
    return [PlanRecord(*row) for row in await connection.execute(statement)]


_PLANS_BY_ID = Keyed(lambda keys: select(*_PLAN_COLUMNS).where(keys(Plan.id)))


async def plans_by_id(connection: AsyncConnection, ids: Sequence[int]) -> list[PlanRecord | None]:
    rows = await _PLANS_BY_ID.execute(connection, ids)
    found = {row.id: PlanRecord(*row) for row in rows}
    return [found.get(plan_id) for plan_id in ids]


async def benefits_by_plan_year(
    connection: AsyncConnection, keys: Sequence[PlanYearKey]
) -> list[BenefitsRecord | None]:
    columns = [getattr(PlanBenefits, field) for field in BenefitsRecord.__slots__]
    rows = await connection.execute(
        select(*columns).where(tuple_(PlanBenefits.plan_id, PlanBenefits.plan_year).in_(keys))
    )
    found = {(row.plan_id, row.plan_year): BenefitsRecord(*row) for row in rows}
    return [found.get(key) for key in keys]


async def rates_by_plan_year(
    connection: AsyncConnection, keys: Sequence[PlanYearKey]
) -> list[list[RateRecord]]:
    """Each key's rates, in tier order (employee, + spouse, + children, family)."""
    rows = await connection.execute(
        select(
            PlanRate.plan_id, PlanRate.plan_year, PlanRate.tier, PlanRate.monthly_rate_cents
        ).where(tuple_(PlanRate.plan_id, PlanRate.plan_year).in_(keys))
    )
    found: dict[PlanYearKey, list[RateRecord]] = defaultdict(list)
    for row in rows:
        found[(row.plan_id, row.plan_year)].append(RateRecord(*row))
    for rates in found.values():
        rates.sort(key=lambda rate: _TIER_ORDER.index(rate.tier))
    return [found.get(key, []) for key in keys]
