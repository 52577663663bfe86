"""The shortcut executor answers exactly what graphql-core's own path answers.

The same documents, for personas who may read everything, a division, no personal data and
nothing at all, run through the schema the app serves and through one built with Strawberry's
stock executor; data and errors must be identical. And the shortcut must be taken at all.
"""

from __future__ import annotations

from typing import Any

import pytest
from strawberry import Schema

from data.users import user_by_email
from resolvers.context import Context
from schema.execution import shortcut_of
from schema.schema import build_schema
from tests.conftest import Api
from tests.test_users import acme

DASHBOARD = """
query ($n: String!) {
  group(groupNumber: $n) {
    id groupNumber legalName
    members(first: 30) {
      totalCount
      edges { cursor node {
        id memberNumber firstName middleName lastName relationship sex status isDisabled
        birthDate ssnLast4 phone email address { city state }
        division { code name }
        coverage { status tier effectiveDate terminationDate isCobra plan { id code name } }
        dependents { id firstName birthDate coverage { tier plan { code } } }
        ...more
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
fragment more on Member { lastName hireDate subscriber { id lastName } }
"""
SEARCH = """
query ($n: String!) {
  group(groupNumber: $n) {
    members(search: "a", first: 5) { edges { node { id firstName nick: lastName } } }
  }
}
"""
PERSONAS = [
    "rep@carrier.example",  # every group, personal data included
    "admin@acme.example",  # the whole group
    "hr.east@acme.example",  # one division
    "broker@summit.example",  # members without personal data: refusals per field
    "billing@acme.example",  # no members at all
    "admin@globex.example",  # another group: nothing
]


async def _run(api: Api, schema: Schema, email: str, document: str, number: str) -> Any:
    async with api.app.state.database.reader.connect() as connection:
        user = await user_by_email(connection, email)
    context = Context(
        database=api.app.state.database,
        policy=api.app.state.policy,
        user=user,
        request_id="same-for-both",
    )
    result = await schema.execute(document, variable_values={"n": number}, context_value=context)
    errors = [(e.message, e.path, e.extensions) for e in result.errors or []]
    return result.data, sorted(errors, key=repr)


@pytest.mark.parametrize("email", PERSONAS)
async def test_the_shortcut_answers_as_graphql_core_does(api: Api, email: str) -> None:
    number = (await acme(api))["number"]
    served, stock = build_schema(), build_schema(shortcuts=False)
    for document in (DASHBOARD, SEARCH):
        fast = await _run(api, served, email, document, number)
        assert fast == await _run(api, stock, email, document, number)
    data, errors = await _run(api, served, email, DASHBOARD, number)
    if email == "broker@summit.example":  # refused personal data: errors, not values
        assert {e[2]["code"] for e in errors} == {"FORBIDDEN"}
        assert all(edge["node"]["birthDate"] is None for edge in data["group"]["members"]["edges"])
    elif email.endswith(("carrier.example", "admin@acme.example")):
        assert errors == []
        assert data["group"]["members"]["totalCount"] > 30


def test_leaves_take_the_shortcut_and_objects_do_not() -> None:
    schema = build_schema()._schema
    member = schema.type_map["Member"].fields  # type: ignore[attr-defined]
    taken = {name for name, field in member.items() if shortcut_of(field) is not None}
    assert {"id", "firstName", "status", "birthDate", "ssnLast4"} <= taken
    assert not taken & {"address", "coverage", "dependents", "division", "subscriber"}
