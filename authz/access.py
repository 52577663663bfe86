"""What one principal may do, computed once per request from the enforcer's rules.

Casbin decides single questions (`enforce(sub, dom, act)`); a request asks hundreds (every row
of every list). So each request flattens the principal's role links into scope → privileges
once, and every later question is a dictionary lookup. A property test holds this equal to
`enforce()` for arbitrary grants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from authz.privileges import EVERY_SCOPE, Privilege


@dataclass(frozen=True, slots=True)
class Scope:
    """A grant's reach: everything, a whole group, one division of a group, or an agency."""

    everything: bool = False
    group_id: int | None = None
    division_id: int | None = None
    agency_id: int | None = None

    @classmethod
    def parse(cls, pattern: str) -> Scope | None:
        """The scope of a grant pattern ("*", "group:12/*", "group:12/division:5", "agency:7/*")."""
        if pattern == EVERY_SCOPE:
            return cls(everything=True)
        head, _, rest = pattern.partition("/")
        kind, _, key = head.partition(":")
        if not key.isdigit():
            return None
        if kind == "group" and rest == "*":
            return cls(group_id=int(key))
        if kind == "group" and rest.startswith("division:") and rest[9:].isdigit():
            return cls(group_id=int(key), division_id=int(rest[9:]))
        if kind == "agency" and rest == "*":
            return cls(agency_id=int(key))
        return None

    def covers(self, other: Scope) -> bool:
        if self.everything:
            return True
        if other.everything:
            return False
        if self.agency_id is not None or other.agency_id is not None:
            return self.agency_id == other.agency_id
        if self.group_id != other.group_id:
            return False
        return self.division_id is None or self.division_id == other.division_id

    def narrowest(self, other: Scope) -> Scope | None:
        """Where both reach (a chain of role links holds only there), or None."""
        if self.covers(other):
            return other
        if other.covers(self):
            return self
        return None


@dataclass(frozen=True, slots=True)
class GroupReach:
    """The groups in which a privilege is held: all of them, or these (some only in divisions)."""

    every_group: bool
    whole_groups: frozenset[int]
    divisions: Mapping[int, frozenset[int]]

    @property
    def group_ids(self) -> frozenset[int]:
        return self.whole_groups | frozenset(self.divisions)

    def includes(self, group_id: int) -> bool:
        return self.every_group or group_id in self.whole_groups or group_id in self.divisions


@dataclass
class AccessMap:
    """A principal's privileges by scope; answers are memoised for the request's lifetime."""

    held: list[tuple[Scope, frozenset[Privilege]]]
    _answers: dict[tuple[int | None, int | None, int | None], frozenset[Privilege]] = field(
        default_factory=dict
    )

    @classmethod
    def build(
        cls,
        subject: str,
        links: Mapping[str, Iterable[tuple[str, str]]],
        role_privileges: Mapping[str, frozenset[Privilege]],
    ) -> AccessMap:
        """Follow `subject`'s role links (subject → [(role, scope pattern)]) to privileges.

        A link may lead to another subject (a user to its agency, an agency to the broker role
        in each group of its book); the chain holds where all its scopes overlap.
        """
        held: dict[Scope, set[Privilege]] = {}
        pending = [(subject, Scope(everything=True), frozenset({subject}))]
        while pending:
            current, reach, seen = pending.pop()
            for role, pattern in links.get(current, ()):
                scope = Scope.parse(pattern)
                narrowed = scope.narrowest(reach) if scope else None
                if narrowed is None or role in seen:
                    continue
                if role in role_privileges:
                    held.setdefault(narrowed, set()).update(role_privileges[role])
                pending.append((role, narrowed, seen | {role}))
        return cls(held=[(scope, frozenset(privileges)) for scope, privileges in held.items()])

    def privileges(
        self,
        group_id: int | None = None,
        division_id: int | None = None,
        agency_id: int | None = None,
    ) -> frozenset[Privilege]:
        """Everything held in a group (or one division of it), or in an agency, or carrier-wide."""
        key = (group_id, division_id, agency_id)
        answer = self._answers.get(key)
        if answer is None:
            asked = Scope(
                everything=group_id is None and agency_id is None,
                group_id=group_id,
                division_id=division_id,
                agency_id=agency_id,
            )
            answer = frozenset().union(
                *(privileges for scope, privileges in self.held if scope.covers(asked))
            )
            self._answers[key] = answer
        return answer

    def allows(
        self, privilege: Privilege, group_id: int | None = None, division_id: int | None = None
    ) -> bool:
        return privilege in self.privileges(group_id, division_id)

    def reach(self, privilege: Privilege | None = None) -> GroupReach:
        """Where `privilege` (or, without one, anything at all) is held: list reads filter by it."""
        every = False
        whole: set[int] = set()
        divisions: dict[int, set[int]] = {}
        for scope, privileges in self.held:
            if privilege is not None and privilege not in privileges:
                continue
            if scope.everything:
                every = True
            elif scope.group_id is not None and scope.division_id is None:
                whole.add(scope.group_id)
            elif scope.group_id is not None and scope.division_id is not None:
                divisions.setdefault(scope.group_id, set()).add(scope.division_id)
        return GroupReach(
            every_group=every,
            whole_groups=frozenset(whole),
            divisions={
                group: frozenset(ids) for group, ids in divisions.items() if group not in whole
            },
        )
