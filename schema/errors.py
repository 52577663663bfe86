"""Errors, two kinds: business errors in each payload's `errors`, and top-level GraphQL errors
for the rest (authentication, authorization, bad arguments, and — masked — anything unexpected).
"""

from __future__ import annotations

import logging

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from resolvers.errors import ErrorCode, FieldError, NotAllowed, NotAuthenticated, Refused

log = logging.getLogger(__name__)

strawberry.enum(ErrorCode, description="Why an input was refused.")


@strawberry.type(description="A refused input: nothing was changed.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
    message: str
    code: ErrorCode


def user_errors(refused: Refused) -> list[UserError]:
    return [to_user_error(error) for error in refused.errors]


def to_user_error(error: FieldError) -> UserError:
    return UserError(field=error.field, message=error.message, code=error.code)


class ClassifiedErrors(MaskErrors):
    """Give every top-level error a code; mask unexpected ones behind the request id."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _error: True)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            return error  # syntax, validation and limits: already safe and precise
        if isinstance(original, NotAuthenticated):
            return self._coded(error, "sign in first", "UNAUTHENTICATED")
        if isinstance(original, NotAllowed):
            return self._coded(error, f"forbidden: needs {original}", "FORBIDDEN")
        if isinstance(original, Refused):
            first = original.errors[0]
            return self._coded(error, first.message, first.code.value, field=first.field)
        request_id = getattr(self.execution_context.context, "request_id", None)
        log.error("unexpected error in request %s", request_id, exc_info=original)
        return self._coded(error, "internal error", "INTERNAL", requestId=request_id)

    @staticmethod
    def _coded(error: GraphQLError, message: str, code: str, **extra: object) -> GraphQLError:
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": code, **{k: v for k, v in extra.items() if v is not None}},
        )
