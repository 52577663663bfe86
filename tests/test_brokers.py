"""Brokers of record: appointment by an account representative, access switched by the group."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.test_users import acme

BOOK = "{ groups(first: 100) { legalName } }"
ASSIGN = """
mutation ($input: BrokerOfRecordAssignInput!) {
  brokerOfRecordAssign(input: $input) {
    brokerOfRecord { agency { name } accessEnabled startDate } errors { field code }
  }
}"""
ACCESS = """
mutation ($input: BrokerAccessSetInput!) {
  brokerAccessSet(input: $input) { brokerOfRecord { accessEnabled } errors { field code } }
}"""
APPOINTMENTS = """
query ($n: String!) {
  group(groupNumber: $n) { brokersOfRecord { agency { id name } accessEnabled } }
}"""


async def book(api: Api, email: str) -> set[str]:
    body = await api.query(email, BOOK)
    return {group["legalName"] for group in body["data"]["groups"]}


async def agencies(api: Api) -> dict[str, str]:
    body = await api.query("accounts@carrier.example", "{ agencies { id name } }")
    return {agency["name"]: agency["id"] for agency in body["data"]["agencies"]}


async def initech(api: Api) -> dict[str, Any]:
    body = await api.query(
        "accounts@carrier.example", '{ groups(search: "initech") { id groupNumber } }'
    )
    group: dict[str, Any] = body["data"]["groups"][0]
    return group


async def test_account_representative_appoints_summit_for_initech(api: Api) -> None:
    assert "Initech" not in await book(api, "broker@summit.example")
    group = await initech(api)
    summit = (await agencies(api))["Summit Benefits"]
    body = await api.query(
        "accounts@carrier.example", ASSIGN, input={"groupId": group["id"], "agencyId": summit}
    )
    payload = body["data"]["brokerOfRecordAssign"]
    assert payload["errors"] == []
    assert payload["brokerOfRecord"]["agency"] == {"name": "Summit Benefits"}
    assert "Initech" in await book(api, "broker@summit.example")
    # The previous broker of record's appointment ended, and with it its access.
    listed = await api.query("admin@initech.example", APPOINTMENTS, n=group["groupNumber"])
    assert [a["agency"]["name"] for a in listed["data"]["group"]["brokersOfRecord"]] == [
        "Summit Benefits"
    ]
    again = await api.query(
        "accounts@carrier.example", ASSIGN, input={"groupId": group["id"], "agencyId": summit}
    )
    assert again["data"]["brokerOfRecordAssign"]["errors"] == [
        {"field": "agencyId", "code": "ALREADY_DONE"}
    ]


async def test_only_carrier_staff_appoint_brokers(api: Api) -> None:
    group = await initech(api)
    summit = (await agencies(api))["Summit Benefits"]
    body = await api.query(
        "admin@initech.example", ASSIGN, input={"groupId": group["id"], "agencyId": summit}
    )
    assert body["data"]["brokerOfRecordAssign"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # A broker sees only its own agency; the agency list of a group user is empty.
    assert await agencies_of(api, "broker@summit.example") == ["Summit Benefits"]
    assert await agencies_of(api, "admin@initech.example") == []


async def agencies_of(api: Api, email: str) -> list[str]:
    body = await api.query(email, "{ agencies { name } }")
    return [agency["name"] for agency in body["data"]["agencies"]]


async def test_group_switches_broker_access_off_and_on(api: Api) -> None:
    group = await acme(api)
    summit = (await agencies(api))["Summit Benefits"]
    values = {"groupId": group["id"], "agencyId": summit}
    off = await api.query("admin@acme.example", ACCESS, input=values | {"enabled": False})
    assert off["data"]["brokerAccessSet"] == {
        "brokerOfRecord": {"accessEnabled": False},
        "errors": [],
    }
    assert "Acme Manufacturing" not in await book(api, "broker@summit.example")
    # Still broker of record: the appointment stays, only the access is off.
    listed = await api.query("admin@acme.example", APPOINTMENTS, n=group["number"])
    assert {"agency": {"id": summit, "name": "Summit Benefits"}, "accessEnabled": False} in listed[
        "data"
    ]["group"]["brokersOfRecord"]

    on = await api.query("admin@acme.example", ACCESS, input=values | {"enabled": True})
    assert on["data"]["brokerAccessSet"]["errors"] == []
    assert "Acme Manufacturing" in await book(api, "broker@summit.example")

    denied = await api.query("billing@acme.example", ACCESS, input=values | {"enabled": False})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    repeated = await api.query("admin@acme.example", ACCESS, input=values | {"enabled": True})
    assert repeated["data"]["brokerAccessSet"]["errors"] == [
        {"field": "enabled", "code": "ALREADY_DONE"}
    ]
