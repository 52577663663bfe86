"""The per-request access map answers exactly as Casbin's enforce() would, for any grants."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from authz.access import AccessMap
from authz.policy import new_enforcer, role_privileges
from authz.privileges import Privilege, Role, privilege_subject

GROUPS = [1, 2]
DIVISIONS = [10, 20]
AGENCIES = [7, 8]
USERS = ["user:1", "user:2"]

held = st.sampled_from(
    [role.subject for role in Role] + [privilege_subject(p) for p in Privilege] + ["agency:7"]
)
pattern = st.one_of(
    st.just("*"),
    st.sampled_from(GROUPS).map(lambda g: f"group:{g}/*"),
    st.tuples(st.sampled_from(GROUPS), st.sampled_from(DIVISIONS)).map(
        lambda gd: f"group:{gd[0]}/division:{gd[1]}"
    ),
    st.sampled_from(AGENCIES).map(lambda a: f"agency:{a}/*"),
)
subject = st.sampled_from([*USERS, "agency:7"])
links = st.lists(st.tuples(subject, held, pattern), max_size=12)
request_scope = st.one_of(
    st.just((None, None, None)),
    st.tuples(st.sampled_from(GROUPS), st.none(), st.none()),
    st.tuples(st.sampled_from(GROUPS), st.sampled_from(DIVISIONS), st.none()),
    st.tuples(st.none(), st.none(), st.sampled_from(AGENCIES)),
)


def casbin_scope(group: int | None, division: int | None, agency: int | None) -> str:
    if agency is not None:
        return f"agency:{agency}/"
    if group is None:
        return "carrier/"
    return f"group:{group}/" if division is None else f"group:{group}/division:{division}"


@settings(max_examples=300, deadline=None)
@given(rules=links, scope=request_scope, privilege=st.sampled_from(list(Privilege)))
def test_access_map_agrees_with_enforce(
    rules: list[tuple[str, str, str]],
    scope: tuple[int | None, int | None, int | None],
    privilege: Privilege,
) -> None:
    enforcer = new_enforcer()
    index: dict[str, list[tuple[str, str]]] = {}
    for sub, role, dom in rules:
        if enforcer.add_grouping_policy(sub, role, dom):
            index.setdefault(sub, []).append((role, dom))
    group, division, agency = scope
    expected = enforcer.enforce("user:1", casbin_scope(group, division, agency), privilege.value)
    access = AccessMap.build("user:1", index, role_privileges())
    assert (privilege in access.privileges(group, division, agency)) is expected


def test_reach_lists_groups_and_divisions_for_list_filtering() -> None:
    access = AccessMap.build(
        "user:1",
        {
            "user:1": [
                (privilege_subject(Privilege.MEMBERS_READ), "group:1/*"),
                (privilege_subject(Privilege.MEMBERS_READ), "group:2/division:20"),
                (Role.BILLING_ONLY.subject, "group:3/*"),
            ]
        },
        role_privileges(),
    )
    reach = access.reach(Privilege.MEMBERS_READ)
    assert (reach.every_group, reach.whole_groups, dict(reach.divisions)) == (
        False,
        frozenset({1}),
        {2: frozenset({20})},
    )
    assert not reach.includes(3)
    assert access.reach(Privilege.BILLING_PAY).whole_groups == frozenset({3})
