"""No escalation: who may give, change or take which privileges, decided from access maps alone.

The rules (PRODUCT.md):
- the grantor holds USERS_MANAGE and every privilege it grants, over a scope at least as wide
  as the grant's (privileges held in that scope come only from grants covering it);
- nobody changes their own privileges;
- the primary administrator and the group officer are set by designation, never by delegation;
- a manager cannot touch a user who holds, anywhere in the group, something the manager does
  not hold over that user's grant;
- a grant does not outlast the grantor's own hold on what it gives: whoever holds a privilege
  only until some moment may grant it only until that moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from authz.access import AccessMap
from authz.privileges import Privilege, Role

# Roles that come from designation (and carrier staff), not from an administrator's delegation.
DESIGNATED_ROLES = frozenset({Role.PRIMARY_ADMINISTRATOR.value, Role.GROUP_OFFICER.value})


@dataclass(frozen=True, slots=True)
class HeldGrant:
    """One of the target's grants in the group: a role or a single privilege, and its reach."""

    role: str | None
    privileges: frozenset[Privilege]
    division_id: int | None


@dataclass(frozen=True, slots=True)
class TimedGrant:
    """One of the grantor's own grants in the group: what it gives, where, and until when."""

    privileges: frozenset[Privilege]
    division_id: int | None
    expires_at: datetime | None  # None: until taken away


@dataclass(frozen=True, slots=True)
class Refusal:
    field: str
    reason: str
    code: str  # an ErrorCode name, kept as text so that authz stays below resolvers


def may_grant(
    grantor: AccessMap,
    group_id: int,
    division_id: int | None,
    privileges: Iterable[Privilege],
) -> Refusal | None:
    held = grantor.privileges(group_id, division_id)
    scope = "this division" if division_id is not None else "the whole group"
    if Privilege.USERS_MANAGE not in held:
        return Refusal(
            "groupId" if division_id is None else "divisionId",
            f"you may not manage users in {scope}",
            "FORBIDDEN",
        )
    missing = sorted(set(privileges) - held)
    if missing:
        names = ", ".join(missing)
        return Refusal(
            "privileges", f"you cannot grant what you do not hold in {scope}: {names}", "ESCALATION"
        )
    return None


def may_change(
    manager_id: int,
    manager: AccessMap,
    target_id: int,
    group_id: int,
    target_grants: Iterable[HeldGrant],
) -> Refusal | None:
    """May the manager change (or take away) the target's access in this group at all?"""
    if manager_id == target_id:
        return Refusal("userId", "nobody changes their own privileges", "SELF_CHANGE")
    for grant in target_grants:
        if grant.role in DESIGNATED_ROLES:
            return Refusal(
                "userId",
                "the primary administrator and the group officer change only by designation",
                "PRIMARY_ADMINISTRATOR",
            )
        held = manager.privileges(group_id, grant.division_id)
        if Privilege.USERS_MANAGE not in held:
            return Refusal("userId", "you may not manage this user's access", "FORBIDDEN")
        beyond = sorted(grant.privileges - held)
        if beyond:
            return Refusal(
                "userId",
                f"this user holds privileges you do not: {', '.join(beyond)}",
                "ESCALATION",
            )
    return None


def held_until(
    own_grants: Iterable[TimedGrant], division_id: int | None, privileges: Iterable[Privilege]
) -> datetime | None:
    """When the grantor stops holding USERS_MANAGE and every one of `privileges` over the scope
    (the group, or one division of it) through its grants in the group; None: not before they
    are taken away. A privilege no grant in the group gives is held from wider (carrier-wide)."""
    covering = [g for g in own_grants if g.division_id is None or g.division_id == division_id]
    ends: list[datetime] = []
    for privilege in {Privilege.USERS_MANAGE, *privileges}:
        giving = [g for g in covering if privilege in g.privileges]
        if giving and all(g.expires_at is not None for g in giving):
            ends.append(max(g.expires_at for g in giving if g.expires_at is not None))
    return min(ends) if ends else None


def may_outlast(
    own_grants: Iterable[TimedGrant],
    division_id: int | None,
    privileges: Iterable[Privilege],
    expires_at: datetime | None,
) -> Refusal | None:
    """A grant may not outlast the grantor's own hold on what it gives."""
    until = held_until(own_grants, division_id, privileges)
    if until is None or (expires_at is not None and expires_at <= until):
        return None
    return Refusal(
        "expiresAt",
        f"your own access to these privileges ends at {until.isoformat()}: "
        "a grant may not last longer",
        "ESCALATION",
    )
