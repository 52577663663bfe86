"""Fixtures shared by the whole suite: real databases built by the migrations, the real app."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from data import migrate
from data.database import create_engine
from groupgate.app import create_app
from groupgate.settings import Settings
from tests.databases import POSTGRES_URL_VARIABLE, backends, fresh_database


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
        **overrides,
    }
    return Settings.model_validate(values)


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real ASGI app with its lifespan running, and an HTTP client talking to it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://groupgate.test"
        ) as client:
            yield client


@pytest.fixture
async def client(migrated_engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(
        make_settings(str(migrated_engine.url.render_as_string(False)), tmp_path)
    ) as c:
        yield c
