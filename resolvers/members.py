"""Members of a group: lists, search, families and coverage, as far as the caller may read them.

MEMBERS_READ over the whole group shows every member; over some divisions, the members of those
divisions only. A member outside what the caller may read answers like one that does not exist.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import date

from authz.privileges import Privilege
from data.groups import DivisionRecord
from data.members import CoverageRecord, MemberFilter, MemberRecord, MembersPageKey
from data.models.plans import CoverageTier
from data.pagination import Page
from resolvers import groups
from resolvers.context import Context
from resolvers.errors import ErrorCode, NotAllowed, Refused
from resolvers.loaders import MISSING
from resolvers.pagination import page_request


class CoverageStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    FUTURE = "FUTURE"  # effective after today
    TERMINATED = "TERMINATED"


@dataclass(frozen=True, slots=True)
class CoverageView:
    """A coverage with its status on the caller's today, flat: every field a plain attribute."""

    status: CoverageStatus
    plan_id: int
    tier: CoverageTier
    effective_date: date
    termination_date: date | None
    is_cobra: bool
    is_medicare: bool

    @classmethod
    def of(cls, span: CoverageRecord, status: CoverageStatus) -> CoverageView:
        return cls(
            status,
            span.plan_id,
            span.tier,
            span.effective_date,
            span.termination_date,
            span.is_cobra,
            span.is_medicare,
        )


@dataclass(frozen=True, slots=True)
class Includes:
    """What a query reads below a list of members, so that each level is fetched for the whole
    list at once (PERFORMANCE.md item 4) and the fields below it resolve as plain reads."""

    coverage: bool = False
    coverage_plan: bool = False
    division: bool = False
    dependents: Includes | None = None


def readable_divisions(context: Context, group_id: int) -> frozenset[int] | None:
    """None: the whole group; else the divisions whose members (and what concerns them: their
    requests, their cards) the caller may read. NotAllowed if none."""
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
    divisions = readable_divisions(context, group_id)
    if search is not None and len(search) > 100:
        raise Refused.on("search", "at most 100 characters", ErrorCode.INVALID)
    if where.division_id is not None:
        await groups.division_of(context, group_id, where.division_id, "filter.divisionId")
    request = page_request(
        first=first, after=after, last=last, before=before, kinds=(str, str, int)
    )
    # Through a loader: a list of groups asking each for its members is one statement.
    key = MembersPageKey(group_id, divisions, search, where, request, count)
    return await context.loaders.members_page.load(key)


async def member(context: Context, member_id: int) -> MemberRecord | None:
    found = await context.loaders.member_by_id.load(member_id)
    return found if found is not None and can_read(context, found) else None


async def include(context: Context, people: Sequence[MemberRecord], includes: Includes) -> None:
    """Load, level by level and each level in one batch for all of `people`, what `includes`
    names; afterwards `coverage_now`, `dependents_now`, `division_now` and `plans.plan_now`
    answer without waiting.

    The statements are the ones the fields would have batched themselves, so the count per
    request stays the same; what goes is an awaitable per field and per object.
    """
    if not people:
        return
    loaders = context.loaders
    ids = [person.id for person in people]
    first: list[Awaitable[object]] = []
    if includes.coverage:
        first.append(loaders.coverages_by_member.load_all(ids))
    if includes.dependents is not None:
        first.append(loaders.dependents_by_subscriber.load_all(ids))
    if includes.division:
        divisions = {p.division_id for p in people if p.division_id is not None}
        first.append(loaders.division_by_id.load_all(divisions))
    await asyncio.gather(*first)
    second: list[Awaitable[object]] = []
    if includes.coverage_plan:
        views = (coverage_now(context, person) for person in people)
        plan_ids = {view.plan_id for view in views if isinstance(view, CoverageView)}
        second.append(loaders.plan_by_id.load_all(plan_ids))
    if includes.dependents is not None:
        family = [d for person in people for d in _cached_family(context, person)]
        second.append(include(context, family, includes.dependents))
    await asyncio.gather(*second)


def _cached_family(context: Context, subscriber: MemberRecord) -> list[MemberRecord]:
    family = context.loaders.dependents_by_subscriber.cached(subscriber.id)
    return [] if family is MISSING else family


async def dependents(context: Context, subscriber: MemberRecord) -> list[MemberRecord]:
    family = await context.loaders.dependents_by_subscriber.load(subscriber.id)
    return [person for person in family if can_read(context, person)]


def dependents_now(
    context: Context, subscriber: MemberRecord
) -> list[MemberRecord] | Awaitable[list[MemberRecord]]:
    """`dependents`, answered at once when `include` loaded them."""
    if subscriber.subscriber_id is not None:
        return []
    family = context.loaders.dependents_by_subscriber.cached(subscriber.id)
    if family is MISSING:
        return dependents(context, subscriber)
    return [person for person in family if can_read(context, person)]


async def subscriber(context: Context, dependent: MemberRecord) -> MemberRecord | None:
    if dependent.subscriber_id is None:
        return None
    return await member(context, dependent.subscriber_id)


async def coverage(context: Context, person: MemberRecord) -> CoverageView | None:
    return current_coverage(await context.loaders.coverages_by_member.load(person.id), context)


def coverage_now(
    context: Context, person: MemberRecord
) -> CoverageView | Awaitable[CoverageView | None] | None:
    """`coverage`, answered at once when `include` loaded it."""
    spans = context.loaders.coverages_by_member.cached(person.id)
    return coverage(context, person) if spans is MISSING else current_coverage(spans, context)


def current_coverage(spans: Sequence[CoverageRecord], context: Context) -> CoverageView | None:
    """The coverage in force today, else the next one to start, else the last one that ended."""
    today = context.today
    for span in spans:  # newest first
        if span.effective_date <= today and (
            span.termination_date is None or span.termination_date >= today
        ):
            return CoverageView.of(span, CoverageStatus.ACTIVE)
    future = [s for s in spans if s.effective_date > today]
    if future:
        return CoverageView.of(future[-1], CoverageStatus.FUTURE)
    return CoverageView.of(spans[0], CoverageStatus.TERMINATED) if spans else None


def division_now(
    context: Context, division_id: int
) -> DivisionRecord | Awaitable[DivisionRecord | None] | None:
    found = context.loaders.division_by_id.cached(division_id)
    return context.loaders.division_by_id.load(division_id) if found is MISSING else found
