"""The execution path: graphql-core's executor, with a shortcut for the commonest field.

A 100-member dashboard resolves about 2,500 fields, three quarters of them leaves: a member's
name, a plan's code, an ID. graphql-core and Strawberry spend ~15 µs on each (a resolve-info
object, Strawberry's resolver wrapper, the extension chain, a `Path`, value completion), where
reading the attribute and coercing it is a microsecond (PERFORMANCE.md, "an execution context
that reads plain scalar fields with `getattr`"). So a leaf field of one of three shapes is
answered directly:

- a plain attribute (Strawberry's own default resolver);
- a plain attribute guarded by `RequiresOnLeaf` (personal data): the same lookup in the request's
  access map that the guard makes;
- a synchronous resolver of `self` alone (an object's global ID).

Anything else, and anything unusual on the way (a refusal, a null in a non-null field, a value
that does not coerce), takes graphql-core's own path, which then raises or completes exactly as
it always does: the shortcut only ever answers what the full path would have answered. The
whole test suite runs through this executor; `tests/test_execution.py` compares the two paths.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from schema.permissions import RequiresOnLeaf

# Answers a field from its source and the request's context, or SLOW to take the full path.
Shortcut = Callable[[Any, Any], Any]
SLOW: Any = object()


def _leaf_type(return_type: GraphQLOutputType) -> tuple[GraphQLLeafType, bool] | None:
    non_null = isinstance(return_type, GraphQLNonNull)
    named = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    return (named, non_null) if is_leaf_type(named) else None


def _shortcut(field_def: GraphQLField) -> Shortcut | None:
    """The shortcut for a field, if it has one of the three shapes."""
    definition = field_def.extensions.get("strawberry-definition")
    leaf = _leaf_type(field_def.type)
    if not isinstance(definition, StrawberryField) or leaf is None:
        return None
    leaf_type, non_null = leaf
    coerce = leaf_type.coerce_output_value
    read: Callable[[Any, Any], Any]
    resolver = definition.base_resolver
    if definition.is_basic_field:  # no resolver, no extensions: Strawberry reads the attribute
        name = definition.python_name

        def read(source: Any, _context: Any) -> Any:
            return getattr(source, name)

    elif resolver is None and [type(e) for e in definition.extensions] == [RequiresOnLeaf]:
        [guard] = definition.extensions
        name, privilege = definition.python_name, guard.privilege  # type: ignore[attr-defined]

        def read(source: Any, context: Any) -> Any:
            division_id = getattr(source, "division_id", None)
            if not context.access.allows(privilege, source.group_id, division_id):
                return SLOW  # the guard refuses: the full path raises its error
            return getattr(source, name)

    elif (
        resolver is not None
        and not definition.extensions
        and not resolver.is_async
        and not resolver.arguments
        and resolver.info_parameter is None
        and resolver.root_parameter is None
        and resolver.parent_parameter is None
        and resolver.self_parameter is not None
    ):
        function = cast(Callable[[Any], Any], resolver.wrapped_func)

        def read(source: Any, _context: Any) -> Any:
            return function(source)

    else:
        return None

    def shortcut(source: Any, context: Any) -> Any:
        try:
            value = read(source, context)
            if value is SLOW:
                return SLOW
            if value is None:
                return SLOW if non_null else None
            coerced = coerce(value)
        except Exception:  # the full path raises it again, located and classified
            return SLOW
        return SLOW if coerced is None or coerced is Undefined else coerced

    return shortcut


# Per field definition, built on first use; the definition is kept so that its id stays its own.
_SHORTCUTS: dict[int, tuple[GraphQLField, Shortcut | None]] = {}


def shortcut_of(field_def: GraphQLField) -> Shortcut | None:
    found = _SHORTCUTS.get(id(field_def))
    if found is None or found[0] is not field_def:
        found = _SHORTCUTS[id(field_def)] = (field_def, _shortcut(field_def))
    return found[1]


class ShortcutExecutor(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        # A schema extension with a `resolve` hook sees every field: then no shortcut at all.
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        answered: dict[str, Any] = {}
        rest: GroupedFieldSet = {}
        for response_name, field_details_list in grouped_field_set.items():
            field_def = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
            shortcut = shortcut_of(field_def) if field_def else None
            value = SLOW if shortcut is None else shortcut(source_value, self.context_value)
            if value is SLOW:
                rest[response_name] = field_details_list
            else:
                answered[response_name] = value
        if not rest:
            return answered
        results = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if not answered:
            return results
        if isinstance(results, dict):
            return _merged(grouped_field_set, answered, results)
        return self._merged_later(grouped_field_set, answered, results)

    async def _merged_later(
        self,
        grouped_field_set: GroupedFieldSet,
        answered: dict[str, Any],
        results: Awaitable[dict[str, Any]],
    ) -> dict[str, Any]:
        return _merged(grouped_field_set, answered, await results)


def _merged(
    grouped_field_set: GroupedFieldSet, answered: dict[str, Any], results: dict[str, Any]
) -> dict[str, Any]:
    """Both parts' answers, in the order of the query (which the response keeps)."""
    merged = {}
    for name in grouped_field_set:
        if name in answered:
            merged[name] = answered[name]
        elif name in results:  # a field graphql-core left out (an unknown one) stays out
            merged[name] = results[name]
    return merged
