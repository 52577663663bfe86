"""Reads of users: batch functions in key order, and lookups by e-mail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from data.models.users import User, UserKind, UserStatus


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    email: str
    name: str
    kind: UserKind
    status: UserStatus
    agency_id: int | None


_COLUMNS = [getattr(User, name) for name in UserRecord.__slots__]


async def users_by_id(connection: AsyncConnection, ids: Sequence[int]) -> list[UserRecord | None]:
    rows = await connection.execute(select(*_COLUMNS).where(User.id.in_(ids)))
    found = {row.id: UserRecord(*row) for row in rows}
    return [found.get(user_id) for user_id in ids]


async def user_by_email(connection: AsyncConnection, email: str) -> UserRecord | None:
    row = (await connection.execute(select(*_COLUMNS).where(User.email == email.lower()))).first()
    return UserRecord(*row) if row else None
