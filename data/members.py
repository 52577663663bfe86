"""Reads of members and their coverages: batch functions in key order, and one page query."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from data.keys import Keyed, key_in
from data.models.members import Coverage, Member, MemberStatus, Relationship, Sex
from data.models.plans import CoverageTier
from data.normalize import name_key
from data.pagination import Page, PageRequest, fetch_group_pages


@dataclass(frozen=True, slots=True)
class MemberRecord:
    id: int
    group_id: int
    division_id: int | None
    subscriber_id: int | None
    relationship: Relationship
    member_number: str
    first_name: str
    middle_name: str | None
    last_name: str
    sex: Sex
    status: MemberStatus
    is_disabled: bool
    hire_date: date | None
    # Personal data: shown only with MEMBERS_READ_PII.
    birth_date: date
    ssn_last4: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    phone: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class CoverageRecord:
    id: int
    member_id: int
    plan_id: int
    tier: CoverageTier
    effective_date: date
    termination_date: date | None
    is_cobra: bool
    is_medicare: bool


@dataclass(frozen=True, slots=True)
class MemberFilter:
    status: MemberStatus | None = None
    relationship: Relationship | None = None
    division_id: int | None = None
    plan_id: int | None = None


_MEMBER = [getattr(Member, name) for name in MemberRecord.__slots__]
_COVERAGE = [getattr(Coverage, name) for name in CoverageRecord.__slots__]
MEMBER_ORDER = (Member.last_name_key, Member.first_name_key, Member.id)


def _search(text: str) -> ColumnElement[bool] | None:
    """Members whose member number is the text, or whose names start with its words.

    A condition of the page's own query (not a subquery), so that the group's name indexes
    narrow it first.
    """
    words = name_key(text).split(" ")
    if not words or not words[0]:
        return None
    number = Member.member_number == text.strip().upper()
    if len(words) == 1:
        names = or_(
            Member.last_name_key.startswith(words[0], autoescape=True),
            Member.first_name_key.startswith(words[0], autoescape=True),
        )
    else:  # "first last" or "last first"
        first, last = words[0], " ".join(words[1:])
        names = or_(
            and_(
                Member.first_name_key.startswith(first, autoescape=True),
                Member.last_name_key.startswith(last, autoescape=True),
            ),
            and_(
                Member.last_name_key.startswith(first, autoescape=True),
                Member.first_name_key.startswith(last, autoescape=True),
            ),
        )
    return or_(number, names)


@dataclass(frozen=True, slots=True)
class MembersPageKey:
    """One group's page of members: what `members_pages` batches by."""

    group_id: int
    divisions: frozenset[int] | None  # None: the whole group
    search: str | None
    where: MemberFilter
    request: PageRequest
    count: bool


async def members_pages(
    connection: AsyncConnection, keys: Sequence[MembersPageKey]
) -> list[tuple[Page, list[MemberRecord]]]:
    """Each key's page of its group's members by name (`fetch_group_pages`: a list of groups
    shares one statement, a single group is paged by its name index)."""
    pages = await fetch_group_pages(
        connection,
        keys,
        lambda group_ids, key: _members_of(connection, group_ids, key),
        Member.group_id,
        MEMBER_ORDER,
    )
    width = len(MEMBER_ORDER)
    return [(page, [MemberRecord(*row[:-width]) for row in page.rows]) for page in pages]


def _members_of(
    connection: AsyncConnection, group_ids: list[int], key: MembersPageKey
) -> Select[Any]:
    """The groups' members as `key` asks for them, with their sort columns last."""
    statement = select(*_MEMBER, *MEMBER_ORDER)
    if len(group_ids) == 1:
        statement = statement.where(Member.group_id == group_ids[0])
    else:
        statement = statement.where(key_in(connection, Member.group_id, group_ids))
    if key.divisions is not None:
        statement = statement.where(key_in(connection, Member.division_id, sorted(key.divisions)))
    if key.search:
        found = _search(key.search)
        statement = statement.where(Member.id.is_(None) if found is None else found)
    where = key.where
    if where.status is not None:
        statement = statement.where(Member.status == where.status)
    if where.relationship is not None:
        statement = statement.where(Member.relationship == where.relationship)
    if where.division_id is not None:
        statement = statement.where(Member.division_id == where.division_id)
    if where.plan_id is not None:
        statement = statement.where(
            exists().where(Coverage.member_id == Member.id, Coverage.plan_id == where.plan_id)
        )
    return statement


_MEMBERS_BY_ID = Keyed(lambda keys: select(*_MEMBER).where(keys(Member.id)))


async def members_by_id(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[MemberRecord | None]:
    rows = await _MEMBERS_BY_ID.execute(connection, ids)
    found = {row.id: MemberRecord(*row) for row in rows}
    return [found.get(member_id) for member_id in ids]


_DEPENDENTS_OF = Keyed(
    lambda keys: (
        select(*_MEMBER).where(keys(Member.subscriber_id)).order_by(Member.birth_date, Member.id)
    )
)


async def dependents_of(
    connection: AsyncConnection, subscriber_ids: Sequence[int]
) -> list[list[MemberRecord]]:
    rows = await _DEPENDENTS_OF.execute(connection, subscriber_ids)
    found: dict[int, list[MemberRecord]] = defaultdict(list)
    for row in rows:
        record = MemberRecord(*row)
        assert record.subscriber_id is not None
        found[record.subscriber_id].append(record)
    return [found.get(subscriber_id, []) for subscriber_id in subscriber_ids]


_COVERAGES_OF = Keyed(
    lambda keys: (
        select(*_COVERAGE)
        .where(keys(Coverage.member_id))
        .order_by(Coverage.effective_date.desc(), Coverage.id.desc())
    )
)


async def coverages_of(
    connection: AsyncConnection, member_ids: Sequence[int]
) -> list[list[CoverageRecord]]:
    """Each member's coverages, newest first."""
    rows = await _COVERAGES_OF.execute(connection, member_ids)
    found: dict[int, list[CoverageRecord]] = defaultdict(list)
    for row in rows:
        found[row.member_id].append(CoverageRecord(*row))
    return [found.get(member_id, []) for member_id in member_ids]
