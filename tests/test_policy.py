"""The policy files and the code's catalogue agree, and the model decides as documented."""

from __future__ import annotations

import pytest

from authz.policy import builtin_role_rules, new_enforcer
from authz.privileges import (
    CARRIER_SCOPE,
    EVERY_SCOPE,
    Privilege,
    Role,
    agency_scope,
    group_grant_scope,
    group_scope,
    privilege_subject,
)


def _roles_in_policy() -> dict[str, set[str]]:
    roles: dict[str, set[str]] = {}
    for subject, privilege in builtin_role_rules():
        roles.setdefault(subject, set()).add(privilege)
    return roles


def test_every_policy_privilege_is_in_the_catalogue() -> None:
    mentioned = {privilege for _subject, privilege in builtin_role_rules()}
    assert mentioned == {privilege.value for privilege in Privilege}


def test_roles_in_policy_are_exactly_the_role_enum() -> None:
    named = {subject for subject in _roles_in_policy() if subject.startswith("role:")}
    assert named == {role.subject for role in Role}


def test_each_privilege_role_grants_exactly_its_privilege() -> None:
    roles = _roles_in_policy()
    for privilege in Privilege:
        assert roles[privilege_subject(privilege)] == {privilege.value}


def test_primary_administrator_holds_every_group_privilege_but_staff_ones() -> None:
    staff_or_agency = {
        Privilege.COMMISSIONS_READ,
        Privilege.QUOTES_MANAGE,
        Privilege.REVIEW_QUEUE_WORK,
        Privilege.ADMINISTRATOR_DESIGNATE,
        Privilege.BROKERS_ASSIGN,
        Privilege.RENEWAL_REVIEW,
        Privilege.APPLICATIONS_REVIEW,
    }
    held = _roles_in_policy()[Role.PRIMARY_ADMINISTRATOR.subject]
    assert held == {p.value for p in Privilege} - {p.value for p in staff_or_agency}


ACME, GLOBEX, EAST, WEST, SUMMIT = 12, 34, 5, 6, 7
# (role or single privilege held, grant scope, request scope, privilege asked, allowed)
CASES = [
    (Role.BILLING_ONLY.subject, group_grant_scope(ACME), group_scope(ACME), "BILLING_PAY", True),
    (Role.BILLING_ONLY.subject, group_grant_scope(ACME), group_scope(ACME), "MEMBERS_READ", False),
    (Role.BILLING_ONLY.subject, group_grant_scope(ACME), group_scope(GLOBEX), "BILLING_PAY", False),
    # a group-wide grant covers each division of the group
    (
        Role.VIEW_ONLY.subject,
        group_grant_scope(ACME),
        group_scope(ACME, EAST),
        "MEMBERS_READ",
        True,
    ),
    # a division grant covers that division only, not the group, not a sibling
    (
        privilege_subject(Privilege.MEMBERS_WRITE),
        group_grant_scope(ACME, EAST),
        group_scope(ACME, EAST),
        "MEMBERS_WRITE",
        True,
    ),
    (
        privilege_subject(Privilege.MEMBERS_WRITE),
        group_grant_scope(ACME, EAST),
        group_scope(ACME),
        "MEMBERS_WRITE",
        False,
    ),
    (
        privilege_subject(Privilege.MEMBERS_WRITE),
        group_grant_scope(ACME, EAST),
        group_scope(ACME, WEST),
        "MEMBERS_WRITE",
        False,
    ),
    # group 12's grant says nothing of group 123
    (
        Role.PRIMARY_ADMINISTRATOR.subject,
        group_grant_scope(ACME),
        "group:123/",
        "MEMBERS_READ",
        False,
    ),
    (Role.BROKER.subject, group_grant_scope(GLOBEX), group_scope(GLOBEX), "MEMBERS_READ", True),
    (
        Role.BROKER.subject,
        group_grant_scope(GLOBEX),
        group_scope(GLOBEX),
        "MEMBERS_READ_PII",
        False,
    ),
    (Role.BROKER.subject, group_grant_scope(GLOBEX), group_scope(GLOBEX), "BILLING_PAY", False),
    (
        Role.AGENCY_BROKER.subject,
        agency_scope(SUMMIT) + "*",
        agency_scope(SUMMIT),
        "COMMISSIONS_READ",
        True,
    ),
    (
        Role.AGENCY_BROKER.subject,
        agency_scope(SUMMIT) + "*",
        agency_scope(8),
        "COMMISSIONS_READ",
        False,
    ),
    (Role.ACCOUNT_REPRESENTATIVE.subject, EVERY_SCOPE, group_scope(GLOBEX), "BILLING_READ", True),
    (Role.ACCOUNT_REPRESENTATIVE.subject, EVERY_SCOPE, group_scope(GLOBEX), "BILLING_PAY", False),
    (Role.ACCOUNT_REPRESENTATIVE.subject, EVERY_SCOPE, CARRIER_SCOPE, "BROKERS_ASSIGN", True),
    (Role.MEMBERSHIP_REPRESENTATIVE.subject, EVERY_SCOPE, CARRIER_SCOPE, "REVIEW_QUEUE_WORK", True),
    (
        Role.MEMBERSHIP_REPRESENTATIVE.subject,
        EVERY_SCOPE,
        group_scope(ACME),
        "MEMBERS_WRITE",
        False,
    ),
    (
        Role.GROUP_OFFICER.subject,
        group_grant_scope(ACME),
        group_scope(ACME),
        "ADMINISTRATOR_DESIGNATE",
        True,
    ),
    (Role.GROUP_OFFICER.subject, group_grant_scope(ACME), group_scope(ACME), "USERS_MANAGE", False),
]


@pytest.mark.parametrize(("held", "grant_scope", "scope", "privilege", "allowed"), CASES)
def test_enforcement(
    held: str, grant_scope: str, scope: str, privilege: str, allowed: bool
) -> None:
    enforcer = new_enforcer()
    enforcer.add_grouping_policy("user:1", held, grant_scope)
    assert enforcer.enforce("user:1", scope, privilege) is allowed
    # Nobody else gains anything from it.
    assert enforcer.enforce("user:2", scope, privilege) is False
