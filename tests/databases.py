"""Real databases for the tests: a SQLite file, and a throw-away PostgreSQL database per use."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

POSTGRES_URL_VARIABLE = "GROUPGATE_TEST_POSTGRES_URL"


def backends() -> list[str]:
    """SQLite always; PostgreSQL whenever a server is configured (and then it must work)."""
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_URL_VARIABLE) else ["sqlite"]


@asynccontextmanager
async def fresh_database(backend: str, directory: Path) -> AsyncIterator[str]:
    """An empty database of the backend, dropped afterwards; yields its SQLAlchemy URL."""
    name = f"groupgate_test_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / name}.db"
        return
    server = make_url(os.environ[POSTGRES_URL_VARIABLE])
    async with _admin() as admin:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield server.set(drivername="postgresql+asyncpg", database=name).render_as_string(
                hide_password=False
            )
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def cloned_database(backend: str, template_url: str, directory: Path) -> AsyncIterator[str]:
    """A copy of a prepared database (no connection may be open on the template)."""
    name = f"groupgate_test_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        source = Path(make_url(template_url).database or "")
        target = directory / f"{name}.db"
        shutil.copyfile(source, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    template = make_url(template_url).database
    async with _admin() as admin:
        for attempt in range(20):
            try:
                await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                break
            except asyncpg.ObjectInUseError:
                # Another session (autovacuum, a closing pool) still touches the template.
                if attempt == 19:
                    raise
                await asyncio.sleep(0.25)
        try:
            yield make_url(template_url).set(database=name).render_as_string(hide_password=False)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def _admin() -> AsyncIterator[asyncpg.Connection]:
    server = make_url(os.environ[POSTGRES_URL_VARIABLE])
    connection = await asyncpg.connect(
        host=server.host,
        port=server.port or 5432,
        user=server.username,
        password=server.password,
        database=server.database or "postgres",
    )
    try:
        yield connection
    finally:
        await connection.close()
