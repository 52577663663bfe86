"""Users, the signed-in viewer, account access lists and delegation."""

from __future__ import annotations

from datetime import datetime

import strawberry

from authz.access import Scope
from authz.privileges import Privilege
from data.access import GrantRecord
from data.models import users as model
from data.users import UserRecord
from resolvers import administrators
from resolvers import users as use_cases
from resolvers.context import Context
from resolvers.errors import ErrorCode, Refused
from resolvers.users import Explanation, GroupAccess, Reason
from schema.common import Info, global_id, parse_global_id, served_as
from schema.errors import UserError, user_errors
from schema.groups import Division, Group

strawberry.enum(model.UserKind)
strawberry.enum(model.UserStatus)
strawberry.enum(model.DesignationChannel)


@strawberry.type(description="A person who signs in to the gateway.")
class User:
    email: str
    name: str
    kind: model.UserKind
    status: model.UserStatus

    @strawberry.field
    def id(self: UserRecord) -> strawberry.ID:
        return global_id("User", self.id)


async def _user(info: Info, user_id: int | None) -> User | None:
    found = None if user_id is None else await info.context.loaders.user_by_id.load(user_id)
    return served_as([found], User)[0] if found else None


async def _division(info: Info, division_id: int | None) -> Division | None:
    found = (
        None if division_id is None else await info.context.loaders.division_by_id.load(division_id)
    )
    return served_as([found], Division)[0] if found else None


@strawberry.type(description="A role or a single privilege given to a user, and by whom.")
class AccessGrant:
    role: str | None
    granted_at: datetime
    expires_at: datetime | None

    @strawberry.field
    def id(self: GrantRecord) -> strawberry.ID:
        return global_id("AccessGrant", self.id)

    @strawberry.field(description="What it gives.")
    def privileges(self: GrantRecord, info: Info) -> list[Privilege]:
        held = f"role:{self.role}" if self.role else f"privilege:{self.privilege}"
        return sorted(info.context.policy.role_privileges[held])

    @strawberry.field(description="The division it is limited to; none for the whole group.")
    async def division(self: GrantRecord, info: Info) -> Division | None:
        return await _division(info, self.division_id)

    @strawberry.field
    async def granted_by(self: GrantRecord, info: Info) -> User | None:
        return await _user(info, self.granted_by_user_id)


@strawberry.type(description="A user's access in one group.")
class GroupUser:
    is_primary_administrator: bool

    @strawberry.field(description="Everything the user's grants here add up to.")
    def privileges(self: GroupAccess) -> list[Privilege]:
        return sorted(self.privileges)

    @strawberry.field
    def user(self: GroupAccess) -> User:
        return served_as([self.user], User)[0]

    @strawberry.field
    def grants(self: GroupAccess) -> list[AccessGrant]:
        return served_as(self.grants, AccessGrant)


async def group_users(context: Context, group_id: int) -> list[GroupUser]:
    found = await use_cases.group_users(context, group_id)
    return [served_as([access], GroupUser)[0] for access in found]


@strawberry.type(description="Where the viewer holds privileges.")
class AccessScope:
    carrier_wide: bool = strawberry.field(description="Held over every group (carrier staff).")
    privileges: list[Privilege]
    group_id: strawberry.Private[int | None]
    division_id: strawberry.Private[int | None]

    @strawberry.field
    async def group(self, info: Info) -> Group | None:
        found = (
            None
            if self.group_id is None
            else await info.context.loaders.group_by_id.load(self.group_id)
        )
        return served_as([found], Group)[0] if found else None

    @strawberry.field
    async def division(self, info: Info) -> Division | None:
        return await _division(info, self.division_id)


def _scope(scope: Scope, privileges: frozenset[Privilege]) -> AccessScope:
    return AccessScope(
        carrier_wide=scope.everything,
        privileges=sorted(privileges),
        group_id=scope.group_id,
        division_id=scope.division_id,
    )


@strawberry.type(description="The signed-in user.")
class Viewer:
    user_record: strawberry.Private[UserRecord]
    scopes: list[AccessScope]

    @strawberry.field
    def user(self) -> User:
        return served_as([self.user_record], User)[0]


@strawberry.type(description="One way the user holds the privilege.")
class AccessReason:
    held: str = strawberry.field(description='"role:<name>" or "privilege:<NAME>".')
    record: strawberry.Private[Reason]

    @strawberry.field
    def grant(self) -> AccessGrant | None:
        return served_as([self.record.grant], AccessGrant)[0] if self.record.grant else None


@strawberry.type(description="Why a user may or may not use a privilege in a group.")
class AccessExplanation:
    allowed: bool
    privilege: Privilege
    missing: str | None = strawberry.field(description="What the user lacks, when refused.")
    explanation: strawberry.Private[Explanation]

    @strawberry.field
    def user(self) -> User:
        return served_as([self.explanation.user], User)[0]

    @strawberry.field
    def reasons(self) -> list[AccessReason]:
        return [AccessReason(held=r.held, record=r) for r in self.explanation.reasons]

    @strawberry.field(description="Who in the group could grant it, when refused.")
    def grantors(self) -> list[User]:
        return served_as(self.explanation.grantors, User)


def _key(value: strawberry.ID | None, type_name: str) -> int | None:
    return None if value is None else parse_global_id(value, type_name)


def _division_key(value: strawberry.ID | None) -> int | None:
    """An optional division: absent is None, a malformed ID is a division that does not exist."""
    if value is None:
        return None
    key = parse_global_id(value, "Division")
    if key is None:
        raise Refused.on("divisionId", "no such division in this group", ErrorCode.NOT_FOUND)
    return key


@strawberry.type
class UsersQuery:
    @strawberry.field(description="The signed-in user and where it holds privileges.")
    def viewer(self, info: Info) -> Viewer | None:
        user = info.context.user
        if user is None:
            return None
        return Viewer(
            user_record=user,
            scopes=[_scope(scope, held) for scope, held in info.context.access.held],
        )

    @strawberry.field(description="Why a user may or may not use a privilege. Needs USERS_MANAGE.")
    async def access_explain(
        self,
        info: Info,
        user_id: strawberry.ID,
        group_id: strawberry.ID,
        privilege: Privilege,
        division_id: strawberry.ID | None = None,
    ) -> AccessExplanation:
        explanation = await use_cases.explain(
            info.context,
            user_id=_key(user_id, "User"),
            group_id=_key(group_id, "Group"),
            division_id=_division_key(division_id),
            privilege=privilege,
        )
        return AccessExplanation(
            allowed=explanation.allowed,
            privilege=explanation.privilege,
            missing=explanation.missing,
            explanation=explanation,
        )


@strawberry.input
class UserCreateInput:
    group_id: strawberry.ID
    email: str
    name: str
    privileges: list[Privilege]
    division_id: strawberry.ID | None = strawberry.field(
        default=None, description="Limit the access to one division."
    )
    expires_at: datetime | None = strawberry.field(default=None, description="When it ends.")


@strawberry.input
class UserPrivilegesUpdateInput:
    group_id: strawberry.ID
    user_id: strawberry.ID
    privileges: list[Privilege] = strawberry.field(
        description="The user's whole access in the group from now on; empty removes it."
    )
    division_id: strawberry.ID | None = None
    expires_at: datetime | None = None


@strawberry.input
class UserActivationInput:
    group_id: strawberry.ID
    user_id: strawberry.ID


@strawberry.input
class PrimaryAdministratorDesignateInput:
    group_id: strawberry.ID
    email: str
    name: str
    form_reference: str | None = strawberry.field(
        default=None, description="The officer's signed form, when carrier staff record it."
    )


INVITATION = "For a new user: the link, valid once for 72 hours, with which it sets a password."


@strawberry.type
class GroupUserPayload:
    group_user: GroupUser | None = None
    invitation_url: str | None = strawberry.field(default=None, description=INVITATION)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UserPayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PrimaryAdministratorDesignatePayload:
    administrator: User | None = None
    invitation_url: str | None = strawberry.field(default=None, description=INVITATION)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UsersMutation:
    @strawberry.mutation(description="Create a user ID with exactly the privileges given.")
    async def user_create(self, info: Info, input: UserCreateInput) -> GroupUserPayload | None:
        try:
            created = await use_cases.create_user(
                info.context,
                group_id=_key(input.group_id, "Group"),
                email=input.email,
                name=input.name,
                privileges=input.privileges,
                division_id=_division_key(input.division_id),
                expires_at=input.expires_at,
            )
        except Refused as refused:
            return GroupUserPayload(errors=user_errors(refused))
        return GroupUserPayload(
            group_user=served_as([created], GroupUser)[0], invitation_url=created.invitation_url
        )

    @strawberry.mutation(description="Set a user's privileges in a group (empty: remove access).")
    async def user_privileges_update(
        self, info: Info, input: UserPrivilegesUpdateInput
    ) -> GroupUserPayload | None:
        try:
            updated = await use_cases.update_privileges(
                info.context,
                group_id=_key(input.group_id, "Group"),
                user_id=_key(input.user_id, "User"),
                privileges=input.privileges,
                division_id=_division_key(input.division_id),
                expires_at=input.expires_at,
            )
        except Refused as refused:
            return GroupUserPayload(errors=user_errors(refused))
        return GroupUserPayload(group_user=served_as([updated], GroupUser)[0])

    @strawberry.mutation(description="Stop a user from signing in.")
    async def user_deactivate(self, info: Info, input: UserActivationInput) -> UserPayload | None:
        return await _activation(info, input, active=False)

    @strawberry.mutation(description="Let a deactivated user sign in again.")
    async def user_reactivate(self, info: Info, input: UserActivationInput) -> UserPayload | None:
        return await _activation(info, input, active=True)

    @strawberry.mutation(description="Designate the group's primary administrator.")
    async def primary_administrator_designate(
        self, info: Info, input: PrimaryAdministratorDesignateInput
    ) -> PrimaryAdministratorDesignatePayload | None:
        try:
            designation = await administrators.designate(
                info.context,
                group_id=_key(input.group_id, "Group"),
                email=input.email,
                name=input.name,
                form_reference=input.form_reference,
            )
        except Refused as refused:
            return PrimaryAdministratorDesignatePayload(errors=user_errors(refused))
        return PrimaryAdministratorDesignatePayload(
            administrator=served_as([designation.administrator], User)[0],
            invitation_url=designation.invitation_url,
        )


async def _activation(info: Info, input: UserActivationInput, *, active: bool) -> UserPayload:
    try:
        user = await use_cases.set_active(
            info.context,
            group_id=_key(input.group_id, "Group"),
            user_id=_key(input.user_id, "User"),
            active=active,
        )
    except Refused as refused:
        return UserPayload(errors=user_errors(refused))
    return UserPayload(user=served_as([user], User)[0])
