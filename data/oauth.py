"""SQL of the built-in authorization server: clients, codes, refresh tokens, sign-in state.

Codes, refresh tokens and invitation tokens are random, so a SHA-256 digest (hex) is all that is
stored: these functions take the clear value and digest it. Client secrets get argon2id, like
passwords. Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Update, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from data.models import (
    OAuthAuthorizationCode,
    OAuthClient,
    OAuthRefreshToken,
    SignInAttempt,
    User,
    UserInvitation,
)
from data.models.users import UserStatus
from data.users import UserRecord

# What the first-party frontends may ask for; the GraphQL schema decides the rest.
FRONTEND_SCOPE = "graphql"
FRONTEND_GRANT_TYPES = ("authorization_code", "refresh_token")


@dataclass(frozen=True, slots=True)
class OAuthClientRecord:
    client_id: str
    name: str
    # argon2id; None for a public client (a frontend, which cannot keep a secret).
    client_secret_hash: str | None
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    scope: str
    service_user_id: int | None


@dataclass(frozen=True, slots=True)
class AuthorizationCodeRecord:
    code_hash: str
    client_id: str
    user_id: int
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class RefreshTokenRecord:
    id: int
    family_id: str
    client_id: str
    user_id: int
    scope: str
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Credentials:
    user: UserRecord
    password_hash: str | None


@dataclass(frozen=True, slots=True)
class InvitationRecord:
    id: int
    user_id: int
    email: str
    user_status: UserStatus
    expires_at: datetime
    used_at: datetime | None


# Clients


async def register_client(
    session: AsyncSession,
    *,
    client_id: str,
    name: str,
    redirect_uris: list[str],
    grant_types: list[str],
    scope: str,
    secret: str | None,
    service_user_id: int | None,
) -> None:
    """Add a client; with a `secret` it is confidential, without one public (PKCE only)."""
    # argon2-cffi's defaults, the same parameters as `authz.passwords` (which data/ may not import).
    secret_hash = PasswordHasher().hash(secret) if secret is not None else None
    await session.execute(
        insert(OAuthClient).values(
            client_id=client_id,
            name=name,
            client_secret_hash=secret_hash,
            redirect_uris=redirect_uris,
            grant_types=grant_types,
            scope=scope,
            service_user_id=service_user_id,
        )
    )


def _frontend_clients() -> list[dict[str, Any]]:
    common = {
        "client_secret_hash": None,
        "grant_types": list(FRONTEND_GRANT_TYPES),
        "scope": FRONTEND_SCOPE,
        "service_user_id": None,
    }
    return [
        {
            "client_id": "groupgate-web",
            "name": "Groupgate web",
            "redirect_uris": ["http://localhost:3000/callback"],
            **common,
        },
        {
            "client_id": "groupgate-mobile",
            "name": "Groupgate mobile",
            # A private-use scheme (RFC 8252 section 7.1): only the app receives the code.
            "redirect_uris": ["com.groupgate.app:/callback"],
            **common,
        },
    ]


async def ensure_frontend_clients(connection: AsyncConnection) -> int:
    """Register the web and mobile frontends if missing; returns how many were added."""
    wanted = _frontend_clients()
    existing = set(
        await connection.scalars(
            select(OAuthClient.client_id).where(
                OAuthClient.client_id.in_([row["client_id"] for row in wanted])
            )
        )
    )
    missing = [row for row in wanted if row["client_id"] not in existing]
    if missing:
        await connection.execute(insert(OAuthClient), missing)
    return len(missing)


async def client_by_id(session: AsyncSession, client_id: str) -> OAuthClientRecord | None:
    """The client, unless it does not exist or was revoked."""
    client = await session.scalar(
        select(OAuthClient).where(
            OAuthClient.client_id == client_id, OAuthClient.revoked_at.is_(None)
        )
    )
    if client is None:
        return None
    return OAuthClientRecord(
        client_id=client.client_id,
        name=client.name,
        client_secret_hash=client.client_secret_hash,
        redirect_uris=tuple(client.redirect_uris),
        grant_types=tuple(client.grant_types),
        scope=client.scope,
        service_user_id=client.service_user_id,
    )


# Authorization codes


async def insert_authorization_code(
    session: AsyncSession,
    *,
    code: str,
    client_id: str,
    user_id: int,
    redirect_uri: str,
    scope: str,
    code_challenge: str,
    code_challenge_method: str,
    expires_at: datetime,
) -> None:
    await session.execute(
        insert(OAuthAuthorizationCode).values(
            code_hash=_digest(code),
            client_id=client_id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scope=scope,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            expires_at=expires_at,
        )
    )


async def authorization_code_by_value(
    session: AsyncSession, code: str
) -> AuthorizationCodeRecord | None:
    row = (
        await session.execute(
            select(
                OAuthAuthorizationCode.code_hash,
                OAuthAuthorizationCode.client_id,
                OAuthAuthorizationCode.user_id,
                OAuthAuthorizationCode.redirect_uri,
                OAuthAuthorizationCode.scope,
                OAuthAuthorizationCode.code_challenge,
                OAuthAuthorizationCode.code_challenge_method,
                OAuthAuthorizationCode.expires_at,
                OAuthAuthorizationCode.used_at,
            ).where(OAuthAuthorizationCode.code_hash == _digest(code))
        )
    ).first()
    return AuthorizationCodeRecord(*row) if row else None


async def claim_authorization_code(session: AsyncSession, code_hash: str, now: datetime) -> bool:
    """Mark the code used; False if another exchange did so first.

    One conditional UPDATE: of two concurrent exchanges of a code, exactly one wins.
    """
    return await _claim(
        session,
        update(OAuthAuthorizationCode)
        .where(
            OAuthAuthorizationCode.code_hash == code_hash,
            OAuthAuthorizationCode.used_at.is_(None),
        )
        .values(used_at=now)
        .returning(OAuthAuthorizationCode.id),
    )


# Refresh tokens


async def insert_refresh_token(
    session: AsyncSession,
    *,
    token: str,
    family_id: str,
    client_id: str,
    user_id: int,
    scope: str,
    expires_at: datetime,
) -> None:
    await session.execute(
        insert(OAuthRefreshToken).values(
            token_hash=_digest(token),
            family_id=family_id,
            client_id=client_id,
            user_id=user_id,
            scope=scope,
            expires_at=expires_at,
        )
    )


async def refresh_token_by_value(session: AsyncSession, token: str) -> RefreshTokenRecord | None:
    row = (
        await session.execute(
            select(
                OAuthRefreshToken.id,
                OAuthRefreshToken.family_id,
                OAuthRefreshToken.client_id,
                OAuthRefreshToken.user_id,
                OAuthRefreshToken.scope,
                OAuthRefreshToken.expires_at,
                OAuthRefreshToken.used_at,
                OAuthRefreshToken.revoked_at,
            ).where(OAuthRefreshToken.token_hash == _digest(token))
        )
    ).first()
    return RefreshTokenRecord(*row) if row else None


async def claim_refresh_token(session: AsyncSession, token_id: int, now: datetime) -> bool:
    """Mark the token used; False if it was used or revoked meanwhile (one UPDATE, as above)."""
    return await _claim(
        session,
        update(OAuthRefreshToken)
        .where(
            OAuthRefreshToken.id == token_id,
            OAuthRefreshToken.used_at.is_(None),
            OAuthRefreshToken.revoked_at.is_(None),
        )
        .values(used_at=now)
        .returning(OAuthRefreshToken.id),
    )


async def revoke_refresh_token_family(session: AsyncSession, family_id: str, now: datetime) -> None:
    await session.execute(
        update(OAuthRefreshToken)
        .where(OAuthRefreshToken.family_id == family_id, OAuthRefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


# Sign-in


async def credentials_by_email(session: AsyncSession, email: str) -> Credentials | None:
    row = (
        await session.execute(
            select(
                User.id,
                User.email,
                User.name,
                User.kind,
                User.status,
                User.agency_id,
                User.password_hash,
            ).where(User.email == email.lower())
        )
    ).first()
    return Credentials(UserRecord(*row[:-1]), row[-1]) if row else None


async def recent_sign_in_failures(
    session: AsyncSession, *, email: str, address: str, since: datetime
) -> tuple[int, int]:
    """Failed attempts since `since`: (for this e-mail, from this address)."""
    failed = select(func.count()).where(
        SignInAttempt.succeeded.is_(False), SignInAttempt.attempted_at > since
    )
    by_email = await session.scalar(failed.where(SignInAttempt.email == email))
    by_address = await session.scalar(failed.where(SignInAttempt.address == address))
    return by_email or 0, by_address or 0


async def record_sign_in_attempt(
    session: AsyncSession, *, email: str, address: str, succeeded: bool, at: datetime
) -> None:
    await session.execute(
        insert(SignInAttempt).values(
            email=email, address=address, succeeded=succeeded, attempted_at=at
        )
    )


async def record_sign_in(session: AsyncSession, user_id: int, at: datetime) -> None:
    await session.execute(update(User).where(User.id == user_id).values(last_sign_in_at=at))


async def update_password_hash(session: AsyncSession, user_id: int, password_hash: str) -> None:
    await session.execute(
        update(User).where(User.id == user_id).values(password_hash=password_hash)
    )


# Invitations


async def insert_invitation(
    session: AsyncSession, *, user_id: int, token: str, expires_at: datetime
) -> None:
    await session.execute(
        insert(UserInvitation).values(
            user_id=user_id, token_hash=_digest(token), expires_at=expires_at
        )
    )


async def invitation_by_value(session: AsyncSession, token: str) -> InvitationRecord | None:
    row = (
        await session.execute(
            select(
                UserInvitation.id,
                UserInvitation.user_id,
                User.email,
                User.status,
                UserInvitation.expires_at,
                UserInvitation.used_at,
            )
            .join(User, User.id == UserInvitation.user_id)
            .where(UserInvitation.token_hash == _digest(token))
        )
    ).first()
    return InvitationRecord(*row) if row else None


async def accept_invitation(
    session: AsyncSession, invitation_id: int, user_id: int, password_hash: str, now: datetime
) -> bool:
    """Use the invitation and activate its invited user; False if either changed meanwhile
    (then the caller rolls back, so that the invitation stays as it was)."""
    claimed = await _claim(
        session,
        update(UserInvitation)
        .where(
            UserInvitation.id == invitation_id,
            UserInvitation.used_at.is_(None),
            UserInvitation.expires_at > now,
        )
        .values(used_at=now)
        .returning(UserInvitation.id),
    )
    return claimed and await _claim(
        session,
        update(User)
        .where(User.id == user_id, User.status == UserStatus.INVITED)
        .values(status=UserStatus.ACTIVE, password_hash=password_hash)
        .returning(User.id),
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def _claim(session: AsyncSession, statement: Update) -> bool:
    """Run a conditional UPDATE ... RETURNING; True when it changed a row."""
    return (await session.execute(statement)).first() is not None
