"""Writes to members and their coverages: rows locked for the change, in the caller's session.

The rows come back as ORM objects of the caller's unit of work; the use case changes their
attributes and the session writes them when it commits (as `data/users.py` does for users).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from data.members import MemberRecord
from data.models.members import Coverage, Member


async def member_for_update(session: AsyncSession, member_id: int) -> Member | None:
    return await session.get(Member, member_id, with_for_update=True)


async def dependents_for_update(session: AsyncSession, subscriber_id: int) -> list[Member]:
    rows = await session.scalars(
        select(Member)
        .where(Member.subscriber_id == subscriber_id)
        .order_by(Member.id)
        .with_for_update()
    )
    return list(rows)


async def newest_coverages_for_update(
    session: AsyncSession, member_ids: Sequence[int]
) -> dict[int, Coverage]:
    """Each member's newest coverage span (by effective date): the one a termination ends.

    Older spans (employment before COBRA, say) have already ended when a newer one began.
    """
    rows = await session.scalars(
        select(Coverage)
        .where(Coverage.member_id.in_(member_ids))
        .order_by(Coverage.member_id, Coverage.effective_date.desc(), Coverage.id.desc())
        .with_for_update()
    )
    newest: dict[int, Coverage] = {}
    for coverage in rows:
        newest.setdefault(coverage.member_id, coverage)
    return newest


def record_of(member: Member) -> MemberRecord:
    return MemberRecord(*(getattr(member, name) for name in MemberRecord.__slots__))
