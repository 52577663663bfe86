"""Build the Casbin enforcer from `policies/`: the model and the built-in roles, read as data."""

from __future__ import annotations

import csv
from importlib import resources
from typing import Any

import casbin
from casbin.model import Model
from casbin.util import key_match

from authz.privileges import Privilege, privilege_subject

POLICIES = resources.files("policies")


def load_model() -> Model:
    return casbin.Enforcer.new_model(text=POLICIES.joinpath("model.conf").read_text())


def builtin_role_rules() -> list[list[str]]:
    """The `p` rules: roles.csv's lines, and one single-privilege role per privilege."""
    text = POLICIES.joinpath("roles.csv").read_text()
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rules = [[field.strip() for field in row[1:]] for row in csv.reader(lines) if row[0] == "p"]
    rules += [[privilege_subject(privilege), privilege.value] for privilege in Privilege]
    return rules


def new_enforcer(adapter: Any = None) -> casbin.Enforcer:
    """An enforcer with the built-in roles in memory; grants (`g` rules) come from the adapter."""
    enforcer = casbin.Enforcer(load_model(), adapter) if adapter else casbin.Enforcer(load_model())
    # A grant's scope is a pattern over request scopes: "group:12/*" covers its divisions.
    enforcer.add_named_domain_matching_func("g", key_match)
    enforcer.get_model().add_policies("p", "p", builtin_role_rules())
    return enforcer
