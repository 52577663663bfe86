"""The assembled schema: every domain's queries and mutations merged into one."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.tools import merge_types

from schema.brokers import BrokersMutation, BrokersQuery
from schema.errors import ClassifiedErrors
from schema.groups import GroupsQuery
from schema.plans import PlansQuery
from schema.users import UsersMutation, UsersQuery

Query = merge_types("Query", (UsersQuery, GroupsQuery, BrokersQuery, PlansQuery))
Mutation = merge_types("Mutation", (UsersMutation, BrokersMutation))


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[
            # Frontends send the same few documents again and again: parse and validate once.
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
            ClassifiedErrors,
        ],
    )
