"""Records kept only for a while: sign-in throttling, one-time codes, rotated refresh tokens,
the anonymous quotes' rate-limit windows.

None of them is a business record (the audit log keeps who signed in and what changed), and each
is useless past its time: a sign-in attempt after the throttle window, an authorization code or
a refresh token after it expires (an expired token is refused whether its row exists or not), a
clock hour's count of anonymous quotes once the hour is over.
Left alone they grow without bound — under a password-guessing attack, by one row per guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from data import audit
from data.models.members import Coverage, Member, MemberStatus
from data.models.quotes import AnonymousQuoteWindow
from data.models.users import OAuthAuthorizationCode, OAuthRefreshToken, SignInAttempt

# The throttle looks 15 minutes back; a day leaves room to look into an attack afterwards.
SIGN_IN_ATTEMPTS_KEPT = timedelta(days=1)
QUOTE_WINDOW = timedelta(hours=1)  # resolvers/quotes.py counts anonymous quotes per clock hour


@dataclass(frozen=True, slots=True)
class Purged:
    sign_in_attempts: int
    authorization_codes: int
    refresh_tokens: int
    quote_windows: int


async def purge(session: AsyncSession, now: datetime) -> Purged:
    """Delete what is past its time at `now`; returns how many rows of each went."""
    attempts = await session.execute(
        delete(SignInAttempt).where(SignInAttempt.attempted_at < now - SIGN_IN_ATTEMPTS_KEPT)
    )
    codes = await session.execute(
        delete(OAuthAuthorizationCode).where(OAuthAuthorizationCode.expires_at < now)
    )
    tokens = await session.execute(
        delete(OAuthRefreshToken).where(OAuthRefreshToken.expires_at < now)
    )
    windows = await session.execute(
        delete(AnonymousQuoteWindow).where(AnonymousQuoteWindow.window_start <= now - QUOTE_WINDOW)
    )
    return Purged(
        sign_in_attempts=_count(attempts),
        authorization_codes=_count(codes),
        refresh_tokens=_count(tokens),
        quote_windows=_count(windows),
    )


async def end_lapsed_members(session: AsyncSession, actor: audit.Actor, now: datetime) -> int:
    """Members still ACTIVE whose every coverage ended before today become TERMINATED, each
    audited. A termination dated ahead (a renewal's, the day before the renewal date) leaves
    its member ACTIVE until then; this is what turns it when the day has passed. Several
    processes may run it at once: each records only the members its own UPDATE changed."""
    today = now.date()
    covered_on = exists().where(
        Coverage.member_id == Member.id,
        or_(Coverage.termination_date.is_(None), Coverage.termination_date >= today),
    )
    ever_covered = exists().where(Coverage.member_id == Member.id)
    changed = await session.execute(
        update(Member)
        .where(Member.status == MemberStatus.ACTIVE, ever_covered, ~covered_on)
        .values(status=MemberStatus.TERMINATED)
        .returning(Member.id, Member.group_id)
        .execution_options(synchronize_session=False)
    )
    ended = changed.all()
    for member_id, group_id in ended:
        audit.record(
            session,
            actor,
            action="member.coverage_ended",
            target_type="member",
            target_id=member_id,
            group_id=group_id,
            now=now,
            before={"status": MemberStatus.ACTIVE.value},
            after={"status": MemberStatus.TERMINATED.value},
        )
    return len(ended)


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
