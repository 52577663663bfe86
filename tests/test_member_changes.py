"""Member changes through the endpoint: demographic updates and coverage terminations, who may
make them, bad input for every argument (nothing changed), the family cascade and the audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from data.models.audit import AuditEvent
from data.models.groups import Division, Group
from data.models.members import Coverage, Member
from schema.common import global_id
from tests.conftest import Api
from tests.test_users import acme

UPDATE = """
mutation ($input: MemberUpdateInput!) {
  memberUpdate(input: $input) {
    member { id firstName middleName lastName sex isDisabled birthDate phone email
             address { line1 line2 city state postalCode } }
    errors { field message code }
  }
}"""
TERMINATE = """
mutation ($input: CoverageTerminateInput!) {
  coverageTerminate(input: $input) {
    member { id status coverage { status terminationDate }
             dependents { id status coverage { status terminationDate } } }
    errors { field message code }
  }
}"""
MUTATIONS = {"memberUpdate": UPDATE, "coverageTerminate": TERMINATE}


def today() -> date:
    return datetime.now(UTC).date()


def month_end(day: date, months_ahead: int = 0) -> date:
    following = day.year * 12 + day.month + months_ahead
    return date(following // 12, following % 12 + 1, 1) - timedelta(days=1)


@dataclass(frozen=True)
class Family:
    subscriber: int
    dependents: tuple[int, ...]
    division: str | None


async def families(api: Api) -> list[Family]:
    """Acme's active families, covered for over 60 days, whose coverages are all open."""
    async with api.app.state.database.reader.connect() as connection:
        rows = (
            await connection.execute(
                select(Member.id, Member.subscriber_id, Member.status, Division.code)
                .join(Group, Group.id == Member.group_id)
                .outerjoin(Division, Division.id == Member.division_id)
                .where(Group.legal_name == "Acme Manufacturing")
                .order_by(Member.id)
            )
        ).all()
        spans = (
            await connection.execute(
                select(Coverage.member_id, Coverage.effective_date, Coverage.termination_date)
            )
        ).all()
    settled = today() - timedelta(days=70)
    open_ids = {span.member_id for span in spans if span.termination_date is None}
    ended_or_recent = {
        span.member_id
        for span in spans
        if span.termination_date is not None or span.effective_date > settled
    }
    covered = open_ids - ended_or_recent
    found = []
    for row in rows:
        if row.subscriber_id is not None or row.status != "ACTIVE":
            continue
        family = tuple(r.id for r in rows if r.subscriber_id == row.id)
        if {row.id, *family} <= covered:
            found.append(Family(row.id, family, row.code))
    return found


async def family(api: Api, division: str = "EAST") -> Family:
    """A family with dependents in the division."""
    return next(f for f in await families(api) if f.division == division and f.dependents)


def gid(member_id: int) -> str:
    return str(global_id("Member", member_id))


async def snapshot(api: Api) -> tuple[list[Any], list[Any], int]:
    """Every member and coverage row, and the number of audit events."""
    async with api.app.state.database.reader.connect() as connection:
        members = (await connection.execute(select(Member).order_by(Member.id))).all()
        coverages = (await connection.execute(select(Coverage).order_by(Coverage.id))).all()
        events = await connection.scalar(select(func.count()).select_from(AuditEvent))
    return [tuple(row) for row in members], [tuple(row) for row in coverages], int(events or 0)


async def member_row(api: Api, member_id: int) -> Any:
    async with api.app.state.database.reader.connect() as connection:
        return (await connection.execute(select(Member).where(Member.id == member_id))).one()


async def coverage_end(api: Api, member_id: int) -> date | None:
    async with api.app.state.database.reader.connect() as connection:
        ends: date | None = await connection.scalar(
            select(Coverage.termination_date)
            .where(Coverage.member_id == member_id)
            .order_by(Coverage.effective_date.desc())
            .limit(1)
        )
    return ends


async def events(api: Api, action: str) -> list[Any]:
    statement = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    async with api.app.state.database.reader.connect() as connection:
        return list((await connection.execute(statement)).all())


async def mutate(api: Api, persona: str | None, name: str, **values: Any) -> dict[str, Any]:
    return await api.query(persona, MUTATIONS[name], input=values)


def payload(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"][name]
    return found


def refusals(found: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in found["errors"]]


# --- memberUpdate -------------------------------------------------------------------------------

ADDRESS = {
    "line1": "  1 Main   Street ",
    "line2": None,
    "city": "Brooklyn",
    "state": "ny",
    "postalCode": "112011234",
}


# Input key → (column, the value stored for ADDRESS and the rest of the update below).
STORED = {
    "firstName": ("first_name", "Zoë"),
    "middleName": ("middle_name", None),
    "lastName": ("last_name", "Ñúñez-Ortiz"),
    "birthDate": ("birth_date", date(1980, 2, 29)),
    "sex": ("sex", "U"),
    "address.line1": ("address_line1", "1 Main Street"),
    "address.line2": ("address_line2", None),
    "address.city": ("city", "Brooklyn"),
    "address.state": ("state", "NY"),
    "address.postalCode": ("postal_code", "11201-1234"),
    "phone": ("phone", "+12125550199"),
    "email": ("email", "zoe.nunez@example.com"),
    "isDisabled": ("is_disabled", True),
}


async def test_admin_updates_demographics_normalised_and_audited(api: Api) -> None:
    target = (await family(api)).subscriber
    before = await member_row(api, target)
    body = await mutate(
        api,
        "admin@acme.example",
        "memberUpdate",
        memberId=gid(target),
        firstName=" Zoë ",
        middleName="",
        lastName="Ñúñez-Ortiz",
        birthDate="1980-02-29",
        sex="UNKNOWN",
        address=ADDRESS,
        phone="1 (212) 555-0199",
        email=" Zoe.Nunez@Example.COM ",
        isDisabled=True,
    )
    member = payload(body, "memberUpdate")["member"]
    assert (member["firstName"], member["middleName"], member["lastName"]) == (
        "Zoë",
        None,
        "Ñúñez-Ortiz",
    )
    assert member["address"] == {
        "line1": "1 Main Street",
        "line2": None,
        "city": "Brooklyn",
        "state": "NY",
        "postalCode": "11201-1234",
    }
    assert (member["phone"], member["email"], member["isDisabled"]) == (
        "+12125550199",
        "zoe.nunez@example.com",
        True,
    )
    after = await member_row(api, target)
    assert all(getattr(after, column) == value for column, value in STORED.values())
    assert (after.first_name_key, after.last_name_key) == ("zoe", "nunez-ortiz")
    [event] = await events(api, "member.updated")
    assert (event.target_id, event.actor_user_id) == (
        str(target),
        await api.user_id("admin@acme.example"),
    )
    # Exactly the fields that changed, as ISO dates and stored values.
    changed = {key for key, (column, value) in STORED.items() if getattr(before, column) != value}
    assert set(event.before) == set(event.after) == changed
    assert event.before["firstName"] == before.first_name
    assert event.before["birthDate"] == before.birth_date.isoformat()
    assert event.after["birthDate"] == "1980-02-29"
    assert event.after["address.postalCode"] == "11201-1234"


async def test_the_same_values_again_are_already_done(api: Api) -> None:
    target = (await family(api)).subscriber
    row = await member_row(api, target)
    state = await snapshot(api)
    body = await mutate(
        api,
        "admin@acme.example",
        "memberUpdate",
        memberId=gid(target),
        firstName=f" {row.first_name} ",  # the same once trimmed
        sex=row.sex.name,  # the GraphQL name of the stored value
        isDisabled=row.is_disabled,
    )
    assert refusals(payload(body, "memberUpdate")) == [(None, "ALREADY_DONE")]
    assert await snapshot(api) == state


NOT_A_MEMBER = str(global_id("Member", 987_654_321))
BAD_UPDATES: list[tuple[dict[str, Any], list[tuple[str | None, str]]]] = [
    ({}, [(None, "INVALID")]),
    ({"memberId": NOT_A_MEMBER}, [("memberId", "NOT_FOUND")]),
    ({"memberId": "garbage"}, [("memberId", "NOT_FOUND")]),
    ({"memberId": str(global_id("Group", 1))}, [("memberId", "NOT_FOUND")]),
    ({"firstName": ""}, [("firstName", "REQUIRED")]),
    ({"firstName": "x" * 101}, [("firstName", "INVALID")]),
    ({"firstName": "A\u0007b"}, [("firstName", "INVALID")]),
    ({"middleName": "42"}, [("middleName", "INVALID")]),
    ({"lastName": "   "}, [("lastName", "REQUIRED")]),
    ({"lastName": "12345"}, [("lastName", "INVALID")]),
    ({"birthDate": (today() + timedelta(days=1)).isoformat()}, [("birthDate", "INVALID")]),
    ({"birthDate": "1899-12-31"}, [("birthDate", "INVALID")]),
    ({"address": ADDRESS | {"line1": " "}}, [("address.line1", "REQUIRED")]),
    ({"address": ADDRESS | {"line2": "x" * 201}}, [("address.line2", "INVALID")]),
    ({"address": ADDRESS | {"city": ""}}, [("address.city", "REQUIRED")]),
    ({"address": ADDRESS | {"state": "XX"}}, [("address.state", "INVALID")]),
    ({"address": ADDRESS | {"state": "New York"}}, [("address.state", "INVALID")]),
    ({"address": ADDRESS | {"postalCode": "1120"}}, [("address.postalCode", "INVALID")]),
    ({"address": ADDRESS | {"postalCode": "11201-12"}}, [("address.postalCode", "INVALID")]),
    ({"address": ADDRESS | {"postalCode": "١١٢٠١"}}, [("address.postalCode", "INVALID")]),
    ({"phone": "555-0123"}, [("phone", "INVALID")]),
    ({"phone": "(012) 555-0123"}, [("phone", "INVALID")]),
    ({"phone": "+0123456789"}, [("phone", "INVALID")]),
    ({"email": "not-an-email"}, [("email", "INVALID")]),
    # Every field at fault is named at once.
    ({"firstName": "", "phone": "1"}, [("firstName", "REQUIRED"), ("phone", "INVALID")]),
]


@pytest.mark.parametrize(("values", "expected"), BAD_UPDATES)
async def test_bad_update_input_names_the_field_and_changes_nothing(
    api: Api, values: dict[str, Any], expected: list[tuple[str | None, str]]
) -> None:
    target = (await family(api)).subscriber
    state = await snapshot(api)
    body = await mutate(
        api, "admin@acme.example", "memberUpdate", **({"memberId": gid(target)} | values)
    )
    refused = payload(body, "memberUpdate")
    assert refused["member"] is None
    assert refusals(refused) == expected
    assert await snapshot(api) == state


@pytest.mark.parametrize(
    "values",
    [
        {"birthDate": "31/12/1980"},
        {"sex": "X"},
        {"isDisabled": "yes"},
        {"phone": 5},
        {"ssn": "123-45-6789"},  # not editable here: refused, never silently dropped
    ],
)
async def test_ill_typed_update_input_is_refused_before_anything_runs(
    api: Api, values: dict[str, Any]
) -> None:
    target = (await family(api)).subscriber
    state = await snapshot(api)
    body = await mutate(api, "admin@acme.example", "memberUpdate", memberId=gid(target), **values)
    assert body.get("data") is None
    assert body["errors"]
    assert await snapshot(api) == state


# --- who may change whom ----------------------------------------------------------------------

HR, BILLING, BROKER, GLOBEX = (
    "hr.east@acme.example",
    "billing@acme.example",
    "broker@summit.example",
    "admin@globex.example",
)
RENAME, END = (
    ("memberUpdate", {"firstName": "Ines"}),
    ("coverageTerminate", {"reason": "VOLUNTARY"}),
)
HIDDEN = "memberId NOT_FOUND"  # in the payload, exactly like a member that does not exist

# (persona, the member's division, (mutation, input), expected: "ok", a payload "field code" or a
# top-level code)
ACCESS: list[tuple[str | None, str, tuple[str, dict[str, Any]], str]] = [
    (HR, "EAST", RENAME, "ok"),
    (HR, "EAST", END, "ok"),
    (HR, "WEST", RENAME, HIDDEN),
    (HR, "WEST", END, HIDDEN),
    # Personal data: no writing what one cannot read (an "already so" would reveal it).
    (HR, "EAST", ("memberUpdate", {"phone": "2125550100"}), "FORBIDDEN"),
    (HR, "EAST", ("memberUpdate", {"birthDate": "1980-01-01"}), "FORBIDDEN"),
    (HR, "EAST", ("memberUpdate", {"address": ADDRESS}), "FORBIDDEN"),
    (HR, "EAST", ("memberUpdate", {"email": ""}), "FORBIDDEN"),
    (BILLING, "EAST", RENAME, HIDDEN),  # reads no members at all
    (BILLING, "EAST", END, HIDDEN),
    (BROKER, "EAST", RENAME, "FORBIDDEN"),  # reads, may not write
    (BROKER, "EAST", END, "FORBIDDEN"),
    (GLOBEX, "EAST", RENAME, HIDDEN),
    (GLOBEX, "EAST", END, HIDDEN),
    (None, "EAST", RENAME, "UNAUTHENTICATED"),
    (None, "EAST", END, "UNAUTHENTICATED"),
]


@pytest.mark.parametrize(("persona", "division", "mutation", "expected"), ACCESS)
async def test_who_may_change_a_member(
    api: Api,
    persona: str | None,
    division: str,
    mutation: tuple[str, dict[str, Any]],
    expected: str,
) -> None:
    name, values = mutation
    target = (await family(api, division)).subscriber
    state = await snapshot(api)
    # Only what every persona may read: personal fields would add their own (read) refusals.
    lean = f"""
    mutation ($input: {name[0].upper()}{name[1:]}Input!) {{
      {name}(input: $input) {{ member {{ id }} errors {{ field code }} }}
    }}"""
    body = await api.query(persona, lean, input={"memberId": gid(target), **values})
    if expected == "ok":
        assert payload(body, name)["errors"] == []
        assert await snapshot(api) != state
        return
    if " " in expected:
        found = payload(body, name)
        assert [f"{e['field']} {e['code']}" for e in found["errors"]] == [expected]
    else:
        assert body["data"][name] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == [expected]
    assert await snapshot(api) == state


# --- coverageTerminate --------------------------------------------------------------------------


async def terminate(
    api: Api,
    member_id: int,
    on: date | None = None,
    *,
    reason: str = "VOLUNTARY",
    persona: str = "admin@acme.example",
) -> dict[str, Any]:
    values = {"terminationDate": on.isoformat()} if on else {}
    body = await mutate(
        api, persona, "coverageTerminate", memberId=gid(member_id), reason=reason, **values
    )
    return payload(body, "coverageTerminate")


async def test_terminating_a_subscriber_ends_its_family_and_audits_each_member(api: Api) -> None:
    household = await family(api)
    ends_on = today() - timedelta(days=3)
    member = (await terminate(api, household.subscriber, ends_on, reason="EMPLOYMENT_ENDED"))[
        "member"
    ]
    assert member["status"] == "TERMINATED"
    assert member["coverage"] == {"status": "TERMINATED", "terminationDate": ends_on.isoformat()}
    assert {d["id"] for d in member["dependents"]} == {gid(i) for i in household.dependents}
    for dependent in member["dependents"]:
        assert dependent["status"] == "TERMINATED"
        assert dependent["coverage"]["terminationDate"] == ends_on.isoformat()
    audited = {int(e.target_id): e for e in await events(api, "coverage.terminated")}
    assert set(audited) == {household.subscriber, *household.dependents}
    head = audited[household.subscriber]
    assert head.before == {"terminationDate": None, "status": "ACTIVE"}
    assert head.after == {
        "terminationDate": ends_on.isoformat(),
        "status": "TERMINATED",
        "reason": "EMPLOYMENT_ENDED",
    }
    for dependent_id in household.dependents:
        assert audited[dependent_id].after["withSubscriberId"] == household.subscriber


async def test_a_dependent_already_ended_earlier_keeps_its_date(api: Api) -> None:
    household = await family(api)
    earlier = today() - timedelta(days=20)
    ended, *others = household.dependents
    async with api.app.state.database.engine.begin() as connection:
        await connection.execute(
            update(Coverage).where(Coverage.member_id == ended).values(termination_date=earlier)
        )
    assert (await terminate(api, household.subscriber, today()))["errors"] == []
    assert await coverage_end(api, ended) == earlier
    for dependent_id in others:
        assert await coverage_end(api, dependent_id) == today()
    audited = {int(e.target_id) for e in await events(api, "coverage.terminated")}
    assert audited == {household.subscriber, *others}


async def test_the_default_date_is_the_end_of_this_month(api: Api) -> None:
    member = (await terminate(api, (await family(api)).subscriber))["member"]
    ends_on = month_end(today())
    # Covered until then: a future-dated termination leaves the member active.
    assert member["coverage"] == {"status": "ACTIVE", "terminationDate": ends_on.isoformat()}
    assert member["status"] == ("TERMINATED" if ends_on == today() else "ACTIVE")


async def test_terminating_twice_is_already_done_but_an_earlier_date_is_a_change(
    api: Api,
) -> None:
    subscriber = (await family(api)).subscriber
    first = today() + timedelta(days=1)
    assert refusals(await terminate(api, subscriber, first)) == []
    state = await snapshot(api)
    for again in (first, first + timedelta(days=1)):
        assert refusals(await terminate(api, subscriber, again)) == [("memberId", "ALREADY_DONE")]
    assert await snapshot(api) == state
    assert refusals(await terminate(api, subscriber, today())) == []
    assert await coverage_end(api, subscriber) == today()
    assert (await member_row(api, subscriber)).status == "TERMINATED"


async def test_terminating_a_dependent_leaves_the_family_covered(api: Api) -> None:
    household = await family(api)
    dependent, *others = household.dependents
    found = await terminate(
        api, dependent, today(), reason="LOSS_OF_ELIGIBILITY", persona="hr.east@acme.example"
    )
    assert found["member"]["status"] == "TERMINATED"
    assert await coverage_end(api, dependent) == today()
    for member_id in (household.subscriber, *others):
        assert await coverage_end(api, member_id) is None


TOO_EARLY = (today() - timedelta(days=61)).isoformat()
TOO_LATE = (month_end(today(), 1) + timedelta(days=1)).isoformat()
BAD_TERMINATIONS: list[tuple[str, dict[str, Any], tuple[str, str]]] = [
    ("subscriber", {"memberId": NOT_A_MEMBER}, ("memberId", "NOT_FOUND")),
    ("subscriber", {"memberId": "garbage"}, ("memberId", "NOT_FOUND")),
    ("subscriber", {"terminationDate": TOO_EARLY}, ("terminationDate", "INVALID")),
    ("subscriber", {"terminationDate": TOO_LATE}, ("terminationDate", "INVALID")),
    ("subscriber", {"reason": "DIVORCE"}, ("reason", "INVALID")),
    ("dependent", {"reason": "EMPLOYMENT_ENDED"}, ("reason", "INVALID")),
]


@pytest.mark.parametrize(("whom", "values", "expected"), BAD_TERMINATIONS)
async def test_bad_termination_input_names_the_field_and_changes_nothing(
    api: Api, whom: str, values: dict[str, Any], expected: tuple[str, str]
) -> None:
    household = await family(api)
    target = household.subscriber if whom == "subscriber" else household.dependents[0]
    given = {"memberId": gid(target), "reason": "VOLUNTARY"} | values
    state = await snapshot(api)
    body = await mutate(api, "admin@acme.example", "coverageTerminate", **given)
    refused = payload(body, "coverageTerminate")
    assert refused["member"] is None
    assert refusals(refused) == [expected]
    assert await snapshot(api) == state


@pytest.mark.parametrize(
    "values", [{"reason": "BORED"}, {"reason": None}, {"terminationDate": "tomorrow"}]
)
async def test_ill_typed_termination_input_is_refused_before_anything_runs(
    api: Api, values: dict[str, Any]
) -> None:
    household = await family(api)
    state = await snapshot(api)
    given = {"memberId": gid(household.subscriber), "reason": "VOLUNTARY"} | values
    body = await mutate(api, "admin@acme.example", "coverageTerminate", **given)
    assert body.get("data") is None
    assert body["errors"]
    assert await snapshot(api) == state


async def test_a_date_before_a_coverage_starts_is_refused(api: Api) -> None:
    household = await family(api)
    starts = today() - timedelta(days=5)
    async with api.app.state.database.engine.begin() as connection:
        await connection.execute(
            update(Coverage)
            .where(Coverage.member_id == household.dependents[0])
            .values(effective_date=starts)
        )
    state = await snapshot(api)
    found = await terminate(api, household.subscriber, starts - timedelta(days=1))
    assert refusals(found) == [("terminationDate", "INVALID")]
    assert await snapshot(api) == state


async def test_a_member_without_coverage_has_nothing_to_terminate(api: Api) -> None:
    household = await family(api)
    async with api.app.state.database.engine.begin() as connection:
        await connection.execute(delete(Coverage).where(Coverage.member_id == household.subscriber))
    state = await snapshot(api)
    found = await terminate(api, household.subscriber)
    assert refusals(found) == [("memberId", "INVALID")]
    assert await snapshot(api) == state


AUDIT = """
query ($n: String!) {
  group(groupNumber: $n) { auditEvents(first: 1) { events { action before after } } }
}"""


@pytest.mark.parametrize(
    ("reader", "shown"), [("admin@acme.example", True), ("accounts@carrier.example", False)]
)
async def test_audited_personal_data_is_shown_only_to_who_may_read_it(
    api: Api, reader: str, shown: bool
) -> None:
    subject = (await family(api)).subscriber
    changed = await mutate(
        api, "admin@acme.example", "memberUpdate", memberId=gid(subject), phone="4155550142"
    )
    assert payload(changed, "memberUpdate")["errors"] == []
    body = await api.query(reader, AUDIT, n=(await acme(api))["number"])
    [event] = body["data"]["group"]["auditEvents"]["events"]
    assert event["action"] == "member.updated"
    assert (event["after"]["phone"] == "(personal data)") is not shown
