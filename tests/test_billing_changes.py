"""Billing changes through the endpoint: paying (idempotent, also in parallel), autopay, and
paper or paperless bills; every refusal names its field and changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from data.billing import account_hash
from data.models.audit import AuditEvent
from data.models.billing import AutopayMandate, Payment
from tests.conftest import Api
from tests.test_billing import (
    billing,
    errors_of,
    global_id,
    key_of,
    pay,
    rows,
    scalar,
    snapshot,
    unpaid_current_bill,
)
from tests.test_users import acme

AUTOPAY_ENABLE = """
mutation ($input: AutopayEnableInput!) {
  autopayEnable(input: $input) {
    autopay { accountHolder accountLast4 status since }
    errors { field code }
  }
}"""
AUTOPAY_CANCEL = """
mutation ($input: AutopayCancelInput!) {
  autopayCancel(input: $input) { autopay { status cancelledAt } errors { field code } }
}"""
DELIVERY = """
mutation ($input: BillingDeliverySetInput!) {
  billingDeliverySet(input: $input) { billingDelivery { mode email } errors { field code } }
}"""
# A routing number with a valid ABA checksum, and one whose last digit breaks it.
ROUTING, BAD_ROUTING = "011000015", "011000016"
ACCOUNT = "000123456789"


# Paying.


async def test_partial_then_full_payment(api: Api) -> None:
    bill_id, bill_key, cents = await unpaid_current_bill(api)
    part = cents // 3
    first = (await pay(api, "billing@acme.example", bill_id, part, "pay-1"))["data"]["billPay"]
    assert first["errors"] == []
    payment = first["payment"]
    assert payment["status"] == "PENDING"
    assert payment["confirmationNumber"]
    assert payment["amount"] == {"amount": part, "currency": "USD"}
    assert payment["bill"] == {"id": bill_id, "balance": {"amount": cents - part}}
    rest = (await pay(api, "admin@acme.example", bill_id, cents - part, "pay-2"))["data"]
    assert rest["billPay"]["errors"] == []
    assert rest["billPay"]["payment"]["bill"]["balance"]["amount"] == 0
    again = (await pay(api, "admin@acme.example", bill_id, 1, "pay-3"))["data"]["billPay"]
    assert errors_of(again) == [("billId", "ALREADY_DONE")]

    paid = await rows(
        api,
        select(Payment.amount_cents, Payment.status, Payment.submitted_by_user_id)
        .where(Payment.bill_id == bill_key)
        .order_by(Payment.id),
    )
    assert [(row.amount_cents, row.status) for row in paid] == [
        (part, "PENDING"),
        (cents - part, "PENDING"),
    ]
    assert paid[0].submitted_by_user_id == await api.user_id("billing@acme.example")
    events = await rows(
        api,
        select(AuditEvent.actor_user_id, AuditEvent.before, AuditEvent.after)
        .where(AuditEvent.action == "payment.submitted")
        .order_by(AuditEvent.id),
    )
    assert [(e.before["billBalanceCents"], e.after["amountCents"]) for e in events] == [
        (cents, part),
        (cents - part, cents - part),
    ]
    assert events[1].actor_user_id == await api.user_id("admin@acme.example")
    status = await billing(api, "admin@acme.example", bills=1, lines=1)
    assert status["bills"]["edges"][0]["node"]["status"] == "PAID"


BAD_PAYMENTS = [
    ({"amount": {"amount": 0, "currency": "USD"}}, "amount.amount", "INVALID"),
    ({"amount": {"amount": -500, "currency": "USD"}}, "amount.amount", "INVALID"),
    ({"amount": {"amount": 10**9, "currency": "USD"}}, "amount.amount", "INVALID"),
    ({"amount": {"amount": 100, "currency": "EUR"}}, "amount.currency", "INVALID"),
    ({"amount": {"amount": 100, "currency": "usd"}}, "amount.currency", "INVALID"),
    ({"idempotencyKey": ""}, "idempotencyKey", "INVALID"),
    ({"idempotencyKey": "k" * 101}, "idempotencyKey", "INVALID"),
    ({"idempotencyKey": "line\nbreak"}, "idempotencyKey", "INVALID"),
    ({"billId": global_id("Bill", 987654321)}, "billId", "NOT_FOUND"),
    ({"billId": global_id("Payment", 1)}, "billId", "NOT_FOUND"),
]


@pytest.mark.parametrize(("fields", "field", "code"), BAD_PAYMENTS)
async def test_bad_payments_are_refused_naming_the_field_and_change_nothing(
    api: Api, fields: dict[str, Any], field: str, code: str
) -> None:
    bill_id, _, _ = await unpaid_current_bill(api)
    before = await snapshot(api)
    payload = (await pay(api, "admin@acme.example", bill_id, 100, "bad-1", **fields))["data"]
    assert payload["billPay"]["payment"] is None
    assert errors_of(payload["billPay"]) == [(field, code)]
    assert await snapshot(api) == before


async def test_a_broker_may_read_but_not_pay(api: Api) -> None:
    bill_id, _, _ = await unpaid_current_bill(api)
    before = await snapshot(api)
    body = await pay(api, "broker@summit.example", bill_id, 100, "broker-1")
    assert body["data"]["billPay"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await snapshot(api) == before


async def test_the_same_key_is_the_same_payment(api: Api) -> None:
    bill_id, _, cents = await unpaid_current_bill(api)
    payments, _, events, _ = await snapshot(api)
    first = (await pay(api, "admin@acme.example", bill_id, cents, "same-key"))["data"]["billPay"]
    # Sent again (by someone else of the group, too) after the bill is paid in full.
    again = (await pay(api, "billing@acme.example", bill_id, cents, "same-key"))["data"]
    assert first["errors"] == again["billPay"]["errors"] == []
    assert again["billPay"]["payment"] == first["payment"] | {
        "bill": {"id": bill_id, "balance": {"amount": 0}}
    }
    other = (await billing(api, "admin@acme.example", bills=2, lines=1))["bills"]["edges"][1]
    for changed in (
        {"amount": {"amount": cents - 1, "currency": "USD"}},
        {"billId": other["node"]["id"]},
    ):
        body = await pay(api, "admin@acme.example", bill_id, cents, "same-key", **changed)
        assert errors_of(body["data"]["billPay"]) == [("idempotencyKey", "CONFLICT")]
    after = await snapshot(api)
    assert (after[0], after[2]) == (payments + 1, events + 1)  # one payment, audited once


async def test_parallel_requests_with_one_key_make_one_payment(api: Api) -> None:
    bill_id, bill_key, cents = await unpaid_current_bill(api)
    bodies = await asyncio.gather(
        *(pay(api, "admin@acme.example", bill_id, cents, "parallel-key") for _ in range(10))
    )
    payloads = [body["data"]["billPay"] for body in bodies]
    assert all(payload["errors"] == [] for payload in payloads), payloads
    assert len({payload["payment"]["id"] for payload in payloads}) == 1
    count = select(func.count()).select_from(Payment).where(Payment.bill_id == bill_key)
    assert await scalar(api, count) == 1


async def test_parallel_payments_with_other_keys_never_exceed_the_bill(api: Api) -> None:
    bill_id, bill_key, cents = await unpaid_current_bill(api)
    bodies = await asyncio.gather(
        *(pay(api, "admin@acme.example", bill_id, cents, f"race-{n}") for n in range(6))
    )
    payloads = [body["data"]["billPay"] for body in bodies]
    assert sum(payload["payment"] is not None for payload in payloads) == 1
    assert {tuple(errors_of(p)) for p in payloads if p["payment"] is None} == {
        (("billId", "ALREADY_DONE"),)
    }
    total = select(func.sum(Payment.amount_cents)).where(Payment.bill_id == bill_key)
    assert await scalar(api, total) == cents


# Autopay.


def mandate_input(group_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "groupId": group_id,
        "accountHolder": "Acme Manufacturing",
        "routingNumber": ROUTING,
        "accountNumber": ACCOUNT,
    } | fields


async def test_autopay_enable_cancel_and_conflict(api: Api) -> None:
    group = await acme(api)
    values = mandate_input(group["id"])
    enabled = (await api.query("billing@acme.example", AUTOPAY_ENABLE, input=values))["data"]
    assert enabled["autopayEnable"]["errors"] == []
    assert enabled["autopayEnable"]["autopay"]["accountLast4"] == "6789"
    assert enabled["autopayEnable"]["autopay"]["status"] == "ACTIVE"
    [mandate] = await rows(
        api,
        select(AutopayMandate).where(
            AutopayMandate.group_id == key_of(group["id"]), AutopayMandate.status == "ACTIVE"
        ),
    )
    # Only the last four digits and a keyed hash are kept.
    assert mandate.account_last4 == "6789"
    secret = api.app.state.settings.secret_key.get_secret_value().encode()
    assert mandate.account_hash == account_hash(ACCOUNT, secret)
    shown = await billing(api, "broker@summit.example", bills=1, lines=1)
    assert shown["autopay"] == {"accountHolder": "Acme Manufacturing", "accountLast4": "6789"}

    twice = (await api.query("billing@acme.example", AUTOPAY_ENABLE, input=values))["data"]
    assert errors_of(twice["autopayEnable"]) == [("groupId", "CONFLICT")]

    cancel = {"groupId": group["id"]}
    cancelled = (await api.query("admin@acme.example", AUTOPAY_CANCEL, input=cancel))["data"]
    assert cancelled["autopayCancel"]["autopay"]["status"] == "CANCELLED"
    assert cancelled["autopayCancel"]["autopay"]["cancelledAt"]
    again = (await api.query("admin@acme.example", AUTOPAY_CANCEL, input=cancel))["data"]
    assert errors_of(again["autopayCancel"]) == [("groupId", "ALREADY_DONE")]
    assert (await billing(api, "admin@acme.example", bills=1, lines=1))["autopay"] is None
    events = await rows(
        api,
        select(AuditEvent.action, AuditEvent.after)
        .where(AuditEvent.action.like("autopay.%"))
        .order_by(AuditEvent.id),
    )
    assert [event.action for event in events] == ["autopay.enabled", "autopay.cancelled"]
    assert ACCOUNT not in str(events[0].after)


BAD_MANDATES = [
    ({"accountHolder": "   "}, "accountHolder", "INVALID"),
    ({"accountHolder": "x" * 201}, "accountHolder", "INVALID"),
    ({"routingNumber": BAD_ROUTING}, "routingNumber", "INVALID"),
    ({"routingNumber": "01100001"}, "routingNumber", "INVALID"),
    ({"routingNumber": "01100001x"}, "routingNumber", "INVALID"),
    ({"accountNumber": "123"}, "accountNumber", "INVALID"),
    ({"accountNumber": "1" * 18}, "accountNumber", "INVALID"),
    ({"accountNumber": "1234-5678"}, "accountNumber", "INVALID"),
    ({"groupId": global_id("Group", 987654321)}, "groupId", "NOT_FOUND"),
]


@pytest.mark.parametrize(("fields", "field", "code"), BAD_MANDATES)
async def test_bad_autopay_input_is_refused_and_changes_nothing(
    api: Api, fields: dict[str, Any], field: str, code: str
) -> None:
    group = await acme(api)
    before = await snapshot(api)
    values = mandate_input(group["id"], **fields)
    payload = (await api.query("admin@acme.example", AUTOPAY_ENABLE, input=values))["data"]
    assert payload["autopayEnable"]["autopay"] is None
    assert errors_of(payload["autopayEnable"]) == [(field, code)]
    assert await snapshot(api) == before


@pytest.mark.parametrize(
    ("persona", "document", "fields"),
    [
        ("broker@summit.example", AUTOPAY_ENABLE, mandate_input("")),
        ("broker@summit.example", AUTOPAY_CANCEL, {}),
        ("hr.east@acme.example", DELIVERY, {"mode": "PAPER"}),
    ],
)
async def test_autopay_and_delivery_need_billing_pay(
    api: Api, persona: str, document: str, fields: dict[str, Any]
) -> None:
    group = await acme(api)
    before = await snapshot(api)
    body = await api.query(persona, document, input=fields | {"groupId": group["id"]})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await snapshot(api) == before


async def test_another_groups_autopay_is_not_found(api: Api) -> None:
    group = await acme(api)
    body = await api.query("admin@globex.example", AUTOPAY_CANCEL, input={"groupId": group["id"]})
    assert errors_of(body["data"]["autopayCancel"]) == [("groupId", "NOT_FOUND")]


# Paper or paperless.


async def test_billing_delivery_paper_and_back_to_paperless(api: Api) -> None:
    group = await acme(api)
    paper = {"groupId": group["id"], "mode": "PAPER"}
    body = await api.query("billing@acme.example", DELIVERY, input=paper)
    assert body["data"]["billingDeliverySet"] == {
        "billingDelivery": {"mode": "PAPER", "email": None},
        "errors": [],
    }
    paperless = paper | {"mode": "PAPERLESS", "email": " Bills@Acme.Example "}
    body = await api.query("billing@acme.example", DELIVERY, input=paperless)
    chosen = {"mode": "PAPERLESS", "email": "bills@acme.example"}
    assert body["data"]["billingDeliverySet"]["billingDelivery"] == chosen
    before = await snapshot(api)
    same = await api.query("billing@acme.example", DELIVERY, input=paperless)
    assert same["data"]["billingDeliverySet"]["errors"] == []
    assert await snapshot(api) == before  # nothing changed, nothing recorded
    assert (await billing(api, "admin@acme.example", bills=1, lines=1))["billingDelivery"] == chosen
    events = await rows(
        api,
        select(AuditEvent.before, AuditEvent.after)
        .where(AuditEvent.action == "billing_delivery.set")
        .order_by(AuditEvent.id),
    )
    assert [(event.before, event.after) for event in events] == [
        (
            {"mode": "PAPERLESS", "email": "billing@acme.example"},
            {"mode": "PAPER", "email": None},
        ),
        ({"mode": "PAPER", "email": None}, chosen),
    ]


BAD_DELIVERIES = [
    ({"mode": "PAPERLESS"}, "email", "REQUIRED"),
    ({"mode": "PAPERLESS", "email": "  "}, "email", "REQUIRED"),
    ({"mode": "PAPERLESS", "email": "not-an-address"}, "email", "INVALID"),
    ({"mode": "PAPER", "email": "not-an-address"}, "email", "INVALID"),
    ({"groupId": global_id("Group", 987654321)}, "groupId", "NOT_FOUND"),
]


@pytest.mark.parametrize(("fields", "field", "code"), BAD_DELIVERIES)
async def test_bad_delivery_input_is_refused_and_changes_nothing(
    api: Api, fields: dict[str, Any], field: str, code: str
) -> None:
    group = await acme(api)
    before = await snapshot(api)
    values = {"groupId": group["id"], "mode": "PAPER"} | fields
    payload = (await api.query("admin@acme.example", DELIVERY, input=values))["data"]
    assert payload["billingDeliverySet"]["billingDelivery"] is None
    assert errors_of(payload["billingDeliverySet"]) == [(field, code)]
    assert await snapshot(api) == before
