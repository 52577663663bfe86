"""The server's housekeeping: every so often, delete the records that are past their time, and
turn members whose coverage has ended (a termination dated ahead, e.g. a renewal's) TERMINATED."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from data import housekeeping
from data.audit import SYSTEM
from data.database import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Done:
    purged: housekeeping.Purged
    members_ended: int


async def purge_once(database: Database, now: datetime | None = None) -> Done:
    now = now or datetime.now(UTC)
    async with database.sessions() as session, session.begin():
        purged = await housekeeping.purge(session, now)
        ended = await housekeeping.end_lapsed_members(session, SYSTEM, now)
    log.info(
        "housekeeping: %s sign-in attempts, %s authorization codes, %s refresh tokens, "
        "%s quote rate-limit windows purged; %s members whose coverage ended terminated",
        purged.sign_in_attempts,
        purged.authorization_codes,
        purged.refresh_tokens,
        purged.quote_windows,
        ended,
    )
    return Done(purged, ended)


async def run(database: Database, stop: asyncio.Event, interval: float) -> None:
    """Purge every `interval` seconds until `stop` (the first after one interval, so that a
    starting server serves first); a failure is logged and retried at the next turn. Every
    server process runs this: the deletes are idempotent."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        if stop.is_set():
            return
        try:
            await purge_once(database)
        except Exception:
            log.exception("housekeeping failed; trying again in %s s", interval)


@contextlib.asynccontextmanager
async def running(database: Database, interval: float) -> AsyncIterator[None]:
    """Housekeeping beside the server while it serves (interval 0: none)."""
    if interval <= 0:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(run(database, stop, interval))
    try:
        yield
    finally:
        stop.set()
        await task
