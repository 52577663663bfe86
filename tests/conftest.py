"""Fixtures shared by the whole suite: real databases built by the migrations, the real app."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from authz.enforcement import rebuild_rules
from authz.tokens import issue_access_token
from data import migrate
from data.database import Database, create_engine
from data.demo import load_demo
from data.users import user_by_email
from groupgate.app import create_app
from groupgate.settings import Settings
from tests.databases import POSTGRES_URL_VARIABLE, backends, cloned_database, fresh_database


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No GROUPGATE_* variable or `.env` of the developer's reaches a test."""
    for name in os.environ:
        if name.startswith("GROUPGATE_") and name != POSTGRES_URL_VARIABLE:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session", params=backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def empty_database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database for a test that must start from nothing (migrations, demo)."""
    async with fresh_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
async def migrated_engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a new database upgraded to the head migration."""
    engine = create_engine(empty_database_url)
    try:
        await migrate.upgrade(engine)
        yield engine
    finally:
        await engine.dispose()


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    """Settings for a test; `isolated_settings` keeps the developer's own out of it."""
    values: dict[str, object] = {
        "database_url": database_url,
        "signing_key_path": tmp_path / "keys",
        "file_store_path": tmp_path / "files",
        # The key the demo data was hashed with, so that the app's hashes match the data's.
        "secret_key": TEST_SECRET.decode(),
        **overrides,
    }
    return Settings.model_validate(values)


@pytest.fixture
async def client(migrated_engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app over an empty, migrated database."""
    url = migrated_engine.url.render_as_string(hide_password=False)
    async with serve_api(make_settings(url, tmp_path)) as api:
        yield api.client


# A small demo data set with every persona, built once per backend and copied for each test.
DEMO_GROUPS, DEMO_MAX_MEMBERS = 6, 30
TEST_SECRET = b"test-secret-key"


@pytest.fixture(scope="session")
async def demo_template(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    async with fresh_database(backend, tmp_path_factory.mktemp("demo")) as url:
        database = Database.connect(url)
        try:
            await migrate.upgrade(database.engine)
            await load_demo(
                database.engine,
                secret_key=TEST_SECRET,
                groups=DEMO_GROUPS,
                max_members=DEMO_MAX_MEMBERS,
            )
            await rebuild_rules(database)
        finally:
            await database.dispose()
        yield url


@pytest.fixture
async def demo_url(backend: str, demo_template: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own for this test, with the demo data and its rules."""
    async with cloned_database(backend, demo_template, tmp_path) as url:
        yield url


@dataclass
class Api:
    """The served app and a client; `as_user` signs requests with a real access token."""

    app: Starlette
    client: httpx.AsyncClient

    async def user_id(self, email: str) -> int:
        database: Database = self.app.state.database
        async with database.reader.connect() as connection:
            user = await user_by_email(connection, email)
        assert user is not None, f"no user {email}"
        return user.id

    async def token(self, email: str) -> str:
        return issue_access_token(
            self.app.state.signing_keys,
            self.app.state.token_settings,
            subject=f"user:{await self.user_id(email)}",
        )

    async def query(self, email: str | None, query: str, **variables: object) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {await self.token(email)}"} if email else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@asynccontextmanager
async def serve_api(settings: Settings) -> AsyncIterator[Api]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1:8000"
        ) as client:
            yield Api(app, client)


@pytest.fixture
async def api(demo_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with serve_api(make_settings(demo_url, tmp_path)) as served:
        yield served


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements a block sends, leaving out the policy watcher's once-a-second poll,
    which runs beside every request and belongs to none, and transaction control."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # SQLite's BEGIN IMMEDIATE (data/database.py) is transaction control, as PostgreSQL's
        # BEGIN is, which asyncpg sends outside the cursor: neither is a query of the request.
        if "policy_version" not in statement and statement != "BEGIN IMMEDIATE":
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
