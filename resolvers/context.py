"""The one typed request context every use case receives."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from authz.access import AccessMap
from authz.enforcement import PolicyStore
from data.audit import Actor
from data.database import Database
from data.files import FileStore
from data.users import UserRecord
from resolvers.errors import NotAuthenticated
from resolvers.loaders import Loaders


@dataclass
class Context:
    database: Database
    policy: PolicyStore
    user: UserRecord | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    address: str | None = None
    # Where people reach this gateway, for links such as invitations.
    public_url: str = "http://127.0.0.1:8000"
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Keys what the gateway signs or hashes for itself (download links, bank accounts, SSNs).
    secret_key: bytes = field(default=b"", repr=False)
    # Where uploaded files are kept (enrollment batch files); None where nothing is uploaded.
    files: FileStore | None = None
    # Set when a batch is queued, to wake this process's batch workers at once.
    batch_queued: asyncio.Event | None = None

    def link(self, path: str) -> str:
        return self.public_url.rstrip("/") + path

    @property
    def today(self) -> date:
        return self.now.date()

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.database.reader)

    @property
    def actor(self) -> Actor:
        return Actor(
            user_id=self.user.id if self.user else None,
            request_id=self.request_id,
            address=self.address,
        )

    def signed_in(self) -> UserRecord:
        if self.user is None:
            raise NotAuthenticated
        return self.user

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        async with self.database.sessions() as session, session.begin():
            yield session

    @cached_property
    def access(self) -> AccessMap:
        """The caller's privileges by scope, computed once per request (empty when anonymous)."""
        if self.user is None:
            return AccessMap(held=[])
        return self.policy.access_for(self.user.id)
