"""`create_app`: the Starlette application, wired explicitly from settings."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from authz import keys
from authz.enforcement import PolicyStore, watching
from authz.remote_keys import RemoteKeySet
from authz.tokens import TokenSettings
from data.database import Database
from data.files import LocalFileStore
from groupgate import housekeeping
from groupgate.authentication import TokenSource
from groupgate.downloads import download_routes
from groupgate.graphql import graphql_endpoint
from groupgate.health import healthz, readyz
from groupgate.oauth_routes import oauth_routes
from groupgate.settings import Settings
from resolvers import enrollment_batches, loaders

REQUEST_ID_HEADER = "x-request-id"
SETTLE_SECONDS = 10  # the longest a stopping server waits for loader batches still running


class RequestIdMiddleware:
    """Give every request an id (the caller's, if it sent a sane one), echoed in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = sent if 8 <= len(sent) <= 64 and sent.isascii() and sent.isprintable() else ""
        request_id = request_id or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_id)


def token_settings(settings: Settings) -> TokenSettings:
    return TokenSettings(
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        access_token_ttl=timedelta(minutes=settings.access_token_minutes),
    )


async def token_source(
    settings: Settings, signing_keys: keys.SigningKeys, http: httpx.AsyncClient
) -> TokenSource:
    """Our own tokens, or only an external identity provider's when one is configured."""
    if settings.external_identity is None:
        return TokenSource(token_settings(settings), local_keys=signing_keys.all)
    issuer, audience, jwks_url = settings.external_identity
    remote = RemoteKeySet(jwks_url, http)
    await remote.refresh()
    external = TokenSettings(
        issuer=issuer,
        audience=audience,
        algorithms=("RS256", "ES256", "PS256"),
        external=True,
    )
    return TokenSource(external, remote_keys=remote)


def worker_name(index: int = 0) -> str:
    """Names a batch worker in its lease: which host and process holds a batch."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{index}"


@asynccontextmanager
async def batch_workers(
    settings: Settings, database: Database, store: LocalFileStore, queued: asyncio.Event
) -> AsyncIterator[None]:
    """The server's own enrollment batch workers, woken by uploads; stopped with the server
    (a batch in progress goes back to the queue at its next chunk)."""
    stop = asyncio.Event()
    workers = [
        enrollment_batches.Worker(
            database=database,
            store=store,
            secret_key=settings.secret_key.get_secret_value().encode(),
            name=worker_name(index),
        )
        for index in range(settings.batch_workers)
    ]
    tasks = [
        asyncio.create_task(enrollment_batches.run(worker, stop, wake=queued)) for worker in workers
    ]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    settings.check()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        database = Database.connect(
            settings.database_url,
            **(
                {}
                if settings.database_backend == "sqlite"
                else {"pool_size": settings.database_pool_size}
            ),
        )
        app.state.database = database
        app.state.file_store = LocalFileStore(settings.file_store_path)
        app.state.batch_queued = asyncio.Event()
        # Production refused to start without a key; development makes its first one.
        app.state.signing_keys = (
            keys.load(settings.signing_key_path)
            if settings.is_production
            else keys.load_or_create(settings.signing_key_path)
        )
        app.state.token_settings = token_settings(settings)
        policy = PolicyStore(database)
        app.state.policy = policy
        async with httpx.AsyncClient() as http:
            app.state.token_source = await token_source(settings, app.state.signing_keys, http)
            try:
                await policy.start()
                # Everything made at start-up lives as long as the process: keep the collector
                # from walking it again and again under load.
                gc.collect()
                gc.freeze()
                async with (
                    watching(policy),
                    batch_workers(settings, database, app.state.file_store, app.state.batch_queued),
                    housekeeping.running(database, settings.housekeeping_interval),
                ):
                    yield
            finally:
                # Batches a request left running (a field's error ends it before them).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(SETTLE_SECONDS):
                        await loaders.settle()
                await database.dispose()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route(
                "/graphql",
                graphql_endpoint(development=not settings.is_production),
                methods=["GET", "POST"],
            ),
            *download_routes(),
            # The built-in authorization server, unless an external identity provider issues tokens.
            *(oauth_routes() if settings.external_identity is None else []),
        ],
        middleware=[Middleware(RequestIdMiddleware)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
