"""Build the Casbin enforcer from `policies/`: the model and the built-in roles, read as data."""

from __future__ import annotations

import csv
from importlib import resources
from typing import Any, TypeVar

import casbin
from casbin.model import Model
from casbin.util import key_match

from authz.privileges import Privilege, privilege_subject

POLICIES = resources.files("policies")
EnforcerT = TypeVar("EnforcerT", casbin.Enforcer, casbin.AsyncEnforcer)


def load_model() -> Model:
    return casbin.Enforcer.new_model(text=POLICIES.joinpath("model.conf").read_text())


def builtin_role_rules() -> list[list[str]]:
    """The `p` rules: roles.csv's lines, and one single-privilege role per privilege."""
    text = POLICIES.joinpath("roles.csv").read_text()
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rules = [[field.strip() for field in row[1:]] for row in csv.reader(lines) if row[0] == "p"]
    rules += [[privilege_subject(privilege), privilege.value] for privilege in Privilege]
    return rules


def role_privileges() -> dict[str, frozenset[Privilege]]:
    """Each built-in role (and single-privilege role) with the privileges it grants."""
    grants: dict[str, set[Privilege]] = {}
    for subject, privilege in builtin_role_rules():
        grants.setdefault(subject, set()).add(Privilege(privilege))
    return {subject: frozenset(privileges) for subject, privileges in grants.items()}


def new_enforcer() -> casbin.Enforcer:
    """An in-memory enforcer with the built-in roles, for tests and explanations."""
    return configure(casbin.Enforcer(load_model()))


async def load_enforcer(adapter: Any) -> casbin.AsyncEnforcer:
    """An enforcer with the grants (`g` rules) loaded by the adapter, and the built-in roles."""
    enforcer = casbin.AsyncEnforcer(load_model(), adapter)
    await enforcer.load_policy()
    return configure(enforcer)


def configure(enforcer: EnforcerT) -> EnforcerT:
    # A grant's scope is a pattern over request scopes: "group:12/*" covers its divisions.
    enforcer.add_named_domain_matching_func("g", key_match)
    enforcer.get_model().add_policies("p", "p", builtin_role_rules())
    enforcer.build_role_links()
    return enforcer
