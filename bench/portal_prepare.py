"""Everything settled before the load: cases from the seeded data, SQL statements per request
counted in-process, and the answer each request must get (the floor's, checked against the
gateway's)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import orjson
from sqlalchemy import event

from authz.enforcement import PolicyStore
from authz.keys import load_or_create
from authz.tokens import issue_access_token
from bench.portal_operations import Case, Operation
from bench.portal_servers import Server
from bench.portal_sql import Sql
from data.database import Database
from data.users import user_by_email
from groupgate.app import create_app, token_settings
from groupgate.settings import Settings

# Per operation, per case: the floor's response body and its parsed `data`.
Expected = dict[str, list[tuple[bytes, object]]]


@dataclass(frozen=True, slots=True)
class Request:
    """One prepared request and the answer it must get (the floor's, byte for byte ideally)."""

    path: str
    body: bytes
    headers: dict[str, str]
    expected: bytes
    expected_data: object


@dataclass(frozen=True, slots=True)
class Prepared:
    cases: dict[str, list[Case]]
    user_ids: dict[str, int]
    # Statements per request, (fewest, most) over the operation's cases.
    graphql_statements: dict[str, tuple[int, int]]
    floor_statements: dict[str, tuple[int, int]]


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url.replace("postgresql+asyncpg:", "postgresql:"))


class CountingSql:
    """A connection that counts the floor's statements."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self.count = 0

    async def fetch(self, query: str, *args: object) -> list[object]:
        self.count += 1
        return await self.sql.fetch(query, *args)

    async def fetchval(self, query: str, *args: object) -> object:
        self.count += 1
        return await self.sql.fetchval(query, *args)


async def prepare(settings: Settings, operations: Sequence[Operation]) -> Prepared:
    """Cases from the seeded data, and statements per request counted in-process, once."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        database: Database = app.state.database
        policy: PolicyStore = app.state.policy
        user_ids: dict[str, int] = {}
        for persona in sorted({operation.persona for operation in operations}):
            async with database.reader.connect() as connection:
                user = await user_by_email(connection, persona)
            if user is None:
                raise RuntimeError(f"no user {persona} in the benchmark database")
            user_ids[persona] = user.id
        cases: dict[str, list[Case]] = {}
        floor_counts: dict[str, list[int]] = {}
        connection = await connect(settings.database_url)
        try:
            for operation in operations:
                reach = policy.access_for(user_ids[operation.persona]).reach()
                visible = None if reach.every_group else reach.group_ids
                cases[operation.name] = await operation.cases(connection, visible)
                floor_counts[operation.name] = []
                for case in cases[operation.name]:
                    counting = CountingSql(connection)
                    await operation.floor(counting, {**case.variables, **case.floor_extra})
                    floor_counts[operation.name].append(counting.count)
        finally:
            await connection.close()

        seen: list[str] = []

        def record(_connection: object, _cursor: object, statement: str, *_rest: object) -> None:
            # The policy watcher polls its version in the background: not the request's.
            if "policy_version" not in statement:
                seen.append(statement)

        graphql_counts: dict[str, list[int]] = {}
        event.listen(database.engine.sync_engine, "before_cursor_execute", record)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for operation in operations:
                    bearer = access_token(settings, user_ids[operation.persona])
                    graphql_counts[operation.name] = []
                    for case in cases[operation.name]:
                        seen.clear()
                        response = await client.post(
                            "/graphql",
                            content=_graphql_body(operation, case),
                            headers=_headers(bearer),
                        )
                        wrong = problem(response.status_code, response.content, None)
                        if wrong:
                            raise RuntimeError(f"{operation.name} in-process: {wrong}")
                        graphql_counts[operation.name].append(len(seen))
        finally:
            event.remove(database.engine.sync_engine, "before_cursor_execute", record)
    return Prepared(
        cases=cases,
        user_ids=user_ids,
        graphql_statements={k: (min(v), max(v)) for k, v in graphql_counts.items()},
        floor_statements={k: (min(v), max(v)) for k, v in floor_counts.items()},
    )


def access_token(settings: Settings, user_id: int) -> str:
    signing_keys = load_or_create(settings.signing_key_path)
    return issue_access_token(signing_keys, token_settings(settings), subject=f"user:{user_id}")


def _graphql_body(operation: Operation, case: Case) -> bytes:
    return orjson.dumps({"query": operation.document, "variables": case.variables})


def _floor_body(case: Case) -> bytes:
    return orjson.dumps({"variables": {**case.variables, **case.floor_extra}})


def _headers(token: str) -> dict[str, str]:
    # The floor ignores the token; it is sent to both so that requests weigh the same.
    return {"authorization": f"Bearer {token}", "content-type": "application/json"}


async def expected_answers(
    graphql: Server,
    floor: Server,
    operations: Sequence[Operation],
    prepared: Prepared,
    settings: Settings,
) -> Expected:
    """The floor's answer to every case, after checking that the gateway answers the same."""
    answers: Expected = {}
    identical = 0
    async with httpx.AsyncClient(timeout=30) as http:
        for operation in operations:
            bearer = access_token(settings, prepared.user_ids[operation.persona])
            answers[operation.name] = []
            for case in prepared.cases[operation.name]:
                floor_response = await http.post(
                    f"{floor.base_url}/op/{operation.name}",
                    content=_floor_body(case),
                    headers=_headers(bearer),
                )
                if floor_response.status_code != 200:
                    raise RuntimeError(f"floor {operation.name}: HTTP {floor_response.status_code}")
                data = orjson.loads(floor_response.content)["data"]
                response = await http.post(
                    f"{graphql.base_url}/graphql",
                    content=_graphql_body(operation, case),
                    headers=_headers(bearer),
                )
                wrong = problem(response.status_code, response.content, data)
                if wrong:
                    raise RuntimeError(f"{operation.name} {case.variables}: {wrong}")
                identical += int(response.content == floor_response.content)
                answers[operation.name].append((floor_response.content, data))
    total = sum(len(cases) for cases in answers.values())
    print(
        f"checked {total} cases: the gateway's data equals the floor's ({identical} byte-identical)"
    )
    return answers


def build_requests(
    server: Server,
    operation: Operation,
    prepared: Prepared,
    settings: Settings,
    expected: Expected,
) -> list[Request]:
    # A fresh token per phase: the run outlasts an access token's ten minutes.
    headers = _headers(access_token(settings, prepared.user_ids[operation.persona]))
    requests = []
    for case, (body, data) in zip(
        prepared.cases[operation.name], expected[operation.name], strict=True
    ):
        if server.name == "floor":
            path, content = f"/op/{operation.name}", _floor_body(case)
        else:
            path, content = "/graphql", _graphql_body(operation, case)
        requests.append(Request(path, content, headers, body, data))
    return requests


def problem(status: int, content: bytes, expected_data: object) -> str | None:
    """Why a response is wrong, or None. `expected_data` None: only look for errors."""
    if status != 200:
        return f"HTTP {status}: {content[:200]!r}"
    body: dict[str, Any] = orjson.loads(content)
    if body.get("errors"):
        return f"error: {body['errors'][0].get('message')}"
    if expected_data is not None and body.get("data") != expected_data:
        return f"data differs from the floor's: {first_difference(body.get('data'), expected_data)}"
    return None


def first_difference(got: object, expected: object, path: str = "data") -> str:
    if isinstance(got, dict) and isinstance(expected, dict):
        if list(got) != list(expected):
            return f"{path}: keys {list(got)} != {list(expected)}"
        for key in got:
            if got[key] != expected[key]:
                return first_difference(got[key], expected[key], f"{path}.{key}")
    if isinstance(got, list) and isinstance(expected, list) and len(got) == len(expected):
        for index, (item, other) in enumerate(zip(got, expected, strict=True)):
            if item != other:
                return first_difference(item, other, f"{path}[{index}]")
    return f"{path}: {str(got)[:120]} != {str(expected)[:120]}"
