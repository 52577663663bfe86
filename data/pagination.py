"""Keyset pagination: pages that stay correct while rows are added, at any depth, in one query.

A page is asked for with `first`/`after` (forward) or `last`/`before` (backward); a position is
the tuple of the sort columns of a row (the last of them unique, e.g. the id).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import ColumnElement

Position = tuple[Any, ...]
SortColumn = ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True, slots=True)
class PageRequest:
    first: int | None = None
    after: Position | None = None
    last: int | None = None
    before: Position | None = None


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Any]
    positions: list[Position]
    has_next_page: bool
    has_previous_page: bool
    total_count: int | None


def _beyond(
    columns: Sequence[SortColumn], position: Position, forward: bool
) -> ColumnElement[bool]:
    """Rows strictly after (or before) a position, in the columns' ascending order.

    Spelled out as (a > x) OR (a = x AND b > y) ...: portable, and index-friendly on both backends.
    """
    clauses = []
    for index, column in enumerate(columns):
        equal = [columns[i] == position[i] for i in range(index)]
        step = column > position[index] if forward else column < position[index]
        clauses.append(and_(*equal, step))
    return or_(*clauses)


async def fetch_page(
    connection: AsyncConnection,
    statement: Select[Any],
    order: Sequence[SortColumn],
    request: PageRequest,
    *,
    count: bool,
) -> Page:
    """One page of `statement`'s rows in `order` (and, if asked, the count of all of them).

    The statement must select the `order` columns last: they are each row's position.
    """
    total = (
        await connection.scalar(select(func.count()).select_from(statement.subquery()))
        if count
        else None
    )
    forward = request.last is None
    size = request.first if forward else request.last
    assert size is not None
    page = statement
    if request.after is not None:
        page = page.where(_beyond(order, request.after, True))
    if request.before is not None:
        page = page.where(_beyond(order, request.before, False))
    page = page.order_by(*(order if forward else [column.desc() for column in order]))
    rows = list(await connection.execute(page.limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    width = len(order)
    return Page(
        rows=rows,
        positions=[tuple(row[-width:]) for row in rows],
        has_next_page=more if forward else request.before is not None,
        has_previous_page=request.after is not None if forward else more,
        total_count=None if total is None else int(total),
    )


async def fetch_pages(
    connection: AsyncConnection,
    statement: Select[Any],
    partition: SortColumn,
    parents: Sequence[Any],
    order: Sequence[SortColumn],
    request: PageRequest,
    *,
    count: bool,
) -> list[Page]:
    """`fetch_page` for many parents at once, in `parents` order: rows are numbered per parent
    (`partition`), and each keeps its first `size + 1` beyond the cursor (the extra one tells
    that there is more). `statement` must already be limited to the parents' rows; it selects
    the `order` columns last, as for `fetch_page`. One statement, and one more for the counts.
    """
    forward = request.last is None
    size = request.first if forward else request.last
    assert size is not None
    name = partition.key
    assert name is not None, "partition by a named column"
    totals: dict[Any, int] = {}
    if count:
        counted = statement.subquery()
        key = counted.c[name]
        found = await connection.execute(select(key, func.count()).group_by(key))
        totals = {parent: int(total) for parent, total in found}
    numbered = statement
    if request.after is not None:
        numbered = numbered.where(_beyond(order, request.after, True))
    if request.before is not None:
        numbered = numbered.where(_beyond(order, request.before, False))
    rank = func.row_number().over(
        partition_by=partition, order_by=[c if forward else c.desc() for c in order]
    )
    ranked = numbered.add_columns(rank.label("page_rank")).subquery()
    rows = await connection.execute(
        select(ranked)
        .where(ranked.c.page_rank <= size + 1)
        .order_by(ranked.c[name], ranked.c.page_rank)
    )
    by_parent: dict[Any, list[Any]] = {}
    for row in rows:
        by_parent.setdefault(row._mapping[name], []).append(tuple(row)[:-1])
    width = len(order)
    pages = []
    for parent in parents:
        found_rows = by_parent.get(parent, [])
        more = len(found_rows) > size
        found_rows = found_rows[:size]
        if not forward:
            found_rows.reverse()
        pages.append(
            Page(
                rows=found_rows,
                positions=[tuple(row[-width:]) for row in found_rows],
                has_next_page=more if forward else request.before is not None,
                has_previous_page=request.after is not None if forward else more,
                total_count=totals.get(parent, 0) if count else None,
            )
        )
    return pages


def _mirrored(request: PageRequest) -> PageRequest:
    """The request for the ascending list whose page, turned around, is the descending page."""
    return PageRequest(
        first=request.last, after=request.before, last=request.first, before=request.after
    )


def _turned(page: Page) -> Page:
    return Page(
        rows=page.rows[::-1],
        positions=page.positions[::-1],
        has_next_page=page.has_previous_page,
        has_previous_page=page.has_next_page,
        total_count=page.total_count,
    )


async def fetch_page_newest_first(
    connection: AsyncConnection,
    statement: Select[Any],
    order: Sequence[Any],
    request: PageRequest,
    *,
    count: bool,
) -> Page:
    """A page in descending `order`: the mirror page of the ascending list, turned around."""
    return _turned(await fetch_page(connection, statement, order, _mirrored(request), count=count))


class GroupPageKey(Protocol):
    """What a batch of per-group pages is keyed by: a frozen dataclass with at least these."""

    @property
    def group_id(self) -> int: ...

    @property
    def request(self) -> PageRequest: ...

    @property
    def count(self) -> bool: ...


K = TypeVar("K", bound=GroupPageKey)


async def fetch_group_pages(
    connection: AsyncConnection,
    keys: Sequence[K],
    rows_of: Callable[[list[int], K], Select[Any]],
    partition: SortColumn,
    order: Sequence[SortColumn],
    *,
    newest_first: bool = False,
) -> list[Page]:
    """Each key's page of its group's rows, for a loader batching one list field of many groups.

    Keys asking the same of different groups (a list of groups, each with its list) share one
    window-numbered statement (`fetch_pages`); a lone group is paged with LIMIT by its index, as
    a window over the whole group would cost more. `rows_of(group_ids, key)` is the statement
    for those groups, with the `order` columns last; keys are frozen dataclasses.
    """
    alike: dict[Any, list[K]] = defaultdict(list)
    for key in keys:
        alike[replace(key, group_id=0)].append(key)  # type: ignore[type-var]
    found: dict[K, Page] = {}
    for same in alike.values():
        first = same[0]
        group_ids = list(dict.fromkeys(key.group_id for key in same))
        statement = rows_of(group_ids, first)
        request = _mirrored(first.request) if newest_first else first.request
        if len(group_ids) == 1:
            pages = [await fetch_page(connection, statement, order, request, count=first.count)]
        else:
            pages = await fetch_pages(
                connection, statement, partition, group_ids, order, request, count=first.count
            )
        by_group = dict(zip(group_ids, pages, strict=True))
        for key in same:
            page = by_group[key.group_id]
            found[key] = _turned(page) if newest_first else page
    return [found[key] for key in keys]
