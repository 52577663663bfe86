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

Anything unusual on the way (a refusal, a null in a non-null field, a value that does not
coerce) takes graphql-core's own path, which then raises or completes exactly as it always does:
the shortcut only ever answers what the full path would have answered.

Other fields without arguments or extensions (a member's coverage, a line's plan, an edge's
node) are called directly with graphql-core's resolve info, skipping Strawberry's resolver
wrapper (argument conversion, its own `Info`, the extension chain), and completed by
graphql-core as always. The rest (arguments, permissions) goes through Strawberry untouched.
The whole test suite runs through this executor; `tests/test_execution.py` compares the paths.
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
    GraphQLResolveInfo,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import Info
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


# A non-leaf field (or a leaf field whose resolver takes `info`) resolved without Strawberry's
# wrapper: its value from (source, resolve info), completed by graphql-core as always.
Direct = Callable[[Any, GraphQLResolveInfo[Any]], Any]


def _direct(field_def: GraphQLField) -> Direct | None:
    """A field Strawberry would only call: an attribute, or a resolver of `self` (and `info`)
    with no arguments and no extensions. Its value may be awaitable; graphql-core completes it."""
    definition = field_def.extensions.get("strawberry-definition")
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return None
    resolver = definition.base_resolver
    if resolver is None:
        name = definition.python_name

        def attribute(source: Any, _info: GraphQLResolveInfo[Any]) -> Any:
            return getattr(source, name)

        return attribute
    if (
        resolver.arguments
        or resolver.root_parameter is not None
        or resolver.parent_parameter is not None
        or resolver.self_parameter is None
    ):
        return None
    function = cast(Callable[..., Any], resolver.wrapped_func)
    if resolver.info_parameter is None:
        return lambda source, _info: function(source)
    return lambda source, info: function(source, Info(_raw_info=info, _field=definition))


def shortcut_of(field_def: GraphQLField) -> Shortcut | None:
    return _planned(field_def)[0]


def _planned(field_def: GraphQLField) -> tuple[Shortcut | None, Direct | None]:
    """A field definition's ways in, worked out on first use and kept on the definition (it
    lives as long as its schema)."""
    found: tuple[Shortcut | None, Direct | None] | None = getattr(field_def, _PLANNED, None)
    if found is None:
        found = (_shortcut(field_def), _direct(field_def))
        setattr(field_def, _PLANNED, found)
    return found


_PLANNED = "_groupgate_planned"


# A field of a selection set: its response name, its field nodes, its definition and ways in.
PlannedField = tuple[str, FieldDetailsList, GraphQLField | None, Shortcut | None, Direct | None]


class ShortcutExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor; `execute_fields` is its own, with the shortcut in the loop.

    graphql-core collects a selection set's fields once per request and type and hands the same
    `grouped_field_set` for every object of a list, so the shortcuts are looked up once per
    selection set too (`_plans`), not once per field and object.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[int, tuple[GroupedFieldSet, list[PlannedField]]] = {}

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> list[PlannedField]:
        found = self._plans.get(id(grouped_field_set))
        if found is not None and found[0] is grouped_field_set:
            return found[1]
        plan: list[PlannedField] = []
        for name, field_details_list in grouped_field_set.items():
            field_def = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
            if field_def is None:
                plan.append((name, field_details_list, None, None, None))
            else:
                plan.append((name, field_details_list, field_def, *_planned(field_def)))
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

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
        # From here on graphql-core's own `execute_fields`, but for the first three lines of
        # the loop.
        context = self.context_value
        is_awaitable = self.is_awaitable
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        try:
            for name, details, field_def, shortcut, direct in self._plan(
                parent_type, grouped_field_set
            ):
                if shortcut is not None:
                    value = shortcut(source_value, context)
                    if value is not SLOW:
                        results[name] = value
                        continue
                field_path = Path(path, name, parent_type.name)
                if direct is None or field_def is None:
                    result = self.execute_field(
                        parent_type, source_value, details, field_path, position_context
                    )
                else:
                    result = self._execute_direct(
                        parent_type,
                        source_value,
                        details,
                        field_path,
                        position_context,
                        field_def,
                        direct,
                    )
                if result is not Undefined:
                    results[name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _execute_direct(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
        field_def: GraphQLField,
        direct: Direct,
    ) -> Any:
        """graphql-core's `execute_field` for a field without arguments, with `direct` in place
        of Strawberry's resolver wrapper: the same completion and the same error handling."""
        return_type = field_def.type
        nodes = [details.node for details in field_details_list]
        info = self.build_resolve_info(field_def, nodes, parent_type, path)
        try:
            result = direct(source, info)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, path, result, position_context
                )
            completed = self.complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
            if self.is_awaitable(completed):
                return self._await_completed(completed, return_type, field_details_list, path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        return completed

    async def _await_completed(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
