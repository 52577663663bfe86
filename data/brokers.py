"""Agencies and their appointments as broker of record of groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ColumnElement

from data.keys import Keyed, key_in
from data.models.users import Agency, BrokerOfRecord


@dataclass(frozen=True, slots=True)
class AgencyRecord:
    id: int
    name: str
    license_number: str


@dataclass(frozen=True, slots=True)
class AppointmentRecord:
    id: int
    group_id: int
    agency_id: int
    start_date: date
    end_date: date | None
    access_enabled: bool


_AGENCY = [getattr(Agency, name) for name in AgencyRecord.__slots__]
_APPOINTMENT = [getattr(BrokerOfRecord, name) for name in AppointmentRecord.__slots__]


def _current(today: date) -> ColumnElement[bool]:
    return or_(BrokerOfRecord.end_date.is_(None), BrokerOfRecord.end_date >= today)


async def all_agencies(connection: AsyncConnection) -> list[AgencyRecord]:
    rows = await connection.execute(select(*_AGENCY).order_by(Agency.name))
    return [AgencyRecord(*row) for row in rows]


_AGENCIES_BY_ID = Keyed(lambda keys: select(*_AGENCY).where(keys(Agency.id)))


async def agencies_by_id(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[AgencyRecord | None]:
    rows = await _AGENCIES_BY_ID.execute(connection, ids)
    found = {row.id: AgencyRecord(*row) for row in rows}
    return [found.get(agency_id) for agency_id in ids]


async def appointments_of_groups(
    connection: AsyncConnection, keys: Sequence[tuple[int, date]]
) -> list[list[AppointmentRecord]]:
    """Each (group, day)'s current appointments."""
    group_ids = sorted({group_id for group_id, _ in keys})
    rows = await connection.execute(
        select(*_APPOINTMENT)
        .where(key_in(connection, BrokerOfRecord.group_id, group_ids))
        .order_by(BrokerOfRecord.start_date)
    )
    records = [AppointmentRecord(*row) for row in rows]
    return [
        [
            r
            for r in records
            if r.group_id == group_id
            and r.start_date <= today
            and (r.end_date is None or r.end_date >= today)
        ]
        for group_id, today in keys
    ]


async def current_appointments(
    session: AsyncSession, group_id: int, today: date
) -> list[BrokerOfRecord]:
    return list(
        await session.scalars(
            select(BrokerOfRecord)
            .where(BrokerOfRecord.group_id == group_id, _current(today))
            .with_for_update()
        )
    )
