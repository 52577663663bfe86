"""HTTP side of the built-in authorization server: the sign-in and set-password pages, and the
token, revocation and discovery endpoints.

Endpoints read `database`, `settings`, `signing_keys` and `token_settings` from `app.state`.
Forms are parsed here (URL-encoded only, every parameter at most once), so that Authlib gets
plain dictionaries in its worker thread.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import cache
from hashlib import sha256
from html import escape
from importlib.resources import files
from string import Template
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio.to_thread
from authlib.oauth2 import OAuth2Error
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from authz.invitations import (
    UNKNOWN,
    PasswordRefused,
    Unusable,
    accept_invitation,
    usable_invitation,
)
from authz.oauth_server import (
    ANY_AUTH_METHOD,
    GRANT_TYPES,
    SIGN_IN_MESSAGES,
    GatewayAuthorizationServer,
    OAuthContext,
    OAuthRequest,
    OAuthResponse,
    SignInAttempt,
    SignInRefusal,
    revoke_pending,
    sign_in,
)
from authz.passwords import MIN_PASSWORD_LENGTH
from data.database import Database
from data.models.base import utcnow
from groupgate.settings import Settings

# The sign-in form is good for this long after it was shown.
FORM_TTL = timedelta(minutes=30)
MAX_FORM_BYTES = 16 * 1024
# Per-browser anti-forgery secret, bound into every sign-in form's token: a page of another
# site cannot read it, so cannot post a form (someone else's credentials) that passes.
FORM_COOKIE = "groupgate_sign_in"
_NONCE = re.compile(r"[A-Za-z0-9_-]{32}")
_FORM_TOKEN = re.compile(r"([0-9]{1,12})\.[0-9a-f]{64}")
SIGN_IN_FIELDS = ("email", "password", "form_token")
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    # The invitation page's URL holds its token.
    "Referrer-Policy": "no-referrer",
}


def oauth_routes() -> list[BaseRoute]:
    return [
        Route("/oauth/authorize", authorize_page, methods=["GET"]),
        Route("/oauth/authorize", authorize_submit, methods=["POST"]),
        Route("/oauth/token", token, methods=["POST"]),
        Route("/oauth/revoke", revoke, methods=["POST"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        Route("/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
        # RFC 8414's name for the same metadata (we issue no ID tokens).
        Route("/.well-known/oauth-authorization-server", openid_configuration, methods=["GET"]),
        Route("/invitations/{token}", invitation_page, methods=["GET"]),
        Route("/invitations/{token}", invitation_submit, methods=["POST"]),
    ]


# Authorization endpoint


async def authorize_page(request: Request) -> Response:
    try:
        params = _single(request.query_params.multi_items())
        oauth_request = _oauth_request(request, params)
    except _BadForm as error:
        return _message(400, "Sign-in request refused", str(error))
    except OAuth2Error as error:
        return _authorization_result(OAuthResponse(*error()))
    async with _server(request) as (server, _):
        checked = await anyio.to_thread.run_sync(server.check_authorization_request, oauth_request)
    if isinstance(checked, OAuthResponse):
        return _authorization_result(checked)
    return _sign_in_page(request, params, checked.client.record.name, error=None, email="")


async def authorize_submit(request: Request) -> Response:
    try:
        params = await _read_form(request)
    except _BadForm as error:
        return _message(400, "Sign-in refused", str(error))
    email, password, form_token = (params.pop(name, "") for name in SIGN_IN_FIELDS)
    if not _form_token_valid(request, params, form_token):
        return _message(
            400,
            "Sign-in expired",
            "This sign-in form has expired or was not issued here. "
            "Go back to the application and start again.",
        )
    try:
        oauth_request = _oauth_request(request, params)
    except OAuth2Error as error:
        return _authorization_result(OAuthResponse(*error()))
    async with _server(request) as (server, session):
        checked = await anyio.to_thread.run_sync(server.check_authorization_request, oauth_request)
        if isinstance(checked, OAuthResponse):
            return _authorization_result(checked)
        attempt = SignInAttempt(
            email=email,
            password=password,
            address=_address(request),
            request_id=_request_id(request),
            now=server.context.now,
        )
        outcome = await sign_in(session, attempt)
        if isinstance(outcome, SignInRefusal):
            # Committed all the same: the attempt and its audit row are the throttle's memory.
            await session.commit()
            status = 429 if outcome is SignInRefusal.THROTTLED else 401
            client_name = checked.client.record.name
            return _sign_in_page(
                request, params, client_name, SIGN_IN_MESSAGES[outcome], email, status
            )
        response = await anyio.to_thread.run_sync(server.authorize, oauth_request, checked, outcome)
        await session.commit()
    return _authorization_result(response)


def _authorization_result(response: OAuthResponse) -> Response:
    """A redirect to the client (with a code, or an error once Authlib trusts the redirect URI);
    else a page for the user, since redirecting to an unchecked URI makes an open redirector."""
    if response.status == 302:
        return Response(status_code=302, headers={**dict(response.headers), **PAGE_HEADERS})
    body = response.body if isinstance(response.body, Mapping) else {}
    return _message(
        response.status,
        "Sign-in request refused",
        str(body.get("error_description") or body.get("error") or "The request is invalid."),
    )


def _sign_in_page(
    request: Request,
    params: dict[str, str],
    client_name: str,
    error: str | None,
    email: str,
    status: int = 200,
) -> Response:
    nonce = request.cookies.get(FORM_COOKIE, "")
    if not _NONCE.fullmatch(nonce):
        nonce = secrets.token_urlsafe(24)
    expires = int((utcnow() + FORM_TTL).timestamp())
    fields = {**params, "form_token": _form_token(_settings(request), params, nonce, expires)}
    hidden = "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )
    content = _render(
        "sign_in.html",
        html={"hidden_fields": hidden, "error": _error(error)},
        client=client_name,
        email=email,
    )
    response = _html("Sign in", content, status)
    response.set_cookie(
        FORM_COOKIE,
        nonce,
        max_age=int(FORM_TTL.total_seconds()),
        path="/oauth/authorize",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


def _form_token(settings: Settings, params: Mapping[str, str], nonce: str, expires: int) -> str:
    """`<expiry>.<HMAC of expiry, browser nonce and the authorization request>`."""
    # A key of its own, derived from the secret key, which also keys other things.
    key = hmac.new(settings.secret_key.get_secret_value().encode(), b"sign-in form", sha256)
    message = f"{expires}\n{nonce}\n{urlencode(sorted(params.items()))}"
    return f"{expires}.{hmac.new(key.digest(), message.encode(), sha256).hexdigest()}"


def _form_token_valid(request: Request, params: Mapping[str, str], form_token: str) -> bool:
    nonce = request.cookies.get(FORM_COOKIE, "")
    matched = _FORM_TOKEN.fullmatch(form_token)
    if not _NONCE.fullmatch(nonce) or matched is None:
        return False
    expires = int(matched.group(1))
    return expires > utcnow().timestamp() and hmac.compare_digest(
        form_token, _form_token(_settings(request), params, nonce, expires)
    )


# Token and revocation endpoints


async def token(request: Request) -> Response:
    return await _token_endpoint(request, GatewayAuthorizationServer.create_token_response)


async def revoke(request: Request) -> Response:
    def revoke_token(server: GatewayAuthorizationServer, oauth: OAuthRequest) -> OAuthResponse:
        response: OAuthResponse = server.create_endpoint_response("revocation", oauth)
        return response

    return await _token_endpoint(request, revoke_token)


async def _token_endpoint(
    request: Request,
    respond: Callable[[GatewayAuthorizationServer, OAuthRequest], OAuthResponse],
) -> Response:
    try:
        oauth_request = _oauth_request(request, await _read_form(request))
    except _BadForm as error:
        return _plain(
            OAuthResponse(400, {"error": "invalid_request", "error_description": str(error)}, [])
        )
    except OAuth2Error as error:
        return _plain(OAuthResponse(*error()))
    async with _server(request) as (server, session):
        response = await anyio.to_thread.run_sync(respond, server, oauth_request)
        # A refused request keeps nothing: no half-issued grant, no code or token marked used.
        if response.status == 200:
            await session.commit()
    return _plain(response)


# Discovery


async def jwks(request: Request) -> Response:
    return JSONResponse(
        request.app.state.signing_keys.public_jwks(),
        headers={"Cache-Control": "public, max-age=300"},
    )


async def openid_configuration(request: Request) -> Response:
    issuer = _settings(request).token_issuer
    base = issuer.rstrip("/")
    return JSONResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": GRANT_TYPES,
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ANY_AUTH_METHOD,
            "revocation_endpoint_auth_methods_supported": ANY_AUTH_METHOD,
        },
        headers={"Cache-Control": "public, max-age=300"},
    )


# Invitations


async def invitation_page(request: Request) -> Response:
    database: Database = request.app.state.database
    async with database.sessions() as session:
        invitation = await usable_invitation(session, request.path_params["token"], utcnow())
    if isinstance(invitation, Unusable):
        return _unusable(invitation)
    return _set_password_page(invitation.email, error=None)


async def invitation_submit(request: Request) -> Response:
    try:
        form = await _read_form(request)
    except _BadForm as error:
        return _message(400, "Password not set", str(error))
    database: Database = request.app.state.database
    async with database.sessions() as session:
        outcome = await accept_invitation(
            session,
            request.path_params["token"],
            form.get("password", ""),
            form.get("confirmation", ""),
            now=utcnow(),
            request_id=_request_id(request),
            address=_address(request),
        )
        if outcome is None:
            await session.commit()
    if isinstance(outcome, Unusable):
        return _unusable(outcome)
    if isinstance(outcome, PasswordRefused):
        return _set_password_page(outcome.email, outcome.message, status=400)
    return _message(
        200, "Password set", "Your account is ready. Go back to the application and sign in."
    )


def _unusable(invitation: Unusable) -> Response:
    return _message(404 if invitation is UNKNOWN else 410, "Invitation", invitation.message)


def _set_password_page(email: str, error: str | None, status: int = 200) -> Response:
    content = _render(
        "set_password.html",
        html={"error": _error(error)},
        email=email,
        min_length=str(MIN_PASSWORD_LENGTH),
    )
    return _html("Choose your password", content, status)


# Plumbing


class _BadForm(Exception):
    """The request's parameters cannot be read; the message says why, safe to show."""


@asynccontextmanager
async def _server(
    request: Request,
) -> AsyncIterator[tuple[GatewayAuthorizationServer, AsyncSession]]:
    """A server bound to a new session; leaving without commit rolls the session back."""
    database: Database = request.app.state.database
    async with database.sessions() as session:
        context = OAuthContext(
            session=session,
            keys=request.app.state.signing_keys,
            token_settings=request.app.state.token_settings,
            now=utcnow(),
        )
        try:
            yield GatewayAuthorizationServer(context), session
        finally:
            await session.close()  # ends the request's transaction (rolled back unless committed)
            await revoke_pending(context, database.sessions)


def _oauth_request(request: Request, params: dict[str, str]) -> OAuthRequest:
    # Raises Authlib's InsecureTransportError unless HTTPS or loopback: behind a TLS-terminating
    # proxy, the server must trust its X-Forwarded-Proto (uvicorn --forwarded-allow-ips).
    return OAuthRequest(request.method, str(request.url), request.headers, params)


async def _read_form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise _BadForm("Send the parameters as application/x-www-form-urlencoded.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise _BadForm("The request is too large.")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=64, errors="strict")
    except ValueError:
        raise _BadForm("The parameters are not valid URL-encoded UTF-8.") from None
    return _single(pairs)


def _single(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """RFC 6749 section 3.1: no parameter may be sent more than once."""
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise _BadForm(f"The parameter '{name}' is repeated.")
        params[name] = value
    return params


def _plain(response: OAuthResponse) -> Response:
    if isinstance(response.body, Mapping):
        return JSONResponse(dict(response.body), response.status, headers=dict(response.headers))
    return Response(response.body, response.status, headers=dict(response.headers))


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _request_id(request: Request) -> str | None:
    # Set by the app's RequestIdMiddleware, when it is installed.
    request_id = getattr(request.state, "request_id", None)
    return request_id if isinstance(request_id, str) else None


def _message(status: int, heading: str, message: str) -> Response:
    return _html(heading, _render("message.html", heading=heading, message=message), status)


def _error(message: str | None) -> str:
    return f'<p class="error" role="alert">{escape(message)}</p>' if message else ""


def _html(title: str, content: str, status: int) -> HTMLResponse:
    page = _render("layout.html", html={"content": content}, title=title)
    return HTMLResponse(page, status, headers=PAGE_HEADERS)


def _render(name: str, *, html: Mapping[str, str] | None = None, **text: Any) -> str:
    """The template filled with `text` values escaped and `html` values (built here) as is."""
    values = {key: escape(str(value)) for key, value in text.items()}
    return _template(name).substitute(values | dict(html or {}))


@cache
def _template(name: str) -> Template:
    return Template((files("groupgate") / "templates" / name).read_text(encoding="utf-8"))
