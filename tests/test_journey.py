"""A new sub-user from start to finish, through the one app: the administrator creates it, the
person accepts the invitation, signs in with the web frontend (code + PKCE), and uses the API."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.conftest import Api
from tests.test_oauth import (
    authorization_params,
    exchange,
    pkce_pair,
    redirect_query,
    submit_sign_in,
)
from tests.test_users import acme

PASSWORD = "correct horse battery staple"
VIEWER = "{ viewer { user { email status } scopes { privileges group { legalName } } } }"


async def test_created_user_accepts_invitation_signs_in_and_uses_its_privileges(api: Api) -> None:
    group = await acme(api)
    invitation = await api.query(
        "admin@acme.example",
        "mutation ($input: UserCreateInput!) { userCreate(input: $input) { invitationUrl } }",
        input={
            "groupId": group["id"],
            "email": "rafael@acme.example",
            "name": "Rafael Lopez",
            "privileges": ["BILLING_READ"],
        },
    )
    link = invitation["data"]["userCreate"]["invitationUrl"]
    assert link.startswith("http://127.0.0.1:8000/invitations/")

    client = api.client
    path = urlsplit(link).path
    accepted = await client.post(path, data={"password": PASSWORD, "confirmation": PASSWORD})
    assert accepted.status_code == 200, accepted.text

    verifier, challenge = pkce_pair()
    signed_in = await submit_sign_in(
        client, authorization_params(challenge), "rafael@acme.example", PASSWORD
    )
    code = redirect_query(signed_in)["code"]
    tokens = (await exchange(client, code, verifier)).json()

    response = await client.post(
        "/graphql",
        json={"query": VIEWER},
        headers={"authorization": f"Bearer {tokens['access_token']}"},
    )
    assert response.json() == {
        "data": {
            "viewer": {
                "user": {"email": "rafael@acme.example", "status": "ACTIVE"},
                "scopes": [
                    {"privileges": ["BILLING_READ"], "group": {"legalName": "Acme Manufacturing"}}
                ],
            }
        }
    }
