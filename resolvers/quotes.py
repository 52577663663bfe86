"""Quotes for prospective groups: made by a broker for its agency (QUOTES_MANAGE over the
agency) or by an anonymous prospect (rate-limited per client address), read back by the
agency's brokers, by account representatives (APPLICATIONS_REVIEW), or with the access key.

Pricing (docs/decisions/0011): coverage would start on the first day of the month after the
quote is made; the plan year is that day's year, and its rates and benefits apply. The projected
monthly premium of a plan is the sum over tiers of employees times the tier's monthly rate, in
exact integer cents. Given only an employee count, every employee is priced at the
employee-only tier. A quote expires 60 days after it was made (usable while now < expiresAt).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from authz.access import AccessMap
from authz.privileges import Privilege
from data import audit, quotes
from data.models.plans import CoverageTier
from data.models.quotes import Quote
from data.pagination import Page
from data.plans import BenefitsRecord, PlanRecord
from data.quotes import NewQuotePlan, QuotedPlanRecord, QuoteRecord
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError, NotAllowed, NotAuthenticated, Refused
from resolvers.loaders import BatchLoader, DomainLoaders
from resolvers.pagination import page_request

QUOTE_TTL = timedelta(days=60)
ANONYMOUS_QUOTES_PER_HOUR = 5
MAX_EMPLOYEES = 10_000
MAX_PLANS = 20
MAX_NAME = 200
ACCESS_KEY_BYTES = 32

# ASCII digits only: `\d` would take other scripts' digits too.
_ZIP = re.compile(r"([0-9]{5})(?:-?([0-9]{4}))?")


class QuoteStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"


class QuoteLoaders(DomainLoaders):
    @cached_property
    def quote_by_id(self) -> BatchLoader[int, QuoteRecord | None]:
        return BatchLoader(self.reader, quotes.quotes_by_id)

    @cached_property
    def plans_by_quote(self) -> BatchLoader[int, list[QuotedPlanRecord]]:
        return BatchLoader(self.reader, quotes.plans_of_quotes)


def loaders(context: Context) -> QuoteLoaders:
    return context.loaders.domain(QuoteLoaders)


@dataclass(frozen=True, slots=True)
class CensusEntry:
    tier: CoverageTier
    employees: int


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """What the caller asked; None where it gave nothing (checked by `create_quote`)."""

    prospect_name: str
    region: str
    postal_code: str
    census: list[CensusEntry] | None
    employee_count: int | None
    # None: every plan on sale in the region; an item None: not a plan ID.
    plan_ids: list[int | None] | None


@dataclass(frozen=True, slots=True)
class QuoteView:
    """A quote as its reader sees it, at the time of the request."""

    record: QuoteRecord
    now: datetime

    @property
    def status(self) -> QuoteStatus:
        return QuoteStatus.ACTIVE if self.now < self.record.expires_at else QuoteStatus.EXPIRED

    @property
    def census(self) -> list[CensusEntry]:
        """Employees per tier as priced: every tier, an employee count as employee-only."""
        given = self.record.census
        if given is None:
            given = {CoverageTier.EMPLOYEE.value: self.record.employee_count}
        return [CensusEntry(tier, given.get(tier.value, 0)) for tier in CoverageTier]


@dataclass(frozen=True, slots=True)
class QuotedPlan:
    plan_id: int
    plan_year: int
    rates: list[tuple[CoverageTier, int]]
    projected_monthly_premium_cents: int


@dataclass(frozen=True, slots=True)
class CreatedQuote:
    quote: QuoteView
    # Only for an anonymous prospect, and only now: it is kept as a hash.
    access_key: str | None


@dataclass(frozen=True, slots=True)
class QuotesPage:
    page: Page
    quotes: list[QuoteView]


def first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def hash_access_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def premium(rates: dict[CoverageTier, int], census: dict[CoverageTier, int]) -> int:
    """Employees per tier times the tier's monthly rate, in cents."""
    return sum(count * rates[tier] for tier, count in census.items())


def _quoting_agency(context: Context) -> int | None:
    """The agency a signed-in caller quotes for (None: an anonymous prospect)."""
    user = context.user
    if user is None:
        return None
    agency_id = user.agency_id
    if agency_id is None or Privilege.QUOTES_MANAGE not in context.access.privileges(
        agency_id=agency_id
    ):
        raise NotAllowed(Privilege.QUOTES_MANAGE.value)
    return agency_id


def may_read(context: Context, quote: QuoteRecord) -> bool:
    """Its agency's brokers, and account representatives; a prospect reads with its key."""
    return may_read_with(context.access, quote)


def may_read_with(access: AccessMap, quote: QuoteRecord) -> bool:
    """`may_read` for the holder of `access` (a download link's user, at the time of fetching)."""
    if access.allows(Privilege.APPLICATIONS_REVIEW):
        return True
    return quote.agency_id is not None and Privilege.QUOTES_MANAGE in access.privileges(
        agency_id=quote.agency_id
    )


def _bad(field: str, message: str, code: ErrorCode = ErrorCode.INVALID) -> FieldError:
    return FieldError(field, message, code)


def _text(value: str, field: str, errors: list[FieldError]) -> str:
    text = " ".join(value.split())
    if not text:
        errors.append(_bad(field, "required", ErrorCode.REQUIRED))
    elif len(text) > MAX_NAME:
        errors.append(_bad(field, f"at most {MAX_NAME} characters", ErrorCode.INVALID))
    elif not text.isprintable() or not any(character.isalpha() for character in text):
        errors.append(_bad(field, "give a name with letters", ErrorCode.INVALID))
    return text


def postal_code(value: str, field: str, errors: list[FieldError]) -> str:
    """A US ZIP code, stored as 12345 or 12345-6789."""
    found = _ZIP.fullmatch(value.strip())
    if found is None:
        errors.append(_bad(field, "a ZIP code has 5 or 9 digits, as 94612 or 94612-1234"))
        return value
    five, four = found.groups()
    return f"{five}-{four}" if four else five


def _census(request: QuoteRequest, errors: list[FieldError]) -> dict[CoverageTier, int] | None:
    """Employees per tier as priced, or None when refused (the errors say why)."""
    given_census, given_count = request.census is not None, request.employee_count is not None
    if given_census == given_count:
        errors.append(
            _bad("input.census", "give either a census or an employee count, not both")
            if given_census
            else _bad("input.census", "give a census or an employee count", ErrorCode.REQUIRED)
        )
        return None
    if request.employee_count is not None:
        if not 1 <= request.employee_count <= MAX_EMPLOYEES:
            errors.append(_bad("input.employeeCount", f"must be between 1 and {MAX_EMPLOYEES}"))
            return None
        return {CoverageTier.EMPLOYEE: request.employee_count}
    counted: dict[CoverageTier, int] = {}
    before = len(errors)
    for index, entry in enumerate(request.census or []):
        field = f"input.census[{index}]"
        if entry.tier in counted:
            errors.append(_bad(f"{field}.tier", "each tier at most once"))
        elif not 0 <= entry.employees <= MAX_EMPLOYEES:
            errors.append(_bad(f"{field}.employees", f"must be between 0 and {MAX_EMPLOYEES}"))
        else:
            counted[entry.tier] = entry.employees
    if len(errors) > before:
        return None
    total = sum(counted.values())
    if not 1 <= total <= MAX_EMPLOYEES:
        errors.append(
            _bad("input.census", f"employees in all must be between 1 and {MAX_EMPLOYEES}")
        )
        return None
    return counted


def _chosen_plans(
    plan_ids: list[int | None] | None,
    rates: dict[int, dict[CoverageTier, int]],
    plan_year: int,
    errors: list[FieldError],
) -> list[int]:
    """The plans to price: those named, or every plan on sale in the region with its rates
    published for the plan year (the default is defined so: nothing is dropped from a list the
    caller gave)."""
    priced = [plan_id for plan_id, tiers in rates.items() if len(tiers) == len(CoverageTier)]
    if plan_ids is None:
        if not priced:
            errors.append(_bad("input.prospect.region", f"no plan is priced for {plan_year} here"))
        return priced
    if not plan_ids:
        errors.append(_bad("input.planIds", "name at least one plan", ErrorCode.REQUIRED))
    if len(plan_ids) > MAX_PLANS:
        errors.append(_bad("input.planIds", f"at most {MAX_PLANS} plans"))
        return []
    chosen: list[int] = []
    for index, plan_id in enumerate(plan_ids):
        field = f"input.planIds[{index}]"
        if plan_id is None:
            errors.append(_bad(field, "not a plan ID"))
        elif plan_id in chosen:
            errors.append(_bad(field, "named twice"))
        elif plan_id not in rates:
            errors.append(_bad(field, "not a plan on sale in this region", ErrorCode.NOT_FOUND))
        elif plan_id not in priced:
            errors.append(_bad(field, f"no rates published for {plan_year}"))
        else:
            chosen.append(plan_id)
    return chosen


async def create_quote(context: Context, request: QuoteRequest) -> CreatedQuote:
    """Price the plans for the prospect; everything is checked before anything is stored."""
    agency_id = _quoting_agency(context)
    errors: list[FieldError] = []
    name = _text(request.prospect_name, "input.prospect.name", errors)
    zip_code = postal_code(request.postal_code, "input.prospect.postalCode", errors)
    census = _census(request, errors)
    effective = first_of_next_month(context.today)
    region = request.region.strip().upper()
    async with context.database.reader.connect() as connection:
        regions = await quotes.quoted_regions(connection)
        rates = (
            await quotes.region_rates(connection, region, effective.year)
            if region in regions
            else {}
        )
    if region not in regions:
        known = ", ".join(sorted(regions))
        errors.append(_bad("input.prospect.region", f"not a region we quote: one of {known}"))
        chosen: list[int] = []
    else:
        chosen = _chosen_plans(request.plan_ids, rates, effective.year, errors)
    if errors or census is None:
        raise Refused(*errors)
    priced = [
        NewQuotePlan(
            plan_id=plan_id,
            projected_monthly_premium_cents=premium(rates[plan_id], census),
            rates_cents={tier.value: rates[plan_id][tier] for tier in CoverageTier},
        )
        for plan_id in chosen
    ]
    access_key = None if agency_id is not None else secrets.token_urlsafe(ACCESS_KEY_BYTES)
    async with context.transaction() as session:
        if agency_id is None:
            await _count_anonymous(context, session)
        record = await quotes.insert_quote(
            session,
            Quote(
                quote_number=f"Q{secrets.randbelow(10**10):010d}",
                agency_id=agency_id,
                created_by_user_id=context.actor.user_id,
                prospect_name=name,
                region=region,
                postal_code=zip_code,
                employee_count=sum(census.values()),
                census=(
                    None
                    if request.census is None
                    else {tier.value: count for tier, count in census.items()}
                ),
                plan_year=effective.year,
                effective_date=effective,
                expires_at=context.now + QUOTE_TTL,
                access_key_hash=None if access_key is None else hash_access_key(access_key),
                created_at=context.now,
            ),
            priced,
        )
        audit.record(
            session,
            context.actor,
            action="quote.created",
            target_type="quote",
            target_id=record.id,
            group_id=None,
            now=context.now,
            after={
                "quoteNumber": record.quote_number,
                "agencyId": agency_id,
                "region": region,
                "employeeCount": record.employee_count,
                "planIds": chosen,
                "anonymous": agency_id is None,
            },
        )
    return CreatedQuote(QuoteView(record, context.now), access_key)


async def _count_anonymous(context: Context, session: AsyncSession) -> None:
    window = context.now.replace(minute=0, second=0, microsecond=0)
    address = (context.address or "unknown")[:64]
    counted = await quotes.count_anonymous_quote(session, address, window)
    if counted > ANONYMOUS_QUOTES_PER_HOUR:
        retry = window + timedelta(hours=1)
        raise Refused.on(
            None,
            f"at most {ANONYMOUS_QUOTES_PER_HOUR} quotes an hour without an account: try again "
            f"after {retry:%Y-%m-%d %H:%M} UTC, or ask a broker",
            ErrorCode.RATE_LIMITED,
        )


async def quote(context: Context, quote_id: int) -> QuoteView | None:
    """A quote the caller may read; any other answers like one that does not exist."""
    found = await loaders(context).quote_by_id.load(quote_id)
    if found is None or context.user is None or not may_read(context, found):
        return None
    return QuoteView(found, context.now)


async def quote_with_key(context: Context, number: str, access_key: str) -> QuoteView | None:
    """An anonymous prospect's quote, by its number and the key shown when it was made."""
    found = await keyed_quote(context, number, access_key)
    return None if found is None else QuoteView(found, context.now)


async def keyed_quote(context: Context, number: str, access_key: str) -> QuoteRecord | None:
    async with context.database.reader.connect() as connection:
        found = await quotes.quote_by_number(connection, number.strip().upper())
    if found is None:
        return None
    record, stored = found
    if stored is None or not hmac.compare_digest(stored, hash_access_key(access_key)):
        return None
    return record


async def list_quotes(context: Context, *, first: int | None, after: str | None) -> QuotesPage:
    """Newest first: an agency's brokers see the agency's, account representatives every one."""
    user = context.user
    if user is None:
        raise NotAuthenticated
    request = page_request(first=first, after=after, last=None, before=None, kinds=[int])
    if context.access.allows(Privilege.APPLICATIONS_REVIEW):
        agency_id = None
    else:
        agency_id = _quoting_agency(context)
    async with context.database.reader.connect() as connection:
        page = await quotes.quotes_page(connection, agency_id, request)
    return QuotesPage(page, [QuoteView(record, context.now) for record in page.rows])


async def quoted_plans(context: Context, quote: QuoteView) -> list[QuotedPlan]:
    found = await loaders(context).plans_by_quote.load(quote.record.id)
    return [
        QuotedPlan(
            plan_id=plan.plan_id,
            plan_year=quote.record.plan_year,
            rates=[(tier, plan.rates_cents[tier.value]) for tier in CoverageTier],
            projected_monthly_premium_cents=plan.projected_monthly_premium_cents,
        )
        for plan in found
    ]


async def plan_of(context: Context, quoted: QuotedPlan) -> PlanRecord | None:
    return await context.loaders.plan_by_id.load(quoted.plan_id)


async def benefits_of(context: Context, quoted: QuotedPlan) -> BenefitsRecord | None:
    return await context.loaders.benefits_by_plan_year.load((quoted.plan_id, quoted.plan_year))
