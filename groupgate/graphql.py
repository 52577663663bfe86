"""The GraphQL endpoint: Strawberry's ASGI app with our request context."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from groupgate.authentication import USER_STATE, BearerAuthentication
from resolvers.context import Context
from schema.schema import build_schema


class GraphQLEndpoint(GraphQL[Context, None]):
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
        )

    async def get_root_value(self, request: Request | WebSocket) -> None:
        return None


def graphql_endpoint(*, development: bool) -> BearerAuthentication:
    # GraphiQL is a development convenience: production serves the API only.
    graphql = GraphQLEndpoint(build_schema(), graphql_ide="graphiql" if development else None)
    return BearerAuthentication(graphql)
