"""Quotes for prospective groups, through the endpoint: pricing recomputed from the catalogue,
expiry, the anonymous rate limit and access key, who may make and read quotes."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from data.models.audit import AuditEvent
from data.models.plans import Plan, PlanBenefits, PlanRate
from data.models.quotes import Quote, QuotePlan
from tests.conftest import Api, statements
from tests.quote_helpers import make_older

BROKER = "broker@summit.example"
OTHER_BROKER = "amara.okafor@harborview.example"
ADMIN = "admin@acme.example"
ACCOUNTS = "accounts@carrier.example"
TIERS = ["EMPLOYEE", "EMPLOYEE_SPOUSE", "EMPLOYEE_CHILDREN", "FAMILY"]

QUOTE_FIELDS = """
  id number prospectName region postalCode employeeCount pricedAsEmployeeOnly
  census { tier employees } effectiveDate planYear createdAt expiresAt status
  plans {
    plan { id code }
    rates { tier monthlyRate { amount currency } }
    benefits { planYear deductibleIndividual { amount } outOfPocketMaxIndividual { amount }
               primaryCareCopay { amount } }
    projectedMonthlyPremium { amount currency }
  }"""
CREATE = (
    """
mutation ($input: QuoteCreateInput!) {
  quoteCreate(input: $input) {
    accessKey
    errors { field code message }
    quote {"""
    + QUOTE_FIELDS
    + "} } }"
)
READ = "query ($id: ID, $n: String, $k: String) { quote(id: $id, number: $n, accessKey: $k) {" + (
    QUOTE_FIELDS + "} }"
)
LIST = """
query ($first: Int, $after: String) {
  quotes(first: $first, after: $after) {
    edges { cursor node { id number status plans { plan { code } benefits { planYear } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def gid(kind: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def key_of(global_id: str) -> int:
    return int(base64.urlsafe_b64decode(global_id).decode().partition(":")[2])


def expected_effective_date() -> date:
    today = datetime.now(UTC).date()
    return date(today.year + today.month // 12, today.month % 12 + 1, 1)


def quote_input(**changes: Any) -> dict[str, Any]:
    given: dict[str, Any] = {
        "prospect": {"name": "Lakeside Robotics LLC", "region": "NCAL", "postalCode": "94612"},
        "census": [
            {"tier": "EMPLOYEE", "employees": 7},
            {"tier": "FAMILY", "employees": 3},
            {"tier": "EMPLOYEE_SPOUSE", "employees": 2},
        ],
    }
    given.update(changes)
    return given


async def region_plans(api: Api, region: str) -> dict[int, str]:
    async with api.app.state.database.reader.connect() as connection:
        rows = await connection.execute(
            select(Plan.id, Plan.code).where(Plan.region == region, Plan.is_offered)
        )
        return {row.id: row.code for row in rows}


async def catalogue(
    api: Api, plan_ids: list[int], plan_year: int
) -> tuple[dict[tuple[int, str], int], dict[int, Any]]:
    async with api.app.state.database.reader.connect() as connection:
        rates = {
            (row.plan_id, str(row.tier)): row.monthly_rate_cents
            for row in await connection.execute(
                select(PlanRate).where(
                    PlanRate.plan_id.in_(plan_ids), PlanRate.plan_year == plan_year
                )
            )
        }
        benefits = {
            row.plan_id: row
            for row in await connection.execute(
                select(PlanBenefits).where(
                    PlanBenefits.plan_id.in_(plan_ids), PlanBenefits.plan_year == plan_year
                )
            )
        }
    return rates, benefits


async def stored_quotes(api: Api) -> tuple[int, int]:
    async with api.app.state.database.reader.connect() as connection:
        quotes = await connection.scalar(select(func.count()).select_from(Quote))
        plans = await connection.scalar(select(func.count()).select_from(QuotePlan))
    return int(quotes or 0), int(plans or 0)


async def create(api: Api, email: str | None, **changes: Any) -> dict[str, Any]:
    body = await api.query(email, CREATE, input=quote_input(**changes))
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["quoteCreate"]
    return payload


async def test_broker_quote_prices_the_census_exactly_from_the_catalogue(api: Api) -> None:
    offered = await region_plans(api, "NCAL")
    chosen = sorted(offered)[:3]
    effective = expected_effective_date()
    payload = await create(api, BROKER, planIds=[gid("Plan", p) for p in chosen])
    assert payload["errors"] == []
    assert payload["accessKey"] is None, "a broker's quote is read through the agency"
    quote = payload["quote"]
    assert quote["effectiveDate"] == effective.isoformat()
    assert quote["planYear"] == effective.year
    assert quote["employeeCount"] == 12
    assert quote["pricedAsEmployeeOnly"] is False
    assert quote["census"] == [
        {"tier": "EMPLOYEE", "employees": 7},
        {"tier": "EMPLOYEE_SPOUSE", "employees": 2},
        {"tier": "EMPLOYEE_CHILDREN", "employees": 0},
        {"tier": "FAMILY", "employees": 3},
    ]
    assert quote["status"] == "ACTIVE"
    created = datetime.fromisoformat(quote["createdAt"])
    assert datetime.fromisoformat(quote["expiresAt"]) - created == timedelta(days=60)
    rates, benefits = await catalogue(api, chosen, effective.year)
    assert [p["plan"]["id"] for p in quote["plans"]] == [gid("Plan", p) for p in chosen]
    census = {"EMPLOYEE": 7, "EMPLOYEE_SPOUSE": 2, "FAMILY": 3}
    for plan_id, shown in zip(chosen, quote["plans"], strict=True):
        assert shown["plan"]["code"] == offered[plan_id]
        assert shown["rates"] == [
            {"tier": t, "monthlyRate": {"amount": rates[(plan_id, t)], "currency": "USD"}}
            for t in TIERS
        ]
        expected = sum(n * rates[(plan_id, tier)] for tier, n in census.items())
        assert shown["projectedMonthlyPremium"] == {"amount": expected, "currency": "USD"}
        row = benefits[plan_id]
        assert shown["benefits"] == {
            "planYear": effective.year,
            "deductibleIndividual": {"amount": row.deductible_individual_cents},
            "outOfPocketMaxIndividual": {"amount": row.oop_max_individual_cents},
            "primaryCareCopay": {"amount": row.primary_care_copay_cents},
        }
    async with api.app.state.database.reader.connect() as connection:
        event = (
            await connection.execute(
                select(AuditEvent).where(
                    AuditEvent.action == "quote.created",
                    AuditEvent.target_id == str(key_of(quote["id"])),
                )
            )
        ).one()
    assert event.actor_user_id == await api.user_id(BROKER)
    assert event.request_id
    assert event.after["anonymous"] is False


async def test_an_employee_count_prices_every_offered_plan_at_employee_only(api: Api) -> None:
    offered = await region_plans(api, "SCAL")
    effective = expected_effective_date()
    payload = await create(
        api,
        BROKER,
        census=None,
        employeeCount=9,
        prospect={"name": "Mesa Foods", "region": " scal ", "postalCode": "921011234"},
    )
    assert payload["errors"] == []
    quote = payload["quote"]
    assert (quote["region"], quote["postalCode"]) == ("SCAL", "92101-1234")
    assert quote["pricedAsEmployeeOnly"] is True
    assert quote["census"][0] == {"tier": "EMPLOYEE", "employees": 9}
    assert sum(t["employees"] for t in quote["census"]) == 9
    rates, _ = await catalogue(api, list(offered), effective.year)
    assert {p["plan"]["code"] for p in quote["plans"]} == set(offered.values())
    for shown in quote["plans"]:
        plan_id = key_of(shown["plan"]["id"])
        assert shown["projectedMonthlyPremium"]["amount"] == 9 * rates[(plan_id, "EMPLOYEE")]


async def test_a_quote_expires_sixty_days_after_it_was_made(api: Api) -> None:
    for days_old, status in [(59, "ACTIVE"), (60, "EXPIRED")]:
        payload = await create(api, BROKER)
        quote_id = key_of(payload["quote"]["id"])
        await make_older(api, quote_id, days_old)
        body = await api.query(BROKER, READ, id=gid("Quote", quote_id))
        assert "errors" not in body, body
        assert body["data"]["quote"]["status"] == status, days_old


async def test_anonymous_prospects_get_a_key_and_are_rate_limited(api: Api) -> None:
    keys = []
    for _ in range(5):
        payload = await create(api, None)
        assert payload["errors"] == [], payload
        keys.append((payload["quote"]["number"], payload["accessKey"], payload["quote"]["id"]))
    before = await stored_quotes(api)
    refused = await create(api, None)
    assert refused["quote"] is None
    assert refused["accessKey"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [(None, "RATE_LIMITED")]
    assert "try again after" in refused["errors"][0]["message"]
    assert await stored_quotes(api) == before, "nothing stored over the limit"
    # Brokers are not limited.
    assert (await create(api, BROKER))["errors"] == []

    number, key, quote_id = keys[0]
    assert len(key) >= 40
    async with api.app.state.database.reader.connect() as connection:
        stored = await connection.scalar(
            select(Quote.access_key_hash).where(Quote.quote_number == number)
        )
    assert stored == hashlib.sha256(key.encode()).hexdigest(), "kept only as a hash"
    found = await api.query(None, READ, n=number, k=key)
    assert found["data"]["quote"]["id"] == quote_id
    for email, number_given, key_given in [
        (None, number, keys[1][1]),
        (None, keys[1][0], key),
        (None, number, ""),
        (BROKER, number, key + "x"),
    ]:
        body = await api.query(email, READ, n=number_given, k=key_given)
        assert body["data"]["quote"] is None, (number_given, key_given)
    by_id = {email: await api.query(email, READ, id=quote_id) for email in (None, BROKER, ACCOUNTS)}
    assert by_id[None]["data"]["quote"] is None
    assert by_id[BROKER]["data"]["quote"] is None, "a prospect's quote is no agency's"
    assert by_id[ACCOUNTS]["data"]["quote"]["number"] == number


# Who: creating a quote, reading the Summit agency's quote by ID, listing quotes.
PERSONAS: list[tuple[str | None, str, bool, str]] = [
    (None, "ok", False, "UNAUTHENTICATED"),
    (BROKER, "ok", True, "own"),
    (OTHER_BROKER, "ok", False, "own"),
    (ADMIN, "FORBIDDEN", False, "FORBIDDEN"),
    (ACCOUNTS, "FORBIDDEN", True, "all"),
]


async def test_who_makes_and_reads_quotes(api: Api) -> None:
    summit = (await create(api, BROKER))["quote"]
    other = (await create(api, OTHER_BROKER))["quote"]
    for email, creates, reads_summit_quote, lists in PERSONAS:
        before = await stored_quotes(api)
        body = await api.query(email, CREATE, input=quote_input())
        if creates == "ok":
            assert body["data"]["quoteCreate"]["errors"] == []
            assert (body["data"]["quoteCreate"]["accessKey"] is None) == (email is not None)
        else:
            assert body["data"]["quoteCreate"] is None
            assert [e["extensions"]["code"] for e in body["errors"]] == [creates]
            assert await stored_quotes(api) == before
        read = await api.query(email, READ, id=summit["id"])
        assert "errors" not in read, read
        assert (read["data"]["quote"] is not None) is reads_summit_quote, email
        if reads_summit_quote:
            assert read["data"]["quote"]["plans"] == summit["plans"]
        listed = await api.query(email, LIST, first=50)
        if lists in {"UNAUTHENTICATED", "FORBIDDEN"}:
            assert listed["data"] is None
            assert [e["extensions"]["code"] for e in listed["errors"]] == [lists]
            continue
        numbers = [edge["node"]["number"] for edge in listed["data"]["quotes"]["edges"]]
        assert (summit["number"] in numbers) is (lists == "all" or email == BROKER), email
        assert (other["number"] in numbers) is (lists == "all" or email == OTHER_BROKER), email


async def agency_quotes(api: Api) -> list[str]:
    body = await api.query(BROKER, LIST, first=100)
    return [e["node"]["number"] for e in body["data"]["quotes"]["edges"]]


async def test_quotes_list_newest_first_in_pages_with_constant_statements(api: Api) -> None:
    demo = await agency_quotes(api)  # the agency's quotes in the demo, newest first
    made = [(await create(api, BROKER))["quote"]["number"] for _ in range(4)]
    first = await api.query(BROKER, LIST, first=3)
    page = first["data"]["quotes"]
    assert [e["node"]["number"] for e in page["edges"]] == made[::-1][:3]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await api.query(BROKER, LIST, first=100, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["number"] for e in rest["data"]["quotes"]["edges"]] == made[:1] + demo
    assert rest["data"]["quotes"]["pageInfo"]["hasNextPage"] is False
    counted = []
    for size in (1, 4):
        with statements(api.app.state.database.engine) as seen:
            body = await api.query(BROKER, LIST, first=size)
        assert len(body["data"]["quotes"]["edges"]) == size
        counted.append(len(seen))
    # The caller, the page, then one batch each: quoted plans, plans, benefits. Measured: 6 on
    # both databases.
    assert counted[0] == counted[1] <= 6, counted


async def test_bad_quote_input_names_each_field_and_stores_nothing(api: Api) -> None:
    scal = min(await region_plans(api, "SCAL"))
    ncal = sorted(await region_plans(api, "NCAL"))
    async with api.app.state.database.reader.connect() as connection:
        withdrawn = await connection.scalar(select(Plan.id).where(Plan.is_offered.is_(False)))
    assert withdrawn is not None
    prospect = quote_input()["prospect"]
    census = quote_input()["census"]
    cases: list[tuple[dict[str, Any], list[tuple[str | None, str]]]] = [
        ({"employeeCount": 5}, [("input.census", "INVALID")]),
        ({"census": None}, [("input.census", "REQUIRED")]),
        ({"census": [{"tier": "EMPLOYEE", "employees": 0}]}, [("input.census", "INVALID")]),
        (
            {"census": [{"tier": "FAMILY", "employees": 1}, {"tier": "FAMILY", "employees": 2}]},
            [("input.census[1].tier", "INVALID")],
        ),
        (
            {"census": [{"tier": "FAMILY", "employees": -1}]},
            [("input.census[0].employees", "INVALID")],
        ),
        ({"census": None, "employeeCount": 0}, [("input.employeeCount", "INVALID")]),
        ({"census": None, "employeeCount": 10_001}, [("input.employeeCount", "INVALID")]),
        (
            {"prospect": {**prospect, "name": "  "}, "planIds": []},
            [("input.prospect.name", "REQUIRED"), ("input.planIds", "REQUIRED")],
        ),
        ({"prospect": {**prospect, "name": "x" * 201}}, [("input.prospect.name", "INVALID")]),
        ({"prospect": {**prospect, "name": "12345"}}, [("input.prospect.name", "INVALID")]),
        ({"prospect": {**prospect, "region": "MARS"}}, [("input.prospect.region", "INVALID")]),
        (
            {"prospect": {**prospect, "postalCode": "9461"}},
            [("input.prospect.postalCode", "INVALID")],
        ),
        (
            {"prospect": {**prospect, "postalCode": "\uff19\uff14\uff16\uff11\uff12"}},
            [("input.prospect.postalCode", "INVALID")],
        ),
        (
            {"planIds": [gid("Plan", ncal[0]), gid("Plan", scal), gid("Plan", withdrawn)]},
            [("input.planIds[1]", "NOT_FOUND"), ("input.planIds[2]", "NOT_FOUND")],
        ),
        (
            {"planIds": [gid("Plan", ncal[0]), "nonsense", gid("Plan", ncal[0])]},
            [("input.planIds[1]", "INVALID"), ("input.planIds[2]", "INVALID")],
        ),
        ({"planIds": [gid("Plan", ncal[0])] * 21}, [("input.planIds", "INVALID")]),
    ]
    before = await stored_quotes(api)
    for changes, expected in cases:
        payload = await create(api, BROKER, **{"census": census, **changes})
        assert payload["quote"] is None, changes
        assert [(e["field"], e["code"]) for e in payload["errors"]] == expected, (changes, payload)
        assert all(e["message"] for e in payload["errors"])
    assert await stored_quotes(api) == before


NAMES = st.text(max_size=210)
CENSUS = st.lists(
    st.fixed_dictionaries(
        {
            "tier": st.sampled_from(TIERS),
            "employees": st.integers(min_value=-(2**31), max_value=2**31 - 1),
        }
    ),
    max_size=6,
)
PLAN_IDS = st.lists(
    st.text(max_size=20)
    | st.builds(gid, st.sampled_from(["Plan", "Quote"]), st.integers(-3, 10**19)),
    max_size=22,
)


@settings(
    max_examples=25,
    deadline=None,
    # Examples share the one served database: each answer stands on its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=NAMES,
    region=st.sampled_from(["NCAL", "SCAL", "ncal", "", "X" * 9]) | st.text(max_size=9),
    postal=st.text(max_size=12),
    census=st.none() | CENSUS,
    count=st.none() | st.integers(min_value=-(2**31), max_value=2**31 - 1),
    plans=st.none() | PLAN_IDS,
)
async def test_arbitrary_quote_input_never_fails_the_server(
    api: Api,
    name: str,
    region: str,
    postal: str,
    census: list[dict[str, Any]] | None,
    count: int | None,
    plans: list[str] | None,
) -> None:
    given = {
        "prospect": {"name": name, "region": region, "postalCode": postal},
        "census": census,
        "employeeCount": count,
        "planIds": plans,
    }
    body = await api.query(BROKER, CREATE, input=given)
    assert "errors" not in body, body
    payload = body["data"]["quoteCreate"]
    assert (payload["quote"] is None) == bool(payload["errors"])
