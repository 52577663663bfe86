"""Designating a group's one primary administrator: by its group officer, or by an account
representative recording the officer's signed form (with the form's reference)."""

from __future__ import annotations

from dataclasses import dataclass

from authz.enforcement import grant_rule
from authz.privileges import Privilege, Role
from data import access, audit, users
from data.models.users import (
    DesignationChannel,
    PrimaryAdministratorDesignation,
    UserKind,
    UserStatus,
)
from data.users import UserRecord
from resolvers import groups
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError, NotAllowed, Refused
from resolvers.users import invite, person_errors


@dataclass(frozen=True, slots=True)
class Designation:
    group_id: int
    administrator: UserRecord
    channel: DesignationChannel
    # When the administrator is new to the gateway: its one-time invitation link.
    invitation_url: str | None


async def designate(
    context: Context,
    *,
    group_id: int | None,
    email: str,
    name: str,
    form_reference: str | None,
) -> Designation:
    officer = context.signed_in()
    group = await groups.visible_group(context, group_id, "groupId")
    if not context.access.allows(Privilege.ADMINISTRATOR_DESIGNATE, group.id):
        raise NotAllowed(Privilege.ADMINISTRATOR_DESIGNATE.value)
    # Carrier staff only record what the group officer signed.
    channel = (
        DesignationChannel.OFFICER_FORM
        if officer.kind == UserKind.CARRIER
        else DesignationChannel.OFFICER
    )
    email = email.strip().lower()
    errors = person_errors(email, name)
    if email == officer.email:
        # Nobody grants themselves anything: another officer or the carrier must designate them.
        errors.append(FieldError("email", "you cannot designate yourself", ErrorCode.SELF_CHANGE))
    reference = (form_reference or "").strip()
    if channel == DesignationChannel.OFFICER_FORM and not reference:
        errors.append(
            FieldError(
                "formReference", "give the reference of the officer's form", ErrorCode.REQUIRED
            )
        )
    if len(reference) > 64:
        errors.append(FieldError("formReference", "at most 64 characters", ErrorCode.INVALID))
    if errors:
        raise Refused(*errors)

    async with context.transaction() as session:
        async with context.database.reader.connect() as connection:
            administrator = await users.user_by_email(connection, email)
        if administrator is not None and administrator.kind != UserKind.EMPLOYER:
            raise Refused.on("email", "this person cannot administer a group", ErrorCode.INVALID)
        current = await access.current_designation(session, group.id)
        if (
            current is not None
            and administrator is not None
            and current.user_id == administrator.id
        ):
            raise Refused.on("email", "already the primary administrator", ErrorCode.ALREADY_DONE)
        invitation = None
        if administrator is None:
            administrator = await users.insert_user(
                session,
                email=email,
                name=name.strip(),
                kind=UserKind.EMPLOYER,
                status=UserStatus.INVITED,
                created_by_user_id=officer.id,
            )
            invitation = await invite(context, session, administrator, group.id)
        previous = None
        if current is not None:
            previous = current.user_id
            current.ended_at = context.now
            await session.flush()  # the one-current-designation index must see it ended
        for grant in await access.role_grants_in_group(
            session, group.id, Role.PRIMARY_ADMINISTRATOR.value, context.now
        ):
            await access.revoke_grant(session, grant.id, officer.id, context.now)
            await access.remove_rule(session, *grant_rule(grant))
        grant = await access.insert_grant(
            session,
            user_id=administrator.id,
            group_id=group.id,
            division_id=None,
            role=Role.PRIMARY_ADMINISTRATOR.value,
            privilege=None,
            granted_by_user_id=officer.id,
            now=context.now,
            expires_at=None,
        )
        access.add_rule(session, *grant_rule(grant))
        session.add(
            PrimaryAdministratorDesignation(
                group_id=group.id,
                user_id=administrator.id,
                designated_by_user_id=officer.id,
                channel=channel,
                form_reference=reference or None,
                designated_at=context.now,
            )
        )
        audit.record(
            session,
            context.actor,
            action="primary_administrator.designated",
            target_type="user",
            target_id=administrator.id,
            group_id=group.id,
            now=context.now,
            before={"userId": previous},
            after={
                "userId": administrator.id,
                "channel": channel,
                "formReference": reference or None,
            },
        )
        await access.bump_policy_version(session, context.now)
    await context.policy.reload()
    return Designation(group.id, administrator, channel, invitation)
