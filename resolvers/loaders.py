"""Per-request dataloaders over the plain batch functions of `data/`.

A loader binds the running event loop, so one set is built per request, lazily, never at import.
Each batch opens its own autocommit connection: concurrent batches never share a session.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import cached_property
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from data import groups, members, plans, users
from data.groups import DivisionRecord, GroupRecord
from data.members import CoverageRecord, MemberRecord, MembersPageKey
from data.pagination import Page
from data.plans import BenefitsRecord, PlanRecord, PlanYearKey, RateRecord
from data.users import UserRecord

K = TypeVar("K")
V = TypeVar("V")

BatchFunction = Callable[[AsyncConnection, Sequence[K]], Awaitable[list[V]]]


class Missing(enum.Enum):
    """Not in a loader's cache yet: the value has to be awaited."""

    MISSING = enum.auto()


MISSING = Missing.MISSING


# Batches running in this process. A request can end before all of its batches do: graphql-core
# answers a field's error without waiting for the batches its siblings started. A server that
# stops waits for them (`settle`) before it closes its connections.
_RUNNING: set[asyncio.Task[Any]] = set()


async def settle() -> None:
    """Wait until no loader batch of this event loop is running, including batches already
    dispatched but not yet started (bound it with `asyncio.timeout`)."""
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(0)  # let dispatched batches start
        running = [task for task in _RUNNING if task.get_loop() is loop and not task.done()]
        if not running:
            return
        await asyncio.wait(running)


class BatchLoader(DataLoader[K, V]):
    """A DataLoader whose batch is one call of a `data/` batch function on its own connection.

    Besides `load`, two ways in for batching per level (PERFORMANCE.md item 4): `load_all`
    loads a whole level's keys, and `cached` answers a key already loaded synchronously, so that
    the fields below a prefetched level resolve as plain reads rather than one awaitable each.
    """

    def __init__(self, reader: AsyncEngine, batch: BatchFunction[K, V], **options: Any) -> None:
        super().__init__(**options)
        self._reader = reader
        self._batch = batch

    async def batch_load_fn(self, keys: list[K]) -> list[V]:
        task = asyncio.current_task()
        if task is not None:
            _RUNNING.add(task)
            task.add_done_callback(_RUNNING.discard)
        async with self._reader.connect() as connection:
            return await self._batch(connection, keys)

    def cached(self, key: K) -> V | Missing:
        future = self._cache.get(key)
        if future is None or not future.done() or future.cancelled() or future.exception():
            return MISSING
        return future.result()

    async def load_all(self, keys: Iterable[K]) -> list[V]:
        """The values of `keys` in order: queued like `load`, so that levels loaded at the same
        time by sibling fields (each group of a list including its members' coverages) share
        one batch, but awaited without a task per key."""
        futures = [self.load(key) for key in keys]
        return [future.result() if future.done() else await future for future in futures]


class DomainLoaders:
    """Base of a domain's own loaders (in `resolvers/<domain>.py`), as cached properties."""

    def __init__(self, reader: AsyncEngine) -> None:
        self.reader = reader


L = TypeVar("L", bound=DomainLoaders)


class Loaders:
    """Every loader of one request, named `<Thing>By<Key>`, built on first use."""

    def __init__(self, reader: AsyncEngine) -> None:
        self._reader = reader
        self._domains: dict[type[DomainLoaders], DomainLoaders] = {}

    def domain(self, kind: type[L]) -> L:
        """A domain's own set of loaders (a class taking the reader), built once per request."""
        found = self._domains.get(kind)
        if not isinstance(found, kind):
            found = self._domains[kind] = kind(self._reader)
        return found

    @cached_property
    def plan_by_id(self) -> BatchLoader[int, PlanRecord | None]:
        return BatchLoader(self._reader, plans.plans_by_id)

    @cached_property
    def benefits_by_plan_year(self) -> BatchLoader[PlanYearKey, BenefitsRecord | None]:
        return BatchLoader(self._reader, plans.benefits_by_plan_year)

    @cached_property
    def rates_by_plan_year(self) -> BatchLoader[PlanYearKey, list[RateRecord]]:
        return BatchLoader(self._reader, plans.rates_by_plan_year)

    @cached_property
    def group_by_id(self) -> BatchLoader[int, GroupRecord | None]:
        return BatchLoader(self._reader, groups.groups_by_id)

    @cached_property
    def divisions_by_group(self) -> BatchLoader[int, list[DivisionRecord]]:
        return BatchLoader(self._reader, groups.divisions_of_groups)

    @cached_property
    def division_by_id(self) -> BatchLoader[int, DivisionRecord | None]:
        return BatchLoader(self._reader, groups.divisions_by_id)

    @cached_property
    def user_by_id(self) -> BatchLoader[int, UserRecord | None]:
        return BatchLoader(self._reader, users.users_by_id)

    @cached_property
    def member_by_id(self) -> BatchLoader[int, MemberRecord | None]:
        return BatchLoader(self._reader, members.members_by_id)

    @cached_property
    def members_page(self) -> BatchLoader[MembersPageKey, tuple[Page, list[MemberRecord]]]:
        return BatchLoader(self._reader, members.members_pages)

    @cached_property
    def dependents_by_subscriber(self) -> BatchLoader[int, list[MemberRecord]]:
        return BatchLoader(self._reader, members.dependents_of)

    @cached_property
    def coverages_by_member(self) -> BatchLoader[int, list[CoverageRecord]]:
        return BatchLoader(self._reader, members.coverages_of)
