"""Billing through the endpoint: balance, bills and lines, payments, autopay, bill delivery."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from data.models.audit import AuditEvent
from data.models.billing import AutopayMandate, Bill, BillLine, Payment
from data.models.groups import Group
from tests.conftest import Api, statements
from tests.test_users import acme

BILLING = """
query ($n: String!, $bills: Int, $lines: Int) {
  group(groupNumber: $n) {
    balanceDue { amount currency }
    currentBill { id period }
    bills(first: $bills) {
      totalCount
      edges { node {
        id period dueDate status
        amount { amount currency } amountPaid { amount } balance { amount }
        adjustments { reason amount { amount } }
        lines(first: $lines) { totalCount edges { node {
          id tier amount { amount } subscriber { memberNumber } plan { code } } } }
      } }
    }
    payments(first: 100) { totalCount edges { node {
      id amount { amount } status method confirmationNumber submittedAt bill { id } } } }
    autopay { accountHolder accountLast4 }
    billingDelivery { mode email }
  }
}"""
PAY = """
mutation ($input: BillPayInput!) {
  billPay(input: $input) {
    payment {
      id status confirmationNumber amount { amount currency } bill { id balance { amount } }
    }
    errors { field message code }
  }
}"""
NODE = "query ($id: ID!) { node(id: $id) { id } }"


def this_month() -> date:
    return datetime.now(UTC).date().replace(day=1)


def global_id(type_name: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode()


def key_of(value: str) -> int:
    return int(base64.urlsafe_b64decode(value).decode().split(":")[1])


async def scalar(api: Api, statement: Any) -> Any:
    async with api.app.state.database.reader.connect() as connection:
        return await connection.scalar(statement)


async def rows(api: Api, statement: Any) -> list[Any]:
    async with api.app.state.database.reader.connect() as connection:
        return list(await connection.execute(statement))


async def snapshot(api: Api) -> tuple[int, int, int, list[Any]]:
    """What a billing change may touch: payments, mandates, audit events, bill delivery."""
    return (
        int(await scalar(api, select(func.count()).select_from(Payment))),
        int(await scalar(api, select(func.count()).select_from(AutopayMandate))),
        int(await scalar(api, select(func.count()).select_from(AuditEvent))),
        [
            tuple(row)
            for row in await rows(
                api, select(Group.billing_delivery, Group.billing_email).order_by(Group.id)
            )
        ],
    )


async def billing(api: Api, email: str, **variables: Any) -> dict[str, Any]:
    group = await acme(api)
    body = await api.query(email, BILLING, n=group["number"], **variables)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["group"]
    return found


async def unpaid_current_bill(api: Api) -> tuple[str, int, int]:
    """Acme's current bill with its payments taken away: (ID, key, amount in cents)."""
    group = await acme(api)
    [row] = await rows(
        api,
        select(Bill.id, Bill.amount_cents).where(
            Bill.group_id == key_of(group["id"]), Bill.period == this_month()
        ),
    )
    async with api.app.state.database.engine.begin() as connection:
        await connection.execute(delete(Payment).where(Payment.bill_id == row.id))
    return global_id("Bill", row.id), row.id, row.amount_cents


async def pay(api: Api, email: str, bill_id: str, cents: int, key: str, **over: Any) -> Any:
    values = {
        "billId": bill_id,
        "amount": {"amount": cents, "currency": "USD"},
        "idempotencyKey": key,
    } | over
    return await api.query(email, PAY, input=values)


def errors_of(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(error["field"], error["code"]) for error in payload["errors"]]


# Reading.


@pytest.mark.parametrize(
    "persona", ["admin@acme.example", "billing@acme.example", "broker@summit.example"]
)
async def test_billing_reads_for_every_persona_with_billing_read(api: Api, persona: str) -> None:
    found = await billing(api, persona, bills=12, lines=100)
    bills = [edge["node"] for edge in found["bills"]["edges"]]
    assert found["bills"]["totalCount"] == len(bills) == 12
    periods = [bill["period"] for bill in bills]
    assert periods == sorted(periods, reverse=True)  # newest first
    assert found["currentBill"] == {"id": bills[0]["id"], "period": this_month().isoformat()}
    assert found["balanceDue"]["currency"] == "USD"
    assert all(bill["lines"]["totalCount"] == len(bill["lines"]["edges"]) > 0 for bill in bills)
    assert found["payments"]["totalCount"] > 0
    submitted = [edge["node"]["submittedAt"] for edge in found["payments"]["edges"]]
    assert submitted == sorted(submitted, reverse=True)
    assert found["autopay"] is None  # Acme pays by hand
    assert found["billingDelivery"] == {"mode": "PAPERLESS", "email": "billing@acme.example"}


async def test_balances_are_exact_against_the_database(api: Api) -> None:
    group = await acme(api)
    found = await billing(api, "admin@acme.example", bills=12, lines=1)
    bills = [edge["node"] for edge in found["bills"]["edges"]]
    counted = Payment.status.in_(["SETTLED", "PENDING"])
    for bill in bills:
        key = key_of(bill["id"])
        amount = await scalar(api, select(Bill.amount_cents).where(Bill.id == key))
        lines = await scalar(
            api, select(func.sum(BillLine.amount_cents)).where(BillLine.bill_id == key)
        )
        paid = await scalar(
            api,
            select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
                Payment.bill_id == key, counted
            ),
        )
        adjusted = sum(adjustment["amount"]["amount"] for adjustment in bill["adjustments"])
        assert bill["amount"]["amount"] == amount == lines + adjusted
        assert bill["amountPaid"]["amount"] == paid
        assert bill["balance"]["amount"] == amount - paid
        assert bill["status"] == _status(amount - paid, paid, date.fromisoformat(bill["dueDate"]))
    group_key = key_of(group["id"])
    billed = await scalar(
        api, select(func.sum(Bill.amount_cents)).where(Bill.group_id == group_key)
    )
    paid_in_all = await scalar(
        api,
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.group_id == group_key, counted
        ),
    )
    assert found["balanceDue"]["amount"] == billed - paid_in_all
    assert found["balanceDue"]["amount"] == sum(bill["balance"]["amount"] for bill in bills)


def _status(balance: int, paid: int, due: date) -> str:
    if balance <= 0:
        return "PAID"
    if due < datetime.now(UTC).date():
        return "OVERDUE"
    return "PARTIALLY_PAID" if paid else "UNPAID"


LINES = """
query ($n: String!, $first: Int, $after: String, $last: Int, $before: String) {
  group(groupNumber: $n) { currentBill { lines(first: $first, after: $after, last: $last,
                                               before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    edges { node { id } } } } }
}"""


async def test_bill_lines_walk_forwards_and_backwards(api: Api) -> None:
    group = await acme(api)

    async def lines(**arguments: Any) -> dict[str, Any]:
        body = await api.query("admin@acme.example", LINES, n=group["number"], **arguments)
        assert "errors" not in body, body
        page: dict[str, Any] = body["data"]["group"]["currentBill"]["lines"]
        return page

    seen: list[str] = []
    after = None
    while True:
        page = await lines(first=7, after=after)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"] > 7
    everything = await lines(first=100)
    assert [edge["node"]["id"] for edge in everything["edges"]] == seen
    tail = await lines(last=5)
    assert [edge["node"]["id"] for edge in tail["edges"]] == seen[-5:]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    before = await lines(last=3, before=tail["pageInfo"]["startCursor"])
    assert [edge["node"]["id"] for edge in before["edges"]] == seen[-8:-5]


async def test_bill_pages_walk_newest_first_and_filter_by_period(api: Api) -> None:
    group = await acme(api)
    query = """
    query ($n: String!, $first: Int, $after: String, $from: Date, $to: Date) {
      group(groupNumber: $n) { bills(first: $first, after: $after, from: $from, to: $to) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { period } } } }
    }"""
    first = await api.query("billing@acme.example", query, n=group["number"], first=5)
    second = await api.query(
        "billing@acme.example",
        query,
        n=group["number"],
        first=10,
        after=first["data"]["group"]["bills"]["pageInfo"]["endCursor"],
    )
    periods = [
        edge["node"]["period"]
        for body in (first, second)
        for edge in body["data"]["group"]["bills"]["edges"]
    ]
    assert periods == sorted(periods, reverse=True)
    assert len(periods) == 12
    assert second["data"]["group"]["bills"]["pageInfo"]["hasNextPage"] is False
    span = await api.query(
        "billing@acme.example",
        query,
        n=group["number"],
        first=100,
        **{"from": periods[4], "to": periods[2]},
    )
    assert [e["node"]["period"] for e in span["data"]["group"]["bills"]["edges"]] == periods[2:5]
    wrong = await api.query(
        "billing@acme.example", query, n=group["number"], **{"from": periods[2], "to": periods[4]}
    )
    assert wrong["errors"][0]["extensions"] == {"code": "INVALID", "field": "to"}


async def test_subscribers_on_lines_follow_member_visibility(api: Api) -> None:
    admin = await billing(api, "admin@acme.example", bills=1, lines=5)
    clerk = await billing(api, "billing@acme.example", bills=1, lines=5)

    def subscribers(found: dict[str, Any]) -> list[Any]:
        [bill] = found["bills"]["edges"]
        return [edge["node"]["subscriber"] for edge in bill["node"]["lines"]["edges"]]

    assert all(subscriber["memberNumber"] for subscriber in subscribers(admin))
    # The billing clerk may not read members: the amounts, but no names.
    assert subscribers(clerk) == [None] * len(subscribers(admin))


async def test_billing_needs_billing_read(api: Api) -> None:
    group = await acme(api)
    body = await api.query("hr.east@acme.example", BILLING, n=group["number"])
    billing_fields = ("balanceDue", "currentBill", "bills", "payments", "billingDelivery")
    assert all(body["data"]["group"][field] is None for field in billing_fields)
    assert {error["extensions"]["code"] for error in body["errors"]} == {"FORBIDDEN"}
    bill_id, _, _ = await unpaid_current_bill(api)
    assert (await api.query("hr.east@acme.example", NODE, id=bill_id))["data"]["node"] is None


async def test_billing_objects_are_nodes_of_their_group_only(api: Api) -> None:
    found = await billing(api, "admin@acme.example", bills=1, lines=1)
    [bill] = found["bills"]["edges"]
    ids = [
        bill["node"]["id"],
        bill["node"]["lines"]["edges"][0]["node"]["id"],
        found["payments"]["edges"][0]["node"]["id"],
    ]
    for value in ids:
        assert (await api.query("broker@summit.example", NODE, id=value))["data"]["node"] == {
            "id": value
        }
        assert (await api.query("admin@globex.example", NODE, id=value))["data"]["node"] is None


async def test_bills_of_another_group_answer_like_missing_ones(api: Api) -> None:
    bill_id, _, _ = await unpaid_current_bill(api)
    before = await snapshot(api)
    answers = [
        (await pay(api, "admin@globex.example", target, 100, "k-1"))["data"]["billPay"]
        for target in (bill_id, global_id("Bill", 987654321), "not-an-id")
    ]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["errors"] == [
        {"field": "billId", "message": "no such bill", "code": "NOT_FOUND"}
    ]
    assert await snapshot(api) == before


async def test_statements_do_not_grow_with_the_number_of_bills(api: Api) -> None:
    """Each relation is one batch, whatever the number of bills: no query per parent."""
    group = await acme(api)
    found = []
    for bills in (2, 12):
        with statements(api.app.state.database.engine) as seen:
            body = await api.query(
                "admin@acme.example", BILLING, n=group["number"], bills=bills, lines=100
            )
        assert "errors" not in body, body
        found.append(seen)
    assert len(found[0]) == len(found[1]) <= 17, found[1]
    assert sum("FROM bill_lines JOIN members" in s for s in found[1]) == 1
