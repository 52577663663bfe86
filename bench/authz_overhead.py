"""What authorization costs a request, and whether that cost stays flat as grants pile up.

One run, per backend (SQLite; PostgreSQL too when GROUPGATE_TEST_POSTGRES_URL is set), on the
demo data with 30 groups, as Acme's primary administrator, in-process (httpx over ASGI, no
network), requests one after another. Two realistic queries:

- "access list": the account page (the group, its divisions with the viewer's privileges, the
  access list with each grant's grantor) and the viewer's scopes;
- "members": a page of 100 members with the five fields guarded by MEMBERS_READ_PII.

Three variants of the same app, taking turns in short slices so that the machine's drift hits
all of them alike:

- "on": the app as it is;
- "allow-all": `PolicyStore.access_for` answers a map that allows everything in the viewer's
  own scopes, so no request computes access from the policy; field guards still run;
- "none": a schema built without field permission extensions, with the allow-all map.

The overhead is the share of a guarded request's CPU time (this process's, SQLite's thread
included) that goes away with no authorization at all: 1 - CPU(none) / CPU(on), slice by slice.
CPU time rather than wall time, because these machines are shared. "In authz" is the time a
guarded request spends inside the authorization functions themselves (instrumented). Then
10,000 grants are added (random new users in the other 29 groups, so that the measured responses
stay the same; Core inserts, then `rebuild_rules`) and everything is measured again, with the
time a policy reload takes (and how long it holds the event loop), and the time to build the
viewer's access map.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from unittest.mock import patch

import httpx
from sqlalchemy import insert, select
from starlette.applications import Starlette
from strawberry.permission import PermissionExtension
from strawberry.types.base import StrawberryObjectDefinition

from authz.access import AccessMap
from authz.enforcement import PolicyStore, rebuild_rules
from authz.policy import role_privileges
from authz.privileges import Privilege, Role
from authz.tokens import issue_access_token
from data import migrate
from data.database import Database
from data.demo import load_demo
from data.models.groups import Division, Group
from data.models.users import AccessGrant, User, UserKind, UserStatus
from groupgate.app import create_app
from groupgate.settings import Settings
from schema.permissions import Requires, RequiresOnLeaf
from schema.schema import build_schema
from tests.databases import backends, fresh_database

SECRET = b"benchmark-secret"
GROUPS = 30
EXTRA_GRANTS = 10_000
EXTRA_USERS = 2_000
SLICES = 24
WARM_UP = 20
# Requests per slice and variant: the members page costs several times the access list.
REQUESTS = {"access list": 16, "members": 5}
ADMIN = "admin@acme.example"
ACME = "Acme Manufacturing"
# Every kind of field guard the schema declares.
GUARDS = (PermissionExtension, RequiresOnLeaf)
VARIANTS = ("on", "allow-all", "none")

ACCESS_LIST = """
query AccessList($number: String!) {
  viewer { scopes { privileges group { legalName } } }
  group(groupNumber: $number) {
    legalName viewerPrivileges
    divisions { code viewerPrivileges }
    users { user { email } privileges grants { grantedBy { email } } }
  }
}"""
MEMBERS = """
query Members($number: String!) {
  group(groupNumber: $number) {
    members(first: 100) {
      edges { node { memberNumber firstName lastName birthDate ssnLast4 phone email } }
    }
  }
}"""
QUERIES = {"access list": ACCESS_LIST, "members": MEMBERS}
EVERYTHING = frozenset(Privilege)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Block:
    """Requests one after another: per wall-clock second, and CPU seconds each."""

    rate: float
    # This process's CPU (its threads too, so SQLite's): steadier than wall time on a shared
    # machine. PostgreSQL's own CPU is not in it, but the variants send the same statements.
    cpu: float


@dataclass(frozen=True)
class Figures:
    """One query at one grant count: each variant over all its slices, and time in authz."""

    blocks: dict[str, Block]
    # The overhead slice by slice: its quartiles show how much of the figure is noise.
    overheads: list[float]
    authz_seconds_per_request: float

    @property
    def overhead(self) -> float:
        """The share of a guarded request's CPU that goes away without authorization."""
        return 1 - self.blocks["none"].cpu / self.blocks["on"].cpu

    @property
    def quartiles(self) -> tuple[float, float]:
        low, _, high = statistics.quantiles(self.overheads, n=4)
        return low, high


@dataclass
class Stopwatch:
    """Time spent inside the instrumented authorization functions (outermost calls only)."""

    seconds: float = 0.0
    depth: int = 0

    def timed(self, function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            self.depth += 1
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.depth -= 1
                if self.depth == 0:
                    self.seconds += time.perf_counter() - started

        return wrapper

    def timed_async(self, function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        # These coroutines never suspend unless they reload the policy, so wall time is theirs.
        @functools.wraps(function)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            self.depth += 1
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                self.depth -= 1
                if self.depth == 0:
                    self.seconds += time.perf_counter() - started

        return wrapper


@contextlib.contextmanager
def instrumented(watch: Stopwatch) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for owner, name in [
            (PolicyStore, "access_for"),
            (AccessMap, "privileges"),
            (AccessMap, "reach"),
        ]:
            stack.enter_context(patch.object(owner, name, watch.timed(getattr(owner, name))))
        for owner, name in [(PolicyStore, "ensure_current"), (Requires, "has_permission")]:
            stack.enter_context(patch.object(owner, name, watch.timed_async(getattr(owner, name))))
        yield


@contextlib.contextmanager
def allow_all(scopes: dict[int, list[Any]]) -> Iterator[None]:
    """`access_for` answers everything in the user's own scopes (computed once, beforehand)."""

    def access_for(_store: PolicyStore, user_id: int) -> AccessMap:
        return AccessMap(held=[(scope, EVERYTHING) for scope in scopes[user_id]])

    with patch.object(PolicyStore, "access_for", access_for):
        yield


@contextlib.contextmanager
def without_field_guards() -> Iterator[None]:
    """Schemas built inside this block have no guard extension on any field.

    Strawberry wires field extensions into the resolvers when a schema is built, so removing
    them from the shared field definitions for the build (and restoring them) is enough.
    """
    guarded = []
    for concrete in build_schema().schema_converter.type_map.values():
        definition = concrete.definition
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for field in definition.fields:
            if any(isinstance(e, GUARDS) for e in field.extensions):
                guarded.append((field, list(field.extensions)))
                field.extensions = [e for e in field.extensions if not isinstance(e, GUARDS)]
    try:
        yield
    finally:
        for field, extensions in guarded:
            field.extensions = extensions


async def prepare(url: str) -> None:
    database = Database.connect(url)
    try:
        await migrate.upgrade(database.engine)
        await load_demo(database.engine, secret_key=SECRET, groups=GROUPS)
        await rebuild_rules(database)
    finally:
        await database.dispose()


async def add_grants(url: str, count: int, seed: int = 1) -> None:
    """`count` distinct single-privilege grants to new users, in every group but Acme."""
    chooser = random.Random(seed)
    database = Database.connect(url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(
                insert(User),
                [
                    {
                        "email": f"bench.user{n}@bench.example",
                        "name": f"Bench User {n}",
                        "kind": UserKind.EMPLOYER,
                        "status": UserStatus.ACTIVE,
                    }
                    for n in range(EXTRA_USERS)
                ],
            )
            users = list(
                await connection.scalars(select(User.id).where(User.email.like("bench.user%")))
            )
            groups = list(
                await connection.scalars(select(Group.id).where(Group.legal_name != ACME))
            )
            divisions: dict[int, list[int]] = {}
            for division_id, group_id in await connection.execute(
                select(Division.id, Division.group_id)
            ):
                divisions.setdefault(group_id, []).append(division_id)
            grantable = sorted(role_privileges()[Role.PRIMARY_ADMINISTRATOR.subject])
            grants: set[tuple[int, int, int | None, str]] = set()
            while len(grants) < count:
                group_id = chooser.choice(groups)
                # One grant in five is limited to a division, where the group has some.
                in_division = group_id in divisions and chooser.random() < 0.2
                grants.add(
                    (
                        chooser.choice(users),
                        group_id,
                        chooser.choice(divisions[group_id]) if in_division else None,
                        chooser.choice(grantable).value,
                    )
                )
            now = datetime.now(UTC)
            await connection.execute(
                insert(AccessGrant),
                [
                    {
                        "user_id": user_id,
                        "group_id": group_id,
                        "division_id": division_id,
                        "privilege": privilege,
                        "granted_at": now,
                    }
                    for user_id, group_id, division_id, privilege in sorted(grants, key=str)
                ],
            )
        await rebuild_rules(database)
    finally:
        await database.dispose()


@dataclass
class Served:
    app: Starlette
    client: httpx.AsyncClient

    async def ask(self, query: str, token: str, number: str) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": {"number": number}},
            headers={"authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body


async def block(served: Served, query: str, token: str, number: str, requests: int) -> Block:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        await served.ask(query, token, number)
    return Block(
        rate=requests / (time.perf_counter() - wall),
        cpu=(time.process_time() - cpu) / requests,
    )


def combined(blocks: list[Block]) -> Block:
    """Equal-sized blocks taken together."""
    return Block(
        rate=len(blocks) / sum(1 / b.rate for b in blocks),
        cpu=statistics.fmean(b.cpu for b in blocks),
    )


async def measure(
    guarded: Served, unguarded: Served, token: str, number: str, scopes: dict[int, list[Any]]
) -> dict[str, Figures]:
    found = {}
    for name, query in QUERIES.items():
        requests = REQUESTS[name]
        # The variants must answer the same data (bar the privileges lists allow-all widens).
        with allow_all(scopes):
            same = await unguarded.ask(query, token, number)
        assert _data(same) == _data(await guarded.ask(query, token, number)), name
        for served in (guarded, unguarded):
            for _ in range(WARM_UP):
                await served.ask(query, token, number)
        # Short slices, the variants taking turns: the machine's drift hits all of them alike.
        blocks: dict[str, list[Block]] = {variant: [] for variant in VARIANTS}
        for _ in range(SLICES):
            blocks["on"].append(await block(guarded, query, token, number, requests))
            with allow_all(scopes):
                blocks["allow-all"].append(await block(guarded, query, token, number, requests))
                blocks["none"].append(await block(unguarded, query, token, number, requests))
        watch = Stopwatch()
        with instrumented(watch):
            await block(guarded, query, token, number, requests * SLICES // 4)
        found[name] = Figures(
            blocks={variant: combined(measured) for variant, measured in blocks.items()},
            overheads=[
                1 - off.cpu / on.cpu for on, off in zip(blocks["on"], blocks["none"], strict=True)
            ],
            authz_seconds_per_request=watch.seconds / (requests * SLICES // 4),
        )
    return found


def _data(value: Any) -> Any:
    """The answer without the privileges lists, which allow-all widens on purpose."""
    if isinstance(value, dict):
        return {
            k: _data(v) for k, v in value.items() if k not in ("privileges", "viewerPrivileges")
        }
    if isinstance(value, list):
        return [_data(item) for item in value]
    return value


@dataclass(frozen=True)
class Reload:
    seconds: float
    # The longest the event loop went without running anything else meanwhile: every request
    # of the instance waits that long (each instance reloads after every change anywhere).
    stall: float


async def timed_reload(policy: PolicyStore) -> Reload:
    longest = 0.0

    async def ticker() -> None:
        nonlocal longest
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            longest = max(longest, now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)  # let it start
    started = time.perf_counter()
    await policy.reload()
    seconds = time.perf_counter() - started
    ticking.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ticking
    return Reload(seconds, longest)


def build_microseconds(policy: PolicyStore, user_id: int, times: int = 2000) -> float:
    started = time.perf_counter()
    for _ in range(times):
        policy.access_for(user_id).privileges(1)
    return (time.perf_counter() - started) / times * 1e6


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> Any:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as client:
            yield Served(app, client)


async def run_backend(backend: str, directory: Path) -> None:
    async with fresh_database(backend, directory) as url:
        await prepare(url)
        settings = Settings.model_validate(
            {
                "database_url": url,
                "signing_key_path": directory / "keys",
                "file_store_path": directory / "files",
            }
        )
        guarded_app = create_app(settings)
        with without_field_guards():
            unguarded_app = create_app(settings)
        async with serving(guarded_app) as guarded, serving(unguarded_app) as unguarded:
            policy: PolicyStore = guarded.app.state.policy
            database: Database = guarded.app.state.database
            async with database.reader.connect() as connection:
                admin_id = await connection.scalar(select(User.id).where(User.email == ADMIN))
                number = await connection.scalar(
                    select(Group.group_number).where(Group.legal_name == ACME)
                )
            assert admin_id is not None
            assert number is not None
            token = issue_access_token(
                guarded.app.state.signing_keys,
                guarded.app.state.token_settings,
                subject=f"user:{admin_id}",
            )
            scopes = {admin_id: [scope for scope, _ in policy.access_for(admin_id).held]}
            print_header(backend)
            for label in ("demo", f"+{EXTRA_GRANTS:,}"):
                if label != "demo":
                    await add_grants(url, EXTRA_GRANTS)
                    await unguarded.app.state.policy.reload()
                reloaded = await timed_reload(policy)
                rules = sum(len(links) for links in policy.loaded.links.values())
                build = build_microseconds(policy, admin_id)
                figures = await measure(guarded, unguarded, token, number, scopes)
                print_rows(label, rules, reloaded, build, figures)


def print_header(backend: str) -> None:
    print(f"-- {backend}")
    print(
        f"{'grants':>8} {'rules':>6} {'reload':>7} {'stall':>7} {'map':>6}  {'query':11}"
        f" {'req/s':>6}  {'CPU ms/request: on / allow-all / none':>37}"
        f" {'overhead (quartiles)':>24} {'in authz':>15}"
    )


def print_rows(
    label: str, rules: int, reloaded: Reload, build: float, figures: dict[str, Figures]
) -> None:
    for name, found in figures.items():
        on, everything, off = (found.blocks[variant] for variant in VARIANTS)
        low, high = found.quartiles
        share = found.authz_seconds_per_request / on.cpu
        print(
            f"{label:>8} {rules:>6} {reloaded.seconds * 1000:>5.0f}ms"
            f" {reloaded.stall * 1000:>5.0f}ms {build:>4.0f}µs  {name:11}"
            f" {on.rate:>6.1f}  {on.cpu * 1000:>21.1f} / {everything.cpu * 1000:5.1f}"
            f" / {off.cpu * 1000:5.1f} {found.overhead:>7.1%} ({low:5.1%}..{high:5.1%})"
            f" {found.authz_seconds_per_request * 1e6:>6.0f}µs ({share:4.1%})",
            flush=True,
        )


async def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        for backend in backends():
            (Path(directory) / backend).mkdir()
            await run_backend(backend, Path(directory) / backend)
