"""Brokers of record: an account representative appoints an agency for a group; the group's
administrator may switch the agency's access off and on without ending the appointment."""

from __future__ import annotations

from datetime import date, timedelta

from authz.enforcement import broker_rule
from authz.privileges import Privilege
from data import access, audit, brokers
from data.brokers import AgencyRecord, AppointmentRecord
from data.models.users import BrokerOfRecord
from resolvers import groups
from resolvers.context import Context
from resolvers.errors import ErrorCode, NotAllowed, Refused


async def agencies(context: Context) -> list[AgencyRecord]:
    """Carrier staff who assign brokers see every agency; a broker sees its own."""
    user = context.signed_in()
    if context.access.allows(Privilege.BROKERS_ASSIGN):
        async with context.database.reader.connect() as connection:
            return await brokers.all_agencies(connection)
    if user.agency_id is None:
        return []
    own = await agency(context, user.agency_id)
    return [own] if own else []


async def agency(context: Context, agency_id: int) -> AgencyRecord | None:
    async with context.database.reader.connect() as connection:
        [found] = await brokers.agencies_by_id(connection, [agency_id])
    return found


async def appointments(context: Context, group_id: int) -> list[AppointmentRecord]:
    async with context.database.reader.connect() as connection:
        [found] = await brokers.appointments_of_groups(connection, [(group_id, context.today)])
    return found


async def assign(
    context: Context, *, group_id: int | None, agency_id: int | None, start_date: date | None
) -> AppointmentRecord:
    """Appoint an agency; the current broker of record (another agency) ends the day before."""
    context.signed_in()
    if not context.access.allows(Privilege.BROKERS_ASSIGN):
        raise NotAllowed(Privilege.BROKERS_ASSIGN.value)
    group = await groups.visible_group(context, group_id, "groupId")
    found = None if agency_id is None else await agency(context, agency_id)
    if found is None:
        raise Refused.on("agencyId", "no such agency", ErrorCode.NOT_FOUND)
    start = start_date or context.today
    if start < context.today:
        raise Refused.on("startDate", "may not lie in the past")
    async with context.transaction() as session:
        current = await brokers.current_appointments(session, group.id, context.today)
        if any(a.agency_id == found.id for a in current):
            raise Refused.on("agencyId", "already broker of record", ErrorCode.ALREADY_DONE)
        for appointment in current:
            appointment.end_date = start - timedelta(days=1)
            if appointment.access_enabled and start <= context.today:
                await access.remove_rule(session, *broker_rule(appointment.agency_id, group.id))
        appointment = BrokerOfRecord(
            group_id=group.id,
            agency_id=found.id,
            start_date=start,
            access_enabled=True,
            assigned_by_user_id=context.actor.user_id,
        )
        session.add(appointment)
        await session.flush()
        if start <= context.today:
            access.add_rule(session, *broker_rule(found.id, group.id))
        audit.record(
            session,
            context.actor,
            action="broker_of_record.assigned",
            target_type="agency",
            target_id=found.id,
            group_id=group.id,
            now=context.now,
            before={"agencyIds": [a.agency_id for a in current]},
            after={"agencyId": found.id, "startDate": start.isoformat()},
        )
        await access.bump_policy_version(session, context.now)
        record = _record(appointment)
    await context.policy.reload()
    return record


async def set_access(
    context: Context, *, group_id: int | None, agency_id: int | None, enabled: bool
) -> AppointmentRecord:
    context.signed_in()
    group = await groups.visible_group(context, group_id, "groupId")
    groups.require(context, Privilege.USERS_MANAGE, group.id)
    async with context.transaction() as session:
        current = await brokers.current_appointments(session, group.id, context.today)
        appointment = next((a for a in current if a.agency_id == agency_id), None)
        if appointment is None:
            raise Refused.on("agencyId", "not broker of record of this group", ErrorCode.NOT_FOUND)
        if appointment.access_enabled == enabled:
            raise Refused.on(
                "enabled",
                "access is already " + ("on" if enabled else "off"),
                ErrorCode.ALREADY_DONE,
            )
        appointment.access_enabled = enabled
        if appointment.start_date <= context.today:
            rule = broker_rule(appointment.agency_id, group.id)
            if enabled:
                access.add_rule(session, *rule)
            else:
                await access.remove_rule(session, *rule)
        audit.record(
            session,
            context.actor,
            action="broker_access.enabled" if enabled else "broker_access.disabled",
            target_type="agency",
            target_id=appointment.agency_id,
            group_id=group.id,
            now=context.now,
            before={"accessEnabled": not enabled},
            after={"accessEnabled": enabled},
        )
        await access.bump_policy_version(session, context.now)
        record = _record(appointment)
    await context.policy.reload()
    return record


def _record(appointment: BrokerOfRecord) -> AppointmentRecord:
    return AppointmentRecord(*(getattr(appointment, n) for n in AppointmentRecord.__slots__))
