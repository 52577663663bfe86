"""Account access: who may do what in a group, and delegating it without escalation."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from authz.delegation import (
    HeldGrant,
    Refusal,
    TimedGrant,
    may_change,
    may_grant,
    may_outlast,
)
from authz.enforcement import grant_rule
from authz.invitations import create_invitation
from authz.privileges import Privilege, Role
from data import access, audit, users
from data.access import GrantRecord
from data.groups import GroupRecord
from data.models.users import UserKind, UserStatus
from data.users import UserRecord
from resolvers import groups
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError, Refused

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class GroupAccess:
    """A user's access in one group: its grants there, and what they add up to."""

    user: UserRecord
    group_id: int
    grants: list[GrantRecord]
    privileges: frozenset[Privilege]
    # For a newly created user: the link with which it sets its password (shown once).
    invitation_url: str | None = None

    @property
    def is_primary_administrator(self) -> bool:
        return any(grant.role == Role.PRIMARY_ADMINISTRATOR for grant in self.grants)


@dataclass(frozen=True, slots=True)
class AccessChange:
    group_id: int
    user_id: int
    division_id: int | None
    privileges: frozenset[Privilege]
    expires_at: datetime | None


def valid_email(email: str) -> bool:
    return len(email) <= 320 and _EMAIL.match(email) is not None


def _refused(refusal: Refusal) -> Refused:
    return Refused(FieldError(refusal.field, refusal.reason, ErrorCode(refusal.code)))


def _held(grants: list[GrantRecord], context: Context) -> list[HeldGrant]:
    role_privileges = context.policy.role_privileges
    return [
        HeldGrant(
            role=grant.role,
            privileges=role_privileges[grant_rule(grant)[1]],
            division_id=grant.division_id,
        )
        for grant in grants
    ]


def person_errors(email: str, name: str) -> list[FieldError]:
    """Problems with a person's e-mail (already normalised) and name."""
    errors = []
    if not valid_email(email):
        errors.append(FieldError("email", "not an e-mail address", ErrorCode.INVALID))
    if not name.strip() or len(name) > 200:
        errors.append(FieldError("name", "give a name of 1 to 200 characters", ErrorCode.INVALID))
    return errors


async def _prepare_change(
    context: Context,
    group_id: int | None,
    division_id: int | None,
    privileges: list[Privilege],
    expires_at: datetime | None,
) -> tuple[UserRecord, GroupRecord, list[FieldError]]:
    """The manager, the group and division named (or NOT_FOUND), and what is wrong with the rest."""
    manager = context.signed_in()
    group = await groups.visible_group(context, group_id, "groupId")
    await groups.division_of(context, group.id, division_id, "divisionId")
    errors = []
    if len(set(privileges)) != len(privileges):
        errors.append(
            FieldError("privileges", "each privilege may be named once", ErrorCode.INVALID)
        )
    if expires_at is not None and expires_at.tzinfo is None:
        errors.append(FieldError("expiresAt", "give a time zone", ErrorCode.INVALID))
    elif expires_at is not None and expires_at <= context.now:
        errors.append(FieldError("expiresAt", "must lie in the future", ErrorCode.INVALID))
    return manager, group, errors


async def group_users(context: Context, group_id: int) -> list[GroupAccess]:
    """The account access list: every user with access in the group, oldest grant first."""
    groups.require(context, Privilege.USERS_MANAGE, group_id)
    async with context.database.reader.connect() as connection:
        [grants] = await access.grants_in_groups(connection, [group_id], context.now)
    by_user: dict[int, list[GrantRecord]] = {}
    for grant in grants:
        by_user.setdefault(grant.user_id, []).append(grant)
    found = await context.loaders.user_by_id.load_many(list(by_user))
    return [_group_access(context, user, group_id, by_user[user.id]) for user in found if user]


async def _own_grants(context: Context, session: AsyncSession, group_id: int) -> list[TimedGrant]:
    """The signed-in manager's active grants in the group, with what each gives and until when."""
    grants = await access.grants_of_user_in_group(
        session, context.signed_in().id, group_id, context.now
    )
    role_privileges = context.policy.role_privileges
    return [
        TimedGrant(role_privileges[grant_rule(g)[1]], g.division_id, g.expires_at) for g in grants
    ]


def _group_access(
    context: Context, user: UserRecord, group_id: int, grants: list[GrantRecord]
) -> GroupAccess:
    role_privileges = context.policy.role_privileges
    held = frozenset().union(*(role_privileges[grant_rule(g)[1]] for g in grants))
    return GroupAccess(user=user, group_id=group_id, grants=grants, privileges=held)


async def create_user(
    context: Context,
    *,
    group_id: int | None,
    email: str,
    name: str,
    privileges: list[Privilege],
    division_id: int | None,
    expires_at: datetime | None,
) -> GroupAccess:
    manager, group, errors = await _prepare_change(
        context, group_id, division_id, privileges, expires_at
    )
    email = email.strip().lower()
    errors += person_errors(email, name)
    if not privileges:
        errors.append(FieldError("privileges", "grant at least one privilege", ErrorCode.REQUIRED))
    if errors:
        raise Refused(*errors)
    refusal = may_grant(context.access, group.id, division_id, privileges)
    if refusal:
        raise _refused(refusal)
    async with context.transaction() as session:
        own = await _own_grants(context, session, group.id)
        refusal = may_outlast(own, division_id, privileges, expires_at)
        if refusal:
            raise _refused(refusal)
        async with context.database.reader.connect() as connection:
            existing = await users.user_by_email(connection, email)
        invitation = None
        if existing is not None:
            if existing.kind != UserKind.EMPLOYER or await access.grants_of_user_in_group(
                session, existing.id, group.id, context.now
            ):
                raise Refused.on("email", "this person already has access here", ErrorCode.CONFLICT)
            user = existing
        else:
            user = await users.insert_user(
                session,
                email=email,
                name=name.strip(),
                kind=UserKind.EMPLOYER,
                status=UserStatus.INVITED,
                created_by_user_id=manager.id,
            )
            invitation = await invite(context, session, user, group.id)
        grants = await _grant(
            context,
            session,
            AccessChange(group.id, user.id, division_id, frozenset(privileges), expires_at),
        )
    await context.policy.reload()
    created = _group_access(context, user, group.id, grants)
    return replace(created, invitation_url=invitation)


async def invite(context: Context, session: AsyncSession, user: UserRecord, group_id: int) -> str:
    """Record a new user and its one-time invitation (72 hours); returns the invitation link."""
    token = await create_invitation(session, user.id, context.now)
    audit.record(
        session,
        context.actor,
        action="user.created",
        target_type="user",
        target_id=user.id,
        group_id=group_id,
        now=context.now,
        after={"email": user.email, "name": user.name, "status": user.status},
    )
    return context.link(f"/invitations/{token}")


async def _grant(
    context: Context, session: AsyncSession, change: AccessChange
) -> list[GrantRecord]:
    grants = []
    for privilege in sorted(change.privileges):
        grant = await access.insert_grant(
            session,
            user_id=change.user_id,
            group_id=change.group_id,
            division_id=change.division_id,
            role=None,
            privilege=privilege.value,
            granted_by_user_id=context.actor.user_id,
            now=context.now,
            expires_at=change.expires_at,
        )
        access.add_rule(session, *grant_rule(grant))
        grants.append(grant)
    audit.record(
        session,
        context.actor,
        action="access.granted",
        target_type="user",
        target_id=change.user_id,
        group_id=change.group_id,
        now=context.now,
        after=_describe(change.privileges, change.division_id, change.expires_at),
    )
    await access.bump_policy_version(session, context.now)
    return grants


def _describe(
    privileges: frozenset[Privilege], division_id: int | None, expires_at: datetime | None
) -> dict[str, object]:
    return {
        "privileges": sorted(privileges),
        "divisionId": division_id,
        "expiresAt": expires_at.isoformat() if expires_at else None,
    }


async def _target(
    context: Context, session: AsyncSession, group_id: int, user_id: int | None
) -> tuple[UserRecord, list[GrantRecord]]:
    """A user with access in the group, and its grants there; anyone else is NOT_FOUND."""
    grants = (
        []
        if user_id is None
        else await access.grants_of_user_in_group(session, user_id, group_id, context.now)
    )
    user = await context.loaders.user_by_id.load(user_id) if grants and user_id else None
    if user is None:
        raise Refused.on("userId", "no such user in this group", ErrorCode.NOT_FOUND)
    return user, grants


async def update_privileges(
    context: Context,
    *,
    group_id: int | None,
    user_id: int | None,
    privileges: list[Privilege],
    division_id: int | None,
    expires_at: datetime | None,
) -> GroupAccess:
    """Replace the user's access in the group with exactly these privileges (none: remove it)."""
    manager, group, errors = await _prepare_change(
        context, group_id, division_id, privileges, expires_at
    )
    if errors:
        raise Refused(*errors)
    async with context.transaction() as session:
        user, current = await _target(context, session, group.id, user_id)
        refusal = may_change(manager.id, context.access, user.id, group.id, _held(current, context))
        refusal = refusal or (
            may_grant(context.access, group.id, division_id, privileges) if privileges else None
        )
        if refusal is None and privileges:
            own = await _own_grants(context, session, group.id)
            refusal = may_outlast(own, division_id, privileges, expires_at)
        if refusal:
            raise _refused(refusal)
        for grant in current:
            await access.revoke_grant(session, grant.id, manager.id, context.now)
            await access.remove_rule(session, *grant_rule(grant))
        before = _group_access(context, user, group.id, current)
        audit.record(
            session,
            context.actor,
            action="access.revoked",
            target_type="user",
            target_id=user.id,
            group_id=group.id,
            now=context.now,
            before={"privileges": sorted(before.privileges)},
        )
        grants = (
            await _grant(
                context,
                session,
                AccessChange(group.id, user.id, division_id, frozenset(privileges), expires_at),
            )
            if privileges
            else []
        )
        await access.bump_policy_version(session, context.now)
    await context.policy.reload()
    return _group_access(context, user, group.id, grants)


async def set_active(
    context: Context, *, group_id: int | None, user_id: int | None, active: bool
) -> UserRecord:
    """Deactivate (or reactivate) a user of the group: its sign-in stops working at once."""
    manager = context.signed_in()
    group = await groups.visible_group(context, group_id, "groupId")
    async with context.transaction() as session:
        user, current = await _target(context, session, group.id, user_id)
        refusal = may_change(manager.id, context.access, user.id, group.id, _held(current, context))
        if refusal:
            raise _refused(refusal)
        if await access.groups_of_user(session, user.id, context.now) != {group.id}:
            raise Refused.on(
                "userId",
                "this person also has access to other accounts; remove their privileges here "
                "with userPrivilegesUpdate instead",
                ErrorCode.CONFLICT,
            )
        row = await users.user_for_update(session, user.id)
        assert row is not None  # it holds grants, so it exists
        if (row.status == UserStatus.DEACTIVATED) != active:
            message = "already active" if active else "already deactivated"
            raise Refused.on("userId", message, ErrorCode.ALREADY_DONE)
        before = row.status
        # Someone reactivated before ever setting a password is still only invited.
        row.status = (
            (UserStatus.ACTIVE if row.password_hash else UserStatus.INVITED)
            if active
            else UserStatus.DEACTIVATED
        )
        row.deactivated_at = None if active else context.now
        audit.record(
            session,
            context.actor,
            action="user.reactivated" if active else "user.deactivated",
            target_type="user",
            target_id=user.id,
            group_id=group.id,
            now=context.now,
            before={"status": before},
            after={"status": row.status},
        )
        return users.record_of(row)


@dataclass(frozen=True, slots=True)
class Reason:
    """One way a user holds a privilege: a grant of its own, or its agency's broker of record."""

    held: str  # "role:broker", "privilege:BILLING_READ", ...
    division_id: int | None
    grant: GrantRecord | None


@dataclass(frozen=True, slots=True)
class Explanation:
    user: UserRecord
    group_id: int
    division_id: int | None
    privilege: Privilege
    allowed: bool
    reasons: list[Reason]
    missing: str | None
    grantors: list[UserRecord]


async def explain(
    context: Context,
    *,
    user_id: int | None,
    group_id: int | None,
    division_id: int | None,
    privilege: Privilege,
) -> Explanation:
    """Why a user may or may not use a privilege in a group, and who could change that."""
    caller = context.signed_in()
    group = await groups.visible_group(context, group_id, "groupId")
    await groups.division_of(context, group.id, division_id, "divisionId")
    if caller.id != user_id:
        groups.require(context, Privilege.USERS_MANAGE, group.id)
    async with context.database.reader.connect() as connection:
        [grants] = await access.grants_in_groups(connection, [group.id], context.now)
    user = await context.loaders.user_by_id.load(user_id) if user_id is not None else None
    target_access = context.policy.access_for(user.id) if user else None
    if user is None or target_access is None or not target_access.privileges(group.id):
        raise Refused.on("userId", "no such user in this group", ErrorCode.NOT_FOUND)
    allowed = target_access.allows(privilege, group.id, division_id)
    role_privileges = context.policy.role_privileges
    own = [grant for grant in grants if grant.user_id == user.id]
    reasons = [
        Reason(held=grant_rule(grant)[1], division_id=grant.division_id, grant=grant)
        for grant in own
        if privilege in role_privileges[grant_rule(grant)[1]]
        and (grant.division_id is None or grant.division_id == division_id)
    ]
    if allowed and not reasons:
        # Held through the user's agency: its broker-of-record access to this group.
        reasons = [Reason(held=Role.BROKER.subject, division_id=None, grant=None)]
    missing = None
    if not allowed:
        where = "in this division" if division_id is not None else "in the whole group"
        partial = group.id in target_access.reach(privilege).divisions
        missing = f"{privilege.value} {where}" + (
            " (held only in some divisions)" if partial and division_id is None else ""
        )
    grantor_ids = sorted(
        {
            grant.user_id
            for grant in grants
            if grant.user_id != user.id
            and {Privilege.USERS_MANAGE, privilege}
            <= context.policy.access_for(grant.user_id).privileges(group.id, division_id)
        }
    )
    grantors = [found for found in await context.loaders.user_by_id.load_many(grantor_ids) if found]
    return Explanation(
        user=user,
        group_id=group.id,
        division_id=division_id,
        privilege=privilege,
        allowed=allowed,
        reasons=reasons,
        missing=missing,
        grantors=grantors if not allowed else [],
    )
