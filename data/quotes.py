"""Quotes for prospective groups: reads (Core rows into slotted dataclasses, batch functions in
key order), the writes of a new quote, and the anonymous rate-limit counter."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from data.keys import Keyed
from data.models.plans import CoverageTier, Plan, PlanRate
from data.models.quotes import AnonymousQuoteWindow, Quote, QuotePlan
from data.pagination import Page, PageRequest, fetch_page_newest_first


@dataclass(frozen=True, slots=True)
class QuoteRecord:
    id: int
    quote_number: str
    agency_id: int | None
    created_by_user_id: int | None
    prospect_name: str
    region: str
    postal_code: str
    employee_count: int
    # Employees per tier as given; None when only an employee count was given.
    census: dict[str, int] | None
    plan_year: int
    effective_date: date
    expires_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class QuotedPlanRecord:
    quote_id: int
    plan_id: int
    projected_monthly_premium_cents: int
    # Monthly rate per tier as quoted: the quote keeps them even if the catalogue changes.
    rates_cents: dict[str, int]


@dataclass(frozen=True, slots=True)
class NewQuotePlan:
    plan_id: int
    projected_monthly_premium_cents: int
    rates_cents: dict[str, int]


_QUOTE = [getattr(Quote, name) for name in QuoteRecord.__slots__]
_QUOTED_PLAN = [getattr(QuotePlan, name) for name in QuotedPlanRecord.__slots__]
# Newest first, as a keyset: the negated id ascends as quotes get older.
QUOTE_ORDER = (Quote.id,)


def _quote(row: Any) -> QuoteRecord:
    return QuoteRecord(*row[: len(_QUOTE)])


_QUOTES_BY_ID = Keyed(lambda keys: select(*_QUOTE).where(keys(Quote.id)))


async def quotes_by_id(connection: AsyncConnection, ids: Sequence[int]) -> list[QuoteRecord | None]:
    rows = await _QUOTES_BY_ID.execute(connection, ids)
    found = {row.id: _quote(row) for row in rows}
    return [found.get(quote_id) for quote_id in ids]


_QUOTE_BY_NUMBER = select(*_QUOTE, Quote.access_key_hash).where(
    Quote.quote_number == bindparam("number")
)


async def quote_by_number(
    connection: AsyncConnection, number: str
) -> tuple[QuoteRecord, str | None] | None:
    """A quote by its number, with the hash of its access key (None: a broker's quote)."""
    row = (await connection.execute(_QUOTE_BY_NUMBER, {"number": number})).first()
    return None if row is None else (_quote(row), row.access_key_hash)


_PLANS_OF_QUOTES = Keyed(
    lambda keys: select(*_QUOTED_PLAN).where(keys(QuotePlan.quote_id)).order_by(QuotePlan.id)
)


async def plans_of_quotes(
    connection: AsyncConnection, quote_ids: Sequence[int]
) -> list[list[QuotedPlanRecord]]:
    """Each quote's priced plans, in the order they were quoted."""
    found: dict[int, list[QuotedPlanRecord]] = defaultdict(list)
    for row in await _PLANS_OF_QUOTES.execute(connection, quote_ids):
        found[row.quote_id].append(QuotedPlanRecord(*row))
    return [found.get(quote_id, []) for quote_id in quote_ids]


async def quotes_page(
    connection: AsyncConnection, agency_id: int | None, request: PageRequest
) -> Page:
    """A page of quotes, newest first: one agency's, or (None) every quote."""
    statement = select(*_QUOTE, *QUOTE_ORDER)
    if agency_id is not None:
        statement = statement.where(Quote.agency_id == agency_id)
    page = await fetch_page_newest_first(connection, statement, QUOTE_ORDER, request, count=False)
    return replace(page, rows=[_quote(row) for row in page.rows])


async def quoted_regions(connection: AsyncConnection) -> set[str]:
    """Regions with at least one plan on sale: the regions a quote may name."""
    return set(await connection.scalars(select(Plan.region).where(Plan.is_offered).distinct()))


async def region_rates(
    connection: AsyncConnection, region: str, plan_year: int
) -> dict[int, dict[CoverageTier, int]]:
    """Every plan on sale in the region, with its monthly rate per tier in the plan year (a
    plan with no rate published that year has an empty map)."""
    rows = await connection.execute(
        select(Plan.id, PlanRate.tier, PlanRate.monthly_rate_cents)
        .outerjoin(PlanRate, (PlanRate.plan_id == Plan.id) & (PlanRate.plan_year == plan_year))
        .where(Plan.is_offered, Plan.region == region)
        .order_by(Plan.code)
    )
    found: dict[int, dict[CoverageTier, int]] = {}
    for plan_id, tier, cents in rows:
        rates = found.setdefault(plan_id, {})
        if tier is not None:
            rates[CoverageTier(tier)] = cents
    return found


async def insert_quote(
    session: AsyncSession, quote: Quote, plans: Sequence[NewQuotePlan]
) -> QuoteRecord:
    session.add(quote)
    await session.flush()
    session.add_all(
        QuotePlan(
            quote_id=quote.id,
            plan_id=plan.plan_id,
            projected_monthly_premium_cents=plan.projected_monthly_premium_cents,
            rates_cents=plan.rates_cents,
        )
        for plan in plans
    )
    await session.flush()
    return QuoteRecord(*(getattr(quote, name) for name in QuoteRecord.__slots__))


async def count_anonymous_quote(session: AsyncSession, address: str, window_start: datetime) -> int:
    """Count one more anonymous quote from `address` in the window; returns the new count.

    One atomic upsert: concurrent requests from the same address queue on the row, so two
    workers can never both take the last quote of a window. The address's earlier windows are
    dropped on the way (they count for nothing any more)."""
    await session.execute(
        delete(AnonymousQuoteWindow).where(
            AnonymousQuoteWindow.address == address,
            AnonymousQuoteWindow.window_start < window_start,
        )
    )
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    counted = (
        insert(AnonymousQuoteWindow)
        .values(address=address, window_start=window_start, quotes=1)
        .on_conflict_do_update(
            index_elements=[AnonymousQuoteWindow.address, AnonymousQuoteWindow.window_start],
            set_={"quotes": AnonymousQuoteWindow.quotes + 1},
        )
        .returning(AnonymousQuoteWindow.quotes)
    )
    return int((await session.execute(counted)).scalar_one())
