"""External identity provider mode: the gateway validates the provider's tokens against its
published keys (fetched over HTTP from a provider running on loopback) and maps them to users."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from groupgate.authentication import TokenSource
from tests.conftest import Api, make_settings, serve_api

ISSUER, AUDIENCE = "https://login.employer-idp.example", "groupgate-api"
VIEWER = {"query": "{ viewer { user { email } } }"}


@dataclass
class Provider:
    """A small identity provider: publishes its keys, signs tokens, can rotate."""

    keys: list[RSAKey] = field(default_factory=lambda: [_new_key()])
    url: str = ""

    def sign(self, subject: str, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + 300}
        key = self.keys[-1]
        header = {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
        return jwt.encode(header, payload | claims, key, algorithms=["RS256"])

    async def jwks(self, _request: Request) -> JSONResponse:
        return JSONResponse(KeySet(list(self.keys)).as_dict(private=False))


def _new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, auto_kid=True)


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    provider = Provider()
    app = Starlette(routes=[Route("/.well-known/jwks.json", provider.jwks)])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    provider.url = f"http://127.0.0.1:{port}/.well-known/jwks.json"
    try:
        yield provider
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def external_api(demo_url: str, tmp_path: Path, provider: Provider) -> AsyncIterator[Api]:
    settings = make_settings(
        demo_url,
        tmp_path,
        external_issuer=ISSUER,
        external_audience=AUDIENCE,
        external_jwks_url=provider.url,
    )
    async with serve_api(settings) as api:
        yield api


async def viewer(api: Api, token: str) -> tuple[int, Any]:
    response = await api.client.post(
        "/graphql", json=VIEWER, headers={"authorization": f"Bearer {token}"}
    )
    return response.status_code, response.json()


async def test_provider_tokens_map_to_users_by_verified_email_then_subject(
    external_api: Api, provider: Provider
) -> None:
    first = provider.sign("idp|a1b2", email="Admin@Acme.example", email_verified=True)
    assert await viewer(external_api, first) == (
        200,
        {"data": {"viewer": {"user": {"email": "admin@acme.example"}}}},
    )
    # Linked now: the subject alone is enough.
    later = provider.sign("idp|a1b2")
    assert (await viewer(external_api, later))[0] == 200


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "admin@acme.example", "email_verified": False},  # unverified e-mail
        {"email": "nobody@acme.example", "email_verified": True},  # no such user
        {},  # unknown subject, no e-mail
    ],
)
async def test_unmapped_tokens_are_refused(
    external_api: Api, provider: Provider, claims: dict[str, Any]
) -> None:
    status, body = await viewer(external_api, provider.sign("idp|stranger", **claims))
    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_only_the_providers_tokens_are_accepted(
    external_api: Api, provider: Provider
) -> None:
    ours = await external_api.token("admin@acme.example")  # our built-in server's token
    assert (await viewer(external_api, ours))[0] == 401
    wrong_audience = provider.sign(
        "idp|a1b2", aud="another-api", email="admin@acme.example", email_verified=True
    )
    assert (await viewer(external_api, wrong_audience))[0] == 401


async def test_provider_key_rotation_is_followed(external_api: Api, provider: Provider) -> None:
    source: TokenSource = external_api.app.state.token_source
    assert source.remote_keys is not None
    source.remote_keys.min_refresh = 0  # the keys were fetched at start-up, moments ago
    provider.keys.append(_new_key())
    token = provider.sign("idp|a1b2", email="admin@acme.example", email_verified=True)
    assert (await viewer(external_api, token))[0] == 200
