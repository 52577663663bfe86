"""How long `groupgate demo` takes at its default size, on SQLite and (if configured) PostgreSQL.

Each backend gets a new, migrated database; the load runs twice to show the repeat is a no-op.
Set GROUPGATE_TEST_POSTGRES_URL to include PostgreSQL.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

from data import migrate
from data.database import create_engine
from data.demo import load_demo
from tests.databases import backends, fresh_database

SECRET = b"benchmark-secret"


async def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        for backend in backends():
            async with fresh_database(backend, Path(directory)) as url:
                engine = create_engine(url)
                try:
                    await migrate.upgrade(engine)
                    started = time.perf_counter()
                    first = await load_demo(engine, secret_key=SECRET)
                    loaded = time.perf_counter() - started
                    started = time.perf_counter()
                    again = await load_demo(engine, secret_key=SECRET)
                    repeated = time.perf_counter() - started
                finally:
                    await engine.dispose()
            members = first.inserted.get("members", 0)
            lines = first.inserted.get("bill_lines", 0)
            print(
                f"{backend:10} load {loaded:6.1f} s  ({first.total:,} rows: {members:,} members,"
                f" {lines:,} bill lines; {first.total / loaded:,.0f} rows/s)"
                f"  repeat {repeated:5.1f} s, {again.total} rows"
            )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the process: {peak_mib:,.0f} MiB")
