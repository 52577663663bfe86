"""Access records: grants with who gave them and until when, and the Casbin rules they become.

`access_grants` (and brokers of record, agencies) are the records people read; `casbin_rule` holds
the `g` rules the enforcer loads through the Casbin adapter. Every change writes both in one
transaction and bumps `policy_version`, which every instance polls to reload.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ColumnElement

from data.keys import key_in
from data.models.users import (
    AccessGrant,
    Agency,
    BrokerOfRecord,
    CasbinRule,
    PolicyVersion,
    PrimaryAdministratorDesignation,
    User,
    UserKind,
    UserStatus,
)

GROUPING = "g"


@dataclass(frozen=True, slots=True)
class GrantRecord:
    id: int
    user_id: int
    group_id: int | None
    division_id: int | None
    role: str | None
    privilege: str | None
    granted_by_user_id: int | None
    granted_at: datetime
    expires_at: datetime | None


_GRANT_COLUMNS = [getattr(AccessGrant, name) for name in GrantRecord.__slots__]


def _active(now: datetime) -> ColumnElement[bool]:
    return and_(
        AccessGrant.ended_at.is_(None),
        or_(AccessGrant.expires_at.is_(None), AccessGrant.expires_at > now),
    )


async def policy_state(connection: AsyncConnection, now: datetime) -> tuple[int, datetime | None]:
    """The policy version, and when the next active grant expires (None if none will)."""
    version = await connection.scalar(select(PolicyVersion.version).where(PolicyVersion.id == 1))
    next_expiry = await connection.scalar(
        select(func.min(AccessGrant.expires_at)).where(
            AccessGrant.ended_at.is_(None), AccessGrant.expires_at > now
        )
    )
    return int(version or 0), next_expiry


async def policy_version(connection: AsyncConnection) -> int:
    version = await connection.scalar(select(PolicyVersion.version).where(PolicyVersion.id == 1))
    return int(version or 0)


async def grants_of_users(
    connection: AsyncConnection, user_ids: Sequence[int], now: datetime
) -> list[list[GrantRecord]]:
    """Each user's active grants, oldest first."""
    rows = await connection.execute(
        select(*_GRANT_COLUMNS)
        .where(key_in(connection, AccessGrant.user_id, user_ids), _active(now))
        .order_by(AccessGrant.granted_at, AccessGrant.id)
    )
    found: dict[int, list[GrantRecord]] = {user_id: [] for user_id in user_ids}
    for row in rows:
        found[row.user_id].append(GrantRecord(*row))
    return [found[user_id] for user_id in user_ids]


async def grants_in_groups(
    connection: AsyncConnection, group_ids: Sequence[int], now: datetime
) -> list[list[GrantRecord]]:
    """Each group's active grants (its account access list), oldest first."""
    rows = await connection.execute(
        select(*_GRANT_COLUMNS)
        .where(key_in(connection, AccessGrant.group_id, group_ids), _active(now))
        .order_by(AccessGrant.granted_at, AccessGrant.id)
    )
    found: dict[int, list[GrantRecord]] = {group_id: [] for group_id in group_ids}
    for row in rows:
        found[row.group_id].append(GrantRecord(*row))
    return [found[group_id] for group_id in group_ids]


async def expired_rules(session: AsyncSession, now: datetime) -> list[GrantRecord]:
    """Grants whose time is up but whose rule is still in force (to be swept)."""
    rows = await session.execute(
        select(*_GRANT_COLUMNS).where(AccessGrant.ended_at.is_(None), AccessGrant.expires_at <= now)
    )
    return [GrantRecord(*row) for row in rows]


async def end_grant(session: AsyncSession, grant_id: int, now: datetime) -> bool:
    """End a grant still in force; False if another instance ended it first."""
    result = await session.execute(
        update(AccessGrant)
        .where(AccessGrant.id == grant_id, AccessGrant.ended_at.is_(None))
        .values(ended_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def add_rule(session: AsyncSession, subject: str, role: str, scope: str) -> None:
    session.add(CasbinRule(ptype=GROUPING, v0=subject, v1=role, v2=scope))


async def remove_rule(session: AsyncSession, subject: str, role: str, scope: str) -> None:
    await session.execute(
        delete(CasbinRule).where(
            CasbinRule.ptype == GROUPING,
            CasbinRule.v0 == subject,
            CasbinRule.v1 == role,
            CasbinRule.v2 == scope,
        )
    )


async def bump_policy_version(session: AsyncSession, now: datetime) -> None:
    await session.execute(
        update(PolicyVersion)
        .where(PolicyVersion.id == 1)
        .values(version=PolicyVersion.version + 1, changed_at=now)
    )


async def insert_grant(
    session: AsyncSession,
    *,
    user_id: int,
    group_id: int | None,
    division_id: int | None,
    role: str | None,
    privilege: str | None,
    granted_by_user_id: int | None,
    now: datetime,
    expires_at: datetime | None,
) -> GrantRecord:
    grant = AccessGrant(
        user_id=user_id,
        group_id=group_id,
        division_id=division_id,
        role=role,
        privilege=privilege,
        granted_by_user_id=granted_by_user_id,
        granted_at=now,
        expires_at=expires_at,
    )
    session.add(grant)
    await session.flush()
    return GrantRecord(*(getattr(grant, name) for name in GrantRecord.__slots__))


async def revoke_grant(
    session: AsyncSession, grant_id: int, revoked_by_user_id: int | None, now: datetime
) -> None:
    await session.execute(
        update(AccessGrant)
        .where(AccessGrant.id == grant_id)
        .values(revoked_at=now, revoked_by_user_id=revoked_by_user_id, ended_at=now)
    )


async def grants_of_user_in_group(
    connection: AsyncConnection | AsyncSession, user_id: int, group_id: int, now: datetime
) -> list[GrantRecord]:
    rows = await connection.execute(
        select(*_GRANT_COLUMNS)
        .where(AccessGrant.user_id == user_id, AccessGrant.group_id == group_id, _active(now))
        .order_by(AccessGrant.id)
    )
    return [GrantRecord(*row) for row in rows]


async def groups_of_user(
    connection: AsyncConnection | AsyncSession, user_id: int, now: datetime
) -> set[int | None]:
    """Every scope a user holds an active grant in (None: carrier-wide)."""
    rows = await connection.execute(
        select(AccessGrant.group_id).where(AccessGrant.user_id == user_id, _active(now)).distinct()
    )
    return {row.group_id for row in rows}


async def current_designation(
    session: AsyncSession, group_id: int
) -> PrimaryAdministratorDesignation | None:
    return (
        await session.scalars(
            select(PrimaryAdministratorDesignation)
            .where(
                PrimaryAdministratorDesignation.group_id == group_id,
                PrimaryAdministratorDesignation.ended_at.is_(None),
            )
            .with_for_update()
        )
    ).first()


async def role_grants_in_group(
    session: AsyncSession, group_id: int, role: str, now: datetime
) -> list[GrantRecord]:
    rows = await session.execute(
        select(*_GRANT_COLUMNS).where(
            AccessGrant.group_id == group_id, AccessGrant.role == role, _active(now)
        )
    )
    return [GrantRecord(*row) for row in rows]


async def all_active_grants(session: AsyncSession, now: datetime) -> list[GrantRecord]:
    rows = await session.execute(select(*_GRANT_COLUMNS).where(_active(now)))
    return [GrantRecord(*row) for row in rows]


async def broker_agencies(session: AsyncSession) -> list[tuple[int, int]]:
    """(user id, agency id) of every active broker."""
    rows = await session.execute(
        select(User.id, User.agency_id).where(
            User.kind == UserKind.BROKER,
            User.agency_id.is_not(None),
            User.status != UserStatus.DEACTIVATED,
        )
    )
    return [(row.id, row.agency_id) for row in rows]


async def agency_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(Agency.id)))


async def brokered_groups(session: AsyncSession, today: date) -> list[tuple[int, int]]:
    """(agency id, group id) for every current broker-of-record appointment with access on."""
    rows = await session.execute(
        select(BrokerOfRecord.agency_id, BrokerOfRecord.group_id).where(
            BrokerOfRecord.access_enabled,
            BrokerOfRecord.start_date <= today,
            or_(BrokerOfRecord.end_date.is_(None), BrokerOfRecord.end_date >= today),
        )
    )
    return [(row.agency_id, row.group_id) for row in rows]


async def replace_rules(session: AsyncSession, rules: list[tuple[str, str, str]]) -> None:
    await session.execute(delete(CasbinRule).where(CasbinRule.ptype == GROUPING))
    session.add_all(CasbinRule(ptype=GROUPING, v0=s, v1=r, v2=d) for s, r, d in rules)
