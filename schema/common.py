"""Types and helpers every domain of the schema shares."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Iterable
from typing import Any, TypeAlias, TypeVar, Union, cast

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from resolvers.context import Context

T = TypeVar("T")
# What a field resolver may return: the value, or (when it was not loaded yet) an awaitable.
MaybeAwaitable: TypeAlias = Union[T, Awaitable[T]]  # noqa: UP007 (a generic alias)
Info = strawberry.Info[Context, None]


@strawberry.type(description="An exact amount of money.")
class Money:
    amount: int = strawberry.field(description="In the currency's minor unit (cents).")
    currency: str = strawberry.field(description="ISO 4217 code.")

    @classmethod
    def usd(cls, cents: int) -> Money:
        return cls(amount=cents, currency="USD")


def served_as(records: Iterable[Any], graphql_type: type[T]) -> list[T]:
    """Serve records of `data/` as a GraphQL type without copying them.

    Strawberry reads a type's plain fields by attribute, so a record with the same attribute
    names is answered as it is (PERFORMANCE.md: leaf fields are attribute reads).
    """
    return cast(list[T], list(records))


def global_id(type_name: str, key: int) -> strawberry.ID:
    """Opaque ID naming the type and its key, as Relay clients expect."""
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode())


def parse_global_id(value: str, type_name: str) -> int | None:
    """The key of an ID of the given type; None for anything else (malformed, another type)."""
    try:
        name, _, key = base64.urlsafe_b64decode(value.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if name != type_name or not key.isdigit() or len(key) > 18:
        return None
    return int(key)


SelectionTree = dict[str, "SelectionTree"]


def selection_tree(selections: Iterable[Selection]) -> SelectionTree:
    """The field names a selection reads, nested, with fragments merged into their fields."""
    tree: SelectionTree = {}
    for selection in selections:
        if isinstance(selection, SelectedField):
            below = tree.setdefault(selection.name, {})
            for name, subtree in selection_tree(selection.selections).items():
                _merge(below.setdefault(name, {}), subtree)
        else:
            _merge(tree, selection_tree(selection.selections))
    return tree


def _merge(into: SelectionTree, tree: SelectionTree) -> None:
    for name, subtree in tree.items():
        _merge(into.setdefault(name, {}), subtree)


def selected_below(info: Info) -> SelectionTree:
    """`selection_tree` of what the query reads of this field's result."""
    return selection_tree(s for field in info.selected_fields for s in field.selections)


def selects(info: Info, name: str) -> bool:
    """Whether the query selects `name` on this field's result (to skip work nobody asked for)."""
    return any(
        getattr(selection, "name", None) == name
        for field in info.selected_fields
        for selection in field.selections
    )
