"""This instance's view of the grants: loaded through the Casbin adapter, kept in step.

- A change made here reloads here at once (`reload()` after the commit).
- Changes made by other instances are seen within a poll interval: a watcher reads the one-row
  `policy_version` every second, and reloads everything every few minutes as a safety net.
- A grant that expires stops working at its `expires_at`: before answering, a request checks
  the next expiry known in memory (no SQL) and, when it has passed, sweeps and reloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import casbin
from casbin_async_sqlalchemy_adapter import Adapter
from sqlalchemy.exc import SQLAlchemyError

from authz.access import AccessMap
from authz.policy import load_enforcer, load_model, role_privileges
from authz.privileges import (
    EVERY_SCOPE,
    Privilege,
    Role,
    agency_scope,
    group_grant_scope,
    user_subject,
)
from data import access, audit
from data.database import Database
from data.models.users import CasbinRule

log = logging.getLogger(__name__)

Links = dict[str, list[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    enforcer: casbin.AsyncEnforcer
    # subject → [(role or subject, scope pattern)]: every `g` rule, indexed once per load.
    links: Links
    version: int
    next_expiry: datetime | None


class PolicyStore:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._role_privileges = role_privileges()
        self._loaded: LoadedPolicy | None = None
        self._lock = asyncio.Lock()

    @property
    def loaded(self) -> LoadedPolicy:
        if self._loaded is None:
            raise RuntimeError("PolicyStore.reload() was never awaited")
        return self._loaded

    @property
    def role_privileges(self) -> dict[str, frozenset[Privilege]]:
        return self._role_privileges

    async def reload(self, now: datetime | None = None) -> None:
        """Load every rule afresh and swap it in whole, so no request sees half a policy."""
        async with self._lock:
            now = now or datetime.now(UTC)
            await self._sweep_expired(now)
            async with self._database.reader.connect() as connection:
                version, next_expiry = await access.policy_state(connection, now)
            enforcer = await load_enforcer(Adapter(self._database.engine, db_class=CasbinRule))
            links: Links = defaultdict(list)
            for subject, role, scope in enforcer.get_grouping_policy():
                links[subject].append((role, scope))
            self._loaded = LoadedPolicy(enforcer, dict(links), version, next_expiry)

    async def start(self) -> None:
        """First load at start-up. A database not migrated yet (readyz says so) leaves the
        policy empty, so nothing is allowed, until the watcher finds it ready."""
        try:
            await self.reload()
        except SQLAlchemyError:
            log.warning("policy not loaded: database unreachable or not migrated")
            self._loaded = LoadedPolicy(casbin.AsyncEnforcer(load_model()), {}, -1, None)

    async def ensure_current(self, now: datetime) -> None:
        """Before a request decides anything: reload if a grant has expired since the load."""
        expiry = self.loaded.next_expiry
        if expiry is not None and now >= expiry:
            await self.reload(now)

    async def reload_if_changed(self) -> bool:
        async with self._database.reader.connect() as connection:
            version = await access.policy_version(connection)
        if version == self.loaded.version:
            return False
        await self.reload()
        return True

    async def watch(self, interval: float = 1.0, full_reload_every: float = 300.0) -> None:
        """Run until cancelled: follow other instances' changes within `interval` seconds."""
        since_full = 0.0
        while True:
            await asyncio.sleep(interval)
            since_full += interval
            try:
                if since_full >= full_reload_every:
                    since_full = 0.0
                    await self.reload()
                else:
                    await self.reload_if_changed()
            except Exception:  # a database hiccup must not end the watcher
                log.exception("policy refresh failed; keeping the loaded policy")

    def access_for(self, user_id: int) -> AccessMap:
        return AccessMap.build(user_subject(user_id), self.loaded.links, self._role_privileges)

    async def _sweep_expired(self, now: datetime) -> None:
        """Drop the rules of grants whose time is up (any instance may; it is idempotent)."""
        async with self._database.sessions() as session, session.begin():
            expired = await access.expired_rules(session, now)
            ended = 0
            for grant in expired:
                # Several instances may sweep at once: only the one that ends it records it.
                if not await access.end_grant(session, grant.id, now):
                    continue
                ended += 1
                await access.remove_rule(session, *grant_rule(grant))
                audit.record(
                    session,
                    audit.SYSTEM,
                    action="access.expired",
                    target_type="user",
                    target_id=grant.user_id,
                    group_id=grant.group_id,
                    now=now,
                    before={"held": grant_rule(grant)[1], "expiresAt": str(grant.expires_at)},
                )
            if ended:
                await access.bump_policy_version(session, now)


def grant_rule(grant: access.GrantRecord) -> tuple[str, str, str]:
    """The `g` rule a grant becomes: (user subject, role or single privilege, scope pattern)."""
    held = f"role:{grant.role}" if grant.role else f"privilege:{grant.privilege}"
    if grant.group_id is None:
        return user_subject(grant.user_id), held, EVERY_SCOPE
    return user_subject(grant.user_id), held, group_grant_scope(grant.group_id, grant.division_id)


@contextlib.asynccontextmanager
async def watching(store: PolicyStore, interval: float = 1.0) -> AsyncIterator[PolicyStore]:
    task = asyncio.create_task(store.watch(interval))
    try:
        yield store
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def agency_subject(agency_id: int) -> str:
    return f"agency:{agency_id}"


def broker_rule(agency_id: int, group_id: int) -> tuple[str, str, str]:
    """The `g` rule of a broker-of-record appointment with access on: the agency reads the group."""
    return agency_subject(agency_id), Role.BROKER.subject, group_grant_scope(group_id)


async def rebuild_rules(database: Database, now: datetime | None = None) -> int:
    """Derive every `g` rule afresh from the records (grants, brokers, appointments).

    The records are the truth and the rules follow them; this is how demo data gets its
    rules, and how an operator repairs a rule table that drifted. Returns the rule count.
    """
    now = now or datetime.now(UTC)
    async with database.sessions() as session, session.begin():
        rules = [grant_rule(grant) for grant in await access.all_active_grants(session, now)]
        rules += [
            (user_subject(user_id), agency_subject(agency_id), EVERY_SCOPE)
            for user_id, agency_id in await access.broker_agencies(session)
        ]
        rules += [
            (agency_subject(agency_id), Role.AGENCY_BROKER.subject, f"{agency_scope(agency_id)}*")
            for agency_id in await access.agency_ids(session)
        ]
        rules += [
            broker_rule(agency_id, group_id)
            for agency_id, group_id in await access.brokered_groups(session, now.date())
        ]
        unique = sorted(set(rules))
        await access.replace_rules(session, unique)
        await access.bump_policy_version(session, now)
    return len(unique)
