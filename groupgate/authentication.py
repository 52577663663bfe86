"""Bearer tokens on the way in: a bad token is refused here, before any SQL runs.

A request without a token goes on anonymously (the schema decides what anonymous may see); a
request with a token that fails validation, or whose user is unknown or no longer active, gets
401 and a `WWW-Authenticate` header (RFC 6750).

Two sources of tokens: our own authorization server (subjects "user:<id>", our key set), or an
external identity provider (its key set, fetched; its subjects mapped to our users).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from joserfc.jwk import KeySet
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from authz.remote_keys import RemoteKeySet
from authz.tokens import AccessClaims, InvalidToken, TokenSettings, validate_access_token
from data import users
from data.database import Database
from data.models.users import UserStatus
from data.users import UserRecord

USER_STATE = "user"


@dataclass(frozen=True, slots=True)
class TokenSource:
    """Where tokens come from: our own keys, or an external provider's."""

    settings: TokenSettings
    local_keys: KeySet | None = None
    remote_keys: RemoteKeySet | None = None

    async def validate(self, token: str) -> AccessClaims:
        now = datetime.now(UTC)
        if self.remote_keys is None:
            assert self.local_keys is not None
            return validate_access_token(token, self.local_keys, self.settings, now=now)
        try:
            return validate_access_token(
                token, await self.remote_keys.key_set(), self.settings, now=now
            )
        except InvalidToken as refused:
            # The provider may have rotated its keys since we fetched them.
            if (
                refused.reason != "unknown key"
                or not await self.remote_keys.refresh_for_unknown_key()
            ):
                raise
            return validate_access_token(
                token, await self.remote_keys.key_set(), self.settings, now=now
            )


class BearerAuthentication:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        state[USER_STATE] = None
        header = dict(scope.get("headers", [])).get(b"authorization")
        if scope["type"] != "http" or header is None:
            await self.app(scope, receive, send)
            return
        kind, _, token = header.decode("latin-1").partition(" ")
        if kind.lower() != "bearer":
            await _refuse("invalid_request", "use the Bearer scheme")(scope, receive, send)
            return
        app_state = scope["app"].state
        source: TokenSource = app_state.token_source
        try:
            claims = await source.validate(token)
        except InvalidToken as refused:
            await _refuse("invalid_token", refused.reason)(scope, receive, send)
            return
        user = await _active_user(
            app_state.database, claims, external=source.remote_keys is not None
        )
        if user is None:
            await _refuse("invalid_token", "no active user for this token")(scope, receive, send)
            return
        state[USER_STATE] = user
        await self.app(scope, receive, send)


async def _active_user(
    database: Database, claims: AccessClaims, *, external: bool
) -> UserRecord | None:
    if not external:
        async with database.reader.connect() as connection:
            [user] = await users.users_by_id(
                connection, [int(claims.subject.removeprefix("user:"))]
            )
    else:
        user = await _external_user(database, claims)
    return user if user is not None and user.status == UserStatus.ACTIVE else None


async def _external_user(database: Database, claims: AccessClaims) -> UserRecord | None:
    """The user the provider's subject belongs to; first time, the one with its verified e-mail."""
    async with database.reader.connect() as connection:
        user = await users.user_by_external_subject(connection, claims.subject)
        if user is not None or claims.verified_email is None:
            return user
        user = await users.user_by_email(connection, claims.verified_email)
    if user is not None:
        async with database.sessions() as session, session.begin():
            await users.link_external_subject(session, user.id, claims.subject)
    return user


def _refuse(error: str, description: str) -> JSONResponse:
    message = {"message": f"not authenticated: {description}"}
    return JSONResponse(
        {"errors": [{**message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={
            "WWW-Authenticate": f'Bearer realm="groupgate", error="{error}", '
            f'error_description="{description}"'
        },
    )
