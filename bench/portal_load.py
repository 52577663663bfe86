"""portal-load: the portal's named operations under load, the gateway next to its floor.

One run seeds (or reuses) a PostgreSQL database of 200 groups and ~50,000 members, serves the
gateway (`groupgate serve`: uvicorn, one worker, production settings) and the floor
(`bench.portal_floor`: the same SQL with asyncpg and orjson) as subprocesses on loopback, and
drives each operation at each concurrency against both, one right after the other, so that
their ratio is measured under the same conditions. Every response is checked against the
floor's answer. SQL statements per request are counted once, in-process, not under load.

    GROUPGATE_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m bench portal-load
    .venv/bin/python -m bench.portal_load --warm-up 10 --measure 20 --clients 1 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from authz.enforcement import rebuild_rules
from authz.keys import load_or_create
from bench.portal_floor import DATABASE_URL_VARIABLE
from bench.portal_operations import OPERATIONS, Operation
from bench.portal_prepare import (
    Expected,
    Prepared,
    Request,
    build_requests,
    connect,
    expected_answers,
    prepare,
    problem,
)
from bench.portal_report import Measurement, Tally, print_report
from bench.portal_servers import HOST, Server, peak_rss_mib, process_cpu_seconds, serve
from data import migrate
from data.database import Database
from data.demo import load_demo
from data.models.groups import Group
from data.models.members import Member
from groupgate.settings import Settings
from tests.databases import POSTGRES_URL_VARIABLE

# 200 groups whose largest has 3,700 employees: about 50,400 members with the demo's design.
GROUPS, MAX_MEMBERS = 200, 3700
DATABASE = f"groupgate_bench_g{GROUPS}_m{MAX_MEMBERS}"
DEMO_SECRET = b"benchmark-secret"


@dataclass(frozen=True, slots=True)
class Options:
    warm_up: float = 10.0
    measure: float = 20.0
    clients: tuple[int, ...] = (1, 20)
    operations: tuple[str, ...] = tuple(OPERATIONS)
    pool_size: int | None = None  # the gateway's GROUPGATE_DATABASE_POOL_SIZE; None: its default


async def main() -> None:
    await run(Options())


async def run(options: Options) -> None:
    started = time.perf_counter()
    operations = [OPERATIONS[name] for name in options.operations]
    url = await seeded_database()
    await describe_machine(url)
    with tempfile.TemporaryDirectory(prefix="portal-load-") as temporary:
        directory = Path(temporary)
        environment = gateway_environment(url, directory)
        if options.pool_size is not None:
            environment["GROUPGATE_DATABASE_POOL_SIZE"] = str(options.pool_size)
        settings = Settings.model_validate(
            {name.removeprefix("GROUPGATE_").lower(): value for name, value in environment.items()}
        )
        load_or_create(settings.signing_key_path)  # production refuses to start without one
        prepared = await prepare(settings, operations)
        client_cpu = time.process_time()
        gateway = [sys.executable, "-m", "groupgate.cli", "serve", "--host", HOST]
        floor_app = [sys.executable, "-m", "uvicorn", "bench.portal_floor:app", "--host", HOST]
        floor_environment = {DATABASE_URL_VARIABLE: url}
        async with (
            serve("GraphQL", gateway, "--port", environment, directory) as graphql,
            serve(
                "floor",
                [*floor_app, "--log-level", "warning"],
                "--port",
                floor_environment,
                directory,
            ) as floor,
        ):
            expected = await expected_answers(graphql, floor, operations, prepared, settings)
            results = await measure_all(
                (graphql, floor), operations, prepared, settings, expected, options
            )
            rss = {server.name: peak_rss_mib(server.pid) for server in (graphql, floor)}
        client_share = (time.process_time() - client_cpu) / (time.perf_counter() - started)
    print_report(results, prepared, rss, options.warm_up)
    print(
        f"\nload generator CPU: {100 * client_share:.0f} % of one core on average"
        f"\nload average after the run: {_load_average()}"
        f"\nwhole run: {time.perf_counter() - started:.0f} s"
    )


async def measure_all(
    servers: tuple[Server, Server],
    operations: Sequence[Operation],
    prepared: Prepared,
    settings: Settings,
    expected: Expected,
    options: Options,
) -> list[Measurement]:
    """Each operation at each concurrency, the gateway then the floor right after it."""
    results = []
    monitor = await connect(os.environ[POSTGRES_URL_VARIABLE])
    try:
        for operation in operations:
            for clients in options.clients:
                for server in servers:
                    requests = build_requests(server, operation, prepared, settings, expected)
                    measured = await measure(server, operation, requests, clients, options, monitor)
                    results.append(measured)
                    print(
                        f"  {operation.name:18} {clients:3} clients  {server.name:7}"
                        f" {measured.rate:8.1f} req/s  errors {measured.errors}",
                        flush=True,
                    )
    finally:
        await monitor.close()
    return results


async def seeded_database() -> str:
    """The benchmark database, created and loaded the first time and reused after that.

    `load_demo` inserts only the groups that are missing, so a reused database costs a second
    and an interrupted load is completed rather than started over.
    """
    server = make_url(os.environ[POSTGRES_URL_VARIABLE])
    admin = await connect(server.render_as_string(hide_password=False))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    url = server.set(drivername="postgresql+asyncpg", database=DATABASE)
    url_text = url.render_as_string(hide_password=False)
    database = Database.connect(url_text)
    started = time.perf_counter()
    try:
        await migrate.upgrade(database.engine)
        summary = await load_demo(
            database.engine, secret_key=DEMO_SECRET, groups=GROUPS, max_members=MAX_MEMBERS
        )
        if summary.total:
            await rebuild_rules(database)
        async with database.reader.connect() as connection:
            groups = await connection.scalar(select(func.count()).select_from(Group))
            members = await connection.scalar(select(func.count()).select_from(Member))
    finally:
        await database.dispose()
    # Fresh statistics every run: without them the planner guesses, and a server with
    # autovacuum off (as here) never gathers them on its own. A second or two.
    connection = await connect(url_text)
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    how = f"seeded in {time.perf_counter() - started:.0f} s" if summary.total else "reused"
    print(f"database {DATABASE} ({how}): {groups:,} groups, {members:,} members")
    return url_text


async def describe_machine(url: str) -> None:
    connection = await connect(url)
    try:
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()},"
        f" PostgreSQL {version} on loopback, {datetime.now(UTC):%Y-%m-%d};"
        f" load average before the run {_load_average()}"
    )


def _load_average() -> str:
    # Shared machines: what else was running is part of the figures' context.
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def gateway_environment(url: str, directory: Path) -> dict[str, str]:
    """Production settings: no introspection or GraphiQL, a real secret, a key on disk."""
    return {
        "GROUPGATE_ENV": "production",
        "GROUPGATE_DATABASE_URL": url,
        "GROUPGATE_SECRET_KEY": secrets.token_urlsafe(48),
        "GROUPGATE_SIGNING_KEY_PATH": str(directory / "keys"),
        "GROUPGATE_FILE_STORE_PATH": str(directory / "files"),
        "GROUPGATE_LOG_LEVEL": "warning",
    }


async def measure(
    server: Server,
    operation: Operation,
    requests: list[Request],
    clients: int,
    options: Options,
    monitor: asyncpg.Connection,
) -> Measurement:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as http:
        warm_up = Tally([])
        await _drive(http, requests, clients, options.warm_up, warm_up)
        cpu = process_cpu_seconds(server.pid)
        sessions = await _sessions(monitor)
        tally = Tally([])
        await _drive(http, requests, clients, options.measure, tally)
        cpu = process_cpu_seconds(server.pid) - cpu
        sessions = await _sessions(monitor) - sessions
    return Measurement(
        operation.name, server.name, clients, options.measure, tally, warm_up.errors, cpu, sessions
    )


async def _sessions(monitor: asyncpg.Connection) -> int:
    """Sessions ever started on the benchmark database: a pool that churns opens new ones."""
    query = "SELECT sessions FROM pg_stat_database WHERE datname = $1"
    return int(await monitor.fetchval(query, DATABASE))


async def _drive(
    http: httpx.AsyncClient, requests: list[Request], clients: int, seconds: float, tally: Tally
) -> None:
    """`clients` loops, each sending its next request as soon as the last one is answered."""
    deadline = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        index = offset  # clients start at different cases
        while time.perf_counter() < deadline:
            request = requests[index % len(requests)]
            index += 1
            started = time.perf_counter()
            problem = await _send(http, request)
            finished = time.perf_counter()
            tally.add(finished - started, problem, finished <= deadline)

    await asyncio.gather(*(client(offset) for offset in range(clients)))


async def _send(http: httpx.AsyncClient, request: Request) -> str | None:
    try:
        response = await http.post(request.path, content=request.body, headers=request.headers)
    except httpx.HTTPError as error:
        return f"{type(error).__name__}: {error}"
    if response.status_code == 200 and response.content == request.expected:
        return None  # the common case, checked without parsing
    return problem(response.status_code, response.content, request.expected_data)


def cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.portal_load", description=__doc__)
    parser.add_argument("--warm-up", type=float, default=10.0, help="seconds per row (10)")
    parser.add_argument("--measure", type=float, default=20.0, help="seconds per row (20)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 20], help="(1 20)")
    parser.add_argument(
        "--operations", nargs="+", choices=list(OPERATIONS), default=list(OPERATIONS)
    )
    parser.add_argument(
        "--pool-size", type=int, default=None, help="the gateway's PostgreSQL pool (its default)"
    )
    arguments = parser.parse_args(argv)
    options = Options(
        warm_up=arguments.warm_up,
        measure=arguments.measure,
        clients=tuple(arguments.clients),
        operations=tuple(arguments.operations),
        pool_size=arguments.pool_size,
    )
    asyncio.run(run(options))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
