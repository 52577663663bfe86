"""Reads of renewals: a group's renewal on its renewal date, the plans offered, the census.

Core rows into slotted dataclasses; each batch function answers its keys in key order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from data.keys import Keyed, key_in
from data.models.groups import Group
from data.models.members import Coverage, Member, MemberStatus, Relationship
from data.models.plans import CoverageTier
from data.models.renewals import OfferKind, Renewal, RenewalOption


@dataclass(frozen=True, slots=True)
class RenewalRecord:
    id: int
    group_id: int
    effective_date: date
    plan_year: int


@dataclass(frozen=True, slots=True)
class OptionRecord:
    renewal_id: int
    plan_id: int
    kind: OfferKind


# (group id, day): the census is counted on a day.
CensusKey = tuple[int, date]

_RENEWALS_OF_GROUPS = Keyed(
    lambda keys: (
        select(Renewal.id, Renewal.group_id, Renewal.effective_date, Renewal.plan_year)
        .join(
            Group, and_(Group.id == Renewal.group_id, Group.renewal_date == Renewal.effective_date)
        )
        .where(keys(Renewal.group_id))
    )
)


async def renewals_of_groups(
    connection: AsyncConnection, group_ids: Sequence[int]
) -> list[RenewalRecord | None]:
    """Each group's renewal on its current renewal date, if one is prepared."""
    rows = await _RENEWALS_OF_GROUPS.execute(connection, group_ids)
    found = {row.group_id: RenewalRecord(*row) for row in rows}
    return [found.get(group_id) for group_id in group_ids]


_OPTIONS_OF_RENEWALS = Keyed(
    lambda keys: (
        select(RenewalOption.renewal_id, RenewalOption.plan_id, RenewalOption.kind)
        .where(keys(RenewalOption.renewal_id))
        .order_by(RenewalOption.id)
    )
)


async def options_of_renewals(
    connection: AsyncConnection, renewal_ids: Sequence[int]
) -> list[list[OptionRecord]]:
    """Each renewal's offered plans, in the order they were offered."""
    found: dict[int, list[OptionRecord]] = defaultdict(list)
    for row in await _OPTIONS_OF_RENEWALS.execute(connection, renewal_ids):
        found[row.renewal_id].append(OptionRecord(*row))
    return [found.get(renewal_id, []) for renewal_id in renewal_ids]


async def census_of_groups(
    connection: AsyncConnection, keys: Sequence[CensusKey]
) -> list[dict[CoverageTier, int]]:
    """Per (group, day): ACTIVE subscribers by the tier of their coverage in force that day.

    A subscriber with more than one coverage in force that day (not expected) counts once per
    coverage, as each is billed."""
    days = {day for _, day in keys}
    found: dict[CensusKey, dict[CoverageTier, int]] = defaultdict(dict)
    for day in sorted(days):
        group_ids = sorted({group_id for group_id, key_day in keys if key_day == day})
        rows = await connection.execute(
            select(Member.group_id, Coverage.tier, func.count())
            .join(Coverage, Coverage.member_id == Member.id)
            .where(
                key_in(connection, Member.group_id, group_ids),
                Member.relationship == Relationship.SUBSCRIBER,
                Member.status == MemberStatus.ACTIVE,
                Coverage.effective_date <= day,
                or_(Coverage.termination_date.is_(None), Coverage.termination_date >= day),
            )
            .group_by(Member.group_id, Coverage.tier)
        )
        for group_id, tier, count in rows:
            found[(group_id, day)][CoverageTier(tier)] = count
    return [dict(found.get(key, {})) for key in keys]
