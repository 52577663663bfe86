"""The demo data set: idempotent, deterministic, and consistent with the product's rules."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Integer, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from authz.privileges import Privilege, Role
from data import migrate
from data.database import create_engine
from data.demo import DemoSummary, load_demo, names
from data.demo.design import company_names, demo_ssn, design_group, document_content
from data.models import (
    Agency,
    Base,
    Bill,
    BrokerOfRecord,
    CommissionSchedule,
    Group,
    Payment,
    PlanRate,
    Quote,
    QuotePlan,
    Renewal,
    RenewalChangeRequest,
    User,
)
from data.normalize import ssn_hash
from resolvers.renewal_changes.parts import Parts
from tests.conftest import Api
from tests.databases import fresh_database

SECRET_KEY = b"test-only-demo-secret-key-0123456789"
TODAY = date(2026, 3, 14)
SMALL_GROUPS = 8
RENEWAL_WINDOW_DAYS = 75  # a renewal opens this long before its effective date


async def _load(engine: AsyncEngine, groups: int = SMALL_GROUPS) -> DemoSummary:
    return await load_demo(
        engine, secret_key=SECRET_KEY, groups=groups, max_members=40, today=TODAY
    )


async def _row_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            name: (await connection.execute(select(func.count()).select_from(table))).scalar_one()
            for name, table in Base.metadata.tables.items()
        }


async def _rows(engine: AsyncEngine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql), params)]


async def _typed(engine: AsyncEngine, statement: Any) -> list[tuple[Any, ...]]:
    """Rows of a SELECT built on the models: dates, times and JSON typed on both databases."""
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(statement)]


@pytest.fixture(scope="module")
async def demo_engine(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """One small demo data set per backend, shared by the read-only checks below."""
    async with fresh_database(backend, tmp_path_factory.mktemp("demo")) as url:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
            await _load(engine)
            yield engine
        finally:
            await engine.dispose()


async def test_loading_twice_adds_nothing_and_more_groups_only_add(
    migrated_engine: AsyncEngine,
) -> None:
    before = await _row_counts(migrated_engine)
    first = await _load(migrated_engine)
    loaded = await _row_counts(migrated_engine)
    assert first.inserted == {name: loaded[name] - before[name] for name in loaded}
    assert first.inserted["groups"] == SMALL_GROUPS

    second = await _load(migrated_engine)
    assert second.total == 0
    assert set(second.inserted.values()) == {0}
    assert await _row_counts(migrated_engine) == loaded

    members_sql = "SELECT member_number, first_name, ssn_hash FROM members ORDER BY member_number"
    members = await _rows(migrated_engine, members_sql)
    larger = await _load(migrated_engine, groups=SMALL_GROUPS + 2)
    assert larger.inserted["groups"] == 2
    for reference_table in ("plans", "plan_rates", "plan_benefits", "agencies"):
        assert larger.inserted[reference_table] == 0
    assert (await _rows(migrated_engine, members_sql))[: len(members)] == members


async def test_same_arguments_give_the_same_data(
    migrated_engine: AsyncEngine, backend: str, tmp_path: Path
) -> None:
    fingerprint = (
        "SELECT g.group_number, g.legal_name, m.member_number, m.first_name, m.last_name,"
        " m.birth_date, m.ssn_hash, c.tier"
        " FROM members m JOIN groups g ON g.id = m.group_id"
        " JOIN coverages c ON c.member_id = m.id ORDER BY m.member_number, c.effective_date"
    )
    bills = "SELECT bill_number, amount_cents FROM bills ORDER BY bill_number"
    users = "SELECT email, name FROM users ORDER BY email"
    await _load(migrated_engine)
    async with fresh_database(backend, tmp_path) as url:
        second = create_engine(url)
        try:
            await migrate.upgrade(second)
            await _load(second)
            for sql in (fingerprint, bills, users):
                assert await _rows(second, sql) == await _rows(migrated_engine, sql)
        finally:
            await second.dispose()


@pytest.mark.parametrize(
    ("groups", "max_members", "named"),
    [(2, 2000, "groups"), (250, 2, "max_members"), (250, 10_000, "max_members")],
)
async def test_out_of_range_arguments_are_refused(
    groups: int, max_members: int, named: str
) -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:")  # refused before it connects
    try:
        with pytest.raises(ValueError, match=f"^{named} "):
            await load_demo(engine, secret_key=SECRET_KEY, groups=groups, max_members=max_members)
    finally:
        await engine.dispose()


def test_default_arguments_give_skewed_sizes_and_open_renewals() -> None:
    companies = company_names(7)
    designs = [design_group(index, 7, 2000, TODAY, companies) for index in range(250)]
    sizes = sorted(sum(1 + len(f.dependents) for f in design.families) for design in designs)
    assert 30_000 <= sum(sizes) <= 50_000
    assert sizes[len(sizes) // 2] < 50
    assert sizes[-1] > 1_000
    days_ahead = [(design.renewal_date - TODAY).days for design in designs]
    assert sum(0 < days <= RENEWAL_WINDOW_DAYS for days in days_ahead) >= len(designs) // 10


# Each query counts the rows that break the rule; the rule holds when it counts none.
INVARIANTS = [
    (
        "dependents hang off a subscriber of their own group",
        "SELECT count(*) FROM members d LEFT JOIN members s ON s.id = d.subscriber_id"
        " WHERE d.subscriber_id IS NOT NULL"
        " AND (s.id IS NULL OR s.relationship <> 'SUBSCRIBER' OR s.group_id <> d.group_id)",
    ),
    (
        "a coverage's tier follows the family's dependents",
        "SELECT count(*) FROM coverages c JOIN members m ON m.id = c.member_id"
        " JOIN (SELECT s.id,"
        "  EXISTS (SELECT 1 FROM members p WHERE p.subscriber_id = s.id"
        "   AND p.relationship IN ('SPOUSE', 'DOMESTIC_PARTNER')) AS partner,"
        "  EXISTS (SELECT 1 FROM members k WHERE k.subscriber_id = s.id"
        "   AND k.relationship = 'CHILD') AS children"
        "  FROM members s WHERE s.subscriber_id IS NULL) f"
        " ON f.id = COALESCE(m.subscriber_id, m.id)"
        " WHERE c.tier <> CASE WHEN f.partner AND f.children THEN 'FAMILY'"
        "  WHEN f.partner THEN 'EMPLOYEE_SPOUSE' WHEN f.children THEN 'EMPLOYEE_CHILDREN'"
        "  ELSE 'EMPLOYEE' END",
    ),
    (
        "children are under 26 unless disabled",
        "SELECT count(*) FROM members WHERE relationship = 'CHILD' AND NOT is_disabled"
        " AND birth_date <= :twenty_six_years_ago",
    ),
    (
        "members of a group with divisions are in one of its divisions",
        "SELECT count(*) FROM members m LEFT JOIN divisions d ON d.id = m.division_id"
        " WHERE (m.division_id IS NULL"
        "   AND EXISTS (SELECT 1 FROM divisions o WHERE o.group_id = m.group_id))"
        " OR d.group_id <> m.group_id",
    ),
    (
        "every member has a coverage on a plan of its group's contracts",
        "SELECT count(*) FROM members m WHERE NOT EXISTS (SELECT 1 FROM coverages c"
        " JOIN contract_plans cp ON cp.plan_id = c.plan_id"
        " JOIN contracts k ON k.id = cp.contract_id"
        " WHERE c.member_id = m.id AND k.group_id = m.group_id)",
    ),
    (
        "terminated members have an ended coverage, active ones an open one",
        "SELECT count(*) FROM members m WHERE NOT EXISTS (SELECT 1 FROM coverages c"
        " WHERE c.member_id = m.id AND (c.termination_date IS NULL) = (m.status = 'ACTIVE'))",
    ),
    (
        "bill lines are for subscribers of the bill's group",
        "SELECT count(*) FROM bill_lines l JOIN bills b ON b.id = l.bill_id"
        " JOIN members m ON m.id = l.subscriber_id"
        " WHERE m.relationship <> 'SUBSCRIBER' OR m.group_id <> b.group_id",
    ),
    (
        "a bill line charges the rate of its plan in the contract then in force",
        "SELECT count(*) FROM bill_lines l JOIN bills b ON b.id = l.bill_id"
        " LEFT JOIN contracts k ON k.group_id = b.group_id"
        "  AND b.period BETWEEN k.start_date AND k.end_date"
        " LEFT JOIN contract_plans cp ON cp.contract_id = k.id AND cp.plan_id = l.plan_id"
        " LEFT JOIN plan_rates r ON r.plan_id = l.plan_id AND r.plan_year = k.plan_year"
        "  AND r.tier = l.tier"
        " WHERE cp.id IS NULL OR r.id IS NULL OR r.monthly_rate_cents <> l.amount_cents",
    ),
    (
        "a bill's amount is the sum of its lines and adjustments",
        "SELECT count(*) FROM bills b WHERE b.amount_cents <>"
        " COALESCE((SELECT sum(amount_cents) FROM bill_lines l WHERE l.bill_id = b.id), 0)"
        " + COALESCE((SELECT sum(amount_cents) FROM bill_adjustments a WHERE a.bill_id = b.id), 0)",
    ),
    (
        "every group has twelve monthly bills unless it left",
        "SELECT count(*) FROM groups g WHERE g.status = 'ACTIVE'"
        " AND (SELECT count(*) FROM bills b WHERE b.group_id = g.id) <> 12",
    ),
    (
        "a group's employee count is its subscribers covered today, not on COBRA",
        "SELECT count(*) FROM groups g WHERE g.status = 'ACTIVE' AND g.employee_count <>"
        " (SELECT count(*) FROM members s WHERE s.group_id = g.id AND s.subscriber_id IS NULL"
        "  AND EXISTS (SELECT 1 FROM coverages c WHERE c.member_id = s.id AND NOT c.is_cobra"
        "   AND c.effective_date <= :today"
        "   AND (c.termination_date IS NULL OR c.termination_date >= :today)))",
    ),
    (
        "a payment pays a bill of its own group",
        "SELECT count(*) FROM payments p LEFT JOIN bills b ON b.id = p.bill_id"
        " WHERE b.id IS NULL OR b.group_id <> p.group_id",
    ),
    (
        "settled payments never exceed the bill",
        "SELECT count(*) FROM bills b WHERE b.amount_cents <"
        " (SELECT COALESCE(sum(p.amount_cents), 0) FROM payments p"
        "  WHERE p.bill_id = b.id AND p.status = 'SETTLED')",
    ),
    (
        "autopay payments come from groups with an active mandate",
        "SELECT count(*) FROM payments p WHERE p.method = 'AUTOPAY' AND NOT EXISTS"
        " (SELECT 1 FROM autopay_mandates a WHERE a.group_id = p.group_id"
        "  AND a.status = 'ACTIVE' AND length(a.routing_number) = 9)",
    ),
    (
        "tier rates rise from EMPLOYEE to EMPLOYEE_CHILDREN to EMPLOYEE_SPOUSE to FAMILY",
        "SELECT count(*) FROM plan_rates e"
        " JOIN plan_rates c ON c.plan_id = e.plan_id AND c.plan_year = e.plan_year"
        "  AND c.tier = 'EMPLOYEE_CHILDREN'"
        " JOIN plan_rates s ON s.plan_id = e.plan_id AND s.plan_year = e.plan_year"
        "  AND s.tier = 'EMPLOYEE_SPOUSE'"
        " JOIN plan_rates f ON f.plan_id = e.plan_id AND f.plan_year = e.plan_year"
        "  AND f.tier = 'FAMILY'"
        " WHERE e.tier = 'EMPLOYEE' AND NOT (e.monthly_rate_cents < c.monthly_rate_cents"
        "  AND c.monthly_rate_cents < s.monthly_rate_cents"
        "  AND s.monthly_rate_cents < f.monthly_rate_cents)",
    ),
    (
        "next plan year's rates are 5 to 9 percent higher than this year's",
        "SELECT count(*) FROM plans p WHERE NOT EXISTS (SELECT 1 FROM plan_rates r"
        "  JOIN plan_rates n ON n.plan_id = r.plan_id AND n.tier = r.tier"
        "  AND n.plan_year = r.plan_year + 1"
        "  WHERE r.plan_id = p.id AND r.plan_year = :this_year)"
        " OR EXISTS (SELECT 1 FROM plan_rates r"
        "  JOIN plan_rates n ON n.plan_id = r.plan_id AND n.tier = r.tier"
        "  AND n.plan_year = r.plan_year + 1"
        "  WHERE r.plan_id = p.id AND r.plan_year = :this_year"
        "  AND n.monthly_rate_cents * 1000 NOT BETWEEN r.monthly_rate_cents * 1049"
        "  AND r.monthly_rate_cents * 1091)",
    ),
    (
        "every group has one officer and one primary administrator",
        "SELECT count(*) FROM groups g WHERE"
        " (SELECT count(*) FROM access_grants a WHERE a.group_id = g.id"
        "  AND a.role = 'group_officer') <> 1"
        " OR (SELECT count(*) FROM access_grants a WHERE a.group_id = g.id"
        "  AND a.role = 'primary_administrator') <> 1",
    ),
    (
        "exactly one current designation per group, of its administrator, by its officer",
        "SELECT count(*) FROM groups g WHERE 1 <> (SELECT count(*)"
        " FROM primary_administrator_designations d"
        " JOIN access_grants admin ON admin.user_id = d.user_id"
        "  AND admin.group_id = d.group_id AND admin.role = 'primary_administrator'"
        " JOIN access_grants officer ON officer.user_id = d.designated_by_user_id"
        "  AND officer.group_id = d.group_id AND officer.role = 'group_officer'"
        " WHERE d.group_id = g.id AND d.ended_at IS NULL AND d.channel = 'OFFICER')",
    ),
    (
        "a renewal is prepared for every active group within 120 days of its renewal date",
        "SELECT count(*) FROM groups g LEFT JOIN renewals r ON r.group_id = g.id"
        " WHERE (r.id IS NOT NULL) <> (g.status = 'ACTIVE' AND g.renewal_date <= :in_120_days)"
        " OR r.effective_date <> g.renewal_date",
    ),
    (
        "a renewal offers the current plans and two or three alternatives",
        "SELECT count(*) FROM renewals r WHERE"
        " (SELECT count(*) FROM renewal_options o WHERE o.renewal_id = r.id"
        "  AND o.kind = 'ALTERNATIVE') NOT BETWEEN 2 AND 3"
        " OR EXISTS (SELECT 1 FROM renewal_options o WHERE o.renewal_id = r.id"
        "  AND o.kind = 'CURRENT' AND NOT EXISTS (SELECT 1 FROM contracts k"
        "   JOIN contract_plans cp ON cp.contract_id = k.id"
        "   WHERE k.group_id = r.group_id AND cp.plan_id = o.plan_id"
        "   AND :today BETWEEN k.start_date AND k.end_date))",
    ),
    (
        "each group has its contract documents and an arbitration agreement",
        "SELECT count(*) FROM groups g WHERE"
        " (SELECT count(*) FROM documents d WHERE d.group_id = g.id"
        "  AND d.kind = 'ARBITRATION_AGREEMENT') <> 1"
        " OR EXISTS (SELECT 1 FROM contracts k WHERE k.group_id = g.id AND NOT EXISTS"
        "  (SELECT 1 FROM documents d WHERE d.contract_id = k.id AND d.kind = 'CONTRACT'))",
    ),
]


@pytest.mark.parametrize("sql", [pytest.param(sql, id=rule) for rule, sql in INVARIANTS])
async def test_invariant(demo_engine: AsyncEngine, sql: str) -> None:
    params = {
        "today": TODAY,
        "this_year": TODAY.year,
        "in_120_days": TODAY + timedelta(days=120),
        "twenty_six_years_ago": TODAY.replace(year=TODAY.year - 26),
    }
    used = {name: value for name, value in params.items() if f":{name}" in sql}
    assert await _rows(demo_engine, sql, **used) == [(0,)]


async def test_some_groups_are_inside_their_renewal_window(demo_engine: AsyncEngine) -> None:
    async with demo_engine.connect() as connection:
        renewal_dates = (await connection.scalars(select(Group.renewal_date))).all()
    days_ahead = [(renewal_date - TODAY).days for renewal_date in renewal_dates]
    inside = [days for days in days_ahead if 0 < days <= RENEWAL_WINDOW_DAYS]
    assert len(inside) >= max(1, len(days_ahead) // 10)


async def test_ssns_are_kept_only_as_keyed_hash_and_last_four(demo_engine: AsyncEngine) -> None:
    members = await _rows(demo_engine, "SELECT member_number, ssn_hash, ssn_last4 FROM members")
    ssns = {}
    for number, hashed, last4 in members:
        if hashed is None:
            assert last4 is None
            continue
        ssn = demo_ssn(number)
        assert re.fullmatch("[0-9a-f]{64}", hashed)
        assert hashed == ssn_hash(ssn, SECRET_KEY)
        assert re.fullmatch("[0-9]{4}", last4)
        assert ssn.endswith(last4)
        ssns[ssn] = number
    assert len(ssns) > len(members) // 2
    forms = set(ssns) | {ssn.replace("-", "") for ssn in ssns}
    clear = []
    async with demo_engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in await connection.execute(select(table)):
                clear += [
                    (table.name, value)
                    for value in row
                    if isinstance(value, str)
                    and forms & set(re.findall(r"\d{3}-\d{2}-\d{4}|\d{9}", value))
                ]
    assert clear == []


async def test_money_is_integer_cents(demo_engine: AsyncEngine) -> None:
    money = [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        # A JSON document of cents per tier (quote_plans.rates_cents) is not a money column.
        if column.name.endswith("_cents") and not isinstance(column.type, JSON)
    ]
    assert money
    assert all(isinstance(column.type, Integer) for column in money)
    async with demo_engine.connect() as connection:
        for column in money:
            values = (await connection.scalars(select(column))).all()
            assert all(value is None or type(value) is int for value in values), column


PERSONA_ACCESS = [
    ("officer@acme.example", {("Acme Manufacturing", None, "group_officer", None)}),
    (
        "admin@acme.example",
        {("Acme Manufacturing", None, "primary_administrator", "officer@acme.example")},
    ),
    (
        "billing@acme.example",
        {
            ("Acme Manufacturing", None, "BILLING_READ", "admin@acme.example"),
            ("Acme Manufacturing", None, "BILLING_PAY", "admin@acme.example"),
        },
    ),
    (
        "hr.east@acme.example",
        {
            ("Acme Manufacturing", "EAST", "MEMBERS_READ", "admin@acme.example"),
            ("Acme Manufacturing", "EAST", "MEMBERS_WRITE", "admin@acme.example"),
        },
    ),
    (
        "admin@globex.example",
        {("Globex Corporation", None, "primary_administrator", "officer@globex.example")},
    ),
    (
        "admin@initech.example",
        {("Initech", None, "primary_administrator", "officer@initech.example")},
    ),
    (
        "viewer@acme.example",
        {
            ("Acme Manufacturing", None, privilege, "admin@acme.example")
            for privilege in (
                "MEMBERS_READ",
                "BILLING_READ",
                "CONTRACTS_READ",
                "DOCUMENTS_READ",
                "RENEWAL_READ",
            )
        },
    ),
    ("rep@carrier.example", {(None, None, "membership_representative", None)}),
    ("accounts@carrier.example", {(None, None, "account_representative", None)}),
    ("broker@summit.example", set()),
]


@pytest.mark.parametrize(("email", "expected"), PERSONA_ACCESS, ids=[e for e, _ in PERSONA_ACCESS])
async def test_persona_access(
    demo_engine: AsyncEngine, email: str, expected: set[tuple[str | None, ...]]
) -> None:
    grants = await _rows(
        demo_engine,
        "SELECT g.legal_name, d.code, COALESCE(a.role, a.privilege), granter.email"
        " FROM access_grants a JOIN users u ON u.id = a.user_id"
        " LEFT JOIN groups g ON g.id = a.group_id LEFT JOIN divisions d ON d.id = a.division_id"
        " LEFT JOIN users granter ON granter.id = a.granted_by_user_id"
        " WHERE u.email = :email AND a.revoked_at IS NULL",
        email=email,
    )
    assert set(grants) == expected
    assert len(grants) == len(expected)


async def test_granted_roles_and_privileges_are_those_of_the_policy(
    demo_engine: AsyncEngine,
) -> None:
    # data/ cannot import authz/, so the demo spells them out; this keeps the two in step.
    granted = await _rows(demo_engine, "SELECT DISTINCT role, privilege FROM access_grants")
    assert {role for role, _ in granted if role is not None} <= set(Role)
    assert {privilege for _, privilege in granted if privilege is not None} <= set(Privilege)


async def test_summit_is_broker_of_record_for_acme_and_globex_not_initech(
    demo_engine: AsyncEngine,
) -> None:
    current = await _rows(
        demo_engine,
        "SELECT g.legal_name FROM brokers_of_record b JOIN agencies a ON a.id = b.agency_id"
        " JOIN groups g ON g.id = b.group_id JOIN users u ON u.agency_id = a.id"
        " WHERE u.email = 'broker@summit.example' AND u.kind = 'BROKER'"
        " AND a.name = 'Summit Benefits' AND b.end_date IS NULL",
    )
    assert {"Acme Manufacturing", "Globex Corporation"} <= {name for (name,) in current}
    assert "Initech" not in {name for (name,) in current}


async def test_persona_group_sizes(demo_engine: AsyncEngine) -> None:
    counts = dict(
        await _rows(
            demo_engine,
            "SELECT g.legal_name, count(*) FROM members m JOIN groups g ON g.id = m.group_id"
            " GROUP BY g.legal_name",
        )
    )
    assert counts["Acme Manufacturing"] >= 120
    assert counts["Initech"] < 20
    east = await _rows(
        demo_engine,
        "SELECT count(*) FROM members m JOIN divisions d ON d.id = m.division_id"
        " JOIN groups g ON g.id = d.group_id"
        " WHERE g.legal_name = 'Acme Manufacturing' AND d.code = 'EAST'",
    )
    assert east[0][0] > 0


async def test_every_agency_has_a_group_in_its_book(demo_engine: AsyncEngine) -> None:
    # The first generated groups are Harborview's, Pacific Crest's and Summit's (Showcase).
    books = await _rows(
        demo_engine,
        "SELECT a.name, count(b.id) FROM agencies a LEFT JOIN brokers_of_record b"
        " ON b.agency_id = a.id AND b.end_date IS NULL GROUP BY a.name",
    )
    assert len(books) == len(names.AGENCIES)
    assert all(groups >= 1 for _, groups in books), books


async def test_renewal_change_requests_to_work(demo_engine: AsyncEngine) -> None:
    requests = await _typed(
        demo_engine,
        select(
            Group.group_number,
            Group.legal_name,
            Renewal.effective_date,
            RenewalChangeRequest.status,
            RenewalChangeRequest.payload,
            User.email,
            RenewalChangeRequest.id,
        )
        .join(Renewal, Renewal.id == RenewalChangeRequest.renewal_id)
        .join(Group, Group.id == Renewal.group_id)
        .join(User, User.id == RenewalChangeRequest.submitted_by_user_id)
        .order_by(Group.group_number),
    )
    assert [(number, status) for number, _, _, status, *_ in requests] == [
        ("G100003", "SUBMITTED"),
        ("G100004", "IN_REVIEW"),
    ]
    for number, legal_name, effective, _, payload, email, request_id in requests:
        assert legal_name not in {persona.legal_name for persona in names.PERSONA_GROUPS}
        assert 0 < (effective - TODAY).days <= RENEWAL_WINDOW_DAYS, number
        # Shaped as the submission stores it; both plans offered at renewal, the member covered.
        assert Parts.from_json(payload).to_json() == payload
        assert payload["effectiveDate"] == effective.isoformat()
        [change] = payload["planChanges"]
        offered = await _rows(
            demo_engine,
            "SELECT o.plan_id, o.kind FROM renewal_options o JOIN renewals r"
            " ON r.id = o.renewal_id JOIN groups g ON g.id = r.group_id"
            " WHERE g.group_number = :number",
            number=number,
        )
        assert (change["fromPlanId"], "CURRENT") in offered
        assert (change["toPlanId"], "ALTERNATIVE") in offered
        [termination] = payload["terminations"]
        member = await _rows(
            demo_engine,
            "SELECT m.relationship, m.status FROM members m JOIN groups g ON g.id = m.group_id"
            " JOIN coverages c ON c.member_id = m.id WHERE m.id = :member"
            " AND g.group_number = :number AND c.effective_date < :effective"
            " AND c.termination_date IS NULL AND NOT c.is_cobra",
            member=termination["memberId"],
            number=number,
            effective=effective,
        )
        assert member == [("SUBSCRIBER", "ACTIVE")]
        administrator = await _rows(
            demo_engine,
            "SELECT u.email FROM access_grants a JOIN users u ON u.id = a.user_id"
            " JOIN groups g ON g.id = a.group_id WHERE g.group_number = :number"
            " AND a.role = 'primary_administrator'",
            number=number,
        )
        assert administrator == [(email,)], "the group's primary administrator submitted it"
        history = await _rows(
            demo_engine,
            "SELECT e.status, u.email FROM renewal_change_events e JOIN users u"
            " ON u.id = e.actor_user_id WHERE e.change_request_id = :request"
            " ORDER BY e.occurred_at",
            request=request_id,
        )
        expected = [("SUBMITTED", email)]
        if number == "G100004":
            expected.append(("IN_REVIEW", names.ACCOUNT_REPRESENTATIVE_EMAIL))
        assert history == expected


async def test_quotes_and_applications_at_every_step(demo_engine: AsyncEngine) -> None:
    quotes = await _typed(
        demo_engine,
        select(
            Quote.quote_number,
            User.email,
            Quote.access_key_hash,
            Quote.expires_at,
            Quote.census,
            Quote.employee_count,
            Quote.effective_date,
            Quote.plan_year,
            Quote.created_at,
        )
        .outerjoin(User, User.id == Quote.created_by_user_id)
        .order_by(Quote.quote_number),
    )
    assert {email for _, email, *_ in quotes} == {
        *(agency.brokers[0].email for agency in names.AGENCIES),
        None,
    }
    prospect_key = hashlib.sha256(names.DEMO_PROSPECT_ACCESS_KEY.encode()).hexdigest()
    assert [number for number, email, key, *_ in quotes if email is None and key] == ["Q9000000005"]
    assert [key for _, email, key, *_ in quotes if email is None] == [prospect_key]
    now = datetime.combine(TODAY, datetime.min.time(), UTC)
    expired = [number for number, _, _, expires_at, *_ in quotes if _aware(expires_at) <= now]
    assert expired == ["Q9000000006"]
    for _, _, _, expires_at, census, count, effective, plan_year, created_at in quotes:
        assert _aware(expires_at) - _aware(created_at) == timedelta(days=60)
        assert sum(census.values()) == count
        assert effective.day == 1
        assert effective > _aware(created_at).date()
        assert plan_year == effective.year
    priced = await _typed(
        demo_engine,
        select(
            Quote.census,
            QuotePlan.rates_cents,
            QuotePlan.projected_monthly_premium_cents,
            PlanRate.tier,
            PlanRate.monthly_rate_cents,
        )
        .join(Quote, Quote.id == QuotePlan.quote_id)
        .join(
            PlanRate,
            (PlanRate.plan_id == QuotePlan.plan_id) & (PlanRate.plan_year == Quote.plan_year),
        ),
    )
    assert len(priced) == 4 * sum(len(quote.plan_codes) for quote in names.QUOTES)
    for census, rates, premium, tier, rate in priced:
        assert rates[tier] == rate  # the catalogue's rate for the quote's plan year
        assert premium == sum(count * rates[t] for t, count in census.items())

    applications = await _rows(
        demo_engine,
        "SELECT a.application_number, q.quote_number, a.status, a.decision_reason,"
        " a.decided_at IS NOT NULL, a.id FROM group_applications a"
        " JOIN quotes q ON q.id = a.quote_id ORDER BY a.application_number",
    )
    assert [(number, status) for number, _, status, *_ in applications] == [
        ("A9000000001", "SUBMITTED"),
        ("A9000000002", "IN_REVIEW"),
        ("A9000000003", "DECLINED"),
    ]
    for number, _, status, reason, decided, application_id in applications:
        assert (reason is not None) is bool(decided) is (status == "DECLINED"), number
        history = await _rows(
            demo_engine,
            "SELECT status, reason FROM group_application_events"
            " WHERE application_id = :id ORDER BY occurred_at",
            id=application_id,
        )
        steps = ["SUBMITTED", "IN_REVIEW", "DECLINED"]
        assert history == [
            (step, reason if step == "DECLINED" else None)
            for step in steps[: steps.index(status) + 1]
        ]
        documents = await _rows(
            demo_engine,
            "SELECT kind, title, storage_key, sha256, size_bytes, group_id FROM documents"
            " WHERE application_id = :id ORDER BY storage_key",
            id=application_id,
        )
        assert [kind for kind, *_ in documents] == [
            "ENROLLMENT_APPLICATION",
            "BROKER_OF_RECORD_LETTER",
        ]
        for _, title, key, sha256, size, group_id in documents:
            content = document_content(title)
            assert content.startswith(b"%PDF-")
            assert (sha256, size, group_id) == (
                hashlib.sha256(content).hexdigest(),
                len(content),
                None,
            )
            assert key.startswith(f"applications/{number}/")


async def test_commission_showcase(demo_engine: AsyncEngine) -> None:
    summit = await _typed(
        demo_engine,
        select(CommissionSchedule.plan_year, CommissionSchedule.rate_basis_points)
        .join(Agency, Agency.id == CommissionSchedule.agency_id)
        .where(Agency.license_number == names.SUMMIT_LICENSE)
        .order_by(CommissionSchedule.plan_year),
    )
    assert summit == [(year, 450 if year <= TODAY.year else 475) for year in range(2023, 2028)]
    # G100005, in Summit's book: a payment reversed and paid again, a bill paid in part.
    bills = await _typed(
        demo_engine,
        select(Bill.period, Bill.amount_cents, Payment.status, Payment.amount_cents)
        .join(Group, Group.id == Bill.group_id)
        .join(BrokerOfRecord, BrokerOfRecord.group_id == Group.id)
        .join(Agency, Agency.id == BrokerOfRecord.agency_id)
        .join(Payment, Payment.bill_id == Bill.id)
        .where(
            Group.group_number == "G100005",
            Agency.license_number == names.SUMMIT_LICENSE,
            Bill.period >= date(2026, 1, 1),
        )
        .order_by(Bill.period, Payment.created_at),
    )
    january, february = date(2026, 1, 1), date(2026, 2, 1)
    assert [
        (period, status) for period, _, status, _ in bills if period < TODAY.replace(day=1)
    ] == [
        (january, "REVERSED"),
        (january, "SETTLED"),
        (february, "SETTLED"),
    ]
    [(_, billed, _, paid)] = [row for row in bills if row[0] == february]
    assert 0 < paid < billed


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive UTC timestamps, PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def test_the_personas_find_the_demo_through_the_api(api: Api) -> None:
    """What someone trying the API sees: each part of the demo, through the endpoint."""
    queue = await api.query(
        names.ACCOUNT_REPRESENTATIVE_EMAIL,
        "{ renewalChangeRequests(first: 10) { edges { node { status group { groupNumber } } } }"
        " groupApplications { edges { node { number status } } } quotes { edges { node {"
        " number status } } } }",
    )
    assert "errors" not in queue, queue
    data = queue["data"]
    assert [
        (e["node"]["group"]["groupNumber"], e["node"]["status"])
        for e in data["renewalChangeRequests"]["edges"]
    ] == [("G100004", "IN_REVIEW"), ("G100003", "SUBMITTED")]
    assert [
        (e["node"]["number"], e["node"]["status"]) for e in data["groupApplications"]["edges"]
    ] == [
        ("A9000000003", "DECLINED"),
        ("A9000000002", "IN_REVIEW"),
        ("A9000000001", "SUBMITTED"),
    ]
    statuses = {e["node"]["number"]: e["node"]["status"] for e in data["quotes"]["edges"]}
    assert statuses == {quote.number: "ACTIVE" for quote in names.QUOTES} | {
        "Q9000000006": "EXPIRED"
    }
    prospect = await api.query(
        None,
        'query ($k: String!) { quote(number: "Q9000000005", accessKey: $k) { prospectName } }',
        k=names.DEMO_PROSPECT_ACCESS_KEY,
    )
    assert prospect == {"data": {"quote": {"prospectName": "Juniper Café"}}}
    viewer = await api.query(
        "viewer@acme.example",
        '{ group(groupNumber: "G100000") { renewal { isOpen changeStatus } } }',
    )
    assert viewer == {"data": {"group": {"renewal": {"isOpen": True, "changeStatus": None}}}}
    # Every agency's first broker finds commission lines in one of the last three months.
    month = datetime.now(UTC).date().replace(day=1)
    for agency in names.AGENCIES:
        lines: list[Any] = []
        for _ in range(3):
            month = (month - timedelta(days=1)).replace(day=1)
            body = await api.query(
                agency.brokers[0].email,
                "query ($p: String!) { commissionStatements(period: $p) { statement {"
                " lines { groupNumber } } } }",
                p=month.strftime("%Y-%m"),
            )
            assert "errors" not in body, body
            lines = body["data"]["commissionStatements"]["statement"]["lines"]
            if lines:
                break
        assert lines, agency.name
        month = datetime.now(UTC).date().replace(day=1)
