"""Invitations: a created user sets its own password through a one-time link.

The token travels in the link only; the table keeps its SHA-256 digest.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from authz.passwords import hash_password, password_problem
from data import audit
from data import oauth as store
from data.audit import Actor
from data.models.users import UserStatus

INVITATION_TTL = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class Unusable:
    """The invitation cannot be used; `message` tells the person what to do instead."""

    message: str


UNKNOWN = Unusable("This invitation link is not valid. Ask your administrator for a new one.")
EXPIRED = Unusable("This invitation has expired. Ask your administrator for a new one.")
USED = Unusable("This invitation has already been used. Sign in with your password.")
WITHDRAWN = Unusable("This invitation is no longer valid. Ask your administrator for access.")


@dataclass(frozen=True, slots=True)
class PasswordRefused:
    """The chosen password was refused; the form is shown again with `message`."""

    message: str
    email: str


async def create_invitation(session: AsyncSession, user_id: int, now: datetime) -> str:
    """Record an invitation for the user; returns the clear token, to be sent in the link."""
    token = secrets.token_urlsafe(32)
    await store.insert_invitation(
        session, user_id=user_id, token=token, expires_at=now + INVITATION_TTL
    )
    return token


async def usable_invitation(
    session: AsyncSession, token: str, now: datetime
) -> store.InvitationRecord | Unusable:
    invitation = await store.invitation_by_value(session, token)
    if invitation is None:
        return UNKNOWN
    if invitation.used_at is not None:
        return USED
    if invitation.expires_at <= now:
        return EXPIRED
    # Deactivated (or otherwise activated) since it was sent: the link must not revive anyone.
    if invitation.user_status != UserStatus.INVITED:
        return WITHDRAWN
    return invitation


async def accept_invitation(
    session: AsyncSession,
    token: str,
    password: str,
    confirmation: str,
    *,
    now: datetime,
    request_id: str | None,
    address: str | None,
) -> Unusable | PasswordRefused | None:
    """Set the password and activate the user (None), or say why not.

    On anything but None the caller rolls back: nothing of the attempt is kept.
    """
    invitation = await usable_invitation(session, token, now)
    if isinstance(invitation, Unusable):
        return invitation
    problem = password_problem(password, invitation.email)
    if problem is None and password != confirmation:
        problem = "The two passwords differ."
    if problem is not None:
        return PasswordRefused(problem, invitation.email)
    password_hash = await anyio.to_thread.run_sync(hash_password, password)
    if not await store.accept_invitation(
        session, invitation.id, invitation.user_id, password_hash, now
    ):
        # Another submission of the same link won the race.
        return USED
    audit.record(
        session,
        Actor(invitation.user_id, request_id, address),
        action="user.invitation_accepted",
        target_type="user",
        target_id=invitation.user_id,
        group_id=None,
        now=now,
        before={"status": UserStatus.INVITED.value},
        after={"status": UserStatus.ACTIVE.value},
    )
    return None
