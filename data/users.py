"""Reads of users: batch functions in key order, and lookups by e-mail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from data.keys import Keyed
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


_USERS_BY_ID = Keyed(lambda keys: select(*_COLUMNS).where(keys(User.id)))


async def users_by_id(connection: AsyncConnection, ids: Sequence[int]) -> list[UserRecord | None]:
    rows = await _USERS_BY_ID.execute(connection, ids)
    found = {row.id: UserRecord(*row) for row in rows}
    return [found.get(user_id) for user_id in ids]


async def user_by_email(connection: AsyncConnection, email: str) -> UserRecord | None:
    row = (await connection.execute(select(*_COLUMNS).where(User.email == email.lower()))).first()
    return UserRecord(*row) if row else None


async def insert_user(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    kind: UserKind,
    status: UserStatus,
    created_by_user_id: int | None,
    agency_id: int | None = None,
) -> UserRecord:
    user = User(
        email=email.lower(),
        name=name,
        kind=kind,
        status=status,
        agency_id=agency_id,
        created_by_user_id=created_by_user_id,
    )
    session.add(user)
    await session.flush()
    return record_of(user)


def record_of(user: User) -> UserRecord:
    return UserRecord(*(getattr(user, name) for name in UserRecord.__slots__))


async def user_for_update(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id, with_for_update=True)


async def user_by_external_subject(connection: AsyncConnection, subject: str) -> UserRecord | None:
    row = (
        await connection.execute(select(*_COLUMNS).where(User.external_subject == subject))
    ).first()
    return UserRecord(*row) if row else None


async def link_external_subject(session: AsyncSession, user_id: int, subject: str) -> None:
    """Remember the provider's subject for a user first recognised by its verified e-mail."""
    await session.execute(
        update(User)
        .where(User.id == user_id, User.external_subject.is_(None))
        .values(external_subject=subject)
    )
