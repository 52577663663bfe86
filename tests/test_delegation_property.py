"""No escalation, tenancy and one primary administrator, under random sequences of changes.

Each example replays up to eight operations (userCreate, userPrivilegesUpdate, userDeactivate /
userReactivate, primaryAdministratorDesignate) through the use cases, on its own copy of the
demo database, as the acting user would through the endpoint, after a fixed prologue in which
Acme's administrator creates two managers (one for the whole group, one for its EAST division).
After every step it checks the rules of PRODUCT.md against the records and against the policy
store the requests decide with:

(a) every grant made during the run was, when made, within what its grantor held at the grant's
    scope (USERS_MANAGE and every privilege given; a designation needs ADMINISTRATOR_DESIGNATE),
    and nobody granted themselves anything;
(b) every user's effective privileges, in every group and division, are exactly what its own
    active grants and its agency's broker-of-record appointments give;
(c) a user without access to a group cannot read it (hidden exactly like a missing group);
(d) every group has exactly one current primary administrator, and only that one holds the role.

A refused operation must change nothing; a successful one is audited under its request id.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from authz.access import AccessMap
from authz.enforcement import PolicyStore, grant_rule
from authz.policy import role_privileges
from authz.privileges import Privilege, Role
from data import access
from data.access import GrantRecord
from data.database import Database
from data.groups import GroupRecord, divisions_of_groups, list_groups
from data.models.audit import AuditEvent
from data.models.users import AccessGrant, PrimaryAdministratorDesignation, User, UserStatus
from data.users import UserRecord, user_by_email, users_by_id
from resolvers import administrators, groups, users
from resolvers.context import Context
from resolvers.errors import NotAllowed, Refused
from tests.databases import cloned_database

ROLES = role_privileges()
ADMINISTRATOR = ROLES[Role.PRIMARY_ADMINISTRATOR.subject]
BROKER = ROLES[Role.BROKER.subject]
ACME, GLOBEX = "Acme Manufacturing", "Globex Corporation"
ADMIN = "admin@acme.example"
PERSONAS = (
    "officer@acme.example",
    ADMIN,
    "billing@acme.example",
    "hr.east@acme.example",
    "admin@globex.example",
    "admin@initech.example",
    "broker@summit.example",
    "rep@carrier.example",
    "accounts@carrier.example",
)
# Simulated minutes between two steps: grants given "for 1 to 3 minutes" expire mid-sequence.
STEP = timedelta(minutes=1)

# A person is a persona (by e-mail) or the n-th user created during the example (by index).
Who = str | int


@dataclass(frozen=True)
class CreateUser:
    actor: Who
    person: Who | None  # None: someone new
    group: str
    privileges: frozenset[Privilege]
    # Ask only for those of `privileges` the actor holds there (all it holds there, if none):
    # grants that may succeed, so that chains of delegation form (where escalation hides).
    within_reach: bool
    east: bool
    expires_in: int | None  # minutes


@dataclass(frozen=True)
class ChangePrivileges:
    actor: Who
    person: Who
    group: str
    privileges: frozenset[Privilege]
    within_reach: bool
    east: bool
    expires_in: int | None


@dataclass(frozen=True)
class SetActive:
    actor: Who
    person: Who
    group: str
    active: bool


@dataclass(frozen=True)
class Designate:
    actor: str
    person: Who | None
    group: str


Operation = CreateUser | ChangePrivileges | SetActive | Designate

# Every example starts with two managers, so that its steps reach deeper delegation chains.
MANAGERS = frozenset({Privilege.USERS_MANAGE, Privilege.MEMBERS_READ})
PROLOGUE: list[Operation] = [
    CreateUser(ADMIN, None, ACME, MANAGERS | {Privilege.BILLING_READ}, False, False, None),
    CreateUser(ADMIN, None, ACME, MANAGERS | {Privilege.MEMBERS_WRITE}, False, True, None),
]

created_user = st.integers(min_value=0, max_value=3)
actors = st.one_of(
    st.just(ADMIN),
    created_user,
    st.sampled_from(
        (
            "billing@acme.example",
            "hr.east@acme.example",
            "admin@globex.example",
            "broker@summit.example",
        )
    ),
)
people = st.one_of(
    created_user,
    st.sampled_from(
        (
            "billing@acme.example",
            "hr.east@acme.example",
            # Those nobody may change by delegation, and another tenant's administrator.
            ADMIN,
            "officer@acme.example",
            "admin@globex.example",
        )
    ),
)
# Mostly Acme, where the actors hold something; sometimes Globex, another tenant's group.
group_names = st.sampled_from((ACME,) * 7 + (GLOBEX,))
# Mostly what Acme's administrator holds, so that many grants succeed; sometimes more.
grantable = st.sampled_from(
    [*sorted(ADMINISTRATOR), Privilege.ADMINISTRATOR_DESIGNATE, Privilege.COMMISSIONS_READ]
)
privilege_sets = st.builds(
    # USERS_MANAGE often, so that created users go on to delegate in turn.
    lambda manage, chosen: chosen | {Privilege.USERS_MANAGE} if manage else chosen,
    st.booleans(),
    st.frozensets(grantable, min_size=1, max_size=4),
)
expiries = st.none() | st.integers(min_value=1, max_value=3)
creations = st.builds(
    CreateUser,
    actors,
    # Mostly someone new; sometimes a person of another tenant (or one with access here).
    st.sampled_from((None, None, None, "admin@globex.example", "billing@acme.example")),
    group_names,
    privilege_sets,
    st.booleans(),
    st.booleans(),
    expiries,
)
changes = st.builds(
    ChangePrivileges,
    actors,
    people,
    group_names,
    privilege_sets | st.just(frozenset()),
    st.booleans(),
    st.booleans(),
    expiries,
)
activations = st.builds(SetActive, actors, people, group_names, st.booleans())
designations = st.builds(
    Designate,
    st.sampled_from(("officer@acme.example", "accounts@carrier.example")),
    st.none() | people,
    group_names,
)
# Weighted (one_of would merge repeated strategies): creations and changes build the chains of
# delegation worth checking; a designation replaces Acme's administrator, so it comes rarely
# (and not last: Hypothesis favours the ends of a sampled list).
operations = st.lists(
    st.sampled_from(
        [
            creations,
            changes,
            activations,
            creations,
            designations,
            changes,
            activations,
            changes,
            creations,
        ]
    ).flatmap(lambda kind: kind),
    max_size=8,
)


@dataclass(frozen=True)
class Records:
    """Everything an operation may change: a refused one must leave all of it as it was."""

    grants: list[tuple[int, datetime | None]]
    statuses: list[tuple[int, UserStatus]]
    designations: list[tuple[int, datetime | None]]
    audit_events: int


@dataclass
class World:
    database: Database
    policy: PolicyStore
    now: datetime
    groups: dict[str, GroupRecord]
    divisions: dict[int, list[int]]  # group id → its division ids
    east_id: int
    first_new_grant: int  # grants from this id on were made during the example
    created: list[int] = field(default_factory=list)
    checked: set[int] = field(default_factory=set)  # grants found within their grantor's reach
    new_people: int = 0


@settings(
    max_examples=25,
    deadline=None,
    # The only function-scoped fixture is the autouse environment cleanup; examples share it.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=operations)
# PRODUCT.md: "Nobody can grant themselves anything" — the group officer neither.
@example(steps=[Designate("officer@acme.example", "officer@acme.example", ACME)])
# A manager whose own access ends in 2 minutes grants for longer, then for good.
@example(
    steps=[
        CreateUser(ADMIN, None, ACME, MANAGERS, False, False, 2),
        CreateUser(2, None, ACME, frozenset({Privilege.MEMBERS_READ}), False, False, 3),
        CreateUser(2, None, ACME, frozenset({Privilege.MEMBERS_READ}), False, False, None),
        ChangePrivileges(2, 0, ACME, frozenset({Privilege.MEMBERS_READ}), False, False, None),
    ]
)
async def test_delegation_never_escalates(
    backend: str, demo_template: str, steps: list[Operation]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        async with cloned_database(backend, demo_template, Path(directory)) as url:
            database = Database.connect(url)
            try:
                world = await _world(database)
                await _check_invariants(world)
                for step in [*PROLOGUE, *steps]:
                    await _perform(world, step)
                    await _check_invariants(world)
                    world.now += STEP
            finally:
                await database.dispose()


async def _world(database: Database) -> World:
    policy = PolicyStore(database)
    await policy.reload()
    async with database.reader.connect() as connection:
        found = await list_groups(
            connection, only=None, name_prefix=None, first=100, after_number=None
        )
        divisions = await divisions_of_groups(connection, [group.id for group in found])
        next_grant = await connection.scalar(select(func.max(AccessGrant.id)))
    by_name = {group.legal_name: group for group in found}
    [east] = [d.id for d in divisions[found.index(by_name[ACME])] if d.code == "EAST"]
    return World(
        database=database,
        policy=policy,
        now=datetime.now(UTC),
        groups=by_name,
        divisions={
            group.id: [d.id for d in ds] for group, ds in zip(found, divisions, strict=True)
        },
        east_id=east,
        first_new_grant=int(next_grant or 0) + 1,
    )


async def _person(world: World, who: Who) -> UserRecord | None:
    """A persona, or a user created earlier in the example (None if none was yet)."""
    async with world.database.reader.connect() as connection:
        if isinstance(who, str):
            return await user_by_email(connection, who)
        if not world.created:
            return None
        [found] = await users_by_id(connection, [world.created[who % len(world.created)]])
        return found


async def _context(world: World, user: UserRecord) -> Context:
    # What the endpoint does before every request: a grant expired since the load is dropped.
    await world.policy.ensure_current(world.now)
    return Context(database=world.database, policy=world.policy, user=user, now=world.now)


async def _perform(world: World, step: Operation) -> None:
    actor = await _person(world, step.actor)
    if actor is None or actor.status != UserStatus.ACTIVE:
        return  # the endpoint refuses such a caller's token before any use case runs
    target = None if step.person is None else await _person(world, step.person)
    if step.person is not None and target is None:
        return
    context = await _context(world, actor)
    # The very map the use case decides with (computed once per request, then cached).
    held = context.access
    group = world.groups[step.group]
    before = await _records(world)
    # Statistics (--hypothesis-show-statistics) show how deep the examples reach.
    by = " by a created user" if isinstance(step.actor, int) else ""
    try:
        touched = await _apply(world, context, step, group, target)
    except (Refused, NotAllowed) as refused:
        event(f"refused {type(step).__name__}{by}: {refused}")
        assert await _records(world) == before, f"{step} was refused but changed records"
        return
    event(f"done {type(step).__name__}{by}")
    await _check_new_grants(world, step, actor, held, before)
    await _check_audited(world, context, actor, group.id, before)
    if touched is not None:
        await _accept_invitation(world, touched)


async def _apply(
    world: World, context: Context, step: Operation, group: GroupRecord, target: UserRecord | None
) -> int | None:
    """Run the step's use case; returns a user who may now act (and accepts its invitation)."""
    if isinstance(step, Designate):
        world.new_people += 1
        email = target.email if target else f"designated{world.new_people}@acme.example"
        designation = await administrators.designate(
            context,
            group_id=group.id,
            email=email,
            name="Designated Administrator",
            form_reference="FORM-1" if step.actor == "accounts@carrier.example" else None,
        )
        return designation.administrator.id
    if isinstance(step, SetActive):
        assert target is not None
        await users.set_active(context, group_id=group.id, user_id=target.id, active=step.active)
        return None
    division = world.east_id if step.east else None
    expires = None if step.expires_in is None else world.now + step.expires_in * STEP
    asked = step.privileges
    if step.within_reach:
        reach = context.access.privileges(group.id, division)
        asked = asked & reach or reach
    if isinstance(step, ChangePrivileges):
        assert target is not None
        await users.update_privileges(
            context,
            group_id=group.id,
            user_id=target.id,
            privileges=sorted(asked),
            division_id=division,
            expires_at=expires,
        )
        return None
    world.new_people += 1
    created = await users.create_user(
        context,
        group_id=group.id,
        email=target.email if target else f"user{world.new_people}@acme.example",
        name="Delegated User",
        privileges=sorted(asked),
        division_id=division,
        expires_at=expires,
    )
    return created.user.id


async def _accept_invitation(world: World, user_id: int) -> None:
    """A new user sets its password (as the invitation flow would), so that it can act next."""
    async with world.database.sessions() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.id == user_id, User.status == UserStatus.INVITED)
            .values(status=UserStatus.ACTIVE, password_hash="set-through-the-invitation")
        )
    if user_id not in world.created and await _is_new(world, user_id):
        world.created.append(user_id)


async def _is_new(world: World, user_id: int) -> bool:
    async with world.database.reader.connect() as connection:
        [user] = await users_by_id(connection, [user_id])
    return user is not None and user.email not in PERSONAS


async def _records(world: World) -> Records:
    async with world.database.reader.connect() as connection:
        grants = await connection.execute(
            select(AccessGrant.id, AccessGrant.ended_at).order_by(AccessGrant.id)
        )
        statuses = await connection.execute(select(User.id, User.status).order_by(User.id))
        designations = await connection.execute(
            select(
                PrimaryAdministratorDesignation.id, PrimaryAdministratorDesignation.ended_at
            ).order_by(PrimaryAdministratorDesignation.id)
        )
        audit_events = await connection.scalar(select(func.count()).select_from(AuditEvent))
    return Records(
        grants=[(row.id, row.ended_at) for row in grants],
        statuses=[(row.id, row.status) for row in statuses],
        designations=[(row.id, row.ended_at) for row in designations],
        audit_events=int(audit_events or 0),
    )


async def _active_grants(world: World) -> list[GrantRecord]:
    async with world.database.sessions() as session:
        return await access.all_active_grants(session, world.now)


def _gives(grant: GrantRecord) -> frozenset[Privilege]:
    return ROLES[grant_rule(grant)[1]]


async def _check_new_grants(
    world: World, step: Operation, actor: UserRecord, held: AccessMap, before: Records
) -> None:
    """(a), at the moment of granting: every new grant is within what the actor held there."""
    known = {grant_id for grant_id, _ in before.grants}
    active = await _active_grants(world)
    own = [grant for grant in active if grant.user_id == actor.id]
    for grant in active:
        if grant.id in known:
            continue
        assert grant.granted_by_user_id == actor.id, (step, grant)
        assert grant.user_id != actor.id, f"{actor.email} granted itself {grant} by {step}"
        reach = held.privileges(grant.group_id, grant.division_id)
        if grant.role == Role.PRIMARY_ADMINISTRATOR:
            assert isinstance(step, Designate), (step, grant)
            assert Privilege.ADMINISTRATOR_DESIGNATE in reach, (step, grant, reach)
        else:
            assert grant.role is None, f"a designated role given by delegation: {grant}"
            assert Privilege.USERS_MANAGE in reach, (step, grant, reach)
            assert _gives(grant) <= reach, (step, grant, reach)
            until = _actor_holds_until(own, grant)
            assert until is None or (grant.expires_at is not None and grant.expires_at <= until), (
                f"{grant} outlasts its grantor's hold (until {until}) by {step}"
            )
        world.checked.add(grant.id)


def _actor_holds_until(own: list[GrantRecord], grant: GrantRecord) -> datetime | None:
    """(a) in time: until when the actor's own grants give it USERS_MANAGE and all `grant` gives
    over the grant's scope (None: without end, or held from beyond the group's grants)."""
    ends = []
    for privilege in _gives(grant) | {Privilege.USERS_MANAGE}:
        giving = [
            g
            for g in own
            if g.group_id == grant.group_id
            and g.division_id in (None, grant.division_id)
            and privilege in _gives(g)
        ]
        expiries = [g.expires_at for g in giving]
        if expiries and None not in expiries:
            ends.append(max(e for e in expiries if e is not None))
    return min(ends) if ends else None


async def _check_audited(
    world: World, context: Context, actor: UserRecord, group_id: int, before: Records
) -> None:
    async with world.database.reader.connect() as connection:
        rows = (
            await connection.execute(
                select(AuditEvent.actor_user_id, AuditEvent.group_id, AuditEvent.request_id)
                .order_by(AuditEvent.id)
                .offset(before.audit_events)
            )
        ).all()
    assert rows, "a change that left no audit event"
    assert {tuple(row) for row in rows} == {(actor.id, group_id, context.request_id)}


@dataclass(frozen=True)
class Holdings:
    """What the records say each user holds: its active grants, and its brokered book."""

    everyone: list[UserRecord]
    grants: dict[int, list[GrantRecord]]
    brokered: dict[int, set[int]]  # broker → the groups its agency is broker of record for

    def expected(self, user_id: int, group_id: int, division_id: int | None) -> set[Privilege]:
        """What a user's own records give in a group (or one division of it)."""
        found: set[Privilege] = set()
        for grant in self.grants.get(user_id, []):
            if grant.group_id is None or (
                grant.group_id == group_id and grant.division_id in (None, division_id)
            ):
                found |= _gives(grant)
        if group_id in self.brokered.get(user_id, set()):
            found |= BROKER
        return found

    def has_any(self, user_id: int, group_id: int) -> bool:
        own = self.grants.get(user_id, [])
        return any(grant.group_id in (None, group_id) for grant in own) or group_id in (
            self.brokered.get(user_id, set())
        )


async def _check_invariants(world: World) -> None:
    await world.policy.ensure_current(world.now)
    grants = await _active_grants(world)
    # (a) Nothing in force that was not checked when it was granted.
    for grant in grants:
        if grant.id >= world.first_new_grant:
            assert grant.id in world.checked, f"unchecked grant in force: {grant}"
    holdings = await _holdings(world, grants)
    _check_effective_privileges(world, holdings)
    await _check_hidden_groups(world, holdings)
    await _check_one_primary_administrator(world, grants)


async def _holdings(world: World, grants: list[GrantRecord]) -> Holdings:
    by_user: dict[int, list[GrantRecord]] = {}
    for grant in grants:
        by_user.setdefault(grant.user_id, []).append(grant)
    async with world.database.sessions() as session:
        agencies = await access.broker_agencies(session)
        book = await access.brokered_groups(session, world.now.date())
    async with world.database.reader.connect() as connection:
        everyone = await users_by_id(connection, list(await connection.scalars(select(User.id))))
    return Holdings(
        everyone=[user for user in everyone if user is not None],
        grants=by_user,
        brokered={
            user_id: {group_id for agency, group_id in book if agency == agency_id}
            for user_id, agency_id in agencies
        },
    )


def _check_effective_privileges(world: World, holdings: Holdings) -> None:
    """(b) The policy store gives each user exactly what its records give, nothing more."""
    for user in holdings.everyone:
        effective = world.policy.access_for(user.id)
        for group_id, division_ids in world.divisions.items():
            for division_id in [None, *division_ids]:
                expected = holdings.expected(user.id, group_id, division_id)
                held = effective.privileges(group_id, division_id)
                assert held == expected, (user.email, group_id, division_id)


async def _check_hidden_groups(world: World, holdings: Holdings) -> None:
    """(c) Without a grant there (or a carrier-wide one, or a brokered book), a group is hidden."""
    acme = world.groups[ACME]
    for person in holdings.everyone:
        context = Context(database=world.database, policy=world.policy, user=person, now=world.now)
        hidden = [g for g in world.groups.values() if not holdings.has_any(person.id, g.id)]
        # Together: the request's group loader fetches them in one batch.
        found = await asyncio.gather(*(groups.group(context, group.id) for group in hidden))
        assert found == [None] * len(hidden), (person.email, hidden, found)
        # By number too (a query each) where the operations happen, for the people in play.
        if acme in hidden and (person.email in PERSONAS or person.id in world.created):
            assert await groups.group_by_number(context, acme.group_number) is None, person.email


async def _check_one_primary_administrator(world: World, grants: list[GrantRecord]) -> None:
    """(d) One current designation per group, and its user alone holds the role there."""
    async with world.database.reader.connect() as connection:
        current = (
            await connection.execute(
                select(
                    PrimaryAdministratorDesignation.group_id,
                    PrimaryAdministratorDesignation.user_id,
                ).where(PrimaryAdministratorDesignation.ended_at.is_(None))
            )
        ).all()
    designated: dict[int, list[int]] = {}
    for group_id, user_id in current:
        designated.setdefault(group_id, []).append(user_id)
    holders: dict[int, set[int]] = {}
    for grant in grants:
        if grant.role == Role.PRIMARY_ADMINISTRATOR and grant.group_id is not None:
            holders.setdefault(grant.group_id, set()).add(grant.user_id)
    for group_id in world.divisions:
        assert len(designated.get(group_id, [])) == 1, (group_id, designated.get(group_id))
        assert holders.get(group_id) == set(designated[group_id]), (group_id, holders)
