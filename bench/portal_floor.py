"""The floor: the portal operations' batched SQL run with asyncpg, shaped with orjson, no GraphQL.

A bare ASGI app, served by uvicorn like the gateway (`uvicorn bench.portal_floor:app`):
`POST /op/<operation>` with `{"variables": {...}}` answers `{"data": ...}`, the same bytes the
GraphQL server answers. It authenticates and authorizes nothing and parses no query: it is what
the same SQL costs without the layers above it (see ../shared/PERFORMANCE.md).
"""

from __future__ import annotations

import os
from typing import Any

import asyncpg
import orjson
from starlette.types import Message, Receive, Scope, Send

from bench.portal_operations import OPERATIONS

DATABASE_URL_VARIABLE = "PORTAL_FLOOR_DATABASE_URL"
# As many connections as the gateway's engine may open (pool_size 10 + max_overflow 10).
POOL_SIZE = 20


class Floor:
    def __init__(self) -> None:
        self._pool: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"] == "/healthz":
            await _respond(send, 200, b'{"status":"ok"}')
            return
        operation = OPERATIONS.get(scope["path"].removeprefix("/op/"))
        if operation is None or scope["method"] != "POST":
            await _respond(send, 404, b'{"error":"no such operation"}')
            return
        variables = orjson.loads(await _body(receive))["variables"]
        # One connection per request, its statements one after the other: one per level.
        async with self._pool.acquire() as connection:
            data = await operation.floor(connection, variables)
        await _respond(send, 200, orjson.dumps({"data": data}))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                dsn = os.environ[DATABASE_URL_VARIABLE].replace(
                    "postgresql+asyncpg:", "postgresql:"
                )
                self._pool = await asyncpg.create_pool(dsn, min_size=1, max_size=POOL_SIZE)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._pool is not None:
                    await self._pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message: Message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


app = Floor()
