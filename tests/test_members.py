"""Member lists through the endpoint: scope by privilege and division, search, pages, PII."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.test_users import acme

MEMBERS = """
query ($n: String!, $search: String, $first: Int, $after: String, $last: Int, $before: String,
       $filter: MemberFilterInput) {
  group(groupNumber: $n) {
    members(search: $search, first: $first, after: $after, last: $last, before: $before,
            filter: $filter) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id memberNumber firstName lastName relationship division { code }
                            coverage { status tier plan { code } } } }
    }
  }
}"""


async def page(api: Api, email: str, number: str, **arguments: Any) -> dict[str, Any]:
    body = await api.query(email, MEMBERS, n=number, **arguments)
    assert "errors" not in body, body
    members: dict[str, Any] = body["data"]["group"]["members"]
    return members


async def test_pages_walk_every_member_once_in_name_order(api: Api) -> None:
    group = await acme(api)
    seen: list[str] = []
    after = None
    while True:
        found = await page(api, "admin@acme.example", group["number"], first=40, after=after)
        seen += [edge["node"]["memberNumber"] for edge in found["edges"]]
        if not found["pageInfo"]["hasNextPage"]:
            break
        after = found["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == found["totalCount"] >= 120
    # Backwards from the end gives the same last page.
    last = await page(api, "admin@acme.example", group["number"], last=40)
    assert [e["node"]["memberNumber"] for e in last["edges"]] == seen[-40:]
    assert last["pageInfo"]["hasPreviousPage"] is True


async def test_division_scoped_user_reads_its_division_only(api: Api) -> None:
    group = await acme(api)
    everyone = await page(api, "admin@acme.example", group["number"], first=100)
    east = await page(api, "hr.east@acme.example", group["number"], first=100)
    codes = {edge["node"]["division"]["code"] for edge in east["edges"]}
    assert codes == {"EAST"}
    assert 0 < east["totalCount"] < everyone["totalCount"]


async def test_reading_members_needs_the_privilege(api: Api) -> None:
    group = await acme(api)
    body = await api.query("billing@acme.example", MEMBERS, n=group["number"])
    assert body["data"] is None or body["data"]["group"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_search_by_name_prefix_accents_and_case_and_by_number(api: Api) -> None:
    group = await acme(api)
    first = (await page(api, "admin@acme.example", group["number"], first=1))["edges"][0]["node"]
    by_number = await page(
        api, "admin@acme.example", group["number"], search=first["memberNumber"].lower()
    )
    assert [e["node"]["id"] for e in by_number["edges"]] == [first["id"]]
    prefix = first["lastName"][:3].upper()
    by_name = await page(api, "admin@acme.example", group["number"], search=prefix, first=100)
    assert first["id"] in [e["node"]["id"] for e in by_name["edges"]]
    assert all(
        e["node"]["lastName"].lower().startswith(prefix.lower())
        or e["node"]["firstName"].lower().startswith(prefix.lower())
        for e in by_name["edges"]
    )


PII_QUERY = """
query ($n: String!) {
  group(groupNumber: $n) {
    members(first: 3) { edges { node { memberNumber birthDate ssnLast4 phone } } }
  }
}"""


@pytest.mark.parametrize(
    ("persona", "visible"), [("admin@acme.example", True), ("broker@summit.example", False)]
)
async def test_personal_data_needs_its_own_privilege(api: Api, persona: str, visible: bool) -> None:
    group = await acme(api)
    body = await api.query(persona, PII_QUERY, n=group["number"])
    nodes = [edge["node"] for edge in body["data"]["group"]["members"]["edges"]]
    assert len(nodes) == 3
    if visible:
        assert "errors" not in body
        assert all(node["birthDate"] for node in nodes)
    else:
        assert all(node["birthDate"] is None and node["ssnLast4"] is None for node in nodes)
        assert {error["extensions"]["code"] for error in body["errors"]} == {"FORBIDDEN"}
        assert all(node["memberNumber"] for node in nodes)


BAD_ARGUMENTS = [
    ({"first": 101}, "first"),
    ({"first": 0}, "first"),
    ({"first": 5, "last": 5}, "last"),
    ({"after": "bm90LWEtY3Vyc29y"}, "after"),
    ({"search": "x" * 101}, "search"),
]


@pytest.mark.parametrize(("arguments", "field"), BAD_ARGUMENTS)
async def test_bad_page_arguments_are_refused_naming_the_argument(
    api: Api, arguments: dict[str, Any], field: str
) -> None:
    group = await acme(api)
    body = await api.query("admin@acme.example", MEMBERS, n=group["number"], **arguments)
    [error] = body["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("INVALID", field)
