"""Reads of employer groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from data.keys import Keyed, key_in
from data.models.groups import BillingDelivery, Division, Group, GroupStatus


async def any_group_exists(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return bool(await connection.scalar(select(exists().where(Group.id.is_not(None)))))


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: int
    group_number: str
    legal_name: str
    region: str
    status: GroupStatus
    employee_count: int
    renewal_date: date
    cobra_administered_by_carrier: bool
    billing_delivery: BillingDelivery


@dataclass(frozen=True, slots=True)
class DivisionRecord:
    id: int
    group_id: int
    code: str
    name: str


_GROUP_COLUMNS = [getattr(Group, name) for name in GroupRecord.__slots__]
_DIVISION_COLUMNS = [getattr(Division, name) for name in DivisionRecord.__slots__]


_GROUPS_BY_ID = Keyed(lambda keys: select(*_GROUP_COLUMNS).where(keys(Group.id)))
_GROUP_BY_NUMBER = select(*_GROUP_COLUMNS).where(Group.group_number == bindparam("number"))


async def groups_by_id(connection: AsyncConnection, ids: Sequence[int]) -> list[GroupRecord | None]:
    rows = await _GROUPS_BY_ID.execute(connection, ids)
    found = {row.id: GroupRecord(*row) for row in rows}
    return [found.get(group_id) for group_id in ids]


async def group_by_number(connection: AsyncConnection, number: str) -> GroupRecord | None:
    row = (await connection.execute(_GROUP_BY_NUMBER, {"number": number})).first()
    return GroupRecord(*row) if row else None


async def list_groups(
    connection: AsyncConnection,
    *,
    only: frozenset[int] | None,
    name_prefix: str | None,
    first: int,
    after_number: str | None,
) -> list[GroupRecord]:
    """Groups by number; `only` limits to the caller's reach (None: every group)."""
    statement = select(*_GROUP_COLUMNS).order_by(Group.group_number).limit(first)
    if only is not None:
        statement = statement.where(key_in(connection, Group.id, sorted(only)))
    if name_prefix:
        statement = statement.where(
            or_(Group.name_key.startswith(name_prefix), Group.group_number == name_prefix.upper())
        )
    if after_number is not None:
        statement = statement.where(Group.group_number > after_number)
    return [GroupRecord(*row) for row in await connection.execute(statement)]


_DIVISIONS_OF_GROUPS = Keyed(
    lambda keys: select(*_DIVISION_COLUMNS).where(keys(Division.group_id)).order_by(Division.code)
)
_DIVISIONS_BY_ID = Keyed(lambda keys: select(*_DIVISION_COLUMNS).where(keys(Division.id)))


async def divisions_of_groups(
    connection: AsyncConnection, group_ids: Sequence[int]
) -> list[list[DivisionRecord]]:
    rows = await _DIVISIONS_OF_GROUPS.execute(connection, group_ids)
    found: dict[int, list[DivisionRecord]] = {group_id: [] for group_id in group_ids}
    for row in rows:
        found[row.group_id].append(DivisionRecord(*row))
    return [found[group_id] for group_id in group_ids]


async def divisions_by_id(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[DivisionRecord | None]:
    rows = await _DIVISIONS_BY_ID.execute(connection, ids)
    found = {row.id: DivisionRecord(*row) for row in rows}
    return [found.get(division_id) for division_id in ids]
