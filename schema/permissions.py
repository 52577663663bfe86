"""Field guards: each field that touches group data names its privilege once.

The decision is a lookup in the request's access map (computed once per request), so a guard
on a list's items costs a dictionary read, not an `enforce()` per row. Refusals are top-level
FORBIDDEN errors and the field is null; groups the caller cannot see never reach a guard,
because lookups and lists answer them as missing.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from authz.privileges import Privilege
from resolvers.errors import NotAllowed
from schema.common import Info


class Requires(BasePermission):
    """The caller holds `privilege` over the group (or the division) of the field's object."""

    def __init__(self, privilege: Privilege) -> None:
        self.privilege = privilege
        self.message = f"forbidden: needs {privilege.value}"
        self.error_extensions = {"code": "FORBIDDEN"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        # Group records carry their id as `id`; everything inside a group as `group_id`.
        group_id = getattr(source, "group_id", None) or source.id
        division_id = getattr(source, "division_id", None)
        return info.context.access.allows(self.privilege, group_id, division_id)


def guarded(privilege: Privilege) -> list[FieldExtension]:
    """`extensions=guarded(Privilege.X)` on a field: its one declaration of what it needs."""
    return [PermissionExtension(permissions=[Requires(privilege)], use_directives=False)]


class RequiresOnLeaf(FieldExtension):
    """The same rule for plain leaf fields of objects read by the hundred (a member's personal
    data): decided synchronously from the request's memoised access map, so a guarded leaf
    stays an attribute read instead of becoming one awaitable per object (bench/RESULTS.md:
    per-field awaitables cost half the CPU of a 100-member page)."""

    def __init__(self, privilege: Privilege) -> None:
        super().__init__()
        self.privilege = privilege

    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        division_id = getattr(source, "division_id", None)
        if not info.context.access.allows(self.privilege, source.group_id, division_id):
            raise NotAllowed(self.privilege.value)
        return next_(source, info, **kwargs)


def guarded_leaf(privilege: Privilege) -> list[FieldExtension]:
    """`extensions=guarded_leaf(Privilege.X)`: a leaf field's one declaration of what it needs."""
    return [RequiresOnLeaf(privilege)]
