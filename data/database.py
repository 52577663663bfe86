"""Engines and session factory: created once at start-up and handed down, never global."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


@dataclass(frozen=True, slots=True)
class Database:
    """The three ways in: `reader` for loader batches, `sessions` for writes (ORM unit of work)."""

    engine: AsyncEngine
    # Autocommit: a read batch runs its one statement without BEGIN/ROLLBACK round trips.
    reader: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def connect(cls, url: str, **options: Any) -> Database:
        engine = create_engine(url, **options)
        return cls(
            engine=engine,
            reader=engine.execution_options(isolation_level="AUTOCOMMIT"),
            sessions=async_sessionmaker(engine, expire_on_commit=False),
        )

    async def dispose(self) -> None:
        await self.engine.dispose()


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An engine with the per-backend settings the product relies on."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    # No pre-ping: it costs round trips on every loader batch (bench/RESULTS.md); connections
    # are recycled instead, and a dead server shows in /readyz.
    options.setdefault("pool_recycle", 1800)
    # A request runs several loader batches at once, each on its own connection; connections
    # beyond the pool are closed on return and opened again. 30 kept (GROUPGATE_DATABASE_POOL_SIZE
    # in the server), 10 more at a peak: within PostgreSQL's default 100 for two workers.
    options.setdefault("pool_size", 30)
    options.setdefault("max_overflow", 10)
    return create_async_engine(url, **options)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores foreign keys unless told otherwise; WAL lets readers run beside a writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    """A SQLite transaction takes the write lock when it begins, as `SELECT … FOR UPDATE` does
    on PostgreSQL for the rows it reads. Left to itself, Python's sqlite3 begins a transaction
    only at the first INSERT/UPDATE/DELETE, so the reads that decide a write (the balance before
    a payment, "no active request" before a submission) ran outside it and two requests could
    both pass the same check. Writers queue here instead (busy_timeout). Autocommit reads (the
    loaders' engine) take no lock and keep running beside a writer (WAL)."""
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
