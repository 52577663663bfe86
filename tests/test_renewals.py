"""The renewal window, the renewal offer and `renewalCompare`, through the endpoint."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from data.models.groups import Group
from data.models.members import Coverage, Member
from data.models.plans import Plan, PlanBenefits, PlanRate
from data.models.renewals import Renewal, RenewalOption
from tests.conftest import Api, statements

ADMIN = "admin@acme.example"
RENEWAL = """
query ($n: String!) {
  group(groupNumber: $n) {
    renewal {
      effectiveDate planYear status isOpen opensOn closesOn
      currentPlans { kind plan { id code } rates {
        tier monthlyRate { amount currency } currentMonthlyRate { amount }
        change { amount currency } changePercent
      } }
      alternativePlans { kind plan { id code } rates { tier monthlyRate { amount } } }
    }
  }
}"""
COMPARE = """
query ($g: ID!, $p: [ID!]!) {
  renewalCompare(groupId: $g, planIds: $p) {
    errors { field code message }
    comparison {
      renewal { planYear status }
      census { tier subscribers }
      plans {
        kind plan { id code }
        rates { tier monthlyRate { amount } }
        projectedMonthlyPremium { amount currency }
        benefits {
          planYear deductibleIndividual { amount } outOfPocketMaxIndividual { amount }
          primaryCareCopay { amount } specialistCopay { amount }
        }
      }
    }
  }
}"""


def gid(kind: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def utc_today() -> date:
    return datetime.now(UTC).date()


async def acme_group(api: Api) -> tuple[int, str]:
    async with api.app.state.database.reader.connect() as connection:
        row = (
            await connection.execute(
                select(Group.id, Group.group_number).where(Group.legal_name.startswith("Acme"))
            )
        ).one()
    return row.id, row.group_number


async def offered(api: Api, group_id: int) -> tuple[int, dict[int, str]]:
    """The plan year of the group's renewal and its options' plan ids with their kind."""
    async with api.app.state.database.reader.connect() as connection:
        renewal = (
            await connection.execute(
                select(Renewal.id, Renewal.plan_year)
                .join(Group, Group.id == Renewal.group_id)
                .where(Group.id == group_id, Renewal.effective_date == Group.renewal_date)
            )
        ).one()
        rows = await connection.execute(
            select(RenewalOption.plan_id, RenewalOption.kind).where(
                RenewalOption.renewal_id == renewal.id
            )
        )
        return renewal.plan_year, {row.plan_id: str(row.kind) for row in rows}


async def move_renewal(api: Api, group_id: int, effective: date) -> None:
    """The group's renewal date and its prepared renewal, moved to `effective`."""
    async with api.app.state.database.engine.begin() as connection:
        old = await connection.scalar(select(Group.renewal_date).where(Group.id == group_id))
        await connection.execute(
            update(Renewal)
            .where(Renewal.group_id == group_id, Renewal.effective_date == old)
            .values(effective_date=effective)
        )
        await connection.execute(
            update(Group).where(Group.id == group_id).values(renewal_date=effective)
        )


@pytest.mark.parametrize(
    ("days_ahead", "status"),
    [(76, "NOT_OPEN"), (75, "OPEN"), (1, "OPEN"), (0, "OPEN"), (-1, "CLOSED")],
)
async def test_window_opens_75_days_before_and_closes_after_the_effective_date(
    api: Api, days_ahead: int, status: str
) -> None:
    group_id, number = await acme_group(api)
    effective = utc_today() + timedelta(days=days_ahead)
    await move_renewal(api, group_id, effective)
    body = await api.query(ADMIN, RENEWAL, n=number)
    assert "errors" not in body, body
    renewal = body["data"]["group"]["renewal"]
    assert renewal["status"] == status
    assert renewal["isOpen"] is (status == "OPEN")
    assert renewal["effectiveDate"] == effective.isoformat()
    assert renewal["opensOn"] == (effective - timedelta(days=75)).isoformat()
    assert renewal["closesOn"] == effective.isoformat()
    assert renewal["currentPlans"], "the prepared offer moves with the renewal"


def half_even_tenths(value: Fraction) -> str:
    """`value` to one decimal, half to even, by integer arithmetic."""
    scaled = value * 10
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * rest
    if twice > scaled.denominator or (twice == scaled.denominator and whole % 2 == 1):
        whole += 1
    sign = "-" if whole < 0 else ""
    return f"{sign}{abs(whole) // 10}.{abs(whole) % 10}"


async def test_offer_shows_renewal_rates_with_exact_changes(api: Api) -> None:
    group_id, number = await acme_group(api)
    plan_year, options = await offered(api, group_id)
    async with api.app.state.database.reader.connect() as connection:
        rows = await connection.execute(
            select(
                PlanRate.plan_id, PlanRate.plan_year, PlanRate.tier, PlanRate.monthly_rate_cents
            ).where(
                PlanRate.plan_id.in_(options), PlanRate.plan_year.in_([plan_year - 1, plan_year])
            )
        )
        rates = {(r.plan_id, r.plan_year, str(r.tier)): r.monthly_rate_cents for r in rows}
    body = await api.query(ADMIN, RENEWAL, n=number)
    assert "errors" not in body, body
    renewal = body["data"]["group"]["renewal"]
    assert renewal["planYear"] == plan_year
    shown = {offer["plan"]["id"]: offer for offer in renewal["currentPlans"]}
    current = {gid("Plan", p) for p, kind in options.items() if kind == "CURRENT"}
    alternatives = {gid("Plan", p) for p, kind in options.items() if kind == "ALTERNATIVE"}
    assert set(shown) == current
    assert current
    assert {offer["plan"]["id"] for offer in renewal["alternativePlans"]} == alternatives
    assert alternatives
    checked = 0
    for plan_id in options:
        if options[plan_id] != "CURRENT":
            continue
        offer = shown[gid("Plan", plan_id)]
        assert offer["kind"] == "CURRENT"
        assert [rate["tier"] for rate in offer["rates"]] == [
            "EMPLOYEE", "EMPLOYEE_SPOUSE", "EMPLOYEE_CHILDREN", "FAMILY"
        ]  # fmt: skip
        for rate in offer["rates"]:
            new = rates[(plan_id, plan_year, rate["tier"])]
            old = rates[(plan_id, plan_year - 1, rate["tier"])]
            assert rate["monthlyRate"] == {"amount": new, "currency": "USD"}
            assert rate["currentMonthlyRate"] == {"amount": old}
            assert rate["change"] == {"amount": new - old, "currency": "USD"}
            assert rate["changePercent"] == half_even_tenths(Fraction(100 * (new - old), old))
            checked += 1
    assert checked >= 8
    for offer in renewal["alternativePlans"]:
        plan_id = next(p for p in options if gid("Plan", p) == offer["plan"]["id"])
        assert [rate["monthlyRate"]["amount"] for rate in offer["rates"]] == [
            rates[(plan_id, plan_year, rate["tier"])] for rate in offer["rates"]
        ]


def test_half_even_reference_rounding() -> None:
    assert half_even_tenths(Fraction(5, 100)) == "0.0"
    assert half_even_tenths(Fraction(15, 100)) == "0.2"
    assert half_even_tenths(Fraction(-15, 100)) == "-0.2"
    assert half_even_tenths(Fraction(449, 100)) == "4.5"


async def census(api: Api, group_id: int, day: date) -> dict[str, int]:
    """Counted in Python from the rows: ACTIVE subscribers by their coverage in force today."""
    async with api.app.state.database.reader.connect() as connection:
        members = {
            row.id: row
            for row in await connection.execute(
                select(Member.id, Member.relationship, Member.status).where(
                    Member.group_id == group_id
                )
            )
        }
        coverages = list(
            await connection.execute(
                select(
                    Coverage.member_id,
                    Coverage.tier,
                    Coverage.effective_date,
                    Coverage.termination_date,
                ).where(Coverage.member_id.in_(members))
            )
        )
    counted: dict[str, int] = {}
    for coverage in coverages:
        member = members[coverage.member_id]
        if str(member.relationship) != "SUBSCRIBER" or str(member.status) != "ACTIVE":
            continue
        ended = coverage.termination_date is not None and coverage.termination_date < day
        if coverage.effective_date <= day and not ended:
            counted[str(coverage.tier)] = counted.get(str(coverage.tier), 0) + 1
    return counted


async def test_compare_projects_the_census_premium_and_shows_benefits(api: Api) -> None:
    group_id, _ = await acme_group(api)
    plan_year, options = await offered(api, group_id)
    chosen = sorted(options)[:4]
    counted = await census(api, group_id, utc_today())
    assert sum(counted.values()) > 0
    async with api.app.state.database.reader.connect() as connection:
        rows = await connection.execute(
            select(PlanRate.plan_id, PlanRate.tier, PlanRate.monthly_rate_cents).where(
                PlanRate.plan_id.in_(chosen), PlanRate.plan_year == plan_year
            )
        )
        rates = {(r.plan_id, str(r.tier)): r.monthly_rate_cents for r in rows}
        benefits = {
            row.plan_id: row
            for row in await connection.execute(
                select(PlanBenefits).where(
                    PlanBenefits.plan_id.in_(chosen), PlanBenefits.plan_year == plan_year
                )
            )
        }
        codes = dict(
            (await connection.execute(select(Plan.id, Plan.code).where(Plan.id.in_(chosen)))).all()
        )
    body = await api.query(
        ADMIN, COMPARE, g=gid("Group", group_id), p=[gid("Plan", p) for p in chosen]
    )
    assert "errors" not in body, body
    payload = body["data"]["renewalCompare"]
    assert payload["errors"] == []
    comparison = payload["comparison"]
    assert comparison["renewal"]["planYear"] == plan_year
    assert {
        c["tier"]: c["subscribers"] for c in comparison["census"] if c["subscribers"]
    } == counted
    assert [p["plan"]["id"] for p in comparison["plans"]] == [gid("Plan", p) for p in chosen]
    for plan_id, shown in zip(chosen, comparison["plans"], strict=True):
        assert shown["plan"]["code"] == codes[plan_id]
        assert shown["kind"] == options[plan_id]
        expected = sum(n * rates[(plan_id, tier)] for tier, n in counted.items())
        assert shown["projectedMonthlyPremium"] == {"amount": expected, "currency": "USD"}
        assert {r["tier"]: r["monthlyRate"]["amount"] for r in shown["rates"]} == {
            tier: cents for (p, tier), cents in rates.items() if p == plan_id
        }
        row = benefits[plan_id]
        assert shown["benefits"] == {
            "planYear": plan_year,
            "deductibleIndividual": {"amount": row.deductible_individual_cents},
            "outOfPocketMaxIndividual": {"amount": row.oop_max_individual_cents},
            "primaryCareCopay": {"amount": row.primary_care_copay_cents},
            "specialistCopay": {"amount": row.specialist_copay_cents},
        }


COMPARE_STATEMENTS = 9


async def test_comparing_one_or_four_plans_takes_the_same_statements(api: Api) -> None:
    group_id, _ = await acme_group(api)
    _, options = await offered(api, group_id)
    chosen = [gid("Plan", p) for p in sorted(options)[:4]]
    assert len(chosen) == 4
    counted = []
    for plan_ids in (chosen[:1], chosen):
        with statements(api.app.state.database.engine) as seen:
            body = await api.query(ADMIN, COMPARE, g=gid("Group", group_id), p=plan_ids)
        assert body["data"]["renewalCompare"]["errors"] == [], body
        counted.append(len(seen))
    assert counted[0] == counted[1], counted
    # The caller's user and access, then one each: group, renewal, options, plans, rates,
    # benefits, census. Measured: 9 on both databases.
    assert counted[0] <= COMPARE_STATEMENTS, counted


async def not_offered_plan(api: Api, options: dict[int, str]) -> int:
    async with api.app.state.database.reader.connect() as connection:
        found = await connection.scalar(
            select(Plan.id).where(Plan.id.not_in(options)).order_by(Plan.id).limit(1)
        )
    assert found is not None
    return int(found)


async def test_compare_refuses_bad_arguments_with_field_errors(api: Api) -> None:
    group_id, _ = await acme_group(api)
    _, options = await offered(api, group_id)
    plans = [gid("Plan", p) for p in sorted(options)]
    other = gid("Plan", await not_offered_plan(api, options))
    group = gid("Group", group_id)
    cases: list[tuple[str, list[str], list[tuple[str, str]]]] = [
        (group, [], [("planIds", "REQUIRED")]),
        (group, (plans * 5)[:5], [("planIds", "INVALID")]),
        (group, [plans[0], plans[1], plans[0]], [("planIds.2", "INVALID")]),
        (group, [plans[0], other], [("planIds.1", "NOT_FOUND")]),
        (group, ["not-an-id", plans[0]], [("planIds.0", "INVALID")]),
        (group, [gid("Group", group_id)], [("planIds.0", "INVALID")]),
        ("not-an-id", [plans[0]], [("groupId", "NOT_FOUND")]),
        (gid("Group", 10**15), [plans[0]], [("groupId", "NOT_FOUND")]),
        (gid("Plan", group_id), [plans[0]], [("groupId", "NOT_FOUND")]),
    ]
    for group_arg, plan_args, expected in cases:
        body = await api.query(ADMIN, COMPARE, g=group_arg, p=plan_args)
        assert "errors" not in body, body
        payload = body["data"]["renewalCompare"]
        assert payload["comparison"] is None, (plan_args, payload)
        assert [(e["field"], e["code"]) for e in payload["errors"]] == expected, payload
        assert all(e["message"] for e in payload["errors"])


PERSONA = """
query ($n: String!) { group(groupNumber: $n) { legalName renewal { status planYear } } }"""


@pytest.mark.parametrize(
    ("email", "sees_group", "reads_renewal"),
    [
        ("admin@acme.example", True, True),
        ("broker@summit.example", True, True),
        ("accounts@carrier.example", True, True),
        ("billing@acme.example", True, False),
        ("admin@globex.example", False, False),
    ],
)
async def test_who_reads_the_renewal(
    api: Api, email: str, sees_group: bool, reads_renewal: bool
) -> None:
    group_id, number = await acme_group(api)
    _, options = await offered(api, group_id)
    body = await api.query(email, PERSONA, n=number)
    group = body["data"]["group"]
    compare = await api.query(
        email, COMPARE, g=gid("Group", group_id), p=[gid("Plan", min(options))]
    )
    payload = compare["data"]["renewalCompare"]
    if not sees_group:
        assert group is None
        assert "errors" not in body
        assert payload["comparison"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("groupId", "NOT_FOUND")]
    elif not reads_renewal:
        assert group["renewal"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
        assert payload["comparison"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("groupId", "FORBIDDEN")]
    else:
        assert "errors" not in body, body
        assert group["renewal"]["status"] in {"NOT_OPEN", "OPEN", "CLOSED"}
        assert payload["errors"] == []
        assert payload["comparison"]["plans"]


async def test_a_group_without_a_prepared_renewal_has_a_window_and_no_offer(api: Api) -> None:
    group_id, number = await acme_group(api)
    effective = utc_today() + timedelta(days=400)
    async with api.app.state.database.engine.begin() as connection:
        await connection.execute(
            update(Group).where(Group.id == group_id).values(renewal_date=effective)
        )
    body = await api.query(ADMIN, RENEWAL, n=number)
    assert "errors" not in body, body
    renewal = body["data"]["group"]["renewal"]
    assert renewal["status"] == "NOT_OPEN"
    assert renewal["planYear"] == effective.year
    assert renewal["currentPlans"] == []
    assert renewal["alternativePlans"] == []
    compare = await api.query(ADMIN, COMPARE, g=gid("Group", group_id), p=[gid("Plan", 1)])
    assert [(e["field"], e["code"]) for e in compare["data"]["renewalCompare"]["errors"]] == [
        ("planIds.0", "NOT_FOUND")
    ]


IDS = st.text(max_size=40) | st.builds(
    gid, st.sampled_from(["Plan", "Group", "Member"]), st.integers(min_value=-5, max_value=10**19)
)


@settings(
    max_examples=30,
    deadline=None,
    # Examples share the one served database: each answer stands on its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(group=IDS, plans=st.lists(IDS, max_size=6))
async def test_arbitrary_compare_input_never_fails_the_server(
    api: Api, group: str, plans: list[str]
) -> None:
    body = await api.query(ADMIN, COMPARE, g=group, p=plans)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["renewalCompare"]
    assert (payload["comparison"] is None) == bool(payload["errors"])
