"""ID card requests through the endpoint: who may ask for cards, where they are mailed, bad input
for every argument (nothing changed), all or nothing. The list, the carrier's steps, the audit and
batched reads are in `test_id_card_requests.py`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from data.models.audit import AuditEvent
from data.models.enrollment import IdCardRequest
from data.models.groups import Group
from data.models.members import Coverage, Member, MemberStatus
from schema.common import global_id
from tests.conftest import Api
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
