"""Housekeeping: records past their time are purged (sign-in attempts, authorization codes,
refresh tokens, anonymous quotes' rate-limit windows), and members whose coverage has ended are
terminated."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, update

from data.database import Database
from data.housekeeping import QUOTE_WINDOW, SIGN_IN_ATTEMPTS_KEPT, Purged
from data.models.groups import Group
from data.models.members import Coverage, Member, MemberStatus, Relationship
from data.models.quotes import AnonymousQuoteWindow
from data.models.users import OAuthAuthorizationCode, OAuthRefreshToken, SignInAttempt
from groupgate import housekeeping
from tests.conftest import Api

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


async def _plant(database: Database, user_id: int, now: datetime = NOW) -> None:
    """Two of each: one just past its time at `now`, one just within it."""
    past, within = now - timedelta(microseconds=1), now + timedelta(microseconds=1)
    async with database.engine.begin() as connection:
        await connection.execute(
            insert(SignInAttempt),
            [
                {
                    "email": "x@acme.example",
                    "address": "10.0.0.1",
                    "succeeded": False,
                    "attempted_at": past - SIGN_IN_ATTEMPTS_KEPT,
                },
                {
                    "email": "x@acme.example",
                    "address": "10.0.0.1",
                    "succeeded": False,
                    "attempted_at": within - SIGN_IN_ATTEMPTS_KEPT,
                },
            ],
        )
        code = {
            "client_id": "web",
            "user_id": user_id,
            "redirect_uri": "http://x/cb",
            "scope": "openid",
            "code_challenge": "c" * 43,
            "code_challenge_method": "S256",
        }
        await connection.execute(
            insert(OAuthAuthorizationCode),
            [
                code | {"code_hash": "a" * 64, "expires_at": past},
                code | {"code_hash": "b" * 64, "expires_at": within},
            ],
        )
        token = {"family_id": "f", "client_id": "web", "user_id": user_id, "scope": "openid"}
        await connection.execute(
            insert(OAuthRefreshToken),
            [
                token | {"token_hash": "c" * 64, "expires_at": past},
                token | {"token_hash": "d" * 64, "expires_at": within},
            ],
        )
        await connection.execute(
            insert(AnonymousQuoteWindow),
            [
                {"address": "10.0.0.2", "window_start": past - QUOTE_WINDOW, "quotes": 5},
                {"address": "10.0.0.2", "window_start": within - QUOTE_WINDOW, "quotes": 1},
            ],
        )


async def _left(database: Database) -> tuple[int, ...]:
    async with database.reader.connect() as connection:
        counted = [
            await connection.scalar(select(func.count()).select_from(table))
            for table in (
                SignInAttempt,
                OAuthAuthorizationCode,
                OAuthRefreshToken,
                AnonymousQuoteWindow,
            )
        ]
    return tuple(int(count or 0) for count in counted)


async def test_purge_deletes_exactly_what_is_past_its_time(api: Api) -> None:
    database: Database = api.app.state.database
    before = await _left(database)
    await _plant(database, await api.user_id("admin@acme.example"))
    assert (await housekeeping.purge_once(database, NOW)).purged == Purged(1, 1, 1, 1)
    assert await _left(database) == tuple(count + 1 for count in before)
    # Idempotent: a second process purging at the same time finds nothing more.
    assert (await housekeeping.purge_once(database, NOW)).purged == Purged(0, 0, 0, 0)


async def test_the_server_loop_purges_every_interval_and_stops(api: Api) -> None:
    database: Database = api.app.state.database
    # Planted a second back on the real clock, all eight rows are past their time when it runs.
    await _plant(database, await api.user_id("admin@acme.example"), datetime.now(UTC) - SECOND)
    planted = await _left(database)
    stop = asyncio.Event()
    task = asyncio.create_task(housekeeping.run(database, stop, interval=0.01))
    try:
        expected = tuple(count - 2 for count in planted)
        # The database tells no event when rows go: look, for up to 10 seconds, until they have.
        for _ in range(1000):
            if await _left(database) == expected:
                break
            await asyncio.sleep(0.01)
        assert await _left(database) == expected
    finally:
        stop.set()
        async with asyncio.timeout(10):
            await task


MEMBERS = """
query ($n: String!) {
  group(groupNumber: $n) {
    members(first: 100, filter: {relationship: SUBSCRIBER, status: ACTIVE}) {
      edges { node { id memberNumber status } }
    }
    auditEvents(first: 10) { events { action targetType actor { email } before after } }
  }
}"""


async def test_members_whose_coverage_ended_are_terminated_and_audited(api: Api) -> None:
    """A termination dated ahead (as a renewal's) leaves its member ACTIVE until the day has
    passed; housekeeping then turns it, once, with an audit event by nobody."""
    database: Database = api.app.state.database
    today = datetime.now(UTC).date()
    async with database.engine.begin() as connection:
        group_id, number = (
            await connection.execute(
                select(Group.id, Group.group_number).where(Group.legal_name == "Acme Manufacturing")
            )
        ).one()
        subscribers = list(
            await connection.scalars(
                select(Member.id)
                .where(
                    Member.group_id == group_id,
                    Member.relationship == Relationship.SUBSCRIBER,
                    Member.status == MemberStatus.ACTIVE,
                )
                .order_by(Member.id)
                .limit(3)
            )
        )
        # Ended yesterday; ends today (covered through today); ends tomorrow.
        for member_id, ends in zip(subscribers, (-1, 0, 1), strict=True):
            await connection.execute(
                update(Coverage)
                .where(Coverage.member_id == member_id)
                .values(termination_date=today + timedelta(days=ends))
            )
    admin = "admin@acme.example"
    before = await api.query(admin, MEMBERS, n=number)
    listed = {edge["node"]["id"] for edge in before["data"]["group"]["members"]["edges"]}
    done = await housekeeping.purge_once(database)
    assert done.members_ended == 1
    assert (await housekeeping.purge_once(database)).members_ended == 0
    after = await api.query(admin, MEMBERS, n=number)
    still = {edge["node"]["id"] for edge in after["data"]["group"]["members"]["edges"]}
    assert len(listed - still) == 1  # only yesterday's is no longer ACTIVE
    async with database.reader.connect() as connection:
        statuses = dict(
            (
                await connection.execute(
                    select(Member.id, Member.status).where(Member.id.in_(subscribers))
                )
            ).all()
        )
    assert [statuses[member_id] for member_id in subscribers] == [
        MemberStatus.TERMINATED,
        MemberStatus.ACTIVE,
        MemberStatus.ACTIVE,
    ]
    [event] = [
        e
        for e in after["data"]["group"]["auditEvents"]["events"]
        if e["action"] == "member.coverage_ended"
    ]
    assert event == {
        "action": "member.coverage_ended",
        "targetType": "member",
        "actor": None,
        "before": {"status": "ACTIVE"},
        "after": {"status": "TERMINATED"},
    }
