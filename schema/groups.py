"""Groups and their divisions, as far as the caller may see them."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from authz.privileges import Privilege
from data.groups import DivisionRecord, GroupRecord
from data.models import groups as model
from data.models.enrollment import EnrollmentStatus
from resolvers import groups
from schema.billing import GroupBilling
from schema.common import Info, global_id, parse_global_id, served_as
from schema.contracts import GroupContracts
from schema.permissions import guarded
from schema.relay import Node
from schema.renewals import GroupRenewal

if TYPE_CHECKING:
    from data.models.enrollment import IdCardRequestStatus
    from schema.audit import AuditEventPage
    from schema.brokers import BrokerOfRecord
    from schema.enrollment import EnrollmentRequestConnection
    from schema.id_cards import IdCardRequestConnection
    from schema.members import MemberConnection, MemberFilterInput
    from schema.users import GroupUser

strawberry.enum(model.GroupStatus)
strawberry.enum(model.BillingDelivery)
# Here rather than in schema.enrollment: `Group.enrollmentRequests` takes it as an argument.
strawberry.enum(
    EnrollmentStatus,
    description="PROCESSED: enrolled; PENDING_REVIEW: waiting for the carrier's manual review; "
    "REJECTED: not enrolled.",
)
strawberry.enum(
    Privilege, description="What a user may do, in a group, a division or carrier-wide."
)


@strawberry.type(description="A part of a group; access can be limited to one.")
class Division(Node):
    code: str
    name: str

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, DivisionRecord)

    @strawberry.field
    def id(self: DivisionRecord) -> strawberry.ID:
        return global_id("Division", self.id)

    @strawberry.field(description="What you may do in this division.")
    def viewer_privileges(self: DivisionRecord, info: Info) -> list[Privilege]:
        return sorted(info.context.access.privileges(self.group_id, self.id))


@strawberry.type(description="An employer group: the account of one employer.")
class Group(Node, GroupBilling, GroupContracts, GroupRenewal):
    group_number: str
    legal_name: str
    region: str
    status: model.GroupStatus
    employee_count: int
    renewal_date: date
    cobra_administered_by_carrier: bool

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, GroupRecord)

    @strawberry.field
    def id(self: GroupRecord) -> strawberry.ID:
        return global_id("Group", self.id)

    @strawberry.field
    async def divisions(self: GroupRecord, info: Info) -> list[Division]:
        return served_as(await groups.divisions(info.context, self.id), Division)

    @strawberry.field(description="What you may do in this group (in all of it).")
    def viewer_privileges(self: GroupRecord, info: Info) -> list[Privilege]:
        return sorted(info.context.access.privileges(self.id))

    @strawberry.field(
        description="The account access list. Needs USERS_MANAGE.",
        extensions=guarded(Privilege.USERS_MANAGE),
    )
    async def users(
        self: GroupRecord, info: Info
    ) -> list[Annotated[GroupUser, strawberry.lazy("schema.users")]] | None:
        from schema.users import group_users

        return await group_users(info.context, self.id)

    @strawberry.field(
        description="Members by name; search by name prefix or member number. Needs MEMBERS_READ."
    )
    async def members(
        self: GroupRecord,
        info: Info,
        search: str | None = None,
        filter: Annotated[MemberFilterInput, strawberry.lazy("schema.members")] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Annotated[MemberConnection, strawberry.lazy("schema.members")]:
        from schema.members import member_filter, members_connection

        return await members_connection(
            info,
            self.id,
            search=search,
            where=member_filter(filter),
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field(
        description="Enrollments submitted, oldest first, with their status and history. "
        "Needs MEMBERS_READ."
    )
    async def enrollment_requests(
        self: GroupRecord,
        info: Info,
        status: EnrollmentStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Annotated[EnrollmentRequestConnection, strawberry.lazy("schema.enrollment")]:
        from schema.enrollment import enrollment_requests

        return await enrollment_requests(info, self, status, first, after)

    @strawberry.field(description="Agencies appointed as this group's broker of record.")
    async def brokers_of_record(
        self: GroupRecord, info: Info
    ) -> list[Annotated[BrokerOfRecord, strawberry.lazy("schema.brokers")]]:
        from schema.brokers import brokers_of_record

        return await brokers_of_record(info.context, self.id)

    @strawberry.field(
        description="ID card requests, newest first. Needs MEMBERS_READ (over a division: its "
        "members' requests only)."
    )
    async def id_card_requests(
        self: GroupRecord,
        info: Info,
        status: Annotated[IdCardRequestStatus, strawberry.lazy("schema.id_cards")] | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Annotated[IdCardRequestConnection, strawberry.lazy("schema.id_cards")] | None:
        from schema.id_cards import id_card_requests_connection

        return await id_card_requests_connection(
            info, self.id, status=status, first=first, after=after
        )

    @strawberry.field(
        description="Changes made in this group, newest first. Needs AUDIT_READ.",
        extensions=guarded(Privilege.AUDIT_READ),
    )
    async def audit_events(
        self: GroupRecord, info: Info, first: int = 50, after: str | None = None
    ) -> Annotated[AuditEventPage, strawberry.lazy("schema.audit")] | None:
        from schema.audit import audit_events

        return await audit_events(info.context, self.id, first, after)


@strawberry.type
class GroupsQuery:
    @strawberry.field(description="Groups you can see, by group number (a broker: its book).")
    async def groups(
        self, info: Info, search: str | None = None, first: int = 50, after: str | None = None
    ) -> list[Group]:
        found = await groups.list_groups(
            info.context, search=search, first=first, after_number=after
        )
        return served_as(found, Group)

    @strawberry.field(description="One group, by ID or by group number.")
    async def group(
        self, info: Info, id: strawberry.ID | None = None, group_number: str | None = None
    ) -> Group | None:
        if id is not None:
            key = parse_global_id(id, "Group")
            found = None if key is None else await groups.group(info.context, key)
        elif group_number is not None:
            found = await groups.group_by_number(info.context, group_number)
        else:
            found = None
        return served_as([found], Group)[0] if found else None
