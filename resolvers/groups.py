"""Groups the caller can see: a broker its book, an administrator its groups, staff every group.

Tenancy: a group outside the caller's reach is answered exactly like a group that does not
exist (None, or NOT_FOUND on the field that named it).
"""

from __future__ import annotations

from authz.privileges import Privilege
from data import groups
from data.groups import DivisionRecord, GroupRecord
from data.normalize import name_key
from resolvers.context import Context
from resolvers.errors import ErrorCode, NotAllowed, Refused

MAX_PAGE = 100


def can_see(context: Context, group_id: int) -> bool:
    return context.access.reach().includes(group_id)


async def group(context: Context, group_id: int) -> GroupRecord | None:
    # Looked up before the check, so a hidden group costs what a missing one does.
    found = await context.loaders.group_by_id.load(group_id)
    return found if found is not None and can_see(context, group_id) else None


async def group_by_number(context: Context, number: str) -> GroupRecord | None:
    async with context.database.reader.connect() as connection:
        found = await groups.group_by_number(connection, number.strip().upper())
    return found if found is not None and can_see(context, found.id) else None


async def visible_group(context: Context, group_id: int | None, field: str) -> GroupRecord:
    """The group a mutation names, or NOT_FOUND on that field (missing and hidden alike)."""
    found = None if group_id is None else await group(context, group_id)
    if found is None:
        raise Refused.on(field, "no such group", ErrorCode.NOT_FOUND)
    return found


async def visible_division(context: Context, division_id: int) -> DivisionRecord | None:
    found = await context.loaders.division_by_id.load(division_id)
    return found if found is not None and can_see(context, found.group_id) else None


async def division_of(
    context: Context, group_id: int, division_id: int | None, field: str
) -> DivisionRecord | None:
    if division_id is None:
        return None
    found = await context.loaders.division_by_id.load(division_id)
    if found is None or found.group_id != group_id:
        raise Refused.on(field, "no such division in this group", ErrorCode.NOT_FOUND)
    return found


async def list_groups(
    context: Context, *, search: str | None, first: int, after_number: str | None
) -> list[GroupRecord]:
    if not 1 <= first <= MAX_PAGE:
        raise Refused.on("first", f"must be between 1 and {MAX_PAGE}")
    reach = context.access.reach()
    only = None if reach.every_group else reach.group_ids
    if only is not None and not only:
        return []
    async with context.database.reader.connect() as connection:
        return await groups.list_groups(
            connection,
            only=only,
            name_prefix=name_key(search) if search else None,
            first=first,
            after_number=after_number,
        )


async def divisions(context: Context, group_id: int) -> list[DivisionRecord]:
    return await context.loaders.divisions_by_group.load(group_id)


def require(context: Context, privilege: Privilege, group_id: int) -> None:
    """For a group the caller can see: refuse (top-level FORBIDDEN) without the privilege."""
    if not context.access.allows(privilege, group_id):
        raise NotAllowed(privilege.value)
