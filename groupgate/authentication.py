"""Bearer tokens on the way in: a bad token is refused here, before any SQL runs.

A request without a token goes on anonymously (the schema decides what anonymous may see); a
request with a token that fails validation, or whose user is no longer active, gets 401 and a
`WWW-Authenticate` header (RFC 6750).
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from authz.tokens import InvalidToken, validate_access_token
from data.database import Database
from data.models.users import UserStatus
from data.users import UserRecord, users_by_id

USER_STATE = "user"


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
        try:
            claims = validate_access_token(
                token, app_state.signing_keys.all, app_state.token_settings, now=datetime.now(UTC)
            )
        except InvalidToken as refused:
            await _refuse("invalid_token", refused.reason)(scope, receive, send)
            return
        user = await _active_user(app_state.database, int(claims.subject.removeprefix("user:")))
        if user is None:
            await _refuse("invalid_token", "user is not active")(scope, receive, send)
            return
        state[USER_STATE] = user
        await self.app(scope, receive, send)


async def _active_user(database: Database, user_id: int) -> UserRecord | None:
    async with database.reader.connect() as connection:
        [user] = await users_by_id(connection, [user_id])
    return user if user is not None and user.status == UserStatus.ACTIVE else None


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
