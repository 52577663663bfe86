"""Bearer tokens at the HTTP boundary: refused with 401 and WWW-Authenticate, before any SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc.jwk import ECKey

from authz.keys import SigningKeys
from authz.tokens import TokenSettings, issue_access_token
from tests.conftest import Api, statements
from tests.test_tokens import HOSTILE, MALFORMED, Forgery, forge

VIEWER = {"query": "{ viewer { user { email } } }"}


def _foreign_token(api: Api, **changes: Any) -> str:
    """A well-formed token that must still be refused (other key, audience, issuer, time)."""
    keys: SigningKeys = api.app.state.signing_keys
    settings: TokenSettings = api.app.state.token_settings
    if changes.pop("other_key", False):
        other = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)
        keys = SigningKeys(current=other, all=keys.all)
    settings = TokenSettings(
        issuer=changes.pop("issuer", settings.issuer),
        audience=changes.pop("audience", settings.audience),
        access_token_ttl=settings.access_token_ttl,
    )
    return issue_access_token(keys, settings, subject="user:1", **changes)


REFUSALS: dict[str, Callable[[Api], str]] = {
    "not a jwt": lambda api: "abc.def",
    "signed by another key": lambda api: _foreign_token(api, other_key=True),
    "another audience": lambda api: _foreign_token(api, audience="someone-else"),
    "another issuer": lambda api: _foreign_token(api, issuer="https://evil.example"),
    "expired": lambda api: _foreign_token(api, now=datetime.now(UTC) - timedelta(hours=2)),
}


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_bad_tokens_get_401_before_any_sql(api: Api, case: str) -> None:
    token = REFUSALS[case](api)
    with statements(api.app.state.database.engine) as seen:
        response = await api.client.post(
            "/graphql", json=VIEWER, headers={"authorization": f"Bearer {token}"}
        )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith(
        'Bearer realm="groupgate", error="invalid_token"'
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert seen == []


async def test_other_schemes_are_refused(api: Api) -> None:
    response = await api.client.post(
        "/graphql", json=VIEWER, headers={"authorization": "Basic eDp5"}
    )
    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


async def test_a_good_token_signs_the_request_in(api: Api) -> None:
    body = await api.query("admin@acme.example", VIEWER["query"])
    assert body == {"data": {"viewer": {"user": {"email": "admin@acme.example"}}}}


async def test_a_token_keeps_working_after_key_rotation(api: Api, tmp_path: Any) -> None:
    from authz import keys

    token = await api.token("admin@acme.example")
    keys.rotate(tmp_path / "keys")
    api.app.state.signing_keys = keys.load(tmp_path / "keys")
    response = await api.client.post(
        "/graphql", json=VIEWER, headers={"authorization": f"Bearer {token}"}
    )
    assert response.json() == {"data": {"viewer": {"user": {"email": "admin@acme.example"}}}}


@pytest.mark.parametrize(("forgery", "reason"), HOSTILE)
async def test_every_hostile_token_gets_401_at_the_endpoint_before_any_sql(
    api: Api, forgery: Forgery, reason: str
) -> None:
    token = forge(forgery, api.app.state.signing_keys.current)
    with statements(api.app.state.database.engine) as seen:
        response = await api.client.post(
            "/graphql", json=VIEWER, headers={"authorization": f"Bearer {token}"}
        )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert seen == []


# An HTTP header carries bytes, not text: a token that is not ASCII cannot even be sent.
SENDABLE = [case for case in MALFORMED if str(case.values[0]).isascii()]


@pytest.mark.parametrize("token", SENDABLE)
async def test_every_malformed_token_gets_401_before_any_sql(api: Api, token: str) -> None:
    with statements(api.app.state.database.engine) as seen:
        response = await api.client.post(
            "/graphql", json=VIEWER, headers={"authorization": f"Bearer {token}"}
        )
    assert response.status_code == 401
    assert seen == []
