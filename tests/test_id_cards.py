"""ID cards through the endpoint: requesting them (who may, where they are mailed, bad input for
every argument, all or nothing), the group's list of requests, the carrier moving them on, the
audit, batched reads, and random input that never fails the server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from data.models.audit import AuditEvent
from data.models.enrollment import IdCardRequest
from data.models.groups import Group
from data.models.members import Coverage, Member, MemberStatus
from schema.common import global_id
from tests.conftest import Api, statements
from tests.test_member_changes import Family, families, family, gid
from tests.test_users import acme, user_gid

ADMIN, HR, BILLING, BROKER, GLOBEX, REP, ACCOUNTS = (
    "admin@acme.example",
    "hr.east@acme.example",
    "billing@acme.example",
    "broker@summit.example",
    "admin@globex.example",
    "rep@carrier.example",
    "accounts@carrier.example",
)
ADDRESS_FIELDS = "line1 line2 city state postalCode"
REQUEST = f"""
mutation ($input: IdCardsRequestInput!) {{
  idCardsRequest(input: $input) {{
    requests {{ id reason status requestedAt requestedBy {{ email }} member {{ id }}
               mailingAddress {{ {ADDRESS_FIELDS} }} }}
    errors {{ field message code }}
  }}
}}"""
LEAN_REQUEST = """
mutation ($input: IdCardsRequestInput!) {
  idCardsRequest(input: $input) { requests { id status } errors { field code } }
}"""
ADVANCE = """
mutation ($input: IdCardRequestAdvanceInput!) {
  idCardRequestAdvance(input: $input) { request { id status } errors { field message code } }
}"""
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


def payload(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"][name]
    return found


def refusals(found: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in found["errors"]]


async def ask(
    api: Api,
    member_ids: list[int],
    persona: str | None = ADMIN,
    *,
    reason: str = "LOST",
    document: str = REQUEST,
    **values: Any,
) -> dict[str, Any]:
    given = {"memberIds": [gid(m) for m in member_ids], "reason": reason} | values
    return await api.query(persona, document, input=given)


async def requested(api: Api, member_ids: list[int], **values: Any) -> list[dict[str, Any]]:
    found = payload(await ask(api, member_ids, **values), "idCardsRequest")
    assert found["errors"] == [], found
    requests: list[dict[str, Any]] = found["requests"]
    return requests


async def advance(api: Api, request_id: str, status: str, persona: str = REP) -> dict[str, Any]:
    return await api.query(persona, ADVANCE, input={"requestId": request_id, "status": status})


async def snapshot(api: Api) -> tuple[list[Any], int]:
    """Every ID card request and the number of audit events."""
    async with api.app.state.database.reader.connect() as connection:
        rows = (await connection.execute(select(IdCardRequest).order_by(IdCardRequest.id))).all()
        events = await connection.scalar(select(func.count()).select_from(AuditEvent))
    return [tuple(row) for row in rows], int(events or 0)


async def events(api: Api, action: str) -> list[Any]:
    statement = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    async with api.app.state.database.reader.connect() as connection:
        return list((await connection.execute(statement)).all())


async def member_row(api: Api, member_id: int) -> Any:
    async with api.app.state.database.reader.connect() as connection:
        return (await connection.execute(select(Member).where(Member.id == member_id))).one()


async def set_member(api: Api, member_id: int, **values: Any) -> None:
    async with api.app.state.database.engine.begin() as connection:
        await connection.execute(update(Member).where(Member.id == member_id).values(**values))


def address_of(row: Any) -> dict[str, Any]:
    return {
        "line1": row.address_line1,
        "line2": row.address_line2,
        "city": row.city,
        "state": row.state,
        "postalCode": row.postal_code,
    }


NO_ADDRESS = dict.fromkeys(("address_line1", "address_line2", "city", "state", "postal_code"))


async def globex_member(api: Api) -> int:
    async with api.app.state.database.reader.connect() as connection:
        found: int = (
            await connection.execute(
                select(Member.id)
                .join(Group, Group.id == Member.group_id)
                .where(Group.legal_name == "Globex Corporation")
                .order_by(Member.id)
                .limit(1)
            )
        ).scalar_one()
    return found


# --- idCardsRequest ---------------------------------------------------------------------------


async def test_a_family_s_cards_go_to_the_subscriber_and_are_audited(api: Api) -> None:
    household = await family(api)
    head = await member_row(api, household.subscriber)
    # A dependent's own address does not count: its card goes to the subscriber's.
    await set_member(
        api,
        household.dependents[0],
        address_line1="9 Elsewhere Road",
        city="Albany",
        state="NY",
        postal_code="12207",
    )
    everyone = [household.subscriber, *household.dependents]
    requests = await requested(api, everyone, reason="NAME_CHANGED")
    assert [r["member"]["id"] for r in requests] == [gid(m) for m in everyone]
    for request in requests:
        assert (request["status"], request["reason"]) == ("REQUESTED", "NAME_CHANGED")
        assert request["requestedBy"] == {"email": ADMIN}
        assert request["mailingAddress"] == address_of(head)
    async with api.app.state.database.reader.connect() as connection:
        rows = (await connection.execute(select(IdCardRequest).order_by(IdCardRequest.id))).all()
    assert [row.member_id for row in rows] == everyone
    assert {row.requested_by_user_id for row in rows} == {await api.user_id(ADMIN)}
    audited = await events(api, "id_card.requested")
    assert [int(e.target_id) for e in audited] == everyone
    assert [e.after["idCardRequestId"] for e in audited] == [row.id for row in rows]
    assert {e.target_type for e in audited} == {"member"}
    assert audited[0].after == {
        "idCardRequestId": rows[0].id,
        "reason": "NAME_CHANGED",
        "status": "REQUESTED",
        **{f"address.{part}": value for part, value in address_of(head).items()},
    }


async def test_mail_to_is_normalised_like_a_member_s_address(api: Api) -> None:
    household = await family(api)
    messy = {
        "line1": "  1 Main   Street ",
        "line2": "",
        "city": "Brooklyn",
        "state": "ny",
        "postalCode": "112011234",
    }
    [request] = await requested(api, [household.dependents[0]], mailTo=messy, reason="STOLEN")
    assert request["mailingAddress"] == {
        "line1": "1 Main Street",
        "line2": None,
        "city": "Brooklyn",
        "state": "NY",
        "postalCode": "11201-1234",
    }


async def test_without_an_address_on_file_mail_to_is_required(api: Api) -> None:
    household = await family(api)
    await set_member(api, household.subscriber, **NO_ADDRESS)
    state = await snapshot(api)
    found = payload(
        await ask(api, [household.subscriber, household.dependents[0]]), "idCardsRequest"
    )
    assert refusals(found) == [("memberIds[0]", "REQUIRED"), ("memberIds[1]", "REQUIRED")]
    assert "mailTo" in found["errors"][0]["message"]
    assert await snapshot(api) == state
    given = {"line1": "1 Main St", "city": "Boston", "state": "MA", "postalCode": "02108"}
    requests = await requested(api, [household.subscriber], mailTo=given)
    assert requests[0]["mailingAddress"] == given | {"line2": None}


async def test_a_future_coverage_gets_a_card(api: Api) -> None:
    household = await family(api)
    starts = datetime.now(UTC).date() + timedelta(days=10)
    async with api.app.state.database.engine.begin() as connection:
        await connection.execute(
            update(Coverage)
            .where(Coverage.member_id == household.subscriber)
            .values(effective_date=starts)
        )
    assert len(await requested(api, [household.subscriber])) == 1


NOT_A_MEMBER = str(global_id("Member", 987_654_321))
ADDRESS = {"line1": "1 Main St", "city": "Boston", "state": "MA", "postalCode": "02108"}
# (memberIds, given as members of the family by position or as raw IDs; other input; expected)
BAD_REQUESTS: list[tuple[list[int | str], dict[str, Any], list[tuple[str | None, str]]]] = [
    ([], {}, [("memberIds", "REQUIRED")]),
    ([0] * 101, {}, [("memberIds", "INVALID")]),
    ([0, 0], {}, [("memberIds[1]", "INVALID")]),
    ([0, 1, 0], {}, [("memberIds[2]", "INVALID")]),
    ([0, NOT_A_MEMBER], {}, [("memberIds[1]", "NOT_FOUND")]),
    (["garbage", 0], {}, [("memberIds[0]", "NOT_FOUND")]),
    ([0, str(global_id("Group", 1))], {}, [("memberIds[1]", "NOT_FOUND")]),
    ([0, 1, "globex"], {}, [("memberIds[2]", "NOT_FOUND")]),
    ([0, "terminated"], {}, [("memberIds[1]", "INVALID")]),
    ([0], {"mailTo": ADDRESS | {"line1": " "}}, [("mailTo.line1", "REQUIRED")]),
    ([0], {"mailTo": ADDRESS | {"line2": "x" * 201}}, [("mailTo.line2", "INVALID")]),
    ([0], {"mailTo": ADDRESS | {"city": "12"}}, [("mailTo.city", "INVALID")]),
    ([0], {"mailTo": ADDRESS | {"state": "XX"}}, [("mailTo.state", "INVALID")]),
    ([0], {"mailTo": ADDRESS | {"postalCode": "0210"}}, [("mailTo.postalCode", "INVALID")]),
    ([0], {"mailTo": ADDRESS | {"line1": "A\u0000b"}}, [("mailTo.line1", "INVALID")]),
    # Every field at fault is named at once.
    (
        [NOT_A_MEMBER, 0],
        {"mailTo": ADDRESS | {"state": "ZZ"}},
        [("memberIds[0]", "NOT_FOUND"), ("mailTo.state", "INVALID")],
    ),
]


async def terminated_member(api: Api, spare: Family) -> int:
    """A member whose coverage ended yesterday."""
    ended = datetime.now(UTC).date() - timedelta(days=1)
    async with api.app.state.database.engine.begin() as connection:
        await connection.execute(
            update(Coverage)
            .where(Coverage.member_id == spare.subscriber)
            .values(termination_date=ended)
        )
    await set_member(api, spare.subscriber, status=MemberStatus.TERMINATED)
    return spare.subscriber


@pytest.mark.parametrize(("members", "values", "expected"), BAD_REQUESTS)
async def test_bad_request_input_names_the_field_and_changes_nothing(
    api: Api,
    members: list[int | str],
    values: dict[str, Any],
    expected: list[tuple[str | None, str]],
) -> None:
    household = await family(api)
    spare = next(f for f in await families(api) if f != household)
    everyone = [household.subscriber, *household.dependents]
    ids = []
    for member in members:
        if isinstance(member, int):
            ids.append(gid(everyone[member]))
        elif member == "globex":
            ids.append(gid(await globex_member(api)))
        elif member == "terminated":
            ids.append(gid(await terminated_member(api, spare)))
        else:
            ids.append(member)
    state = await snapshot(api)
    body = await api.query(ADMIN, REQUEST, input={"memberIds": ids, "reason": "DAMAGED"} | values)
    found = payload(body, "idCardsRequest")
    assert found["requests"] == []
    assert refusals(found) == expected
    assert await snapshot(api) == state


@pytest.mark.parametrize(
    "values",
    [
        {"reason": "BORED"},
        {"reason": None},
        {"memberIds": None},
        {"memberIds": [None]},
        {"mailTo": {"line1": "1 Main St"}},  # an address is whole or not given
        {"mailTo": ADDRESS | {"country": "US"}},  # refused, never silently dropped
        {"copies": 2},
    ],
)
async def test_ill_typed_request_input_is_refused_before_anything_runs(
    api: Api, values: dict[str, Any]
) -> None:
    household = await family(api)
    state = await snapshot(api)
    given = {"memberIds": [gid(household.subscriber)], "reason": "LOST"} | values
    body = await api.query(ADMIN, REQUEST, input=given)
    assert body.get("data") is None
    assert body["errors"]
    assert await snapshot(api) == state


async def test_members_of_two_groups_are_refused(api: Api) -> None:
    """Someone who may ask for cards in two groups still asks for each group's apart."""
    globex = await api.query(ACCOUNTS, '{ groups(search: "globex") { id } }')
    created = await api.query(
        GLOBEX,
        """mutation ($input: UserCreateInput!) { userCreate(input: $input) { errors { code } } }""",
        input={
            "groupId": globex["data"]["groups"][0]["id"],
            "email": ADMIN,
            "name": "Acme's administrator",
            "privileges": ["MEMBERS_READ", "ID_CARDS_REQUEST"],
        },
    )
    assert created["data"]["userCreate"]["errors"] == []
    household = await family(api)
    other = await globex_member(api)
    state = await snapshot(api)
    found = payload(await ask(api, [household.subscriber, other]), "idCardsRequest")
    assert refusals(found) == [("memberIds[1]", "INVALID")]
    assert await snapshot(api) == state
    done = payload(await ask(api, [other], document=LEAN_REQUEST), "idCardsRequest")
    assert [r["status"] for r in done["requests"]] == ["REQUESTED"]


# (persona, the member's division, expected: "ok", a payload "field code" or a top-level code)
WHO_MAY_REQUEST: list[tuple[str | None, str, str]] = [
    (ADMIN, "EAST", "ok"),
    (ADMIN, "WEST", "ok"),
    (HR, "EAST", "FORBIDDEN"),  # reads and changes members, asks for no cards
    (HR, "WEST", "memberIds[0] NOT_FOUND"),
    (BILLING, "EAST", "memberIds[0] NOT_FOUND"),  # reads no members at all
    (BROKER, "EAST", "FORBIDDEN"),  # reads only
    (REP, "EAST", "FORBIDDEN"),  # carrier staff print cards, groups ask for them
    (ACCOUNTS, "EAST", "FORBIDDEN"),
    (GLOBEX, "EAST", "memberIds[0] NOT_FOUND"),
    (None, "EAST", "UNAUTHENTICATED"),
]


@pytest.mark.parametrize(("persona", "division", "expected"), WHO_MAY_REQUEST)
async def test_who_may_request_cards(
    api: Api, persona: str | None, division: str, expected: str
) -> None:
    target = (await family(api, division)).subscriber
    state = await snapshot(api)
    body = await ask(api, [target], persona, document=LEAN_REQUEST)
    if expected == "ok":
        assert payload(body, "idCardsRequest")["errors"] == []
        assert await snapshot(api) != state
        return
    if " " in expected:
        found = payload(body, "idCardsRequest")
        assert [f"{e['field']} {e['code']}" for e in found["errors"]] == [expected]
    else:
        assert body["data"]["idCardsRequest"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == [expected]
    assert await snapshot(api) == state


async def grant_hr_id_cards(api: Api) -> dict[str, Any]:
    group = await acme(api)
    east = next(d for d in group["divisions"] if d["code"] == "EAST")
    body = await api.query(
        ADMIN,
        """mutation ($input: UserPrivilegesUpdateInput!) {
             userPrivilegesUpdate(input: $input) { errors { field code } } }""",
        input={
            "groupId": group["id"],
            "userId": await user_gid(api, HR),
            "privileges": ["MEMBERS_READ", "MEMBERS_WRITE", "ID_CARDS_REQUEST"],
            "divisionId": east["id"],
        },
    )
    assert body["data"]["userPrivilegesUpdate"]["errors"] == []
    return group


async def test_a_division_sub_user_asks_for_its_division_s_cards_only(api: Api) -> None:
    await grant_hr_id_cards(api)
    east, west = await family(api, "EAST"), await family(api, "WEST")
    state = await snapshot(api)
    mixed = payload(
        await ask(api, [east.subscriber, west.subscriber], HR, document=LEAN_REQUEST),
        "idCardsRequest",
    )
    assert refusals(mixed) == [("memberIds[1]", "NOT_FOUND")]
    assert await snapshot(api) == state
    # Created, but the address it goes to is personal data this sub-user may not read.
    body = await ask(api, [east.subscriber], HR)
    assert [r["status"] for r in body["data"]["idCardsRequest"]["requests"]] == ["REQUESTED"]
    assert [(e["path"][-1], e["extensions"]["code"]) for e in body["errors"]] == [
        ("mailingAddress", "FORBIDDEN")
    ]


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
