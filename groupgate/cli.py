"""The `groupgate` command: serve, migrate, load demo data, export the schema, rotate keys."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from data import migrate
from data.database import Database
from groupgate.settings import ConfigurationError, Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    settings = Settings()
    try:
        result: int = arguments.run(settings, arguments)
    except ConfigurationError as error:
        print(f"groupgate: {error}", file=sys.stderr)
        return 2
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groupgate", description="GraphQL gateway for employer group health plans."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", help="address to bind (default: GROUPGATE_HOST)")
    serve.add_argument("--port", type=int, help="port (default: GROUPGATE_PORT)")
    serve.set_defaults(run=_serve)

    migrate_command = commands.add_parser("migrate", help="upgrade the database schema")
    migrate_command.add_argument("--revision", default="head", help="target (default: head)")
    migrate_command.set_defaults(run=_migrate)

    demo = commands.add_parser("demo", help="load the deterministic demo data set")
    demo.add_argument("--groups", type=_positive, default=250, help="groups in all (>= 3)")
    demo.add_argument("--members", type=_positive, default=2000, help="largest group's size")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    demo.add_argument(
        "--if-empty", action="store_true", help="only when the database holds no group yet"
    )
    demo.set_defaults(run=_demo)

    schema = commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema.add_argument("--output", type=Path, help="write to this file instead of stdout")
    schema.set_defaults(run=_schema)

    token = commands.add_parser(
        "token", help="print an access token for a user (development only), to try the API"
    )
    token.add_argument("email", help="e-mail of an active user, e.g. admin@acme.example")
    token.set_defaults(run=_token)

    worker = commands.add_parser(
        "worker", help="process enrollment batch files, as a worker process beside the servers"
    )
    worker.add_argument("--poll", type=float, default=1.0, help="seconds between looks (1)")
    worker.add_argument("--until-idle", action="store_true", help="stop when no batch waits")
    worker.add_argument("--chunk-rows", type=_positive, default=100, help="rows a transaction")
    worker.add_argument(
        "--lease-seconds", type=_positive, default=60, help="a dead worker's batch waits this long"
    )
    worker.set_defaults(run=_worker)

    enrollments = commands.add_parser("enrollments", help="enrollment batch files")
    enrollment_commands = enrollments.add_subparsers(required=True, metavar="ACTION")
    import_command = enrollment_commands.add_parser(
        "import", help="queue a CSV or X12 834 file for a group, process it, and summarise"
    )
    import_command.add_argument("file", type=Path, help="the enrollment file")
    import_command.add_argument("--group", required=True, help="the group number")
    import_command.set_defaults(run=_enrollments_import)

    keys = commands.add_parser("keys", help="token-signing keys")
    key_commands = keys.add_subparsers(required=True, metavar="ACTION")
    rotate = key_commands.add_parser("rotate", help="add a new signing key; old keys still verify")
    rotate.set_defaults(run=_keys_rotate)

    commissions = commands.add_parser("commissions", help="broker commission statements")
    commission_commands = commissions.add_subparsers(required=True, metavar="ACTION")
    close = commission_commands.add_parser(
        "close", help="close every agency's statement of an ended month (run it on the 1st)"
    )
    close.add_argument("--month", help='"YYYY-MM" (default: last month)')
    close.set_defaults(run=_commissions_close)

    purge = commands.add_parser(
        "purge",
        help="delete records past their time (sign-in attempts, expired codes and refresh "
        "tokens) and terminate members whose coverage has ended, as the server does every "
        "GROUPGATE_HOUSEKEEPING_INTERVAL",
    )
    purge.set_defaults(run=_purge)
    return parser


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {value}")
    return number


def _serve(settings: Settings, arguments: argparse.Namespace) -> int:
    import uvicorn

    from groupgate.app import create_app

    # Authlib logs issued tokens at DEBUG: never let them reach the logs.
    logging.getLogger("authlib").setLevel(logging.INFO)

    uvicorn.run(
        create_app(settings),
        host=arguments.host or settings.host,
        port=arguments.port or settings.port,
        log_level=settings.log_level,
        proxy_headers=True,
    )
    return 0


def _migrate(settings: Settings, arguments: argparse.Namespace) -> int:
    async def run() -> str | None:
        database = Database.connect(settings.database_url)
        try:
            await migrate.upgrade(database.engine, arguments.revision)
            return await migrate.current_revision(database.engine)
        finally:
            await database.dispose()

    print(f"database at revision {asyncio.run(run())}")
    return 0


def _demo(settings: Settings, arguments: argparse.Namespace) -> int:
    from authz.enforcement import rebuild_rules
    from data.contracts import write_demo_files
    from data.demo import load_demo
    from data.files import LocalFileStore
    from data.groups import any_group_exists

    async def run() -> str:
        database = Database.connect(settings.database_url)
        store = LocalFileStore(settings.file_store_path)
        try:
            if arguments.if_empty and await any_group_exists(database.engine):
                loaded = "demo data: the database already holds groups, nothing loaded"
            else:
                summary = await load_demo(
                    database.engine,
                    secret_key=settings.secret_key.get_secret_value().encode(),
                    groups=arguments.groups,
                    max_members=arguments.members,
                    seed=arguments.seed,
                )
                # Demo records carry grants and broker appointments; the enforcer reads rules.
                if summary.total:
                    await rebuild_rules(database)
                counts = ", ".join(f"{n} {table}" for table, n in summary.inserted.items() if n)
                loaded = (
                    f"demo data loaded: {counts}"
                    if summary.total
                    else "demo data: already loaded, nothing to add"
                )
            # Document rows name their files; store those missing (all of them the first time).
            written = await write_demo_files(database, store)
        finally:
            await database.dispose()
        return loaded + (f"; {written} document files written to {store.root}" if written else "")

    print(asyncio.run(run()))
    return 0


def _schema(_settings: Settings, arguments: argparse.Namespace) -> int:
    from schema.schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if arguments.output:
        arguments.output.write_text(sdl)
    else:
        sys.stdout.write(sdl)
    return 0


def _token(settings: Settings, arguments: argparse.Namespace) -> int:
    from authz import keys
    from authz.tokens import issue_access_token
    from data.models.users import UserStatus
    from data.users import user_by_email
    from groupgate.app import token_settings

    if settings.is_production:
        print("groupgate: tokens are only printed in development", file=sys.stderr)
        return 2

    async def find() -> int | None:
        database = Database.connect(settings.database_url)
        try:
            async with database.reader.connect() as connection:
                user = await user_by_email(connection, arguments.email)
        finally:
            await database.dispose()
        return user.id if user is not None and user.status == UserStatus.ACTIVE else None

    user_id = asyncio.run(find())
    if user_id is None:
        print(f"groupgate: no active user {arguments.email}", file=sys.stderr)
        return 1
    signing_keys = keys.load_or_create(settings.signing_key_path)
    print(issue_access_token(signing_keys, token_settings(settings), subject=f"user:{user_id}"))
    return 0


def _worker(settings: Settings, arguments: argparse.Namespace) -> int:
    from data.files import LocalFileStore
    from groupgate.app import worker_name
    from resolvers import enrollment_batches

    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(message)s")

    async def run() -> None:
        database = Database.connect(settings.database_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stop.set)
        worker = enrollment_batches.Worker(
            database=database,
            store=LocalFileStore(settings.file_store_path),
            secret_key=settings.secret_key.get_secret_value().encode(),
            name=worker_name(),
            chunk_rows=arguments.chunk_rows,
            lease=timedelta(seconds=arguments.lease_seconds),
        )
        try:
            await enrollment_batches.run(
                worker, stop, poll_seconds=arguments.poll, until_idle=arguments.until_idle
            )
        finally:
            await database.dispose()

    asyncio.run(run())
    return 0


def _enrollments_import(settings: Settings, arguments: argparse.Namespace) -> int:
    from groupgate.batch_import import import_file

    try:
        content = arguments.file.read_bytes()
    except OSError as error:
        print(f"groupgate: cannot read {arguments.file}: {error.strerror}", file=sys.stderr)
        return 1
    return asyncio.run(
        import_file(
            settings, group_number=arguments.group, name=arguments.file.name, content=content
        )
    )


def _keys_rotate(settings: Settings, _arguments: argparse.Namespace) -> int:
    from authz import keys

    key = keys.rotate(settings.signing_key_path)
    print(f"new signing key {key.kid} in {settings.signing_key_path}")
    return 0


def _commissions_close(settings: Settings, arguments: argparse.Namespace) -> int:
    import uuid
    from datetime import UTC, datetime

    from data.audit import Actor
    from resolvers import commissions
    from resolvers.errors import Refused

    async def run() -> int:
        database = Database.connect(settings.database_url)
        now = datetime.now(UTC)
        # An operator at the server: no user, and the audit log says it came from here.
        actor = Actor(user_id=None, request_id=f"cli:{uuid.uuid4().hex}", address=None)
        try:
            closed = await commissions.close_month(database, actor, now, arguments.month)
        except Refused as refused:
            for error in refused.errors:
                print(f"groupgate: --month: {error.message}", file=sys.stderr)
            return 1
        finally:
            await database.dispose()
        for agency, statement in closed:
            when = "closed now" if statement.closed_at == now else "already closed"
            cents = statement.total_cents
            total = f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"
            print(f"{statement.month} {agency.name}: {len(statement.lines)} lines, "
                  f"commission {total} USD ({when})")  # fmt: skip
        return 0

    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())


def _purge(settings: Settings, arguments: argparse.Namespace) -> int:
    from groupgate import housekeeping

    async def run() -> None:
        database = Database.connect(settings.database_url)
        try:
            done = await housekeeping.purge_once(database)
        finally:
            await database.dispose()
        purged = done.purged
        print(
            f"purged {purged.sign_in_attempts} sign-in attempts, {purged.authorization_codes} "
            f"authorization codes, {purged.refresh_tokens} refresh tokens, "
            f"{purged.quote_windows} quote rate-limit windows; "
            f"{done.members_ended} members whose coverage ended terminated"
        )

    asyncio.run(run())
    return 0
