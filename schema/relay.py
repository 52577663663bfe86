"""Relay conventions: the Node interface and cursor connections over pages of records."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import strawberry

from data.pagination import Page
from resolvers.pagination import encode_cursor
from schema.common import served_as

T = TypeVar("T")


@strawberry.interface(description="An object with a global ID, which `node(id)` fetches again.")
class Node:
    @strawberry.field(description="Opaque: give it back to `node(id)`, never parse it.")
    def id(self) -> strawberry.ID:
        raise NotImplementedError  # every implementing type answers it


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list, with cursors to walk it either way.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int | None = strawberry.field(
        description="How many there are in all (counted only when asked for)."
    )


C = TypeVar("C", bound=Connection[Any])


def connection(page: Page, records: list[object], graphql_type: type[T], kind: type[C]) -> C:
    """A `kind` connection of the page's records (served as `graphql_type`), in page order."""
    cursors = [encode_cursor(position) for position in page.positions]
    nodes = served_as(records, graphql_type)
    return kind(
        edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        total_count=page.total_count,
    )
