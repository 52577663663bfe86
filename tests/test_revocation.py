"""Revocation across instances: two app instances share one database, as in production.

A change made on instance A answers there at once (A reloads after its commit); instance B
learns it from the `policy_version` it polls every second, so within 2 seconds. A grant that
expires stops working at its time on both instances, with nothing but requests running: the
next request after the expiry sweeps it before deciding anything.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from data.database import Database
from data.models.users import User, UserStatus
from tests.conftest import Api, make_settings, serve_api

# The bound on how long another instance may go on honouring a revoked privilege.
PROPAGATION_LIMIT = 2.0
POLL = 0.02

USERS_OF_GROUP = """
query ($number: String!) { group(groupNumber: $number) { users { user { email } } } }"""
CREATE = """
mutation ($input: UserCreateInput!) {
  userCreate(input: $input) { groupUser { user { id } } errors { field code } }
}"""
UPDATE = """
mutation ($input: UserPrivilegesUpdateInput!) {
  userPrivilegesUpdate(input: $input) { groupUser { privileges } errors { field code } }
}"""
DEACTIVATE = """
mutation ($input: UserActivationInput!) {
  userDeactivate(input: $input) { user { status } errors { field code } }
}"""
AUDIT = """
query ($number: String!) {
  group(groupNumber: $number) {
    auditEvents(first: 50) { events { action targetId requestId actor { email } } }
  }
}"""
ADMIN = "admin@acme.example"
MANAGER_PRIVILEGES = ["MEMBERS_READ", "USERS_MANAGE"]

# What a request for the account access list (USERS_MANAGE) gets.
ALLOWED = "allowed"
FORBIDDEN = "forbidden"  # the group is visible, the list is refused (top-level FORBIDDEN)
HIDDEN = "hidden"  # no access left in the group: it answers like a group that does not exist
UNAUTHENTICATED = "unauthenticated"  # the token's user is no longer active (401)


@pytest.fixture
async def instances(demo_url: str, tmp_path: Path) -> AsyncIterator[tuple[Api, Api]]:
    """Instances A and B on one database, with one signing key (tokens work on both)."""
    settings = make_settings(demo_url, tmp_path)
    async with serve_api(settings) as first, serve_api(settings) as second:
        yield first, second


async def _post(
    api: Api, email: str, query: str, request_id: str | None = None, **variables: object
) -> httpx.Response:
    headers = {"authorization": f"Bearer {await api.token(email)}"}
    if request_id is not None:
        headers["x-request-id"] = request_id
    return await api.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


async def _mutate(
    api: Api, query: str, field: str, request_id: str, **fields: object
) -> dict[str, Any]:
    response = await _post(api, ADMIN, query, request_id, input=fields)
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()["data"][field]
    assert payload["errors"] == [], payload
    return payload


async def _access(api: Api, email: str, number: str) -> str:
    """What `email` gets for the account access list, as one of the outcomes above."""
    response = await _post(api, email, USERS_OF_GROUP, number=number)
    if response.status_code == 401:
        return UNAUTHENTICATED
    assert response.status_code == 200, response.text
    body = response.json()
    if body["data"]["group"] is None:
        assert "errors" not in body, body
        return HIDDEN
    if body["data"]["group"]["users"] is None:
        assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"]
        return FORBIDDEN
    return ALLOWED


async def _wait_for(api: Api, email: str, number: str, wanted: str, since: float) -> float:
    """Ask until the answer is `wanted`; the seconds since `since` (fails past the limit)."""
    while (outcome := await _access(api, email, number)) != wanted:
        elapsed = time.monotonic() - since
        assert elapsed <= PROPAGATION_LIMIT, f"still {outcome} after {elapsed:.2f} s"
        await asyncio.sleep(POLL)
    return time.monotonic() - since


async def _acme(api: Api) -> tuple[str, str]:
    """Acme's group number and ID, as its administrator sees them."""
    body = await api.query(ADMIN, "{ groups { id groupNumber } }")
    [group] = body["data"]["groups"]
    return group["groupNumber"], group["id"]


async def _create_user(
    api: Api, group_id: str, email: str, request_id: str, expires_at: datetime | None = None
) -> str:
    """Create a user with USERS_MANAGE on A, and let it sign in (as its invitation would)."""
    payload = await _mutate(
        api,
        CREATE,
        "userCreate",
        request_id,
        groupId=group_id,
        email=email,
        name="Revocation Test",
        privileges=MANAGER_PRIVILEGES,
        expiresAt=expires_at.isoformat() if expires_at else None,
    )
    database: Database = api.app.state.database
    async with database.sessions() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.email == email)
            .values(status=UserStatus.ACTIVE, password_hash="set-through-the-invitation")
        )
    user_id: str = payload["groupUser"]["user"]["id"]
    return user_id


async def _audit(api: Api, number: str) -> list[tuple[str, str | None, str | None]]:
    """The group's audit log as (action, actor e-mail, request id); the system has neither."""
    body = await api.query(ADMIN, AUDIT, number=number)
    events = body["data"]["group"]["auditEvents"]["events"]
    return [
        (e["action"], e["actor"]["email"] if e["actor"] else None, e["requestId"]) for e in events
    ]


async def test_a_reduced_privilege_stops_on_the_other_instance_within_2_seconds(
    instances: tuple[Api, Api],
) -> None:
    first, second = instances
    number, group_id = await _acme(first)
    granted, revoked = f"grant-{uuid.uuid4().hex}", f"revoke-{uuid.uuid4().hex}"
    manager = "manager@acme.example"
    user_id = await _create_user(first, group_id, manager, granted)
    assert await _access(first, manager, number) == ALLOWED
    await _wait_for(second, manager, number, ALLOWED, since=time.monotonic())

    await _mutate(
        first,
        UPDATE,
        "userPrivilegesUpdate",
        revoked,
        groupId=group_id,
        userId=user_id,
        privileges=["MEMBERS_READ"],
    )
    changed = time.monotonic()
    assert await _access(first, manager, number) == FORBIDDEN  # at once, no waiting
    elapsed = await _wait_for(second, manager, number, FORBIDDEN, since=changed)
    assert elapsed <= PROPAGATION_LIMIT

    log = await _audit(second, number)
    assert ("access.granted", ADMIN, granted) in log
    assert ("access.revoked", ADMIN, revoked) in log
    assert ("access.granted", ADMIN, revoked) in log  # the smaller set, in the same request


async def test_a_deactivated_user_is_refused_on_both_instances_within_2_seconds(
    instances: tuple[Api, Api],
) -> None:
    first, second = instances
    number, group_id = await _acme(first)
    granted, deactivated = f"grant-{uuid.uuid4().hex}", f"deactivate-{uuid.uuid4().hex}"
    manager = "leaving@acme.example"
    user_id = await _create_user(first, group_id, manager, granted)
    await _wait_for(second, manager, number, ALLOWED, since=time.monotonic())

    payload = await _mutate(
        first, DEACTIVATE, "userDeactivate", deactivated, groupId=group_id, userId=user_id
    )
    assert payload["user"] == {"status": "DEACTIVATED"}
    changed = time.monotonic()
    assert await _access(first, manager, number) == UNAUTHENTICATED
    elapsed = await _wait_for(second, manager, number, UNAUTHENTICATED, since=changed)
    assert elapsed <= PROPAGATION_LIMIT

    log = await _audit(second, number)
    assert ("access.granted", ADMIN, granted) in log
    assert ("user.deactivated", ADMIN, deactivated) in log


async def test_an_expiring_grant_stops_on_time_on_both_instances(
    instances: tuple[Api, Api],
) -> None:
    first, second = instances
    number, group_id = await _acme(first)
    granted = f"grant-{uuid.uuid4().hex}"
    temporary = "temporary@acme.example"
    # Two seconds: B has its one poll interval to learn of the grant before it ends.
    expires_at = datetime.now(UTC) + timedelta(seconds=2)
    await _create_user(first, group_id, temporary, granted, expires_at=expires_at)
    assert await _access(first, temporary, number) == ALLOWED
    await _wait_for(second, temporary, number, ALLOWED, since=time.monotonic())
    assert datetime.now(UTC) < expires_at, "too slow to see the grant before it ended"

    await asyncio.sleep((expires_at - datetime.now(UTC)).total_seconds() + 0.05)
    # B first: nobody has swept the grant yet, so B's own check before the request refuses it.
    assert await _access(second, temporary, number) == HIDDEN
    assert await _access(first, temporary, number) == HIDDEN

    log = await _audit(second, number)
    assert ("access.granted", ADMIN, granted) in log
    # Whichever instance swept them recorded each expired grant, once.
    assert log.count(("access.expired", None, None)) == len(MANAGER_PRIVILEGES)
