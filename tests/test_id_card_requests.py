"""ID card requests after they are made, through the endpoint: the group's list as far as the
caller reads, the carrier moving a card on, the audit, batched reads, and random input that never
fails the server."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schema.common import global_id
from tests.conftest import Api, statements
from tests.test_id_cards import (
    ACCOUNTS,
    ADDRESS,
    ADDRESS_FIELDS,
    ADMIN,
    ADVANCE,
    BILLING,
    BROKER,
    GLOBEX,
    HR,
    REP,
    REQUEST,
    advance,
    events,
    grant_hr_id_cards,
    payload,
    refusals,
    requested,
    snapshot,
)
from tests.test_member_changes import families, family, gid
from tests.test_users import acme

LIST = f"""
query ($n: String!, $status: IdCardRequestStatus, $first: Int, $after: String) {{
  group(groupNumber: $n) {{
    idCardRequests(status: $status, first: $first, after: $after) {{
      totalCount
      pageInfo {{ hasNextPage endCursor }}
      edges {{ node {{ id status reason member {{ id }} mailingAddress {{ {ADDRESS_FIELDS} }} }} }}
    }}
  }}
}}"""
LEAN_LIST = """
query ($n: String!) {
  group(groupNumber: $n) { idCardRequests(first: 100) { edges { node { id member { id } } } } }
}"""


# --- group.idCardRequests ---------------------------------------------------------------------


async def test_the_group_lists_its_requests_newest_first_as_far_as_the_caller_reads(
    api: Api,
) -> None:
    group = await grant_hr_id_cards(api)
    east, west = await family(api, "EAST"), await family(api, "WEST")
    first = await requested(api, [east.subscriber])
    second = await requested(api, [west.subscriber, *west.dependents])
    third = await requested(api, [east.dependents[0]])
    newest_first = [r["id"] for r in [*third, *second[::-1], *first]]

    listed = await api.query(ADMIN, LIST, n=group["number"])
    page = listed["data"]["group"]["idCardRequests"]
    assert [edge["node"]["id"] for edge in page["edges"]] == newest_first
    assert page["totalCount"] == len(newest_first)
    assert all(edge["node"]["mailingAddress"] for edge in page["edges"])

    # Page by page, with the same order.
    seen, after = [], None
    while True:
        body = await api.query(ADMIN, LIST, n=group["number"], first=2, after=after)
        walked = body["data"]["group"]["idCardRequests"]
        seen += [edge["node"]["id"] for edge in walked["edges"]]
        if not walked["pageInfo"]["hasNextPage"]:
            break
        after = walked["pageInfo"]["endCursor"]
    assert seen == newest_first

    # The EAST sub-user: the EAST members' requests only.
    east_only = await api.query(HR, LEAN_LIST, n=group["number"])
    assert [e["node"]["id"] for e in east_only["data"]["group"]["idCardRequests"]["edges"]] == [
        third[0]["id"],
        first[0]["id"],
    ]

    # The broker reads the list, not the addresses.
    brokered = await api.query(BROKER, LIST, n=group["number"])
    assert len(brokered["data"]["group"]["idCardRequests"]["edges"]) == len(newest_first)
    assert {e["extensions"]["code"] for e in brokered["errors"]} == {"FORBIDDEN"}
    assert {e["path"][-1] for e in brokered["errors"]} == {"mailingAddress"}

    # Billing sees the group but not its members; Globex does not see Acme at all.
    billing = await api.query(BILLING, LEAN_LIST, n=group["number"])
    assert billing["data"]["group"]["idCardRequests"] is None
    assert [e["extensions"]["code"] for e in billing["errors"]] == ["FORBIDDEN"]
    assert await api.query(GLOBEX, LEAN_LIST, n=group["number"]) == {"data": {"group": None}}


NODE = """
query ($id: ID!) { node(id: $id) { id ... on IdCardRequest { status member { id } } } }
"""


async def test_a_request_by_its_id_as_far_as_the_caller_reads_its_member(api: Api) -> None:
    await grant_hr_id_cards(api)
    east, west = await family(api, "EAST"), await family(api, "WEST")
    [in_east] = await requested(api, [east.subscriber])
    [in_west] = await requested(api, [west.subscriber])
    found = await api.query(ADMIN, NODE, id=in_east["id"])
    assert found["data"]["node"] == {
        "id": in_east["id"],
        "status": "REQUESTED",
        "member": {"id": global_id("Member", east.subscriber)},
    }
    assert (await api.query(HR, NODE, id=in_east["id"]))["data"]["node"]["id"] == in_east["id"]
    # Another division, another group, no members at all, no such request: all alike.
    for email, request_id in [
        (HR, in_west["id"]),
        (GLOBEX, in_east["id"]),
        (BILLING, in_east["id"]),
        (ADMIN, global_id("IdCardRequest", 10**9)),
    ]:
        assert await api.query(email, NODE, id=request_id) == {"data": {"node": None}}


async def test_the_list_filters_by_status_and_refuses_bad_arguments(api: Api) -> None:
    group = await acme(api)
    household = await family(api)
    requests = await requested(api, [household.subscriber, *household.dependents])
    assert (
        payload(await advance(api, requests[0]["id"], "PRINTED"), "idCardRequestAdvance")["errors"]
        == []
    )
    printed = await api.query(ADMIN, LIST, n=group["number"], status="PRINTED")
    assert [e["node"]["id"] for e in printed["data"]["group"]["idCardRequests"]["edges"]] == [
        requests[0]["id"]
    ]
    for arguments, field in (
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
        ({"after": "x"}, "after"),
    ):
        body = await api.query(ADMIN, LIST, n=group["number"], **arguments)
        assert body["data"]["group"]["idCardRequests"] is None
        assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
            ("INVALID", field)
        ]


# --- idCardRequestAdvance ---------------------------------------------------------------------


async def test_the_carrier_moves_a_card_on_one_step_at_a_time(api: Api) -> None:
    household = await family(api)
    [request] = await requested(api, [household.subscriber])
    steps: list[tuple[str, str | None]] = [
        ("MAILED", "INVALID"),  # not printed yet
        ("REQUESTED", "ALREADY_DONE"),
        ("PRINTED", None),
        ("PRINTED", "ALREADY_DONE"),
        ("REQUESTED", "INVALID"),  # never back
        ("MAILED", None),
        ("PRINTED", "INVALID"),
        ("MAILED", "ALREADY_DONE"),
    ]
    for status, code in steps:
        state = await snapshot(api)
        found = payload(await advance(api, request["id"], status), "idCardRequestAdvance")
        if code is None:
            assert found == {"request": {"id": request["id"], "status": status}, "errors": []}
            assert await snapshot(api) != state
        else:
            assert found["request"] is None
            assert refusals(found) == [("status", code)], status
            assert await snapshot(api) == state
    audited = await events(api, "id_card.advanced")
    assert [(e.before["status"], e.after["status"]) for e in audited] == [
        ("REQUESTED", "PRINTED"),
        ("PRINTED", "MAILED"),
    ]
    assert {int(e.target_id) for e in audited} == {household.subscriber}
    assert {e.actor_user_id for e in audited} == {await api.user_id(REP)}


# (persona, request ID: "ok" one of Acme's, else a raw ID; expected)
WHO_MAY_ADVANCE: list[tuple[str | None, str, str]] = [
    (REP, "ok", "ok"),
    (ADMIN, "ok", "FORBIDDEN"),  # the group asks, the carrier prints
    (HR, "ok", "FORBIDDEN"),
    (BROKER, "ok", "FORBIDDEN"),
    (ACCOUNTS, "ok", "FORBIDDEN"),
    (BILLING, "ok", "requestId NOT_FOUND"),
    (GLOBEX, "ok", "requestId NOT_FOUND"),
    (REP, str(global_id("IdCardRequest", 987_654_321)), "requestId NOT_FOUND"),
    (REP, "garbage", "requestId NOT_FOUND"),
    (REP, "member", "requestId NOT_FOUND"),  # an ID of another type
    (None, "ok", "UNAUTHENTICATED"),
]


@pytest.mark.parametrize(("persona", "which", "expected"), WHO_MAY_ADVANCE)
async def test_who_may_move_a_card_on(
    api: Api, persona: str | None, which: str, expected: str
) -> None:
    household = await family(api)
    [request] = await requested(api, [household.subscriber])
    request_id = {"ok": request["id"], "member": gid(household.subscriber)}.get(which, which)
    state = await snapshot(api)
    body = await api.query(persona, ADVANCE, input={"requestId": request_id, "status": "PRINTED"})
    if expected == "ok":
        assert payload(body, "idCardRequestAdvance")["errors"] == []
        return
    if " " in expected:
        found = payload(body, "idCardRequestAdvance")
        assert [f"{e['field']} {e['code']}" for e in found["errors"]] == [expected]
    else:
        assert body["data"]["idCardRequestAdvance"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == [expected]
    assert await snapshot(api) == state


# --- the audit --------------------------------------------------------------------------------

AUDIT = """
query ($n: String!) {
  group(groupNumber: $n) { auditEvents(first: 1) { events { action after } } }
}"""


@pytest.mark.parametrize(("reader", "shown"), [(ADMIN, True), (ACCOUNTS, False)])
async def test_the_audited_address_is_shown_only_to_who_may_read_it(
    api: Api, reader: str, shown: bool
) -> None:
    household = await family(api)
    await requested(api, [household.subscriber], mailTo=ADDRESS)
    body = await api.query(reader, AUDIT, n=(await acme(api))["number"])
    [event] = body["data"]["group"]["auditEvents"]["events"]
    assert event["action"] == "id_card.requested"
    assert event["after"]["reason"] == "LOST"
    assert (event["after"]["address.line1"] == "(personal data)") is not shown


# --- batched reads ----------------------------------------------------------------------------

PAGE = """
query ($n: String!, $first: Int!) {
  group(groupNumber: $n) {
    idCardRequests(first: $first) {
      totalCount
      edges { node { status mailingAddress { city } requestedBy { email }
                     member { firstName coverage { status plan { code } } } } }
    }
  }
}"""
# The group; the page and its count; members; the users who asked; coverages; plans.
PAGE_LEVELS = 7


async def _statements_for_page(api: Api, number: str, first: int) -> tuple[int, int]:
    token = await api.token(REP)  # issued before counting: a token costs no SQL to check
    with statements(api.app.state.database.engine) as seen:
        response = await api.client.post(
            "/graphql",
            json={"query": PAGE, "variables": {"n": number, "first": first}},
            headers={"authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert "errors" not in body, body
    edges = body["data"]["group"]["idCardRequests"]["edges"]
    assert all(edge["node"]["member"]["coverage"]["plan"] for edge in edges)
    # One statement authenticates the caller; the rest answer the query.
    return len(seen) - 1, len(edges)


async def test_a_page_of_requests_takes_the_same_statements_for_2_or_20(api: Api) -> None:
    everyone = [m for f in await families(api) for m in (f.subscriber, *f.dependents)][:20]
    assert len(everyone) == 20
    await requested(api, everyone)
    number = (await acme(api))["number"]
    few, shown_few = await _statements_for_page(api, number, 2)
    many, shown_many = await _statements_for_page(api, number, 20)
    assert (shown_few, shown_many) == (2, 20)
    assert few == many <= PAGE_LEVELS, (few, many)


# --- never a server error ---------------------------------------------------------------------

text = st.text(max_size=30)
member_id = st.one_of(
    st.sampled_from(["own"]),
    text,
    st.builds(lambda key: str(global_id("Member", key)), st.integers(0, 10**19)),
)
mail_to = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"line1": text, "city": text, "state": text, "postalCode": text},
        optional={"line2": st.one_of(st.none(), text)},
    ),
)


@settings(
    max_examples=30,
    deadline=None,
    # Examples share one database: the property holds whatever earlier examples created.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    members=st.lists(member_id, max_size=6),
    reason=st.one_of(st.sampled_from(["LOST", "OTHER"]), text),
    address=mail_to,
    status=st.one_of(st.sampled_from(["PRINTED", "MAILED"]), text),
    request_key=st.integers(-(2**63), 2**63),
)
async def test_random_input_never_fails_the_server(
    api: Api,
    members: list[str],
    reason: str,
    address: dict[str, Any] | None,
    status: str,
    request_key: int,
) -> None:
    own = gid((await families(api))[0].subscriber)
    ids = [own if value == "own" else value for value in members]
    bodies = [
        await api.query(
            ADMIN, REQUEST, input={"memberIds": ids, "reason": reason, "mailTo": address}
        ),
        await api.query(
            REP,
            ADVANCE,
            input={
                "requestId": str(global_id("IdCardRequest", abs(request_key))),
                "status": status,
            },
        ),
    ]
    for body in bodies:
        codes = [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
        assert "INTERNAL" not in codes, body
