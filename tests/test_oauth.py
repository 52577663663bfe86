"""The built-in authorization server over HTTP: real tokens, real database, both backends."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.applications import Starlette
from starlette.middleware import Middleware

from authz import keys
from authz.invitations import create_invitation
from authz.passwords import hash_password, needs_rehash, verify_password
from authz.tokens import TokenSettings, validate_access_token
from data.database import Database
from data.models import (
    Agency,
    AuditEvent,
    OAuthAuthorizationCode,
    OAuthRefreshToken,
    SignInAttempt,
    User,
)
from data.models.base import utcnow
from data.models.users import UserKind, UserStatus
from data.oauth import ensure_frontend_clients, register_client
from groupgate.app import RequestIdMiddleware
from groupgate.oauth_routes import oauth_routes
from tests.conftest import make_settings

# Loopback: Authlib accepts plain HTTP only there.
BASE_URL = "http://127.0.0.1:8000"
WEB, WEB_REDIRECT = "groupgate-web", "http://localhost:3000/callback"
MOBILE, MOBILE_REDIRECT = "groupgate-mobile", "com.groupgate.app:/callback"
INTEGRATION, INTEGRATION_SECRET = "agency-system", "integration-secret-0123456789"
PASSWORD = "correct horse battery staple"
ALICE, DENISE, IVAN = "alice@example.com", "denise@example.com", "ivan@example.com"
INVALID_CREDENTIALS = "The e-mail address or the password is wrong."


@dataclass(frozen=True)
class Gateway:
    app: Starlette
    engine: AsyncEngine
    token_settings: TokenSettings
    users: dict[str, int]

    @asynccontextmanager
    async def client(self, address: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=self.app, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield client

    async def scalar(self, statement: Any) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(statement)).scalar()

    async def execute(self, statement: Any) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(statement)


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
async def gateway(
    migrated_engine: AsyncEngine, tmp_path: Path, password_hash: str
) -> AsyncIterator[Gateway]:
    url = migrated_engine.url.render_as_string(hide_password=False)
    settings = make_settings(url, tmp_path)
    token_settings = TokenSettings(issuer=settings.token_issuer, audience=settings.token_audience)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.database = Database.connect(url)
        app.state.signing_keys = keys.load_or_create(tmp_path / "keys")
        app.state.token_settings = token_settings
        try:
            yield
        finally:
            await app.state.database.dispose()

    app = Starlette(
        routes=oauth_routes(), middleware=[Middleware(RequestIdMiddleware)], lifespan=lifespan
    )
    app.state.settings = settings
    users = await _seed(migrated_engine, password_hash)
    async with app.router.lifespan_context(app):
        yield Gateway(app, migrated_engine, token_settings, users)


async def _seed(engine: AsyncEngine, password_hash: str) -> dict[str, int]:
    async with AsyncSession(engine) as session, session.begin():
        agency = await session.scalar(
            insert(Agency).values(name="Ocean Brokers", license_number="L-1").returning(Agency.id)
        )
        rows = [
            (ALICE, UserKind.EMPLOYER, UserStatus.ACTIVE, password_hash, None),
            (DENISE, UserKind.EMPLOYER, UserStatus.DEACTIVATED, password_hash, None),
            (IVAN, UserKind.EMPLOYER, UserStatus.INVITED, None, None),
            ("system@ocean.example", UserKind.BROKER, UserStatus.ACTIVE, None, agency),
        ]
        users: dict[str, int] = {}
        for email, kind, status, stored, agency_id in rows:
            inserted = await session.execute(
                insert(User)
                .values(
                    email=email,
                    name=email.split("@")[0].title(),
                    kind=kind,
                    status=status,
                    password_hash=stored,
                    agency_id=agency_id,
                )
                .returning(User.id)
            )
            users[email] = inserted.scalar_one()
        await ensure_frontend_clients(await session.connection())
        await register_client(
            session,
            client_id=INTEGRATION,
            name="Ocean Brokers agency system",
            redirect_uris=[],
            grant_types=["client_credentials"],
            scope="graphql",
            secret=INTEGRATION_SECRET,
            service_user_id=users["system@ocean.example"],
        )
    return users


# Helpers: the client side of the flow


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_params(challenge: str, **changes: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": WEB,
        "redirect_uri": WEB_REDIRECT,
        "scope": "graphql",
        "state": "state-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **changes,
    }
    return {name: value for name, value in params.items() if value is not None}


class _FormInputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("type") == "hidden" and found.get("name"):
            self.values[str(found["name"])] = found.get("value") or ""


def hidden_inputs(page: str) -> dict[str, str]:
    parser = _FormInputs()
    parser.feed(page)
    return parser.values


async def submit_sign_in(
    client: httpx.AsyncClient,
    params: Mapping[str, str],
    email: str = ALICE,
    password: str = PASSWORD,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    page = await client.get("/oauth/authorize", params=params)
    assert page.status_code == 200, page.text
    form = hidden_inputs(page.text) | {"email": email, "password": password}
    return await client.post("/oauth/authorize", data=form, headers=headers)


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {
        name: values[0]
        for name, values in parse_qs(urlsplit(response.headers["location"]).query).items()
    }


async def authorization_code(client: httpx.AsyncClient, **changes: str) -> tuple[str, str]:
    """A fresh code and its PKCE verifier."""
    verifier, challenge = pkce_pair()
    query = redirect_query(await submit_sign_in(client, authorization_params(challenge, **changes)))
    return query["code"], verifier


async def exchange(
    client: httpx.AsyncClient, code: str, verifier: str | None, **changes: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": WEB_REDIRECT,
        "client_id": WEB,
        **({"code_verifier": verifier} if verifier is not None else {}),
        **changes,
    }
    return await client.post("/oauth/token", data=form)


async def signed_in_tokens(client: httpx.AsyncClient) -> dict[str, Any]:
    code, verifier = await authorization_code(client)
    response = await exchange(client, code, verifier)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": WEB}
    return await client.post("/oauth/token", data=form)


def check_access_token(gateway: Gateway, token: str, user: str, client_id: str) -> None:
    claims = validate_access_token(
        token, gateway.app.state.signing_keys.all, gateway.token_settings
    )
    assert (claims.subject, claims.client_id, claims.scope) == (
        f"user:{gateway.users[user]}",
        client_id,
        "graphql",
    )


# Authorization code with PKCE


async def test_code_flow_ends_in_an_access_token_we_accept(gateway: Gateway) -> None:
    async with gateway.client() as client:
        verifier, challenge = pkce_pair()
        signed_in = await submit_sign_in(client, authorization_params(challenge))
        query = redirect_query(signed_in)
        assert signed_in.headers["location"].startswith(WEB_REDIRECT + "?")
        assert query["state"] == "state-123"
        response = await exchange(client, query["code"], verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 600
    assert len(tokens["refresh_token"]) >= 43
    check_access_token(gateway, tokens["access_token"], ALICE, WEB)
    # Codes and refresh tokens are kept only as digests.
    code_digest = hashlib.sha256(query["code"].encode()).hexdigest()
    stored_code = select(OAuthAuthorizationCode.code_hash)
    assert await gateway.scalar(stored_code) == code_digest
    refresh_digest = hashlib.sha256(tokens["refresh_token"].encode()).hexdigest()
    assert await gateway.scalar(select(OAuthRefreshToken.token_hash)) == refresh_digest


async def test_mobile_client_with_its_private_scheme_redirect(gateway: Gateway) -> None:
    async with gateway.client() as client:
        verifier, challenge = pkce_pair()
        params = authorization_params(challenge, client_id=MOBILE, redirect_uri=MOBILE_REDIRECT)
        signed_in = await submit_sign_in(client, params)
        assert signed_in.headers["location"].startswith(MOBILE_REDIRECT + "?code=")
        code = redirect_query(signed_in)["code"]
        response = await exchange(
            client, code, verifier, client_id=MOBILE, redirect_uri=MOBILE_REDIRECT
        )
    assert response.status_code == 200, response.text
    check_access_token(gateway, response.json()["access_token"], ALICE, MOBILE)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"code_challenge_method": "plain"}, id="plain"),
        pytest.param({"code_challenge_method": None}, id="method missing, so plain"),
        pytest.param({"code_challenge": None, "code_challenge_method": None}, id="no PKCE"),
        pytest.param({"code_challenge": "too-short"}, id="malformed challenge"),
    ],
)
async def test_authorization_without_s256_pkce_is_sent_back_refused(
    gateway: Gateway, changes: dict[str, str | None]
) -> None:
    async with gateway.client() as client:
        response = await client.get(
            "/oauth/authorize", params=authorization_params(pkce_pair()[1], **changes)
        )
    query = redirect_query(response)
    assert response.headers["location"].startswith(WEB_REDIRECT)
    assert (query["error"], query["state"]) == ("invalid_request", "state-123")


@pytest.mark.parametrize(
    ("verifier", "error"),
    [
        pytest.param("wrong", "invalid_grant", id="another verifier"),
        pytest.param(None, "invalid_request", id="no verifier"),
        pytest.param("short", "invalid_request", id="malformed verifier"),
    ],
)
async def test_code_exchange_needs_the_right_verifier(
    gateway: Gateway, verifier: str | None, error: str
) -> None:
    async with gateway.client() as client:
        code, right = await authorization_code(client)
        sent = pkce_pair()[0] if verifier == "wrong" else verifier
        refused = await exchange(client, code, sent)
        assert (refused.status_code, refused.json()["error"]) == (400, error)
        # A refused exchange changes nothing: the rightful client still gets its tokens.
        assert (await exchange(client, code, right)).status_code == 200


async def test_a_code_is_single_use_and_its_reuse_ends_the_sign_in(gateway: Gateway) -> None:
    async with gateway.client() as client:
        code, verifier = await authorization_code(client)
        first = await exchange(client, code, verifier)
        assert first.status_code == 200
        again = await exchange(client, code, verifier)
        assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
        # RFC 6749 4.1.2: the tokens issued for the reused code are revoked too.
        refreshed = await refresh(client, first.json()["refresh_token"])
    assert (refreshed.status_code, refreshed.json()["error"]) == (400, "invalid_grant")


async def test_a_code_expires_after_its_lifetime(gateway: Gateway) -> None:
    async with gateway.client() as client:
        code, verifier = await authorization_code(client)
        expires_at = await gateway.scalar(select(OAuthAuthorizationCode.expires_at))
        created_at = await gateway.scalar(select(OAuthAuthorizationCode.created_at))
        assert timedelta(seconds=55) < expires_at - created_at <= timedelta(seconds=61)
        await gateway.execute(
            update(OAuthAuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        response = await exchange(client, code, verifier)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"redirect_uri": "http://localhost:3000/callback/"}, id="trailing slash"),
        pytest.param({"redirect_uri": "https://attacker.example/callback"}, id="foreign"),
        pytest.param({"redirect_uri": MOBILE_REDIRECT}, id="another client's"),
        pytest.param({"redirect_uri": None}, id="missing"),
        pytest.param({"client_id": "nobody"}, id="unknown client"),
    ],
)
async def test_unverified_redirect_uri_is_refused_without_redirecting(
    gateway: Gateway, changes: dict[str, str | None]
) -> None:
    async with gateway.client() as client:
        response = await client.get(
            "/oauth/authorize", params=authorization_params(pkce_pair()[1], **changes)
        )
    assert response.status_code in {400, 401}
    assert "location" not in response.headers
    assert "Sign-in request refused" in response.text


async def test_code_exchange_with_another_redirect_uri_is_refused(gateway: Gateway) -> None:
    async with gateway.client() as client:
        code, verifier = await authorization_code(client)
        response = await exchange(client, code, verifier, redirect_uri=WEB_REDIRECT + "/other")
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


async def test_a_code_only_works_for_the_client_it_was_issued_to(gateway: Gateway) -> None:
    async with gateway.client() as client:
        code, verifier = await authorization_code(client)
        response = await exchange(client, code, verifier, client_id=MOBILE)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


# The sign-in form


async def test_sign_in_page_escapes_what_it_echoes(gateway: Gateway) -> None:
    state = '"><script>alert(1)</script>'
    async with gateway.client() as client:
        page = await client.get(
            "/oauth/authorize", params=authorization_params(pkce_pair()[1], state=state)
        )
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert hidden_inputs(page.text)["state"] == state
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize(
    "forgery",
    [
        pytest.param("no cookie", id="posted from elsewhere (no cookie)"),
        pytest.param("changed redirect", id="parameters changed"),
        pytest.param("changed token", id="token changed"),
        pytest.param("expired", id="expired form"),
    ],
)
async def test_forged_sign_in_form_is_refused_before_any_password_check(
    gateway: Gateway, forgery: str
) -> None:
    async with gateway.client() as client:
        page = await client.get("/oauth/authorize", params=authorization_params(pkce_pair()[1]))
        form = hidden_inputs(page.text) | {"email": ALICE, "password": PASSWORD}
        if forgery == "no cookie":
            client.cookies.clear()
        elif forgery == "changed redirect":
            form["state"] = "another-state"
        elif forgery == "changed token":
            expires, _, mac = form["form_token"].partition(".")
            form["form_token"] = f"{int(expires) + 3600}.{mac}"
        else:
            form["form_token"] = "1000." + "0" * 64
        response = await client.post("/oauth/authorize", data=form)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "start again" in response.text
    assert await gateway.scalar(select(func.count()).select_from(SignInAttempt)) == 0


@pytest.mark.parametrize(
    ("email", "password", "status", "message"),
    [
        pytest.param(ALICE, "wrong password", 401, INVALID_CREDENTIALS, id="wrong password"),
        pytest.param("nobody@example.com", PASSWORD, 401, INVALID_CREDENTIALS, id="unknown"),
        pytest.param(IVAN, PASSWORD, 401, INVALID_CREDENTIALS, id="invited, no password yet"),
        pytest.param(DENISE, PASSWORD, 401, "not active", id="deactivated"),
        pytest.param("ALICE@Example.com ", PASSWORD, 302, None, id="e-mail case and spaces"),
    ],
)
async def test_sign_in_outcomes(
    gateway: Gateway, email: str, password: str, status: int, message: str | None
) -> None:
    async with gateway.client() as client:
        response = await submit_sign_in(
            client, authorization_params(pkce_pair()[1]), email, password
        )
    assert response.status_code == status
    if message is not None:
        assert message in response.text
        assert "location" not in response.headers
        # The form comes back, ready for another try.
        assert "form_token" in hidden_inputs(response.text)


async def test_sign_ins_are_audited(gateway: Gateway) -> None:
    params = authorization_params(pkce_pair()[1])
    async with gateway.client(address="198.51.100.7") as client:
        failed = await submit_sign_in(
            client, params, password="wrong", headers={"x-request-id": "request-failed"}
        )
        unknown = await submit_sign_in(
            client, params, email="nobody@example.com", headers={"x-request-id": "request-unknown"}
        )
        signed_in = await submit_sign_in(
            client, params, headers={"x-request-id": "request-signed-in"}
        )
    assert (failed.status_code, unknown.status_code, signed_in.status_code) == (401, 401, 302)
    async with gateway.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(
                    AuditEvent.action,
                    AuditEvent.actor_user_id,
                    AuditEvent.target_type,
                    AuditEvent.target_id,
                    AuditEvent.request_id,
                    AuditEvent.address,
                    AuditEvent.after,
                ).order_by(AuditEvent.id)
            )
        ).all()
    alice = gateway.users[ALICE]
    assert [tuple(row) for row in rows] == [
        (
            "user.sign_in_failed",
            None,
            "user",
            str(alice),
            "request-failed",
            "198.51.100.7",
            {"refusal": "invalid_credentials"},
        ),
        (
            "user.sign_in_failed",
            None,
            "user",
            None,
            "request-unknown",
            "198.51.100.7",
            {"refusal": "invalid_credentials"},
        ),
        ("user.signed_in", alice, "user", str(alice), "request-signed-in", "198.51.100.7", None),
    ]
    last_sign_in = select(User.last_sign_in_at).where(User.id == alice)
    assert await gateway.scalar(last_sign_in) is not None


async def test_an_outdated_hash_is_replaced_on_sign_in(gateway: Gateway) -> None:
    old_hash = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    alice = User.id == gateway.users[ALICE]
    await gateway.execute(update(User).where(alice).values(password_hash=old_hash))
    async with gateway.client() as client:
        response = await submit_sign_in(client, authorization_params(pkce_pair()[1]))
    assert response.status_code == 302
    new_hash = await gateway.scalar(select(User.password_hash).where(alice))
    assert new_hash != old_hash
    assert verify_password(new_hash, PASSWORD)
    assert not needs_rehash(new_hash)


# Throttling


async def test_five_wrong_passwords_throttle_the_account(gateway: Gateway) -> None:
    params = authorization_params(pkce_pair()[1])
    async with gateway.client() as client:
        for _ in range(5):
            assert (await submit_sign_in(client, params, password="wrong")).status_code == 401
        throttled = await submit_sign_in(client, params)
    assert throttled.status_code == 429
    assert "Too many failed sign-ins" in throttled.text
    # A throttled attempt checks no password, and is not counted as another failure.
    attempts = select(func.count()).select_from(SignInAttempt)
    assert await gateway.scalar(attempts) == 5
    failed_audits = select(func.count()).where(AuditEvent.action == "user.sign_in_failed")
    assert await gateway.scalar(failed_audits) == 6


OFFICE = "203.0.113.10"


@dataclass(frozen=True)
class History:
    """Earlier attempts: how many, for which e-mail, from where, how long ago, succeeded."""

    count: int
    email: str = ALICE
    address: str = OFFICE
    minutes_ago: int = 1
    succeeded: bool = False


@pytest.mark.parametrize(
    ("history", "status"),
    [
        pytest.param([History(4)], 302, id="4 failures of the account"),
        pytest.param([History(5)], 429, id="5 failures of the account"),
        pytest.param([History(5, address="192.0.2.1")], 429, id="5 from elsewhere"),
        pytest.param([History(5, minutes_ago=16)], 302, id="5 failures, all too old"),
        pytest.param(
            [History(5, minutes_ago=5), History(1, succeeded=True)],
            429,
            id="a success does not erase failures",
        ),
        pytest.param([History(19, email="other@example.com")], 302, id="19 from the address"),
        pytest.param([History(20, email="other@example.com")], 429, id="20 from the address"),
        pytest.param(
            [History(20, email="other@example.com", minutes_ago=20)],
            302,
            id="20 from the address, too old",
        ),
        pytest.param([History(20, email="other@example.com", succeeded=True)], 302, id="successes"),
    ],
)
async def test_throttling_per_account_and_per_address(
    gateway: Gateway, history: list[History], status: int
) -> None:
    now = utcnow()
    rows = [
        {
            "email": entry.email,
            "address": entry.address,
            "succeeded": entry.succeeded,
            "attempted_at": now - timedelta(minutes=entry.minutes_ago),
        }
        for entry in history
        for _ in range(entry.count)
    ]
    async with gateway.engine.begin() as connection:
        await connection.execute(insert(SignInAttempt), rows)
    async with gateway.client(address=OFFICE) as client:
        response = await submit_sign_in(client, authorization_params(pkce_pair()[1]))
    assert response.status_code == status


# Refresh tokens


async def test_refresh_rotates_and_reuse_revokes_the_family(gateway: Gateway) -> None:
    async with gateway.client() as client:
        first = await signed_in_tokens(client)
        rotated = await refresh(client, first["refresh_token"])
        assert rotated.status_code == 200, rotated.text
        second = rotated.json()
        assert second["refresh_token"] != first["refresh_token"]
        check_access_token(gateway, second["access_token"], ALICE, WEB)
        third = (await refresh(client, second["refresh_token"])).json()

        reused = await refresh(client, first["refresh_token"])
        assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
        # The newest token of the family is revoked along with the rest.
        newest = await refresh(client, third["refresh_token"])
        assert (newest.status_code, newest.json()["error"]) == (400, "invalid_grant")
        # Another sign-in is another family, untouched.
        other = await signed_in_tokens(client)
        assert (await refresh(client, other["refresh_token"])).status_code == 200
    revoked = select(func.count()).where(OAuthRefreshToken.revoked_at.is_not(None))
    assert await gateway.scalar(revoked) == 3


async def test_refresh_tokens_last_30_days_and_only_for_their_client(gateway: Gateway) -> None:
    async with gateway.client() as client:
        tokens = await signed_in_tokens(client)
        expires_at = await gateway.scalar(select(OAuthRefreshToken.expires_at))
        created_at = await gateway.scalar(select(OAuthRefreshToken.created_at))
        assert (
            timedelta(days=29, hours=23) < expires_at - created_at <= timedelta(days=30, seconds=1)
        )
        other_client = await client.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": MOBILE,
            },
        )
        assert (other_client.status_code, other_client.json()["error"]) == (400, "invalid_grant")
        await gateway.execute(
            update(OAuthRefreshToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        expired = await refresh(client, tokens["refresh_token"])
    assert (expired.status_code, expired.json()["error"]) == (400, "invalid_grant")


async def test_a_deactivated_user_cannot_refresh(gateway: Gateway) -> None:
    async with gateway.client() as client:
        tokens = await signed_in_tokens(client)
        await gateway.execute(
            update(User)
            .where(User.id == gateway.users[ALICE])
            .values(status=UserStatus.DEACTIVATED)
        )
        response = await refresh(client, tokens["refresh_token"])
    assert response.status_code == 400


# Revocation


async def test_revoking_a_refresh_token_ends_its_sign_in(gateway: Gateway) -> None:
    async with gateway.client() as client:
        tokens = await signed_in_tokens(client)
        revoked = await client.post(
            "/oauth/revoke",
            data={
                "token": tokens["refresh_token"],
                "token_type_hint": "refresh_token",
                "client_id": WEB,
            },
        )
        assert (revoked.status_code, revoked.json()) == (200, {})
        response = await refresh(client, tokens["refresh_token"])
        assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")
        # RFC 7009: an unknown token is no error.
        unknown = await client.post("/oauth/revoke", data={"token": "nonsense", "client_id": WEB})
        assert unknown.status_code == 200
        access = await client.post(
            "/oauth/revoke",
            data={
                "token": tokens["access_token"],
                "token_type_hint": "access_token",
                "client_id": WEB,
            },
        )
    # Access tokens are short-lived JWTs: nothing to revoke, and the answer says so.
    assert access.json()["error"] == "unsupported_token_type"


# Client credentials


def basic(client_id: str, secret: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"authorization": f"Basic {credentials}"}


@pytest.mark.parametrize(
    ("data", "headers", "status", "error"),
    [
        pytest.param({}, basic(INTEGRATION, INTEGRATION_SECRET), 200, None, id="basic"),
        pytest.param(
            {"client_id": INTEGRATION, "client_secret": INTEGRATION_SECRET},
            {},
            200,
            None,
            id="post",
        ),
        pytest.param({}, basic(INTEGRATION, "wrong"), 401, "invalid_client", id="bad secret"),
        pytest.param({"client_id": INTEGRATION}, {}, 401, "invalid_client", id="no secret"),
        pytest.param({"client_id": WEB}, {}, 401, "invalid_client", id="public client"),
        pytest.param(
            {"scope": "graphql admin"},
            basic(INTEGRATION, INTEGRATION_SECRET),
            400,
            "invalid_scope",
            id="scope beyond the registered one",
        ),
    ],
)
async def test_client_credentials(
    gateway: Gateway,
    data: dict[str, str],
    headers: dict[str, str],
    status: int,
    error: str | None,
) -> None:
    async with gateway.client() as client:
        response = await client.post(
            "/oauth/token", data={"grant_type": "client_credentials", **data}, headers=headers
        )
    assert response.status_code == status, response.text
    if error is not None:
        assert response.json()["error"] == error
        return
    tokens = response.json()
    assert "refresh_token" not in tokens
    check_access_token(gateway, tokens["access_token"], "system@ocean.example", INTEGRATION)


async def test_an_integration_whose_service_user_is_deactivated_is_refused(
    gateway: Gateway,
) -> None:
    await gateway.execute(
        update(User)
        .where(User.id == gateway.users["system@ocean.example"])
        .values(status=UserStatus.DEACTIVATED)
    )
    async with gateway.client() as client:
        response = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers=basic(INTEGRATION, INTEGRATION_SECRET),
        )
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param("grant_type=client_credentials&grant_type=refresh_token", None, id="repeated"),
        pytest.param('{"grant_type": "client_credentials"}', "application/json", id="json"),
        pytest.param("grant_type=%ff", None, id="not UTF-8"),
    ],
)
async def test_unreadable_token_requests(
    gateway: Gateway, body: str, content_type: str | None
) -> None:
    headers = {"content-type": content_type or "application/x-www-form-urlencoded"}
    async with gateway.client() as client:
        response = await client.post("/oauth/token", content=body, headers=headers)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_plain_http_is_refused_off_loopback(gateway: Gateway, method: str) -> None:
    transport = httpx.ASGITransport(app=gateway.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        if method == "GET":
            params = authorization_params(pkce_pair()[1])
            response = await client.get("/oauth/authorize", params=params)
        else:
            response = await client.post("/oauth/token", data={"grant_type": "refresh_token"})
    assert response.status_code == 400
    assert "https" in response.text


# Discovery


async def test_discovery_documents(gateway: Gateway) -> None:
    async with gateway.client() as client:
        jwks = (await client.get("/.well-known/jwks.json")).json()
        configuration = (await client.get("/.well-known/openid-configuration")).json()
    current = gateway.app.state.signing_keys.current
    assert [key["kid"] for key in jwks["keys"]] == [current.kid]
    assert all("d" not in key for key in jwks["keys"])
    assert configuration == {
        "issuer": BASE_URL,
        "authorization_endpoint": f"{BASE_URL}/oauth/authorize",
        "token_endpoint": f"{BASE_URL}/oauth/token",
        "revocation_endpoint": f"{BASE_URL}/oauth/revoke",
        "jwks_uri": f"{BASE_URL}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
    }


# Invitations


async def invite(gateway: Gateway, email: str = IVAN, age: timedelta = timedelta(0)) -> str:
    async with AsyncSession(gateway.engine) as session, session.begin():
        return await create_invitation(session, gateway.users[email], utcnow() - age)


async def set_password(
    client: httpx.AsyncClient, token: str, password: str, confirmation: str | None = None
) -> httpx.Response:
    form = {"password": password, "confirmation": confirmation or password}
    return await client.post(f"/invitations/{token}", data=form)


async def test_invitation_sets_the_password_and_activates(gateway: Gateway) -> None:
    token = await invite(gateway)
    async with gateway.client() as client:
        page = await client.get(f"/invitations/{token}")
        assert page.status_code == 200
        assert IVAN in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        done = await set_password(client, token, "a new long passphrase")
        assert (done.status_code, "Password set" in done.text) == (200, True)
        signed_in = await submit_sign_in(
            client, authorization_params(pkce_pair()[1]), IVAN, "a new long passphrase"
        )
        assert signed_in.status_code == 302
        reused = await set_password(client, token, "another long passphrase")
    assert reused.status_code == 410
    assert "already been used" in reused.text
    ivan = gateway.users[IVAN]
    assert await gateway.scalar(select(User.status).where(User.id == ivan)) == UserStatus.ACTIVE
    accepted = select(AuditEvent.after).where(AuditEvent.action == "user.invitation_accepted")
    assert await gateway.scalar(accepted) == {"status": "ACTIVE"}


@pytest.mark.parametrize(
    ("password", "confirmation", "message"),
    [
        pytest.param("short pass", None, "at least 12 characters", id="too short"),
        pytest.param(IVAN, None, "not be your e-mail", id="the e-mail"),
        pytest.param("a new long passphrase", "another one", "differ", id="confirmation"),
    ],
)
async def test_invitation_refuses_bad_passwords_and_stays_usable(
    gateway: Gateway, password: str, confirmation: str | None, message: str
) -> None:
    token = await invite(gateway)
    async with gateway.client() as client:
        refused = await set_password(client, token, password, confirmation)
        assert refused.status_code == 400
        assert message in refused.text
        assert (await client.get(f"/invitations/{token}")).status_code == 200
    ivan = gateway.users[IVAN]
    assert await gateway.scalar(select(User.status).where(User.id == ivan)) == UserStatus.INVITED


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        pytest.param("expired", 410, "has expired", id="expired"),
        pytest.param("unknown", 404, "not valid", id="unknown"),
        pytest.param("deactivated", 410, "no longer valid", id="user deactivated since"),
    ],
)
async def test_unusable_invitations(gateway: Gateway, case: str, status: int, message: str) -> None:
    token = await invite(
        gateway, age=timedelta(hours=72, seconds=1) if case == "expired" else timedelta(0)
    )
    if case == "unknown":
        token = secrets.token_urlsafe(32)
    if case == "deactivated":
        await gateway.execute(
            update(User).where(User.id == gateway.users[IVAN]).values(status=UserStatus.DEACTIVATED)
        )
    async with gateway.client() as client:
        page = await client.get(f"/invitations/{token}")
        submitted = await set_password(client, token, "a new long passphrase")
    for response in (page, submitted):
        assert response.status_code == status
        assert message in response.text
    stored = select(User.password_hash).where(User.id == gateway.users[IVAN])
    assert await gateway.scalar(stored) is None
