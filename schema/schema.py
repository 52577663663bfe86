"""The assembled schema: every domain's queries and mutations merged into one."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.applications import ApplicationsMutation, ApplicationsQuery
from schema.billing import BillingMutation
from schema.brokers import BrokersMutation, BrokersQuery
from schema.commissions import CommissionsQuery
from schema.enrollment import EnrollmentMutation, EnrollmentQuery
from schema.enrollment_batches import EnrollmentBatchesMutation, EnrollmentBatchesQuery
from schema.errors import ClassifiedErrors
from schema.execution import ShortcutExecutor
from schema.groups import GroupsQuery
from schema.id_cards import IdCardsMutation
from schema.member_changes import MemberChangesMutation
from schema.nodes import NODE_TYPES, NodesQuery
from schema.plans import PlansQuery
from schema.quotes import QuotesMutation, QuotesQuery
from schema.renewal_changes import RenewalChangesMutation, RenewalChangesQuery
from schema.renewals import RenewalsQuery
from schema.users import UsersMutation, UsersQuery

Query = merge_types(
    "Query",
    (
        UsersQuery,
        GroupsQuery,
        NodesQuery,
        BrokersQuery,
        PlansQuery,
        EnrollmentQuery,
        EnrollmentBatchesQuery,
        RenewalsQuery,
        RenewalChangesQuery,
        CommissionsQuery,
        QuotesQuery,
        ApplicationsQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        UsersMutation,
        BrokersMutation,
        MemberChangesMutation,
        BillingMutation,
        IdCardsMutation,
        EnrollmentMutation,
        EnrollmentBatchesMutation,
        RenewalChangesMutation,
        QuotesMutation,
        ApplicationsMutation,
    ),
)

# Abuse limits: each refused with a clear error before any resolver (and so any SQL) runs.
MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000
MAX_BATCH = 10

# The limiters' validation rules, made once: a rule class made per request would be a new
# key each time, and the validation cache would never hit (measured: bench/RESULTS.md).
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


class Limits(AddValidationRules):
    def __init__(self) -> None:
        super().__init__(LIMIT_RULES)


def build_schema(*, production: bool = False, shortcuts: bool = True) -> strawberry.Schema:
    """The schema; `shortcuts=False` executes with Strawberry's stock executor, for tests that
    compare the two paths."""
    # Factories: an extension instance keeps per-request state, so each request gets its own.
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        # Frontends send the same few documents again and again: parse and validate once.
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        Limits,
        ClassifiedErrors,
    ]
    if production:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=NODE_TYPES,
        extensions=extensions,
        execution_context_class=ShortcutExecutor if shortcuts else None,
        config=StrawberryConfig(
            disable_field_suggestions=production,
            batching_config={"max_operations": MAX_BATCH},
        ),
    )
