"""Delegation through the endpoint: creating users, changing and removing their privileges,
deactivation, designation of the primary administrator, explanations and the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from data.models.audit import AuditEvent
from data.models.users import AccessGrant, PrimaryAdministratorDesignation, User, UserStatus
from tests.conftest import Api

CREATE = """
mutation ($input: UserCreateInput!) {
  userCreate(input: $input) {
    groupUser { user { id email status } privileges grants { division { code } expiresAt } }
    errors { field message code }
  }
}"""
UPDATE = """
mutation ($input: UserPrivilegesUpdateInput!) {
  userPrivilegesUpdate(input: $input) {
    groupUser { privileges }
    errors { field message code }
  }
}"""
DEACTIVATE = """
mutation ($input: UserActivationInput!) {
  userDeactivate(input: $input) { user { status } errors { field code } }
}"""
REACTIVATE = """
mutation ($input: UserActivationInput!) {
  userReactivate(input: $input) { user { status } errors { field code } }
}"""
DESIGNATE = """
mutation ($input: PrimaryAdministratorDesignateInput!) {
  primaryAdministratorDesignate(input: $input) { administrator { email } errors { field code } }
}"""
GROUP = """
query ($n: String!) {
  group(groupNumber: $n) {
    id viewerPrivileges
    divisions { id code }
    users { user { id email } privileges isPrimaryAdministrator grants { grantedBy { email } } }
  }
}"""


async def acme(api: Api, as_user: str = "admin@acme.example") -> dict[str, Any]:
    numbers = await api.query(
        "accounts@carrier.example", '{ groups(search: "acme") { groupNumber } }'
    )
    number = numbers["data"]["groups"][0]["groupNumber"]
    body = await api.query(as_user, GROUP, n=number)
    group: dict[str, Any] = body["data"]["group"]
    return group | {"number": number}


async def counts(api: Api) -> tuple[int, int, int]:
    async with api.app.state.database.reader.connect() as connection:
        users = await connection.scalar(select(func.count()).select_from(User))
        grants = await connection.scalar(select(func.count()).select_from(AccessGrant))
        events = await connection.scalar(select(func.count()).select_from(AuditEvent))
    return int(users or 0), int(grants or 0), int(events or 0)


async def activate(api: Api, email: str) -> None:
    """Stand-in for the invitation flow (tested on its own): the user may now sign in."""
    async with api.app.state.database.engine.begin() as connection:
        await connection.execute(
            update(User).where(User.email == email).values(status=UserStatus.ACTIVE)
        )


async def create(api: Api, as_user: str, group_id: str, **fields: Any) -> dict[str, Any]:
    values = {"groupId": group_id, "email": "new@acme.example", "name": "New Person"} | fields
    body = await api.query(as_user, CREATE, input=values)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["userCreate"]
    return payload


async def test_admin_creates_a_scoped_sub_user(api: Api) -> None:
    group = await acme(api)
    before = await counts(api)
    east = next(d for d in group["divisions"] if d["code"] == "EAST")
    payload = await create(
        api,
        "admin@acme.example",
        group["id"],
        privileges=["MEMBERS_READ", "ID_CARDS_REQUEST"],
        divisionId=east["id"],
    )
    assert payload["errors"] == []
    created = payload["groupUser"]
    assert created["user"]["status"] == "INVITED"
    assert created["privileges"] == ["ID_CARDS_REQUEST", "MEMBERS_READ"]
    assert {g["division"]["code"] for g in created["grants"]} == {"EAST"}
    users, grants, events = await counts(api)
    assert (users, grants) == (before[0] + 1, before[1] + 2)
    assert events >= before[2] + 2  # user.created and access.granted

    await activate(api, "new@acme.example")
    seen = await acme(api, "new@acme.example")
    assert seen["viewerPrivileges"] == []  # nothing group-wide: only in EAST
    listed = {u["user"]["email"]: u for u in (await acme(api))["users"]}
    assert listed["new@acme.example"]["grants"][0]["grantedBy"]["email"] == "admin@acme.example"
    assert listed["admin@acme.example"]["isPrimaryAdministrator"] is True


BAD_INPUT = [
    ({"email": "not-an-email"}, "email", "INVALID"),
    ({"name": "  "}, "name", "INVALID"),
    ({"privileges": []}, "privileges", "REQUIRED"),
    ({"privileges": ["BILLING_READ", "BILLING_READ"]}, "privileges", "INVALID"),
    ({"expiresAt": "2001-01-01T00:00:00+00:00"}, "expiresAt", "INVALID"),
    ({"divisionId": "RGl2aXNpb246OTk5OTk="}, "divisionId", "NOT_FOUND"),
    ({"divisionId": "garbage"}, "divisionId", "NOT_FOUND"),
    ({"groupId": "R3JvdXA6OTk5OTk5"}, "groupId", "NOT_FOUND"),
    ({"email": "admin@acme.example"}, "email", "CONFLICT"),
]


@pytest.mark.parametrize(("fields", "field", "code"), BAD_INPUT)
async def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    api: Api, fields: dict[str, Any], field: str, code: str
) -> None:
    group = await acme(api)
    before = await counts(api)
    payload = await create(
        api, "admin@acme.example", group["id"], **({"privileges": ["BILLING_READ"]} | fields)
    )
    assert payload["groupUser"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert await counts(api) == before


ESCALATIONS = [
    # (acting persona, privileges asked, division?, refused field, code)
    ("billing@acme.example", ["BILLING_READ"], None, "groupId", "FORBIDDEN"),
    ("hr.east@acme.example", ["MEMBERS_READ"], "EAST", "divisionId", "FORBIDDEN"),
    ("broker@summit.example", ["MEMBERS_READ"], None, "groupId", "FORBIDDEN"),
    ("admin@acme.example", ["REVIEW_QUEUE_WORK"], None, "privileges", "ESCALATION"),
    ("admin@acme.example", ["ADMINISTRATOR_DESIGNATE"], None, "privileges", "ESCALATION"),
    ("admin@globex.example", ["MEMBERS_READ"], None, "groupId", "NOT_FOUND"),
]


@pytest.mark.parametrize(("persona", "privileges", "division", "field", "code"), ESCALATIONS)
async def test_nobody_grants_beyond_what_they_hold(
    api: Api, persona: str, privileges: list[str], division: str | None, field: str, code: str
) -> None:
    group = await acme(api)
    division_id = next((d["id"] for d in group["divisions"] if d["code"] == division), None)
    before = await counts(api)
    payload = await create(api, persona, group["id"], privileges=privileges, divisionId=division_id)
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert await counts(api) == before


async def test_a_sub_user_manager_cannot_grant_or_touch_beyond_itself(api: Api) -> None:
    group = await acme(api)
    await create(
        api,
        "admin@acme.example",
        group["id"],
        email="manager@acme.example",
        privileges=["USERS_MANAGE", "BILLING_READ"],
    )
    await activate(api, "manager@acme.example")
    escalated = await create(
        api,
        "manager@acme.example",
        group["id"],
        email="x@acme.example",
        privileges=["BILLING_READ", "BILLING_PAY"],
    )
    assert [(e["field"], e["code"]) for e in escalated["errors"]] == [("privileges", "ESCALATION")]
    allowed = await create(
        api,
        "manager@acme.example",
        group["id"],
        email="y@acme.example",
        privileges=["BILLING_READ"],
    )
    assert allowed["errors"] == []

    targets = [
        ("admin@acme.example", "PRIMARY_ADMINISTRATOR"),  # designation only
        ("billing@acme.example", "ESCALATION"),  # holds BILLING_PAY, which the manager lacks
        ("manager@acme.example", "SELF_CHANGE"),
    ]
    for email, code in targets:
        body = await api.query(
            "manager@acme.example",
            UPDATE,
            input={"groupId": group["id"], "userId": await user_gid(api, email), "privileges": []},
        )
        errors = body["data"]["userPrivilegesUpdate"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [("userId", code)], email


async def test_a_grant_does_not_outlast_its_grantors_own_access(api: Api) -> None:
    group = await acme(api)
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    await create(
        api,
        "admin@acme.example",
        group["id"],
        email="temp.manager@acme.example",
        privileges=["USERS_MANAGE", "BILLING_READ"],
        expiresAt=ends.isoformat(),
    )
    await activate(api, "temp.manager@acme.example")
    before = await counts(api)
    for expires in [None, ends + timedelta(seconds=1)]:
        extra = {} if expires is None else {"expiresAt": expires.isoformat()}
        refused = await create(
            api,
            "temp.manager@acme.example",
            group["id"],
            email="late@acme.example",
            privileges=["BILLING_READ"],
            **extra,
        )
        assert [(e["field"], e["code"]) for e in refused["errors"]] == [
            ("expiresAt", "ESCALATION")
        ], expires
        assert ends.isoformat() in refused["errors"][0]["message"]
    assert await counts(api) == before  # refused whole: no user, no grant, no audit event
    allowed = await create(
        api,
        "temp.manager@acme.example",
        group["id"],
        email="late@acme.example",
        privileges=["BILLING_READ"],
        expiresAt=ends.isoformat(),
    )
    assert allowed["errors"] == []
    # Changing privileges is held to the same bound.
    body = await api.query(
        "temp.manager@acme.example",
        UPDATE,
        input={
            "groupId": group["id"],
            "userId": await user_gid(api, "late@acme.example"),
            "privileges": ["BILLING_READ"],
        },
    )
    errors = body["data"]["userPrivilegesUpdate"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("expiresAt", "ESCALATION")]


async def user_gid(api: Api, email: str) -> str:
    import base64

    return base64.urlsafe_b64encode(f"User:{await api.user_id(email)}".encode()).decode()


async def test_revoking_takes_effect_at_once(api: Api) -> None:
    group = await acme(api)
    billing = await user_gid(api, "billing@acme.example")
    body = await api.query(
        "admin@acme.example",
        UPDATE,
        input={"groupId": group["id"], "userId": billing, "privileges": ["BILLING_READ"]},
    )
    assert body["data"]["userPrivilegesUpdate"] == {
        "groupUser": {"privileges": ["BILLING_READ"]},
        "errors": [],
    }
    assert (await acme(api, "billing@acme.example"))["viewerPrivileges"] == ["BILLING_READ"]

    await api.query(
        "admin@acme.example",
        UPDATE,
        input={"groupId": group["id"], "userId": billing, "privileges": []},
    )
    gone = await api.query("billing@acme.example", GROUP, n=group["number"])
    assert gone == {"data": {"group": None}}


async def test_deactivated_user_is_refused_and_can_be_reactivated(api: Api) -> None:
    group = await acme(api)
    billing = {"groupId": group["id"], "userId": await user_gid(api, "billing@acme.example")}
    body = await api.query("admin@acme.example", DEACTIVATE, input=billing)
    assert body["data"]["userDeactivate"] == {"user": {"status": "DEACTIVATED"}, "errors": []}
    token = await api.token("billing@acme.example")
    refused = await api.client.post(
        "/graphql",
        json={"query": "{ viewer { user { email } } }"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]

    again = await api.query("admin@acme.example", DEACTIVATE, input=billing)
    assert again["data"]["userDeactivate"]["errors"] == [
        {"field": "userId", "code": "ALREADY_DONE"}
    ]
    back = await api.query("admin@acme.example", REACTIVATE, input=billing)
    assert back["data"]["userReactivate"]["errors"] == []


async def test_officer_designates_the_one_primary_administrator(api: Api) -> None:
    group = await acme(api)
    body = await api.query(
        "officer@acme.example",
        DESIGNATE,
        input={"groupId": group["id"], "email": "New.Admin@acme.example", "name": "New Admin"},
    )
    assert body["data"]["primaryAdministratorDesignate"] == {
        "administrator": {"email": "new.admin@acme.example"},
        "errors": [],
    }
    # The previous administrator lost the role at once; exactly one designation is current.
    assert await api.query("admin@acme.example", GROUP, n=group["number"]) == {
        "data": {"group": None}
    }
    async with api.app.state.database.reader.connect() as connection:
        current = await connection.scalar(
            select(func.count())
            .select_from(PrimaryAdministratorDesignation)
            .where(
                PrimaryAdministratorDesignation.ended_at.is_(None),
                PrimaryAdministratorDesignation.group_id
                == select(PrimaryAdministratorDesignation.group_id)
                .join(User, User.id == PrimaryAdministratorDesignation.user_id)
                .where(User.email == "new.admin@acme.example")
                .scalar_subquery(),
            )
        )
    assert current == 1


DESIGNATIONS = [
    ("admin@acme.example", {}, None, "FORBIDDEN"),
    ("accounts@carrier.example", {}, "formReference", "REQUIRED"),
    ("accounts@carrier.example", {"formReference": "PCA-2026-0042"}, None, None),
    ("officer@acme.example", {"email": "admin@acme.example"}, "email", "ALREADY_DONE"),
    ("officer@acme.example", {"email": "broker@summit.example"}, "email", "INVALID"),
    ("officer@acme.example", {"email": "Officer@Acme.example"}, "email", "SELF_CHANGE"),
    ("admin@globex.example", {}, "groupId", "NOT_FOUND"),
]


@pytest.mark.parametrize(("persona", "fields", "field", "code"), DESIGNATIONS)
async def test_designation_rules(
    api: Api, persona: str, fields: dict[str, str], field: str | None, code: str | None
) -> None:
    group = await acme(api)
    values = {"groupId": group["id"], "email": "other@acme.example", "name": "Other"} | fields
    body = await api.query(persona, DESIGNATE, input=values)
    if code == "FORBIDDEN":
        assert body["data"]["primaryAdministratorDesignate"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        return
    errors = body["data"]["primaryAdministratorDesignate"]["errors"]
    assert errors == ([] if code is None else [{"field": field, "code": code}])


EXPLAIN = """
query ($u: ID!, $g: ID!, $p: Privilege!) {
  accessExplain(userId: $u, groupId: $g, privilege: $p) {
    allowed missing reasons { held grant { grantedBy { email } } } grantors { email }
  }
}"""


async def test_access_explain_says_why_and_who_could_grant(api: Api) -> None:
    group = await acme(api)
    billing = await user_gid(api, "billing@acme.example")
    refused = await api.query(
        "admin@acme.example", EXPLAIN, u=billing, g=group["id"], p="MEMBERS_READ"
    )
    assert refused["data"]["accessExplain"] == {
        "allowed": False,
        "missing": "MEMBERS_READ in the whole group",
        "reasons": [],
        "grantors": [{"email": "admin@acme.example"}],
    }
    allowed = await api.query(
        "admin@acme.example", EXPLAIN, u=billing, g=group["id"], p="BILLING_PAY"
    )
    assert allowed["data"]["accessExplain"]["allowed"] is True
    assert allowed["data"]["accessExplain"]["reasons"] == [
        {"held": "privilege:BILLING_PAY", "grant": {"grantedBy": {"email": "admin@acme.example"}}}
    ]
    # Asking about yourself needs no USERS_MANAGE; asking about others does.
    own = await api.query(
        "billing@acme.example", EXPLAIN, u=billing, g=group["id"], p="BILLING_PAY"
    )
    assert own["data"]["accessExplain"]["allowed"] is True
    other = await api.query(
        "billing@acme.example",
        EXPLAIN,
        u=await user_gid(api, "admin@acme.example"),
        g=group["id"],
        p="BILLING_PAY",
    )
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"


AUDIT = """
query ($n: String!, $after: String) {
  group(groupNumber: $n) {
    auditEvents(first: 1, after: $after) {
      events { action targetType requestId actor { email } after }
      endCursor hasNextPage
    }
  }
}"""


async def test_changes_are_audited_and_paged(api: Api) -> None:
    group = await acme(api)
    await create(api, "admin@acme.example", group["id"], privileges=["BILLING_READ"])
    first = await api.query("admin@acme.example", AUDIT, n=group["number"])
    page = first["data"]["group"]["auditEvents"]
    [event] = page["events"]
    assert (event["action"], event["actor"]["email"]) == ("access.granted", "admin@acme.example")
    assert event["after"]["privileges"] == ["BILLING_READ"]
    assert len(event["requestId"]) == 32
    assert page["hasNextPage"] is True
    second = await api.query(
        "admin@acme.example", AUDIT, n=group["number"], after=page["endCursor"]
    )
    assert second["data"]["group"]["auditEvents"]["events"][0]["action"] == "user.created"

    denied = await api.query("billing@acme.example", AUDIT, n=group["number"])
    assert denied["data"]["group"]["auditEvents"] is None
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_expired_grant_stops_working_without_a_job(api: Api) -> None:
    group = await acme(api)
    soon = datetime.now(UTC) + timedelta(seconds=1)
    await create(
        api,
        "admin@acme.example",
        group["id"],
        email="temp@acme.example",
        privileges=["BILLING_READ"],
        expiresAt=soon.isoformat(),
    )
    await activate(api, "temp@acme.example")
    assert (await acme(api, "temp@acme.example"))["viewerPrivileges"] == ["BILLING_READ"]
    import asyncio

    await asyncio.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.05)
    expired = await api.query("temp@acme.example", GROUP, n=group["number"])
    assert expired == {"data": {"group": None}}
    # The sweep is a change like any other: audited, by the system itself.
    page = await api.query("admin@acme.example", AUDIT, n=group["number"])
    [event] = page["data"]["group"]["auditEvents"]["events"]
    assert (event["action"], event["actor"], event["requestId"]) == ("access.expired", None, None)
