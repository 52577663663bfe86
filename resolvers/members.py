"""Members of a group: lists, search, families and coverage, as far as the caller may read them.

MEMBERS_READ over the whole group shows every member; over some divisions, the members of those
divisions only. A member outside what the caller may read answers like one that does not exist.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from authz.privileges import Privilege
from data import members
from data.members import CoverageRecord, MemberFilter, MemberRecord
from data.pagination import Page
from resolvers import groups
from resolvers.context import Context
from resolvers.errors import ErrorCode, NotAllowed, Refused
from resolvers.pagination import page_request


class CoverageStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    FUTURE = "FUTURE"  # effective after today
    TERMINATED = "TERMINATED"


@dataclass(frozen=True, slots=True)
class CoverageView:
    """A coverage with its status on the caller's today."""

    record: CoverageRecord
    status: CoverageStatus


def _divisions(context: Context, group_id: int) -> frozenset[int] | None:
    """None: the whole group; else the divisions whose members the caller may read."""
    reach = context.access.reach(Privilege.MEMBERS_READ)
    if reach.every_group or group_id in reach.whole_groups:
        return None
    if group_id in reach.divisions:
        return reach.divisions[group_id]
    raise NotAllowed(Privilege.MEMBERS_READ.value)


def can_read(context: Context, member: MemberRecord) -> bool:
    return context.access.allows(Privilege.MEMBERS_READ, member.group_id, member.division_id)


async def members_page(
    context: Context,
    group_id: int,
    *,
    search: str | None,
    where: MemberFilter,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    count: bool,
) -> tuple[Page, list[MemberRecord]]:
    divisions = _divisions(context, group_id)
    if search is not None and len(search) > 100:
        raise Refused.on("search", "at most 100 characters", ErrorCode.INVALID)
    if where.division_id is not None:
        await groups.division_of(context, group_id, where.division_id, "filter.divisionId")
    request = page_request(
        first=first, after=after, last=last, before=before, kinds=(str, str, int)
    )
    async with context.database.reader.connect() as connection:
        return await members.members_page(
            connection,
            group_id=group_id,
            divisions=divisions,
            search=search,
            where=where,
            request=request,
            count=count,
        )


async def member(context: Context, member_id: int) -> MemberRecord | None:
    found = await context.loaders.member_by_id.load(member_id)
    return found if found is not None and can_read(context, found) else None


async def dependents(context: Context, subscriber: MemberRecord) -> list[MemberRecord]:
    family = await context.loaders.dependents_by_subscriber.load(subscriber.id)
    return [person for person in family if can_read(context, person)]


async def subscriber(context: Context, dependent: MemberRecord) -> MemberRecord | None:
    if dependent.subscriber_id is None:
        return None
    return await member(context, dependent.subscriber_id)


async def coverage(context: Context, person: MemberRecord) -> CoverageView | None:
    """The coverage in force today, else the next one to start, else the last one that ended."""
    spans = await context.loaders.coverages_by_member.load(person.id)
    today = context.today
    for span in spans:  # newest first
        if span.effective_date <= today and (
            span.termination_date is None or span.termination_date >= today
        ):
            return CoverageView(span, CoverageStatus.ACTIVE)
    future = [s for s in spans if s.effective_date > today]
    if future:
        return CoverageView(future[-1], CoverageStatus.FUTURE)
    return CoverageView(spans[0], CoverageStatus.TERMINATED) if spans else None
