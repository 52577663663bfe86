"""The built-in OAuth 2.0 authorization server: Authlib's grants over our tables and tokens.

Authlib is synchronous. Each request builds a server bound to its `OAuthContext` (its session,
clock and keys) and runs it in a worker thread (`anyio.to_thread.run_sync`); the hooks reach the
async database with `anyio.from_thread.run`, one call at a time, so the request's one
`AsyncSession` is never used by two tasks at once. The route commits that session only when
the response is a success, so a refused request leaves no half-issued grant behind.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

import anyio.from_thread
import anyio.to_thread
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    AuthorizationServer,
    ClientMixin,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Request,
    TokenMixin,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from authz.keys import SigningKeys
from authz.passwords import hash_password, needs_rehash, verify_password
from authz.tokens import TokenSettings, issue_access_token
from data import audit
from data import oauth as store
from data.audit import Actor
from data.models.users import UserStatus
from data.users import UserRecord, users_by_id

AUTHORIZATION_CODE_TTL = timedelta(seconds=60)
REFRESH_TOKEN_TTL = timedelta(days=30)
SECRET_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
# Frontends cannot keep a secret: they authenticate with nothing but PKCE ("none").
ANY_AUTH_METHOD = [*SECRET_AUTH_METHODS, "none"]
GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"]
THROTTLE_WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURE_LIMIT = 5
# Higher than per account: several people may sign in from one office's address.
ADDRESS_FAILURE_LIMIT = 20

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class OAuthContext:
    """What the hooks of one request work with."""

    session: AsyncSession
    keys: SigningKeys
    token_settings: TokenSettings
    now: datetime
    # Families to revoke once the request's own transaction has ended (`revoke_pending`).
    revocations: list[str] = field(default_factory=list)

    def run(self, query: Callable[[AsyncSession], Coroutine[Any, Any, _T]]) -> _T:
        """Run a data function on the request's session, from the worker thread."""
        return anyio.from_thread.run(query, self.session)

    def revoke_family(self, family_id: str) -> None:
        """Revoke a refresh-token family, whatever becomes of the request: the request itself
        fails and its transaction is rolled back, and the revocation is committed in a
        transaction of its own after it (on SQLite a second writer could not start while the
        request's transaction holds the write lock)."""
        self.revocations.append(family_id)


async def revoke_pending(context: OAuthContext, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Commit the revocations a request asked for, after its own transaction has ended."""
    if context.revocations:
        async with sessions.begin() as session:
            for family_id in context.revocations:
                await store.revoke_refresh_token_family(session, family_id, context.now)


@dataclass(frozen=True, slots=True)
class OAuthResponse:
    status: int
    body: Mapping[str, Any] | str
    headers: list[tuple[str, str]]


class OAuthRequest(OAuth2Request):
    """A request whose parameters were read (and refused if repeated) before the worker thread:
    the query string for the authorization endpoint, the form body for the others."""

    def __init__(
        self, method: str, uri: str, headers: Mapping[str, str], params: dict[str, str]
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self.params = params
        self.payload = BasicOAuth2Payload(params)

    @property
    def form(self) -> dict[str, str]:
        return self.params


class Client(ClientMixin):
    def __init__(self, record: store.OAuthClientRecord) -> None:
        self.record = record

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_default_redirect_uri(self) -> None:
        # None: every authorization request must name its redirect URI, matched exactly.
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scope (the whole registered one if none is asked), or None if it asks
        for more than the client is registered for."""
        allowed = self.record.scope.split()
        requested = list(dict.fromkeys(scope.split())) if scope else allowed
        return " ".join(requested) if set(requested) <= set(allowed) else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.record.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        secret_hash = self.record.client_secret_hash
        return secret_hash is not None and verify_password(secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.record.client_secret_hash is None:
            return method == "none"
        return method in SECRET_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and self.check_grant_type("authorization_code")

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.record.grant_types


class AuthorizationCode(AuthorizationCodeMixin):
    def __init__(self, record: store.AuthorizationCodeRecord) -> None:
        self.record = record
        # Read by Authlib's PKCE extension.
        self.code_challenge = record.code_challenge
        self.code_challenge_method = record.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.record.redirect_uri

    def get_scope(self) -> str:
        return self.record.scope


class RefreshToken(TokenMixin):
    def __init__(self, record: store.RefreshTokenRecord) -> None:
        self.record = record

    def check_client(self, client: Client) -> bool:
        return self.record.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.record.scope


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only: a challenge is required, and "plain" (the RFC's default) refused."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: CodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ANY_AUTH_METHOD
    server: GatewayAuthorizationServer
    request: OAuthRequest

    def save_authorization_code(self, code: str, request: OAuthRequest) -> None:
        context, data = self.server.context, request.payload.data
        context.run(
            lambda session: store.insert_authorization_code(
                session,
                code=code,
                client_id=request.client.get_client_id(),
                user_id=request.user.id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                expires_at=context.now + AUTHORIZATION_CODE_TTL,
            )
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        context = self.server.context
        record = context.run(lambda session: store.authorization_code_by_value(session, code))
        if record is None or record.client_id != client.get_client_id():
            return None
        if record.used_at is not None:
            # RFC 6749 section 4.1.2: a code presented twice was stolen; end what it granted.
            context.revoke_family(record.code_hash)
            return None
        return AuthorizationCode(record) if record.expires_at > context.now else None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        # Marked used rather than deleted, so that a second use is recognised as reuse.
        context = self.server.context
        code_hash = authorization_code.record.code_hash
        if not context.run(
            lambda session: store.claim_authorization_code(session, code_hash, context.now)
        ):
            raise InvalidGrantError("The code was used meanwhile.")

    def authenticate_user(self, authorization_code: AuthorizationCode) -> UserRecord | None:
        return self.server.active_user(authorization_code.record.user_id)


class RotatingRefreshTokenGrant(RefreshTokenGrant):
    """Each use returns a new refresh token of the same family and retires the old one."""

    TOKEN_ENDPOINT_AUTH_METHODS = ANY_AUTH_METHOD
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: GatewayAuthorizationServer

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        context = self.server.context
        record = context.run(lambda session: store.refresh_token_by_value(session, refresh_token))
        if record is None or record.revoked_at is not None or record.expires_at <= context.now:
            return None
        if record.used_at is not None:
            # A retired token came back: it leaked, and the thief or the client holds the
            # newer one. Ending the whole family signs both out.
            context.revoke_family(record.family_id)
            return None
        return RefreshToken(record)

    def authenticate_user(self, refresh_token: RefreshToken) -> UserRecord | None:
        return self.server.active_user(refresh_token.record.user_id)

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        context = self.server.context
        token_id = refresh_token.record.id
        if not context.run(
            lambda session: store.claim_refresh_token(session, token_id, context.now)
        ):
            raise InvalidGrantError("The refresh token was used meanwhile.")


class ServiceClientCredentialsGrant(ClientCredentialsGrant):
    """An integration's tokens are issued for its service user, within its registered scope."""

    TOKEN_ENDPOINT_AUTH_METHODS = SECRET_AUTH_METHODS
    server: GatewayAuthorizationServer
    request: OAuthRequest

    def validate_token_request(self) -> None:
        super().validate_token_request()
        client: Client = self.request.client
        scope = client.get_allowed_scope(self.request.payload.scope)
        if scope is None:
            raise InvalidScopeError()
        service_user_id = client.record.service_user_id
        user = self.server.active_user(service_user_id) if service_user_id else None
        if user is None:
            raise UnauthorizedClientError("The client has no active service user.")
        self.request.scope = scope
        self.request.user = user

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        # Authlib's version issues the raw requested scope for no user; ours the checked ones.
        token = self.generate_token(
            user=self.request.user, scope=self.request.scope, include_refresh_token=False
        )
        return 200, token, self.TOKEN_RESPONSE_HEADER


class RefreshTokenRevocation(RevocationEndpoint):
    """RFC 7009 for refresh tokens; access tokens are short-lived JWTs and simply expire."""

    CLIENT_AUTH_METHODS = ANY_AUTH_METHOD
    SUPPORTED_TOKEN_TYPES = ("refresh_token",)
    server: GatewayAuthorizationServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> RefreshToken | None:
        record = self.server.context.run(
            lambda session: store.refresh_token_by_value(session, token_string)
        )
        return RefreshToken(record) if record else None

    def revoke_token(self, token: RefreshToken, request: OAuthRequest) -> None:
        # Revoking a refresh token ends the sign-in it belongs to: its whole family.
        context = self.server.context
        family_id = token.record.family_id
        context.run(
            lambda session: store.revoke_refresh_token_family(session, family_id, context.now)
        )


class GatewayAuthorizationServer(AuthorizationServer):
    def __init__(self, context: OAuthContext) -> None:
        super().__init__()
        self.context = context
        self.register_grant(CodeGrant, [S256CodeChallenge(required=True)])
        self.register_grant(RotatingRefreshTokenGrant)
        self.register_grant(ServiceClientCredentialsGrant)
        self.register_endpoint(RefreshTokenRevocation)

    def query_client(self, client_id: str) -> Client | None:
        record = self.context.run(lambda session: store.client_by_id(session, client_id))
        return Client(record) if record else None

    def active_user(self, user_id: int) -> UserRecord | None:
        async def load(session: AsyncSession) -> UserRecord | None:
            [user] = await users_by_id(await session.connection(), [user_id])
            return user if user and user.status == UserStatus.ACTIVE else None

        return self.context.run(load)

    def generate_token(
        self,
        grant_type: str,
        client: Client,
        user: UserRecord | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        assert user is not None, "every grant of ours issues tokens for a user"
        settings = self.context.token_settings
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": issue_access_token(
                self.context.keys,
                settings,
                subject=f"user:{user.id}",
                scope=scope or "",
                client_id=client.get_client_id(),
                now=self.context.now,
            ),
            "expires_in": int(settings.access_token_ttl.total_seconds()),
            "scope": scope or "",
        }
        if include_refresh_token:
            token["refresh_token"] = secrets.token_urlsafe(32)
        return token

    def save_token(self, token: dict[str, Any], request: OAuthRequest) -> None:
        """Keep the refresh token (hashed); access tokens are self-contained JWTs."""
        refresh_token = token.get("refresh_token")
        if refresh_token is None:
            return
        # A family is one sign-in: it starts with the code, rotations stay in it.
        if request.refresh_token is not None:
            family_id = request.refresh_token.record.family_id
        else:
            family_id = request.authorization_code.record.code_hash
        client_id, user_id, scope = request.client.get_client_id(), request.user.id, token["scope"]
        expires_at = self.context.now + REFRESH_TOKEN_TTL
        self.context.run(
            lambda session: store.insert_refresh_token(
                session,
                token=refresh_token,
                family_id=family_id,
                client_id=client_id,
                user_id=user_id,
                scope=scope,
                expires_at=expires_at,
            )
        )

    def create_oauth2_request(self, request: OAuthRequest) -> OAuthRequest:
        return request

    def handle_response(
        self, status: int, body: Mapping[str, Any] | str, headers: list[tuple[str, str]]
    ) -> OAuthResponse:
        return OAuthResponse(status, body, list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib's signals are for framework integrations; nothing here listens."""

    def check_authorization_request(self, request: OAuthRequest) -> CodeGrant | OAuthResponse:
        """The grant to complete after sign-in, or the error response: a redirect to the client
        only when its redirect URI checked out, else an error for the user's eyes."""
        try:
            grant: CodeGrant = self.get_consent_grant(request)
        except OAuth2Error as error:
            response: OAuthResponse = self.handle_error_response(request, error)
            return response
        return grant

    def authorize(self, request: OAuthRequest, grant: CodeGrant, user: UserRecord) -> OAuthResponse:
        """Issue the code: a redirect to the client."""
        response: OAuthResponse = self.create_authorization_response(
            request, grant_user=user, grant=grant
        )
        return response


# Sign-in


class SignInRefusal(enum.StrEnum):
    THROTTLED = "throttled"
    INVALID_CREDENTIALS = "invalid_credentials"
    INACTIVE = "inactive"


SIGN_IN_MESSAGES = {
    SignInRefusal.THROTTLED: "Too many failed sign-ins. "
    f"Wait {THROTTLE_WINDOW.seconds // 60} minutes, then try again.",
    # One message for an unknown e-mail and a wrong password: nobody learns who has an account.
    SignInRefusal.INVALID_CREDENTIALS: "The e-mail address or the password is wrong.",
    SignInRefusal.INACTIVE: "This account is not active. Ask your administrator for access.",
}


@dataclass(frozen=True, slots=True)
class SignInAttempt:
    email: str
    password: str
    address: str
    request_id: str | None
    now: datetime


async def sign_in(session: AsyncSession, attempt: SignInAttempt) -> UserRecord | SignInRefusal:
    """Check the password, throttled per account and per address; every attempt is audited.

    The caller commits whatever the outcome: the attempts are the throttle's memory.
    """
    # Cut to the columns' lengths: no real address is longer.
    email, address = attempt.email.strip().lower()[:320], attempt.address[:64]
    by_email, by_address = await store.recent_sign_in_failures(
        session, email=email, address=address, since=attempt.now - THROTTLE_WINDOW
    )
    if by_email >= ACCOUNT_FAILURE_LIMIT or by_address >= ADDRESS_FAILURE_LIMIT:
        # Not recorded as an attempt: no password was tried, so the window is not extended.
        await _audit(session, attempt, address, None, SignInRefusal.THROTTLED)
        return SignInRefusal.THROTTLED
    credentials = await store.credentials_by_email(session, email)
    password_hash = credentials.password_hash if credentials else None
    matches = await anyio.to_thread.run_sync(verify_password, password_hash, attempt.password)
    user = credentials.user if credentials else None
    if user is None or password_hash is None or not matches:
        await _record(session, attempt, email, address, user, SignInRefusal.INVALID_CREDENTIALS)
        return SignInRefusal.INVALID_CREDENTIALS
    if user.status != UserStatus.ACTIVE:
        await _record(session, attempt, email, address, user, SignInRefusal.INACTIVE)
        return SignInRefusal.INACTIVE
    await _record(session, attempt, email, address, user, None)
    await store.record_sign_in(session, user.id, attempt.now)
    if needs_rehash(password_hash):
        rehashed = await anyio.to_thread.run_sync(hash_password, attempt.password)
        await store.update_password_hash(session, user.id, rehashed)
    return user


async def _record(
    session: AsyncSession,
    attempt: SignInAttempt,
    email: str,
    address: str,
    user: UserRecord | None,
    refusal: SignInRefusal | None,
) -> None:
    await store.record_sign_in_attempt(
        session, email=email, address=address, succeeded=refusal is None, at=attempt.now
    )
    await _audit(session, attempt, address, user.id if user else None, refusal)


async def _audit(
    session: AsyncSession,
    attempt: SignInAttempt,
    address: str,
    user_id: int | None,
    refusal: SignInRefusal | None,
) -> None:
    # A failed attempt's actor is unknown: anybody may type somebody's e-mail.
    actor = Actor(None if refusal else user_id, attempt.request_id, address)
    audit.record(
        session,
        actor,
        action="user.sign_in_failed" if refusal else "user.signed_in",
        target_type="user",
        target_id=user_id,
        group_id=None,
        now=attempt.now,
        after={"refusal": refusal.value} if refusal else None,
    )
