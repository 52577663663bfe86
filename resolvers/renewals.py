"""A group's renewal: its window, its offer, and plans compared side by side (RENEWAL_READ).

The window opens 75 days before the renewal effective date and closes on it: the effective
date itself is the last open day (day 76 before: not open; day 75 before through the
effective date: open; the day after: closed). Days are the request's `today` (UTC).

Changes against this year compare the renewal plan year's rate with the previous plan year's
rate of the same plan and tier; the percent is a decimal string with one decimal, rounded half
to even (`Decimal.quantize`), from the exact cents.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property

from authz.privileges import Privilege
from data import renewals
from data.groups import GroupRecord
from data.models.plans import CoverageTier
from data.models.renewals import OfferKind
from data.plans import BenefitsRecord, PlanRecord, RateRecord
from data.renewals import CensusKey, OptionRecord, RenewalRecord
from resolvers import groups
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError, Refused
from resolvers.loaders import BatchLoader, DomainLoaders

WINDOW_DAYS = 75
MAX_COMPARED = 4


class RenewalStatus(enum.StrEnum):
    """Where a renewal's window stands; the changes submitted have their own status
    (`resolvers.renewal_changes`)."""

    NOT_OPEN = "NOT_OPEN"
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class RenewalLoaders(DomainLoaders):
    @cached_property
    def renewal_by_group(self) -> BatchLoader[int, RenewalRecord | None]:
        return BatchLoader(self.reader, renewals.renewals_of_groups)

    @cached_property
    def options_by_renewal(self) -> BatchLoader[int, list[OptionRecord]]:
        return BatchLoader(self.reader, renewals.options_of_renewals)

    @cached_property
    def census_by_group(self) -> BatchLoader[CensusKey, dict[CoverageTier, int]]:
        return BatchLoader(self.reader, renewals.census_of_groups)


def _loaders(context: Context) -> RenewalLoaders:
    return context.loaders.domain(RenewalLoaders)


@dataclass(frozen=True, slots=True)
class RenewalView:
    """A group's renewal on its renewal date; `renewal_id` is None until an offer is prepared."""

    group_id: int
    renewal_id: int | None
    effective_date: date
    plan_year: int
    today: date

    @property
    def opens_on(self) -> date:
        return self.effective_date - timedelta(days=WINDOW_DAYS)

    @property
    def closes_on(self) -> date:
        """The last open day: the effective date itself."""
        return self.effective_date

    @property
    def status(self) -> RenewalStatus:
        if self.today < self.opens_on:
            return RenewalStatus.NOT_OPEN
        if self.today <= self.closes_on:
            return RenewalStatus.OPEN
        return RenewalStatus.CLOSED

    @property
    def is_open(self) -> bool:
        return self.status is RenewalStatus.OPEN


@dataclass(frozen=True, slots=True)
class RateChange:
    tier: CoverageTier
    monthly_rate_cents: int
    current_monthly_rate_cents: int | None

    @property
    def change_cents(self) -> int | None:
        if self.current_monthly_rate_cents is None:
            return None
        return self.monthly_rate_cents - self.current_monthly_rate_cents

    @property
    def change_percent(self) -> str | None:
        return percent_change(self.current_monthly_rate_cents, self.monthly_rate_cents)


@dataclass(frozen=True, slots=True)
class OfferedPlan:
    plan: PlanRecord
    kind: OfferKind
    rates: list[RateChange]


@dataclass(frozen=True, slots=True)
class ComparedPlan:
    plan: PlanRecord
    kind: OfferKind
    rates: list[RateRecord]
    benefits: BenefitsRecord | None
    projected_monthly_premium_cents: int


@dataclass(frozen=True, slots=True)
class TierCount:
    tier: CoverageTier
    subscribers: int


@dataclass(frozen=True, slots=True)
class Comparison:
    renewal: RenewalView
    census: list[TierCount]
    plans: list[ComparedPlan]


def percent_change(before: int | None, after: int) -> str | None:
    """(after - before) / before in percent, one decimal, half to even; None without a base."""
    if not before:
        return None
    exact = Decimal(after - before) * 100 / Decimal(before)
    return str(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN))


def _view(context: Context, group: GroupRecord, record: RenewalRecord | None) -> RenewalView:
    return RenewalView(
        group_id=group.id,
        renewal_id=record.id if record else None,
        effective_date=group.renewal_date,
        plan_year=record.plan_year if record else group.renewal_date.year,
        today=context.today,
    )


async def group_renewal(context: Context, group: GroupRecord) -> RenewalView:
    groups.require(context, Privilege.RENEWAL_READ, group.id)
    return await renewal_of(context, group)


async def renewal_of(context: Context, group: GroupRecord) -> RenewalView:
    """The group's renewal, for a use case that checks its own privilege."""
    record = await _loaders(context).renewal_by_group.load(group.id)
    return _view(context, group, record)


async def offered_options(context: Context, renewal: RenewalView) -> list[OptionRecord]:
    """The plans offered at renewal, in the order they were offered (none until prepared)."""
    if renewal.renewal_id is None:
        return []
    return await options_of_renewal(context, renewal.renewal_id)


async def options_of_renewal(context: Context, renewal_id: int) -> list[OptionRecord]:
    return await _loaders(context).options_by_renewal.load(renewal_id)


async def offer(context: Context, renewal: RenewalView, kind: OfferKind) -> list[OfferedPlan]:
    """The plans offered of one kind, with their renewal rates against this year's."""
    options = [option for option in await offered_options(context, renewal) if option.kind == kind]
    plan_ids = [option.plan_id for option in options]
    loaders = context.loaders
    found = await loaders.plan_by_id.load_all(plan_ids)
    new_rates = await loaders.rates_by_plan_year.load_all(
        (plan_id, renewal.plan_year) for plan_id in plan_ids
    )
    old_rates = await loaders.rates_by_plan_year.load_all(
        (plan_id, renewal.plan_year - 1) for plan_id in plan_ids
    )
    offered = []
    for option, plan, new, old in zip(options, found, new_rates, old_rates, strict=True):
        if plan is None:
            continue
        before = {rate.tier: rate.monthly_rate_cents for rate in old}
        changes = [
            RateChange(rate.tier, rate.monthly_rate_cents, before.get(rate.tier)) for rate in new
        ]
        offered.append(OfferedPlan(plan, option.kind, changes))
    return offered


async def compare(context: Context, group_id: int | None, plan_ids: list[int | None]) -> Comparison:
    """Offered plans side by side for the renewal plan year, with the census premium.

    Every argument is checked before anything is read beyond the group and its offer."""
    group = await groups.visible_group(context, group_id, "groupId")
    if not context.access.allows(Privilege.RENEWAL_READ, group.id):
        raise Refused.on("groupId", "needs RENEWAL_READ", ErrorCode.FORBIDDEN)
    renewal = await renewal_of(context, group)
    options = {option.plan_id: option for option in await offered_options(context, renewal)}
    chosen = _check_plans(plan_ids, options)
    loaders = context.loaders
    keys = [(plan_id, renewal.plan_year) for plan_id in chosen]
    found = await loaders.plan_by_id.load_all(chosen)
    rates = await loaders.rates_by_plan_year.load_all(keys)
    benefits = await loaders.benefits_by_plan_year.load_all(keys)
    census = await _loaders(context).census_by_group.load((group.id, context.today))
    compared = [
        ComparedPlan(
            plan=plan,
            kind=options[plan.id].kind,
            rates=plan_rates,
            benefits=plan_benefits,
            projected_monthly_premium_cents=premium(plan_rates, census),
        )
        for plan, plan_rates, plan_benefits in zip(found, rates, benefits, strict=True)
        if plan is not None
    ]
    counts = [TierCount(tier, census.get(tier, 0)) for tier in CoverageTier]
    return Comparison(renewal=renewal, census=counts, plans=compared)


def premium(rates: list[RateRecord], census: dict[CoverageTier, int]) -> int:
    """Subscribers per tier times the tier's monthly rate, in cents."""
    by_tier = {rate.tier: rate.monthly_rate_cents for rate in rates}
    return sum(count * by_tier.get(tier, 0) for tier, count in census.items())


def _check_plans(plan_ids: list[int | None], options: dict[int, OptionRecord]) -> list[int]:
    if not plan_ids:
        raise Refused.on("planIds", "name at least one plan", ErrorCode.REQUIRED)
    if len(plan_ids) > MAX_COMPARED:
        raise Refused.on("planIds", f"compare at most {MAX_COMPARED} plans")
    errors: list[FieldError] = []
    seen: set[int] = set()
    for index, plan_id in enumerate(plan_ids):
        field = f"planIds.{index}"
        if plan_id is None:
            errors.append(FieldError(field, "not a plan ID", ErrorCode.INVALID))
        elif plan_id in seen:
            errors.append(FieldError(field, "named twice", ErrorCode.INVALID))
        elif plan_id not in options:
            errors.append(
                FieldError(field, "not offered to this group at renewal", ErrorCode.NOT_FOUND)
            )
        else:
            seen.add(plan_id)
    if errors:
        raise Refused(*errors)
    return [plan_id for plan_id in plan_ids if plan_id is not None]
