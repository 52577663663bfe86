"""Every demo persona and every privilege, in its own group, another group and in divisions,
asked through the real endpoint with real tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from authz.policy import role_privileges
from authz.privileges import Privilege, Role, privilege_subject
from tests.conftest import Api, make_settings, serve_api
from tests.databases import cloned_database

ROLES = role_privileges()
ADMIN = ROLES[Role.PRIMARY_ADMINISTRATOR.subject]
OFFICER = ROLES[Role.GROUP_OFFICER.subject]
BROKER = ROLES[Role.BROKER.subject]
MEMBERSHIP_REP = ROLES[Role.MEMBERSHIP_REPRESENTATIVE.subject]
ACCOUNT_REP = ROLES[Role.ACCOUNT_REPRESENTATIVE.subject]
BILLING = frozenset({Privilege.BILLING_READ, Privilege.BILLING_PAY})
HR_EAST = frozenset({Privilege.MEMBERS_READ, Privilege.MEMBERS_WRITE})
NOTHING: frozenset[Privilege] = frozenset()
HIDDEN = None  # the group is invisible: answered exactly like a group that does not exist

GROUPS = ("Acme Manufacturing", "Globex Corporation", "Initech")
# persona → group → (whole group, EAST division, another division); HIDDEN if invisible.
EXPECTED: dict[str, dict[str, tuple[frozenset[Privilege], ...] | None]] = {
    "officer@acme.example": {"Acme Manufacturing": (OFFICER, OFFICER, OFFICER)},
    "admin@acme.example": {"Acme Manufacturing": (ADMIN, ADMIN, ADMIN)},
    "billing@acme.example": {"Acme Manufacturing": (BILLING, BILLING, BILLING)},
    "hr.east@acme.example": {"Acme Manufacturing": (NOTHING, HR_EAST, NOTHING)},
    "admin@globex.example": {"Globex Corporation": (ADMIN, ADMIN, ADMIN)},
    "admin@initech.example": {"Initech": (ADMIN, ADMIN, ADMIN)},
    "broker@summit.example": {
        "Acme Manufacturing": (BROKER, BROKER, BROKER),
        "Globex Corporation": (BROKER, BROKER, BROKER),
    },
    "rep@carrier.example": dict.fromkeys(GROUPS, (MEMBERSHIP_REP,) * 3),
    "accounts@carrier.example": dict.fromkeys(GROUPS, (ACCOUNT_REP,) * 3),
}
CASES = [
    (persona, group, EXPECTED[persona].get(group, HIDDEN))
    for persona in EXPECTED
    for group in GROUPS
]

GROUP_QUERY = """
query ($number: String!) {
  group(groupNumber: $number) {
    legalName viewerPrivileges
    divisions { code viewerPrivileges }
  }
}"""


@pytest.fixture(scope="module")
async def persona_api(
    backend: str, demo_template: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    """One served copy of the demo data for the whole module: these tests only read."""
    directory = tmp_path_factory.mktemp("personas")
    async with (
        cloned_database(backend, demo_template, directory) as url,
        serve_api(make_settings(url, Path(directory))) as api,
    ):
        yield api


async def _group_numbers(api: Api) -> dict[str, str]:
    body = await api.query(
        "accounts@carrier.example", "{ groups(first: 100) { legalName groupNumber } }"
    )
    return {group["legalName"]: group["groupNumber"] for group in body["data"]["groups"]}


@pytest.mark.parametrize(("persona", "group_name", "expected"), CASES)
async def test_persona_privileges(
    persona_api: Api,
    persona: str,
    group_name: str,
    expected: tuple[frozenset[Privilege], ...] | None,
) -> None:
    number = (await _group_numbers(persona_api))[group_name]
    body = await persona_api.query(persona, GROUP_QUERY, number=number)
    assert "errors" not in body
    group = body["data"]["group"]
    if expected is None:
        assert group is None
        return
    whole, east, other = expected
    assert set(group["viewerPrivileges"]) == whole
    divisions = {d["code"]: set(d["viewerPrivileges"]) for d in group["divisions"]}
    if group_name == "Acme Manufacturing":
        assert divisions.pop("EAST") == east
    for code, held in divisions.items():
        assert held == other, code


@pytest.mark.parametrize("persona", list(EXPECTED))
async def test_groups_list_is_exactly_the_visible_groups(persona_api: Api, persona: str) -> None:
    body = await persona_api.query(persona, "{ groups(first: 100) { legalName } }")
    names = {group["legalName"] for group in body["data"]["groups"]}
    visible = set(EXPECTED[persona])
    assert names & set(GROUPS) == visible
    # Group users see only their groups; brokers and staff see more than the persona groups.
    if persona.endswith(("@acme.example", "@globex.example", "@initech.example")):
        assert names == visible


async def test_a_hidden_group_answers_like_a_missing_one(persona_api: Api) -> None:
    numbers = await _group_numbers(persona_api)
    by_id = await persona_api.query(
        "accounts@carrier.example",
        "query ($n: String!) { group(groupNumber: $n) { id } }",
        n=numbers["Initech"],
    )
    initech_id = by_id["data"]["group"]["id"]
    lookups = [
        ("query ($n: String!) { group(groupNumber: $n) { legalName } }", {"n": numbers["Initech"]}),
        ("query ($n: String!) { group(groupNumber: $n) { legalName } }", {"n": "G999999"}),
        ("query ($i: ID!) { group(id: $i) { legalName } }", {"i": initech_id}),
        ("query ($i: ID!) { group(id: $i) { legalName } }", {"i": "R3JvdXA6OTk5OTk5"}),
        ("query ($i: ID!) { group(id: $i) { legalName } }", {"i": "not-an-id"}),
    ]
    for query, variables in lookups:
        body = await persona_api.query("admin@acme.example", query, **variables)
        assert body == {"data": {"group": None}}


async def test_viewer_lists_scopes_with_privileges(persona_api: Api) -> None:
    body = await persona_api.query(
        "hr.east@acme.example",
        "{ viewer { user { email kind } scopes { carrierWide privileges"
        " group { legalName } division { code } } } }",
    )
    viewer = body["data"]["viewer"]
    assert viewer["user"] == {"email": "hr.east@acme.example", "kind": "EMPLOYER"}
    assert viewer["scopes"] == [
        {
            "carrierWide": False,
            "privileges": sorted(HR_EAST),
            "group": {"legalName": "Acme Manufacturing"},
            "division": {"code": "EAST"},
        }
    ]


async def test_anonymous_viewer_is_null_and_sees_no_group(persona_api: Api) -> None:
    body = await persona_api.query(None, "{ viewer { user { email } } groups { legalName } }")
    assert body == {"data": {"viewer": None, "groups": []}}


def test_single_privilege_roles_cover_the_catalogue() -> None:
    assert all(ROLES[privilege_subject(p)] == {p} for p in Privilege)
