"""Records past their time are purged: sign-in attempts, authorization codes, refresh tokens,
anonymous quotes' rate-limit windows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from data.database import Database
from data.housekeeping import QUOTE_WINDOW, SIGN_IN_ATTEMPTS_KEPT, Purged
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
    assert await housekeeping.purge_once(database, NOW) == Purged(1, 1, 1, 1)
    assert await _left(database) == tuple(count + 1 for count in before)
    # Idempotent: a second process purging at the same time finds nothing more.
    assert await housekeeping.purge_once(database, NOW) == Purged(0, 0, 0, 0)


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
