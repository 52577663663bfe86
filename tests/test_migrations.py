"""The migrations build the schema the models describe, and can be undone and redone."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from data import migrate
from data.database import create_engine
from data.models import Base


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_downgrade_upgrade_round_trip(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_table_names) >= set(Base.metadata.tables)
        assert await migrate.is_at_head(engine)

        await migrate.downgrade(engine, "base")
        async with engine.connect() as connection:
            assert await connection.run_sync(_table_names) <= {"alembic_version"}
        assert await migrate.current_revision(engine) is None

        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()


async def test_models_and_migrations_agree(migrated_engine: AsyncEngine) -> None:
    async with migrated_engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"]
)
async def test_audit_log_is_append_only(migrated_engine: AsyncEngine, statement: str) -> None:
    async with migrated_engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO audit_events (occurred_at, action, target_type)"
                " VALUES (CURRENT_TIMESTAMP, 'test.written', 'test')"
            )
        )
    with pytest.raises(DBAPIError, match="append-only"):
        async with migrated_engine.begin() as connection:
            await connection.execute(text(statement))
    async with migrated_engine.connect() as connection:
        rows = (await connection.execute(text("SELECT action FROM audit_events"))).all()
    assert [row.action for row in rows] == ["test.written"]
