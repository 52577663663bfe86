"""The GraphQL endpoint: Strawberry's ASGI app with our request context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from data.database import Database
from resolvers.context import Context
from schema.schema import build_schema


class GraphQLEndpoint(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        database: Database = request.app.state.database
        return Context(database=database, request_id=request.state.request_id)

    async def get_root_value(self, request: Request | WebSocket) -> None:
        return None


def graphql_endpoint(*, development: bool) -> Any:
    # GraphiQL is a development convenience: production serves the API only.
    return GraphQLEndpoint(build_schema(), graphql_ide="graphiql" if development else None)
