"""Quotes for prospective groups: `quoteCreate`, `quote`, `quotes`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from data.models.plans import CoverageTier
from resolvers import quotes
from resolvers.errors import Refused
from resolvers.quotes import CensusEntry, QuotedPlan, QuoteRequest, QuoteStatus, QuoteView
from schema.common import Info, Money, global_id, parse_global_id, served_as
from schema.errors import UserError, user_errors
from schema.plans import Plan, PlanBenefits
from schema.relay import Connection, Node, connection

strawberry.enum(
    QuoteStatus,
    description="ACTIVE until `expiresAt` (60 days after the quote was made), EXPIRED from then.",
)


@strawberry.input(description="Who the quote is for.")
class QuoteProspectInput:
    name: str = strawberry.field(description="The company's name: 1 to 200 characters.")
    region: str = strawberry.field(description="A region with plans on sale, as NCAL.")
    postal_code: str = strawberry.field(description="US ZIP code: 5 or 9 digits.")


@strawberry.input(description="Employees to cover in one tier.")
class QuoteCensusInput:
    tier: CoverageTier
    employees: int = strawberry.field(description="0 to 10,000.")


@strawberry.input
class QuoteCreateInput:
    prospect: QuoteProspectInput
    census: list[QuoteCensusInput] | None = strawberry.field(
        default=None,
        description="Employees per tier, each tier at most once, 1 to 10,000 in all. Give "
        "this or `employeeCount`, not both.",
    )
    employee_count: int | None = strawberry.field(
        default=None,
        description="1 to 10,000 employees, when no census is at hand: every employee is then "
        "priced at the employee-only tier (EMPLOYEE).",
    )
    plan_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Up to 20 plans on sale in the region. Null: every plan on sale in the "
        "region with rates published for the quote's plan year.",
    )


@strawberry.type(description="Employees in one tier, as the quote prices them.")
class QuoteCensusTier:
    tier: CoverageTier
    employees: int


@strawberry.type(description="A tier's monthly rate, as quoted.")
class QuotedRate:
    tier: CoverageTier
    monthly_rate: Money


@strawberry.type(
    name="QuotedPlan", description="One plan of a quote, priced for the quote's plan year."
)
class QuotedPlanType:
    @strawberry.field
    async def plan(self: QuotedPlan, info: Info) -> Plan | None:
        found = await quotes.plan_of(info.context, self)
        return served_as([found], Plan)[0] if found else None

    @strawberry.field(description="Monthly rates per tier, as quoted.")
    def rates(self: QuotedPlan) -> list[QuotedRate]:
        return [QuotedRate(tier=tier, monthly_rate=Money.usd(cents)) for tier, cents in self.rates]

    @strawberry.field(description="Benefits in the quote's plan year (null: not published).")
    async def benefits(self: QuotedPlan, info: Info) -> PlanBenefits | None:
        found = await quotes.benefits_of(info.context, self)
        return served_as([found], PlanBenefits)[0] if found else None

    @strawberry.field(
        description="The sum over tiers of the census's employees times the tier's monthly "
        "rate, exact to the cent."
    )
    def projected_monthly_premium(self: QuotedPlan) -> Money:
        return Money.usd(self.projected_monthly_premium_cents)


@strawberry.type(name="Quote", description="Rates and benefits offered to a prospective group.")
class QuoteType(Node):
    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, QuoteView)

    @strawberry.field
    def id(self: QuoteView) -> strawberry.ID:
        return global_id("Quote", self.record.id)

    @strawberry.field(description="Quote number: with the access key, a prospect reads it.")
    def number(self: QuoteView) -> str:
        return self.record.quote_number

    @strawberry.field
    def prospect_name(self: QuoteView) -> str:
        return self.record.prospect_name

    @strawberry.field
    def region(self: QuoteView) -> str:
        return self.record.region

    @strawberry.field
    def postal_code(self: QuoteView) -> str:
        return self.record.postal_code

    @strawberry.field(description="Employees in all.")
    def employee_count(self: QuoteView) -> int:
        return self.record.employee_count

    @strawberry.field(
        description="True when only an employee count was given: all priced as EMPLOYEE."
    )
    def priced_as_employee_only(self: QuoteView) -> bool:
        return self.record.census is None

    @strawberry.field(description="Employees per tier as priced, every tier.")
    def census(self: QuoteView) -> list[QuoteCensusTier]:
        return served_as(self.census, QuoteCensusTier)

    @strawberry.field(
        description="The first day of the month after the quote was made: coverage would "
        "start then."
    )
    def effective_date(self: QuoteView) -> date:
        return self.record.effective_date

    @strawberry.field(description="The year of the effective date: its rates and benefits.")
    def plan_year(self: QuoteView) -> int:
        return self.record.plan_year

    @strawberry.field
    def created_at(self: QuoteView) -> datetime:
        return self.record.created_at

    @strawberry.field(description="60 days after the quote was made.")
    def expires_at(self: QuoteView) -> datetime:
        return self.record.expires_at

    @strawberry.field
    def status(self: QuoteView) -> QuoteStatus:
        return self.status

    @strawberry.field(description="The priced plans, in the order they were named.")
    async def plans(self: QuoteView, info: Info) -> list[QuotedPlanType]:
        return served_as(await quotes.quoted_plans(info.context, self), QuotedPlanType)


def census_entries(given: list[QuoteCensusInput] | None) -> list[CensusEntry] | None:
    if given is None:
        return None
    return [CensusEntry(entry.tier, entry.employees) for entry in given]


@strawberry.type
class QuoteCreatePayload:
    quote: QuoteType | None = None
    access_key: str | None = strawberry.field(
        default=None,
        description="For an anonymous prospect only, shown this once: with the quote number it "
        "reads the quote and applies. Keep it; it cannot be shown again.",
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="RATE_LIMITED (no field) when an anonymous client made 5 quotes this hour.",
    )


@strawberry.type
class QuoteConnection(Connection[QuoteType]):
    """Quotes, newest first."""


@strawberry.type
class QuotesQuery:
    @strawberry.field(
        description="A quote by its ID (its agency's brokers; account representatives), or by "
        "its number with the access key (the prospect). Null: none the caller may read."
    )
    async def quote(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        number: str | None = None,
        access_key: str | None = None,
    ) -> QuoteType | None:
        context = info.context
        if id is not None:
            quote_id = parse_global_id(id, "Quote")
            found = None if quote_id is None else await quotes.quote(context, quote_id)
        elif number is not None and access_key is not None:
            found = await quotes.quote_with_key(context, number, access_key)
        else:
            raise Refused.on("id", "give an id, or a number and its access key")
        return served_as([found], QuoteType)[0] if found else None

    @strawberry.field(
        description="Quotes newest first: a broker's agency's, or (account representatives) "
        "every one. Needs QUOTES_MANAGE or APPLICATIONS_REVIEW."
    )
    async def quotes(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> QuoteConnection:
        found = await quotes.list_quotes(info.context, first=first, after=after)
        return connection(found.page, list(found.quotes), QuoteType, QuoteConnection)


@strawberry.type
class QuotesMutation:
    @strawberry.mutation(
        description="Price plans for a prospective group. By a broker (QUOTES_MANAGE: the quote "
        "belongs to its agency) or without signing in (at most 5 quotes an hour per client "
        "address). A signed-in caller without QUOTES_MANAGE is FORBIDDEN."
    )
    async def quote_create(self, info: Info, input: QuoteCreateInput) -> QuoteCreatePayload | None:
        request = QuoteRequest(
            prospect_name=input.prospect.name,
            region=input.prospect.region,
            postal_code=input.prospect.postal_code,
            census=census_entries(input.census),
            employee_count=input.employee_count,
            plan_ids=(
                None
                if input.plan_ids is None
                else [parse_global_id(plan_id, "Plan") for plan_id in input.plan_ids]
            ),
        )
        try:
            created = await quotes.create_quote(info.context, request)
        except Refused as refused:
            return QuoteCreatePayload(errors=user_errors(refused))
        return QuoteCreatePayload(
            quote=served_as([created.quote], QuoteType)[0], access_key=created.access_key
        )
