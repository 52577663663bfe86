"""The GraphQL endpoint: Strawberry's ASGI app with our request context, served as the
GraphQL-over-HTTP specification says (media types, status codes, GET only for queries)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse

from groupgate.authentication import USER_STATE, BearerAuthentication
from resolvers.applications.submission import MAX_APPLICATION_BYTES
from resolvers.context import Context
from resolvers.enrollment_batches import MAX_FILE_BYTES
from schema.schema import build_schema

GRAPHQL_RESPONSE = "application/graphql-response+json"
MAX_BODY_BYTES = 100 * 1024
# A multipart request carries a file (an enrollment batch of at most 50 MB) and its envelope.
MAX_UPLOAD_BODY_BYTES = MAX_FILE_BYTES + 1024 * 1024
# An unsigned multipart request is a prospect's application: its documents (at most 24 MB in
# all) and the envelope.
MAX_ANONYMOUS_UPLOAD_BODY_BYTES = MAX_APPLICATION_BYTES + 1024 * 1024


def _prefers_graphql_response(accept: str) -> bool:
    """Whether the client asks for the spec's own media type (before plain JSON)."""
    kinds = [part.split(";", 1)[0].strip().lower() for part in accept.split(",")]
    if GRAPHQL_RESPONSE not in kinds:
        return False
    return "application/json" not in kinds or kinds.index(GRAPHQL_RESPONSE) < kinds.index(
        "application/json"
    )


class GraphQLEndpoint(GraphQL[Context, None]):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # As Strawberry serves a request, and then the uploaded files (spooled to disk past
        # 1 MB) are closed whatever became of it: a refused operation left them to the garbage
        # collector.
        request = Request(scope=scope, receive=receive)
        try:
            try:
                response = await self.run(request)
            except HTTPException as refused:
                response = PlainTextResponse(refused.reason, status_code=refused.status_code)
        finally:
            await request.close()
        await response(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        state = request.app.state
        now = datetime.now(UTC)
        # A grant that expired since the policy was loaded must not answer this request.
        await state.policy.ensure_current(now)
        return Context(
            database=state.database,
            policy=state.policy,
            user=getattr(request.state, USER_STATE, None),
            request_id=request.state.request_id,
            address=request.client.host if request.client else None,
            public_url=state.settings.token_issuer,
            now=now,
            secret_key=state.settings.secret_key.get_secret_value().encode(),
            files=state.file_store,
            batch_queued=state.batch_queued,
        )

    async def get_root_value(self, request: Request | WebSocket) -> None:
        return None

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.graphql_response = _prefers_graphql_response(  # type: ignore[attr-defined]
            request.headers.get("accept", "")
        )
        return sub_response

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if getattr(sub_response, "graphql_response", False):
            response.headers["content-type"] = GRAPHQL_RESPONSE
            # A request error (nothing executed: no data at all) is the client's: 400.
            if isinstance(response_data, dict) and _is_request_error(response_data):
                response.status_code = 400
        return response


def _is_request_error(data: GraphQLHTTPResponse) -> bool:
    errors: list[Any] = list(data.get("errors") or [])
    return data.get("data") is None and bool(errors) and all("path" not in e for e in errors)


class BodyLimit:
    """Refuse a request body over the limit (413), before it is read whole or parsed.

    File uploads (multipart requests) have larger limits of their own: a signed one the
    enrollment batch's, an unsigned one (a prospect's application with its documents) a
    smaller one; every other request keeps the small limit. The body is counted as it streams.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        max_upload_bytes: int = MAX_UPLOAD_BODY_BYTES,
        max_anonymous_upload_bytes: int = MAX_ANONYMOUS_UPLOAD_BODY_BYTES,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes
        self.max_anonymous_upload_bytes = max_anonymous_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
        if content_type != b"multipart/form-data":
            limit = self.max_bytes
        elif b"authorization" in headers:
            limit = self.max_upload_bytes
        else:
            limit = self.max_anonymous_upload_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        message = f"request body over {limit // 1024} KB"
        body = {"errors": [{"message": message, "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]}
        await JSONResponse(body, status_code=413)(scope, receive, send)


class _TooLarge(Exception):
    pass


def graphql_endpoint(*, development: bool) -> ASGIApp:
    # GraphiQL and introspection are development conveniences: production serves the API only.
    graphql = GraphQLEndpoint(
        build_schema(production=not development),
        graphql_ide="graphiql" if development else None,
        # Enrollment files come as GraphQL multipart requests. No CSRF exposure: a request is
        # authenticated by its Authorization header, never by a cookie a browser would add.
        multipart_uploads_enabled=True,
    )
    return BodyLimit(BearerAuthentication(graphql))
