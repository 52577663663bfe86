"""The assembled schema: every domain's queries and mutations merged into one."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.tools import merge_types

from schema.plans import PlansQuery

Query = merge_types("Query", (PlansQuery,))


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        # Frontends send the same few documents again and again: parse and validate them once.
        extensions=[lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)],
    )
