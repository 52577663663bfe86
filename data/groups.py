"""Reads of employer groups."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncEngine

from data.models.groups import Group


async def any_group_exists(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return bool(await connection.scalar(select(exists().where(Group.id.is_not(None)))))
