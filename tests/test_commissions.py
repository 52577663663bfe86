"""Commission schedules and statements through the endpoint, recomputed from the payments.

The reference below reads the raw rows and applies the rules of ADR 0012 with `Fraction`
(`round()` of a Fraction rounds half to even), independently of the `Decimal` code it checks.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select, update

from data.commissions import EarningPayment, ScheduleRecord
from data.database import create_engine
from data.demo.names import AGENCIES, KEYSTONE_LICENSE, SUMMIT_LICENSE
from data.models.audit import AuditEvent
from data.models.billing import Bill, BillLine, Payment, PaymentMethod, PaymentStatus
from data.models.commissions import (
    CommissionBasis,
    CommissionSchedule,
    CommissionStatement,
    CommissionStatementLine,
)
from data.models.contracts import Contract
from data.models.groups import Group
from data.models.users import Agency, BrokerOfRecord
from groupgate.cli import main
from resolvers.commissions import commission_cents
from tests.conftest import Api, statements

SUMMIT = "broker@summit.example"
KEYSTONE = "dieter.schmidt@keystone.example"
STATEMENT = """
query ($p: String!) {
  commissionStatements(period: $p) {
    errors { field code message }
    statement {
      period month provisional closedAt total { amount currency } agency { name }
      lines {
        kind groupId groupNumber groupName paymentId confirmationNumber settledAt
        billNumber billPeriod subscriberCount planYear
        paymentAmount { amount } premiumPaid { amount } commission { amount currency }
      }
      groups {
        groupId groupNumber groupName lineCount premiumPaid { amount } commission { amount }
      }
      reconciliation {
        paymentCount reversalCount paymentsTotal { amount } reversalsTotal { amount }
        premiumCounted { amount } commissionTotal { amount }
      }
    }
  }
}"""
SCHEDULES = """
{ commissionSchedules { planYear basis rateBasisPoints amountPerSubscriber { amount } } }"""
_confirmations = count(1)


def gid(kind: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def month_start(day: date, months: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def this_month() -> date:
    return month_start(datetime.now(UTC).date())


def label(period: date) -> str:
    return period.strftime("%Y-%m")


@dataclass(frozen=True)
class Expected:
    kind: str
    payment_id: int
    group_id: int
    premium: int
    subscribers: int
    plan_year: int
    commission: int


async def rows(api: Api, statement: Any) -> list[Any]:
    async with api.app.state.database.reader.connect() as connection:
        return list(await connection.execute(statement))


async def agency_id(api: Api, license_number: str) -> int:
    [row] = await rows(api, select(Agency.id).where(Agency.license_number == license_number))
    return int(row.id)


async def group_id(api: Api, legal_name: str) -> int:
    [row] = await rows(api, select(Group.id).where(Group.legal_name == legal_name))
    return int(row.id)


async def expected_payment_lines(api: Api, agency: int, period: date) -> list[Expected]:
    """Every payment settled in the month whose bill's month the agency served, recomputed."""
    start, end = midnight(period), midnight(month_start(period, 1))
    payments = await rows(
        api,
        select(Payment.id, Payment.bill_id, Payment.amount_cents, Payment.status).where(
            Payment.settled_at >= start, Payment.settled_at < end
        ),
    )
    bills = {row.id: row for row in await rows(api, select(Bill))}
    subscribers: dict[int, set[int]] = {}
    for line in await rows(api, select(BillLine.bill_id, BillLine.subscriber_id)):
        subscribers.setdefault(line.bill_id, set()).add(line.subscriber_id)
    appointments = await rows(api, select(BrokerOfRecord))
    contracts = await rows(api, select(Contract))
    schedules = {
        row.plan_year: row
        for row in await rows(
            api, select(CommissionSchedule).where(CommissionSchedule.agency_id == agency)
        )
    }
    expected = []
    for payment in payments:
        if str(payment.status) != "SETTLED":
            continue
        bill = bills[payment.bill_id]
        serving = [
            a
            for a in appointments
            if a.group_id == bill.group_id
            and a.start_date <= bill.period
            and (a.end_date is None or a.end_date >= bill.period)
        ]
        if not serving or max(serving, key=lambda a: (a.start_date, a.id)).agency_id != agency:
            continue
        years = [
            c.plan_year
            for c in contracts
            if c.group_id == bill.group_id and c.start_date <= bill.period <= c.end_date
        ]
        plan_year = years[0] if years else bill.period.year
        schedule = schedules.get(plan_year)
        heads = len(subscribers.get(bill.id, ()))
        if schedule is None:
            commission = 0
        elif str(schedule.basis) == "PERCENT_OF_PREMIUM":
            commission = round(Fraction(payment.amount_cents * schedule.rate_basis_points, 10_000))
        else:
            share = min(Fraction(1), Fraction(payment.amount_cents, bill.amount_cents))
            commission = round(heads * schedule.amount_cents * share)
        expected.append(
            Expected(
                "PAYMENT",
                payment.id,
                bill.group_id,
                payment.amount_cents,
                heads,
                plan_year,
                commission,
            )
        )
    return sorted(expected, key=lambda e: e.payment_id)


def shown(statement: dict[str, Any], kind: str = "PAYMENT") -> list[Expected]:
    found = [
        Expected(
            line["kind"],
            int(base64.urlsafe_b64decode(line["paymentId"]).decode().split(":")[1]),
            int(base64.urlsafe_b64decode(line["groupId"]).decode().split(":")[1]),
            line["premiumPaid"]["amount"],
            line["subscriberCount"],
            line["planYear"],
            line["commission"]["amount"],
        )
        for line in statement["lines"]
        if line["kind"] == kind
    ]
    return sorted(found, key=lambda e: e.payment_id)


def assert_adds_up(statement: dict[str, Any]) -> None:
    """Total, group subtotals and reconciliation are exactly the sums of the lines."""
    lines = statement["lines"]
    total = sum(line["commission"]["amount"] for line in lines)
    assert statement["total"] == {"amount": total, "currency": "USD"}
    by_group: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_group.setdefault(line["groupId"], []).append(line)
    assert [g["groupId"] for g in statement["groups"]] == list(by_group)
    for subtotal in statement["groups"]:
        mine = by_group[subtotal["groupId"]]
        assert subtotal["lineCount"] == len(mine)
        assert subtotal["groupNumber"] == mine[0]["groupNumber"]
        assert subtotal["premiumPaid"]["amount"] == sum(x["premiumPaid"]["amount"] for x in mine)
        assert subtotal["commission"]["amount"] == sum(x["commission"]["amount"] for x in mine)
    paid = [line for line in lines if line["kind"] == "PAYMENT"]
    back = [line for line in lines if line["kind"] == "REVERSAL"]
    assert statement["reconciliation"] == {
        "paymentCount": len(paid),
        "reversalCount": len(back),
        "paymentsTotal": {"amount": sum(x["paymentAmount"]["amount"] for x in paid)},
        "reversalsTotal": {"amount": sum(x["paymentAmount"]["amount"] for x in back)},
        "premiumCounted": {
            "amount": sum(x["paymentAmount"]["amount"] for x in paid)
            - sum(x["paymentAmount"]["amount"] for x in back)
        },
        "commissionTotal": {"amount": total},
    }
    assert all(x["premiumPaid"] == x["paymentAmount"] for x in paid)


async def statement_of(api: Api, email: str, period: str) -> dict[str, Any]:
    body = await api.query(email, STATEMENT, p=period)
    assert "errors" not in body, body
    payload = body["data"]["commissionStatements"]
    assert payload["errors"] == [], payload
    found: dict[str, Any] = payload["statement"]
    assert_adds_up(found)
    return found


async def add_payment(
    api: Api,
    bill_id: int,
    amount: int,
    settled_at: datetime | None,
    status: PaymentStatus = PaymentStatus.SETTLED,
) -> int:
    [bill] = await rows(api, select(Bill.group_id).where(Bill.id == bill_id))
    number = next(_confirmations)
    async with api.app.state.database.engine.begin() as connection:
        result = await connection.execute(
            insert(Payment).returning(Payment.id),
            {
                "group_id": bill.group_id,
                "bill_id": bill_id,
                "idempotency_key": f"commission-test-{number}",
                "amount_cents": amount,
                "method": PaymentMethod.ACH,
                "status": status,
                "confirmation_number": f"TST{number:08d}",
                "settled_at": settled_at,
                "created_at": (settled_at or midnight(this_month())) - timedelta(days=2),
            },
        )
        return int(result.scalar_one())


async def set_status(api: Api, payment_id: int, status: PaymentStatus) -> None:
    async with api.app.state.database.engine.begin() as connection:
        await connection.execute(
            update(Payment).where(Payment.id == payment_id).values(status=status)
        )


async def bill_of(api: Api, group: int, period: date) -> Any:
    [row] = await rows(
        api,
        select(Bill.id, Bill.amount_cents).where(Bill.group_id == group, Bill.period == period),
    )
    return row


@pytest.mark.parametrize(
    ("email", "license_number"), [(SUMMIT, SUMMIT_LICENSE), (KEYSTONE, KEYSTONE_LICENSE)]
)
async def test_closed_statements_recompute_from_the_payments_and_are_stored_once(
    api: Api, email: str, license_number: str
) -> None:
    agency = await agency_id(api, license_number)
    periods = [month_start(this_month(), -back) for back in (1, 2, 3)]
    totals = []
    for period in periods:
        first = await statement_of(api, email, label(period))
        assert first["provisional"] is False
        assert first["month"] == label(period)
        assert first["period"] == period.isoformat()
        assert first["closedAt"] is not None
        assert shown(first) == await expected_payment_lines(api, agency, period)
        again = await statement_of(api, email, period.replace(day=17).isoformat())
        assert again == first, "a closed month is read back, not recomputed"
        totals.append((period, first["total"]["amount"]))
    stored = await rows(
        api,
        select(CommissionStatement.period, CommissionStatement.total_cents).where(
            CommissionStatement.agency_id == agency
        ),
    )
    assert sorted(stored) == sorted(totals)
    closings = await rows(
        api,
        select(func.count()).where(AuditEvent.action == "commission_statement.closed"),
    )
    assert closings[0][0] == len(periods)


async def test_partial_failed_reversed_payments_and_a_broker_switch(api: Api) -> None:
    summit = await agency_id(api, SUMMIT_LICENSE)
    keystone = await agency_id(api, KEYSTONE_LICENSE)
    acme = await group_id(api, "Acme Manufacturing")
    initech = await group_id(api, "Initech")
    now = this_month()
    m1, m2, m3 = (month_start(now, -back) for back in (1, 2, 3))
    # Initech left Summit for Keystone: the bill's month decides who earns, not the payment's.
    [switch] = await rows(
        api,
        select(BrokerOfRecord.start_date).where(
            BrokerOfRecord.group_id == initech, BrokerOfRecord.agency_id == keystone
        ),
    )
    before_switch = month_start(switch.start_date, -1)
    assert month_start(now, -11) <= before_switch
    assert switch.start_date <= m2
    initech_new = await bill_of(api, initech, m2)
    initech_old = await bill_of(api, initech, before_switch)
    acme_bill = await bill_of(api, acme, m2)
    mid_m2 = midnight(m2) + timedelta(days=10)

    # The schedule is the plan year's of the contract covering the bill's month: give that
    # contract a year of its own, priced per subscriber for Summit.
    async with api.app.state.database.engine.begin() as connection:
        await connection.execute(
            update(Contract)
            .where(
                Contract.group_id == initech,
                Contract.start_date <= before_switch,
                Contract.end_date >= before_switch,
            )
            .values(plan_year=1999)
        )
        await connection.execute(
            insert(CommissionSchedule).values(
                agency_id=summit,
                plan_year=1999,
                basis="PER_SUBSCRIBER_PER_MONTH",
                amount_cents=10_00,
            )
        )
    partial = await add_payment(api, initech_new.id, initech_new.amount_cents // 3, mid_m2)
    old = await add_payment(api, initech_old.id, 5_000, mid_m2)
    tie_down = await add_payment(api, acme_bill.id, 100, mid_m2)  # 4.5 cents: 4
    tie_up = await add_payment(api, acme_bill.id, 300, mid_m2)  # 13.5 cents: 14
    failed = await add_payment(api, acme_bill.id, 700, None, PaymentStatus.FAILED)
    pending = await add_payment(api, acme_bill.id, 800, None, PaymentStatus.PENDING)
    reversed_early = await add_payment(api, acme_bill.id, 900, mid_m2)
    reversed_late = await add_payment(api, acme_bill.id, 20_000, mid_m2)  # 900 cents
    last_instant = await add_payment(api, acme_bill.id, 1_000, midnight(m1) - timedelta(0, 0, 1))
    first_instant = await add_payment(api, acme_bill.id, 1_100, midnight(m1))
    await set_status(api, reversed_early, PaymentStatus.REVERSED)

    summit_m2 = await statement_of(api, SUMMIT, label(m2))
    assert shown(summit_m2) == await expected_payment_lines(api, summit, m2)
    commission = {e.payment_id: e.commission for e in shown(summit_m2)}
    assert (commission[tie_down], commission[tie_up], commission[reversed_late]) == (4, 14, 900)
    [old_line] = [e for e in shown(summit_m2) if e.payment_id == old]
    assert old_line.plan_year == 1999
    share_old = Fraction(5_000, initech_old.amount_cents)
    assert old_line.commission == round(old_line.subscribers * 10_00 * share_old) > 0
    assert commission[last_instant] == 45
    for absent in (failed, pending, reversed_early, first_instant, partial):
        assert absent not in commission

    keystone_m2 = await statement_of(api, KEYSTONE, label(m2))
    assert shown(keystone_m2) == await expected_payment_lines(api, keystone, m2)
    [line] = [e for e in shown(keystone_m2) if e.payment_id == partial]
    share = Fraction(initech_new.amount_cents // 3, initech_new.amount_cents)
    assert line.commission == round(line.subscribers * 28_00 * share) > 0
    assert old not in {e.payment_id for e in shown(keystone_m2)}

    # Reversed after its month closed: the next statement to close takes the commission back.
    await set_status(api, reversed_late, PaymentStatus.REVERSED)
    summit_m1 = await statement_of(api, SUMMIT, label(m1))
    assert shown(summit_m1) == await expected_payment_lines(api, summit, m1)
    assert first_instant in {e.payment_id for e in shown(summit_m1)}
    [credited] = [e for e in shown(summit_m2) if e.payment_id == reversed_late]
    heads, year = credited.subscribers, credited.plan_year
    assert shown(summit_m1, "REVERSAL") == [
        Expected("REVERSAL", reversed_late, acme, -20_000, heads, year, -900)
    ]
    assert await statement_of(api, SUMMIT, label(m2)) == summit_m2, "closed stays closed"

    # One reversed later still is taken back provisionally by the current month, not twice.
    await set_status(api, tie_up, PaymentStatus.REVERSED)
    current = await statement_of(api, SUMMIT, label(now))
    assert (current["provisional"], current["closedAt"]) == (True, None)
    assert shown(current, "REVERSAL") == [
        Expected("REVERSAL", tie_up, acme, -300, heads, year, -14)
    ]
    assert shown(await statement_of(api, SUMMIT, label(m3)), "REVERSAL") == []
    stored = await rows(api, select(CommissionStatement.period))
    assert now not in {row.period for row in stored}

    empty = await statement_of(api, SUMMIT, label(month_start(now, -40)))
    assert (empty["lines"], empty["total"]["amount"], empty["provisional"]) == ([], 0, False)
    assert empty["closedAt"] is not None


BOTH = """
query ($p: String!) {
  commissionSchedules { planYear }
  commissionStatements(period: $p) { statement { agency { name } lines { groupId } } }
}"""


# Who reads which commissions: an agency's brokers their own; nobody else anything.
READERS = [
    (SUMMIT, "Summit Benefits"),
    ("luis.ortega@summit.example", "Summit Benefits"),
    (KEYSTONE, "Keystone Benefit Partners"),
    ("amara.okafor@harborview.example", "Harborview Insurance Services"),
    ("admin@acme.example", "FORBIDDEN"),
    ("officer@acme.example", "FORBIDDEN"),
    ("billing@acme.example", "FORBIDDEN"),
    ("accounts@carrier.example", "FORBIDDEN"),
    ("rep@carrier.example", "FORBIDDEN"),
    (None, "UNAUTHENTICATED"),
]


async def test_who_reads_which_commissions(api: Api) -> None:
    """One served database for the whole table: reading changes nothing another row sees."""
    last = month_start(this_month(), -1)
    for email, agency in READERS:
        body = await api.query(email, BOTH, p=label(last))
        if agency in {"FORBIDDEN", "UNAUTHENTICATED"}:
            # Asked one at a time: a refused non-null field nulls the whole answer.
            for document in (SCHEDULES, STATEMENT):
                refused = await api.query(email, document, p=label(last))
                assert refused["data"] is None, email
                assert [e["extensions"]["code"] for e in refused["errors"]] == [agency], email
            continue
        assert "errors" not in body, body
        statement = body["data"]["commissionStatements"]["statement"]
        assert statement["agency"] == {"name": agency}
        assert body["data"]["commissionSchedules"], email
        # Only groups the agency was ever broker of record for (the bill's month decides).
        [own] = await rows(api, select(Agency.id).where(Agency.name == agency))
        served = await rows(
            api, select(BrokerOfRecord.group_id).where(BrokerOfRecord.agency_id == own.id)
        )
        assert {line["groupId"] for line in statement["lines"]} <= {
            gid("Group", row.group_id) for row in served
        }, email

    # The demo's brokers: Summit's percent statements carry lines, Keystone is per subscriber.
    summit = await statement_of(api, SUMMIT, label(last))
    assert summit["agency"] == {"name": "Summit Benefits"}
    assert summit["lines"], "the demo's Summit groups paid last month"
    assert await statement_of(api, "luis.ortega@summit.example", label(last)) == summit
    assert (await api.query(SUMMIT, SCHEDULES))["data"]["commissionSchedules"][0] == {
        "planYear": this_month().year - 3,
        "basis": "PERCENT_OF_PREMIUM",
        "rateBasisPoints": 450,
        "amountPerSubscriber": None,
    }
    keystone = (await api.query(KEYSTONE, SCHEDULES))["data"]["commissionSchedules"]
    assert [s["planYear"] for s in keystone] == list(
        range(this_month().year - 3, this_month().year + 2)
    )
    assert {
        (s["basis"], s["rateBasisPoints"], s["amountPerSubscriber"]["amount"]) for s in keystone
    } == {("PER_SUBSCRIBER_PER_MONTH", None, 28_00)}


async def test_bad_and_future_periods_are_refused_on_the_field_and_store_nothing(
    api: Api,
) -> None:
    next_month = month_start(this_month(), 1)
    malformed = ["", "  ", "2026", "2026-1", "2026-13", "2026-00", "0000-01", "2026-02-30", "May"]
    future = [label(next_month), next_month.isoformat(), label(month_start(next_month, 24))]
    for period in malformed + future:
        body = await api.query(SUMMIT, STATEMENT, p=period)
        payload = body["data"]["commissionStatements"]
        assert payload["statement"] is None, period
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("period", "INVALID")]
        assert all(e["message"] for e in payload["errors"])
    assert await rows(api, select(CommissionStatement.id)) == []


CLOSING_STATEMENTS = 10


async def test_closing_a_statement_costs_the_same_statements_for_one_line_or_many(
    api: Api,
) -> None:
    """Payments settled in two old months: one line of one group, or six lines of three."""
    m2 = month_start(this_month(), -2)
    few, many = month_start(this_month(), -30), month_start(this_month(), -31)
    acme = await bill_of(api, await group_id(api, "Acme Manufacturing"), m2)
    await add_payment(api, acme.id, 1_000, midnight(few) + timedelta(days=3))
    summit = await agency_id(api, SUMMIT_LICENSE)
    for name in ("Acme Manufacturing", "Globex Corporation", "Initech"):
        group = await group_id(api, name)
        [bill] = await rows(
            api,
            select(Bill.id)
            .join(BrokerOfRecord, BrokerOfRecord.group_id == Bill.group_id)
            .where(
                Bill.group_id == group,
                BrokerOfRecord.agency_id == summit,
                BrokerOfRecord.start_date <= Bill.period,
                func.coalesce(BrokerOfRecord.end_date, Bill.period) >= Bill.period,
            )
            .order_by(Bill.period)
            .limit(1),
        )
        for day in (3, 4):
            await add_payment(api, bill.id, 1_000, midnight(many) + timedelta(days=day))
    counted, sizes = [], []
    for period in (few, many):
        with statements(api.app.state.database.engine) as seen:
            found = await statement_of(api, SUMMIT, label(period))
        counted.append(len(seen))
        sizes.append((len(found["lines"]), len(found["groups"])))
    assert sizes == [(1, 1), (6, 3)]
    assert counted[0] == counted[1], counted
    # The caller's user and access; the stored statement (none yet); payments, schedules and
    # reversals; the statement, its lines and the audit event; the agency. Measured: 10 on both.
    assert counted[0] <= CLOSING_STATEMENTS, counted
    with statements(api.app.state.database.engine) as seen:
        await statement_of(api, SUMMIT, label(many))
    assert len(seen) < counted[1], "a closed statement is read, not computed again"


async def test_concurrent_closings_store_each_month_once_and_take_back_once(api: Api) -> None:
    """A reversal seen by two months closing at once is taken back by exactly one of them."""
    m1, m2, m3 = (label(month_start(this_month(), -back)) for back in (1, 2, 3))
    credited = shown(await statement_of(api, SUMMIT, m3))
    assert credited
    await set_status(api, credited[0].payment_id, PaymentStatus.REVERSED)
    periods = [m1, m2, m1, m2, m1, m2]
    bodies = await asyncio.gather(*(api.query(SUMMIT, STATEMENT, p=p) for p in periods))
    answers: dict[str, list[dict[str, Any]]] = {}
    for period, body in zip(periods, bodies, strict=True):
        assert "errors" not in body, body
        answers.setdefault(period, []).append(body["data"]["commissionStatements"]["statement"])
    for same in answers.values():
        assert all(answer == same[0] for answer in same), "the losers read the winner's"
        assert same[0]["closedAt"] is not None
        assert_adds_up(same[0])
    taken_back = [line for same in answers.values() for line in shown(same[0], "REVERSAL")]
    assert [line.payment_id for line in taken_back] == [credited[0].payment_id]
    assert taken_back[0].commission == -credited[0].commission
    stored = await rows(api, select(CommissionStatement.id, CommissionStatement.period))
    assert sorted(row.period.isoformat()[:7] for row in stored) == sorted([m1, m2, m3])
    closings = await rows(
        api, select(AuditEvent.target_id).where(AuditEvent.action == "commission_statement.closed")
    )
    assert sorted(row.target_id for row in closings) == sorted(str(row.id) for row in stored)


PERIODS = (
    st.text(max_size=12)
    | st.dates().map(date.isoformat)
    | st.builds(
        "{:04d}-{:02d}".format,
        st.integers(min_value=0, max_value=9999),
        st.integers(min_value=0, max_value=13),
    )
)


@settings(
    max_examples=25,
    deadline=None,
    # Examples share the one served database: each answer stands on its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(period=PERIODS)
async def test_arbitrary_periods_never_fail_the_server(api: Api, period: str) -> None:
    body = await api.query(KEYSTONE, STATEMENT, p=period)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["commissionStatements"]
    assert (payload["statement"] is None) == bool(payload["errors"])


def test_the_close_command_closes_every_agency_once(
    demo_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GROUPGATE_DATABASE_URL", demo_url)
    monkeypatch.setenv("GROUPGATE_SIGNING_KEY_PATH", str(tmp_path / "keys"))
    last = month_start(this_month(), -1)
    assert main(["commissions", "close"]) == 0
    first = capsys.readouterr().out.splitlines()
    assert len(first) == len(AGENCIES)
    assert all(line.startswith(label(last)) for line in first), first
    assert all(line.endswith("(closed now)") for line in first), first
    assert main(["commissions", "close", "--month", label(last)]) == 0
    again = capsys.readouterr().out.splitlines()
    assert again == [line.replace("(closed now)", "(already closed)") for line in first]
    assert main(["commissions", "close", "--month", label(this_month())]) == 1
    assert "not ended" in capsys.readouterr().err

    async def stored() -> list[Any]:
        engine = create_engine(demo_url)
        try:
            async with engine.connect() as connection:
                totals = select(
                    CommissionStatementLine.statement_id,
                    func.sum(CommissionStatementLine.commission_cents).label("cents"),
                ).group_by(CommissionStatementLine.statement_id)
                found = totals.subquery()
                return list(
                    await connection.execute(
                        select(
                            CommissionStatement.period,
                            CommissionStatement.total_cents,
                            found.c.cents,
                        ).outerjoin(found, found.c.statement_id == CommissionStatement.id)
                    )
                )
        finally:
            await engine.dispose()

    statements_stored = asyncio.run(stored())
    assert len(statements_stored) == len(AGENCIES)
    assert all(row.period == last for row in statements_stored)
    assert all(row.total_cents == (row.cents or 0) for row in statements_stored)


def _payment(subscribers: int, paid: int, billed: int) -> EarningPayment:
    return EarningPayment(
        payment_id=1,
        group_id=1,
        group_number="G1",
        group_name="G",
        confirmation_number="C",
        settled_at=None,
        amount_cents=paid,
        bill_number="B",
        bill_period=date(2026, 1, 1),
        bill_amount_cents=billed,
        subscriber_count=subscribers,
        contract_plan_year=2026,
    )


@pytest.mark.parametrize(
    ("subscribers", "paid", "billed", "cents"),
    [
        (3, 1, 6, 0),  # 3 x 1/6 = 0.5: to even, although 1/6 has no exact decimal
        (9, 1, 6, 2),  # 1.5: to even
        (5, 1, 2, 2),  # 2.5: to even
        (7, 3, 3, 7),  # paid in full
        (7, 4, 3, 7),  # more than the bill: the full amount, never more
    ],
)
def test_per_subscriber_commission_is_exact_before_rounding(
    subscribers: int, paid: int, billed: int, cents: int
) -> None:
    schedule = ScheduleRecord(1, 2026, CommissionBasis.PER_SUBSCRIBER_PER_MONTH, None, 1)
    assert commission_cents(_payment(subscribers, paid, billed), schedule) == cents
    assert cents == round(Fraction(subscribers * min(paid, billed), billed))
