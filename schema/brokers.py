"""Agencies and their appointments as broker of record."""

from __future__ import annotations

from datetime import date

import strawberry

from data.brokers import AgencyRecord, AppointmentRecord
from resolvers import brokers
from resolvers.context import Context
from resolvers.errors import Refused
from schema.common import Info, global_id, parse_global_id, served_as
from schema.errors import UserError, user_errors


@strawberry.type(description="A brokerage; its brokers read every group it serves.")
class Agency:
    name: str
    license_number: str

    @strawberry.field
    def id(self: AgencyRecord) -> strawberry.ID:
        return global_id("Agency", self.id)


@strawberry.type(description="An agency's appointment as broker of record of a group.")
class BrokerOfRecord:
    start_date: date
    end_date: date | None
    access_enabled: bool = strawberry.field(
        description="Off: the group has switched the agency's access off, keeping the appointment."
    )

    @strawberry.field
    async def agency(self: AppointmentRecord, info: Info) -> Agency | None:
        found = await brokers.agency(info.context, self.agency_id)
        return served_as([found], Agency)[0] if found else None


async def brokers_of_record(context: Context, group_id: int) -> list[BrokerOfRecord]:
    return served_as(await brokers.appointments(context, group_id), BrokerOfRecord)


@strawberry.input
class BrokerOfRecordAssignInput:
    group_id: strawberry.ID
    agency_id: strawberry.ID
    start_date: date | None = strawberry.field(default=None, description="Default: today.")


@strawberry.input
class BrokerAccessSetInput:
    group_id: strawberry.ID
    agency_id: strawberry.ID
    enabled: bool


@strawberry.type
class BrokerOfRecordPayload:
    broker_of_record: BrokerOfRecord | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class BrokersQuery:
    @strawberry.field(description="Agencies: all of them for carrier staff, a broker's own.")
    async def agencies(self, info: Info) -> list[Agency]:
        return served_as(await brokers.agencies(info.context), Agency)


@strawberry.type
class BrokersMutation:
    @strawberry.mutation(description="Appoint an agency as broker of record. Carrier staff.")
    async def broker_of_record_assign(
        self, info: Info, input: BrokerOfRecordAssignInput
    ) -> BrokerOfRecordPayload | None:
        try:
            appointment = await brokers.assign(
                info.context,
                group_id=parse_global_id(input.group_id, "Group"),
                agency_id=parse_global_id(input.agency_id, "Agency"),
                start_date=input.start_date,
            )
        except Refused as refused:
            return BrokerOfRecordPayload(errors=user_errors(refused))
        return BrokerOfRecordPayload(broker_of_record=served_as([appointment], BrokerOfRecord)[0])

    @strawberry.mutation(description="Switch a broker of record's access off or on.")
    async def broker_access_set(
        self, info: Info, input: BrokerAccessSetInput
    ) -> BrokerOfRecordPayload | None:
        try:
            appointment = await brokers.set_access(
                info.context,
                group_id=parse_global_id(input.group_id, "Group"),
                agency_id=parse_global_id(input.agency_id, "Agency"),
                enabled=input.enabled,
            )
        except Refused as refused:
            return BrokerOfRecordPayload(errors=user_errors(refused))
        return BrokerOfRecordPayload(broker_of_record=served_as([appointment], BrokerOfRecord)[0])
