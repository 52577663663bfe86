"""The manual-review queue through the endpoint: who may work it, what an item shows (the
submitted data beside the candidates, what differs, its age against 2 business days), the three
decisions and what the group then sees, bad resolutions, and two representatives at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from data.models.audit import AuditEvent
from data.models.enrollment import ReviewItem
from data.models.members import Coverage, Member
from resolvers.enrollment.review import add_business_days, business_days_between
from tests.conftest import Api
from tests.enrollment_helpers import (
    DEPENDENT_ADD,
    ENROLL,
    REQUESTS,
    as_submitted,
    counts,
    enrollment,
    errors_of,
    existing_member,
    gid,
    group_setup,
    key_of,
)
from tests.test_member_changes import families

REP = "rep@carrier.example"
QUEUE = """
query ($status: ReviewItemStatus, $first: Int, $after: String) {
  reviewQueue(status: $status, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id status matchReason createdAt decision reason
      age { businessDays dueOn overdue }
      group { legalName }
      request { id status kind }
      people { reason
               submitted { field firstName lastName birthDate ssnLast4 }
               candidates { member { id firstName lastName birthDate ssnLast4 }
                            differingFields } }
    } }
  }
}"""
RESOLVE = """
mutation ($input: ReviewItemResolveInput!) {
  reviewItemResolve(input: $input) {
    item { id status decision reason request { id status member { id } history { status note } } }
    errors { field message code }
  }
}"""


async def pending(api: Api) -> tuple[str, str, Any]:
    """An Acme enrollment whose subscriber differs from a Globex record in the first name only:
    (the review item's ID, the request's ID, the candidate)."""
    setup = await group_setup(api)
    other = await existing_member(api, "Globex Corporation")
    values = enrollment(setup, subscriber=as_submitted(other, firstName="Differentname"))
    body = await api.query("admin@acme.example", ENROLL, input=values)
    payload = body["data"]["memberEnroll"]
    assert payload["status"] == "PENDING_REVIEW", payload
    async with api.app.state.database.reader.connect() as connection:
        item = await connection.scalar(select(func.max(ReviewItem.id)))
    assert item is not None
    return gid("ReviewItem", item), payload["request"]["id"], other


async def queue(api: Api, as_user: str = REP, **arguments: Any) -> dict[str, Any]:
    return await api.query(as_user, QUEUE, **arguments)


async def resolve(api: Api, as_user: str = REP, **values: Any) -> dict[str, Any]:
    body = await api.query(
        as_user, RESOLVE, input={"reason": "checked the employer's form"} | values
    )
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["reviewItemResolve"]
    return found


async def test_an_item_shows_the_submission_beside_its_candidates(api: Api) -> None:
    item, request, other = await pending(api)
    body = await queue(api)
    assert "errors" not in body, body
    page = body["data"]["reviewQueue"]
    assert page["totalCount"] == 1
    node = page["edges"][0]["node"]
    assert (node["id"], node["status"], node["request"]["id"]) == (item, "OPEN", request)
    assert node["group"] == {"legalName": "Acme Manufacturing"}
    assert node["matchReason"] == "subscriber: partial agreement: differs in firstName"
    [person] = node["people"]
    assert person["submitted"]["firstName"] == "Differentname"
    assert person["submitted"]["ssnLast4"] == other.ssn[-4:]
    [candidate] = person["candidates"]
    assert candidate["member"]["id"] == gid("Member", other.key)
    assert candidate["member"]["firstName"] == other.first_name
    assert candidate["member"]["birthDate"] == other.birth_date.isoformat()
    assert candidate["differingFields"] == ["firstName"]
    submitted = datetime.fromisoformat(node["createdAt"]).date()
    assert node["age"] == {
        "businessDays": 0,
        "dueOn": add_business_days(submitted, 2).isoformat(),
        "overdue": False,
    }


NODES = """
query ($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename id
    ... on ReviewItem { itemStatus: status }
    ... on EnrollmentRequest { requestStatus: status }
  }
}"""


@pytest.mark.parametrize(
    ("email", "sees_item", "sees_request"),
    [
        (REP, True, True),  # carrier-wide: the queue and every group's members
        ("admin@acme.example", False, True),  # the group's own request, not the carrier's queue
        ("hr.east@acme.example", False, False),  # one division: a request with none is not its
        ("billing@acme.example", False, False),
        ("admin@globex.example", False, False),
    ],
)
async def test_items_and_requests_are_nodes_seen_as_their_lists_show_them(
    api: Api, email: str, sees_item: bool, sees_request: bool
) -> None:
    item, request, _ = await pending(api)
    body = await api.query(email, NODES, ids=[item, request])
    assert "errors" not in body, body
    found_item, found_request = body["data"]["nodes"]
    assert found_item == (
        {"__typename": "ReviewItem", "id": item, "itemStatus": "OPEN"} if sees_item else None
    )
    assert found_request == (
        {"__typename": "EnrollmentRequest", "id": request, "requestStatus": "PENDING_REVIEW"}
        if sees_request
        else None
    )


async def test_the_queue_is_oldest_first_and_shows_overdue_items(api: Api) -> None:
    first, _, _ = await pending(api)
    second, _, _ = await pending(api)
    ten_days_ago = datetime.now(UTC) - timedelta(days=10)
    async with api.app.state.database.engine.begin() as connection:
        await connection.execute(
            update(ReviewItem)
            .where(ReviewItem.id == key_of(second))
            .values(created_at=ten_days_ago)
        )
    page = (await queue(api, first=1))["data"]["reviewQueue"]
    assert [e["node"]["id"] for e in page["edges"]] == [second]
    age = page["edges"][0]["node"]["age"]
    expected = business_days_between(ten_days_ago.date(), datetime.now(UTC).date())
    assert age["businessDays"] == expected >= 6
    assert age["overdue"] is True
    rest = (await queue(api, first=1, after=page["pageInfo"]["endCursor"]))["data"]["reviewQueue"]
    assert [e["node"]["id"] for e in rest["edges"]] == [first]


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2026, 11, 20), date(2026, 11, 20), 0),  # a Friday, the same day
        (date(2026, 11, 20), date(2026, 11, 22), 0),  # the weekend
        (date(2026, 11, 20), date(2026, 11, 23), 1),  # Monday
        (date(2026, 11, 20), date(2026, 11, 24), 2),
        (date(2026, 11, 16), date(2026, 11, 23), 5),  # a week
        (date(2026, 11, 16), date(2026, 12, 2), 12),
    ],
)
def test_business_days(start: date, end: date, days: int) -> None:
    assert business_days_between(start, end) == days


def test_the_target_skips_weekends() -> None:
    assert add_business_days(date(2026, 11, 19), 2) == date(2026, 11, 23)  # Thursday → Monday
    assert add_business_days(date(2026, 11, 16), 2) == date(2026, 11, 18)


@pytest.mark.parametrize(
    "as_user", ["admin@acme.example", "accounts@carrier.example", "broker@summit.example"]
)
async def test_only_membership_representatives_work_the_queue(api: Api, as_user: str) -> None:
    item, _, _ = await pending(api)
    body = await queue(api, as_user)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = await api.query(
        as_user, RESOLVE, input={"itemId": item, "decision": "REJECT", "reason": "no"}
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def audited(api: Api) -> list[Any]:
    async with api.app.state.database.reader.connect() as connection:
        return list(
            await connection.scalars(
                select(AuditEvent.after).where(AuditEvent.action == "review_item.resolved")
            )
        )


async def test_link_enrolls_the_person_as_the_chosen_record(api: Api) -> None:
    item, request, other = await pending(api)
    before = await counts(api)
    payload = await resolve(api, itemId=item, decision="LINK", memberId=gid("Member", other.key))
    assert payload["errors"] == []
    resolved = payload["item"]
    assert (resolved["status"], resolved["decision"]) == ("RESOLVED", "LINK")
    assert resolved["request"]["status"] == "PROCESSED"
    assert [e["status"] for e in resolved["request"]["history"]] == ["PENDING_REVIEW", "PROCESSED"]
    new = key_of(resolved["request"]["member"]["id"])
    async with api.app.state.database.reader.connect() as connection:
        rows = {
            row.id: row
            for row in await connection.execute(
                select(Member).where(Member.id.in_([new, other.key]))
            )
        }
    assert rows[new].ssn_hash == rows[other.key].ssn_hash
    assert rows[new].first_name == "Differentname"  # as the employer submitted it
    after = await counts(api)
    # One member with its coverage, its enrollment audited and the resolution audited.
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 0, 0, 2]
    [entry] = await audited(api)
    assert entry["decision"] == "LINK"
    assert entry["memberId"] == other.key
    # The group sees the outcome.
    setup = await group_setup(api)
    seen = await api.query("admin@acme.example", REQUESTS, n=setup.number)
    [edge] = seen["data"]["group"]["enrollmentRequests"]["edges"]
    assert edge["node"]["id"] == request
    assert edge["node"]["status"] == "PROCESSED"
    assert "enrolled after review" in edge["node"]["history"][-1]["note"]


async def test_create_new_and_reject(api: Api) -> None:
    created, _, _ = await pending(api)
    rejected, _, _ = await pending(api)
    before = await counts(api)
    made = await resolve(api, itemId=created, decision="CREATE_NEW")
    assert made["item"]["request"]["status"] == "PROCESSED"
    refused = await resolve(api, itemId=rejected, decision="REJECT", reason="not our employee")
    assert refused["item"]["request"]["status"] == "REJECTED"
    assert refused["item"]["request"]["member"] is None
    assert refused["item"]["reason"] == "not our employee"
    assert "not our employee" in refused["item"]["request"]["history"][-1]["note"]
    after = await counts(api)
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 0, 0, 3]
    open_items = (await queue(api))["data"]["reviewQueue"]
    assert open_items["totalCount"] == 0
    resolved = (await queue(api, status="RESOLVED"))["data"]["reviewQueue"]
    assert resolved["totalCount"] == 2


async def test_bad_resolutions_are_refused_and_change_nothing(api: Api) -> None:
    item, _, other = await pending(api)
    stranger = await existing_member(api, "Acme Manufacturing")
    before = await counts(api)
    cases: list[tuple[dict[str, Any], list[tuple[str | None, str]]]] = [
        ({"itemId": item, "decision": "LINK"}, [("memberId", "REQUIRED")]),
        (
            {"itemId": item, "decision": "LINK", "memberId": gid("Member", stranger.key)},
            [("memberId", "INVALID")],
        ),
        (
            {"itemId": item, "decision": "CREATE_NEW", "memberId": gid("Member", other.key)},
            [("memberId", "INVALID")],
        ),
        ({"itemId": item, "decision": "REJECT", "reason": "   "}, [("reason", "REQUIRED")]),
        ({"itemId": item, "decision": "REJECT", "reason": "x" * 501}, [("reason", "INVALID")]),
        ({"itemId": gid("ReviewItem", 10**9), "decision": "REJECT"}, [("itemId", "NOT_FOUND")]),
        ({"itemId": "nonsense", "decision": "REJECT"}, [("itemId", "NOT_FOUND")]),
    ]
    for values, expected in cases:
        assert errors_of(await resolve(api, **values)) == expected, values
    assert await counts(api) == before
    assert (await resolve(api, itemId=item, decision="REJECT"))["errors"] == []
    again = await resolve(api, itemId=item, decision="CREATE_NEW")
    assert errors_of(again) == [("itemId", "CONFLICT")]


async def test_two_representatives_at_once_make_one_resolution(api: Api) -> None:
    item, _, other = await pending(api)
    before = await counts(api)
    decisions = [
        {"decision": "LINK", "memberId": gid("Member", other.key)},
        {"decision": "CREATE_NEW"},
        {"decision": "REJECT"},
        {"decision": "CREATE_NEW"},
    ]
    payloads = await asyncio.gather(
        *(resolve(api, itemId=item, **decision) for decision in decisions)
    )
    won = [p for p in payloads if p["item"] is not None]
    lost = [p for p in payloads if p["item"] is None]
    assert len(won) == 1, payloads
    assert all(errors_of(p) == [("itemId", "CONFLICT")] for p in lost), lost
    assert all("another representative" in p["errors"][0]["message"] for p in lost)
    created = 0 if won[0]["item"]["decision"] == "REJECT" else 1
    after = await counts(api)
    assert [a - b for a, b in zip(after, before, strict=True)] == [
        created,
        created,
        0,
        0,
        created + 1,
    ]
    assert len(await audited(api)) == 1


async def test_a_dependent_added_after_review_joins_the_family(api: Api) -> None:
    single = next(f for f in await families(api) if not f.dependents)
    other = await existing_member(api, "Globex Corporation")
    child = as_submitted(other, relationship="CHILD", isDisabled=True, firstName="Otherfirst")
    body = await api.query(
        "admin@acme.example",
        DEPENDENT_ADD,
        input={
            "subscriberId": gid("Member", single.subscriber),
            "dependent": child,
            "effectiveDate": datetime.now(UTC).date().isoformat(),
        },
    )
    assert body["data"]["dependentAdd"]["status"] == "PENDING_REVIEW", body
    async with api.app.state.database.reader.connect() as connection:
        item = await connection.scalar(select(func.max(ReviewItem.id)))
    assert item is not None
    made = await resolve(api, itemId=gid("ReviewItem", item), decision="CREATE_NEW")
    assert made["errors"] == []
    assert made["item"]["request"]["status"] == "PROCESSED"
    async with api.app.state.database.reader.connect() as connection:
        added = (
            await connection.execute(
                select(Member).where(Member.id == key_of(made["item"]["request"]["member"]["id"]))
            )
        ).one()
        tiers = list(
            await connection.scalars(
                select(Coverage.tier)
                .where(Coverage.member_id.in_([single.subscriber, added.id]))
                .where(Coverage.termination_date.is_(None))
            )
        )
    assert added.subscriber_id == single.subscriber
    assert added.first_name == "Otherfirst"
    assert {tier.value for tier in tiers} == {"EMPLOYEE_CHILDREN"}


async def test_linking_to_an_active_member_of_the_group_is_refused_and_keeps_the_item(
    api: Api,
) -> None:
    setup = await group_setup(api)
    own = await existing_member(api, "Acme Manufacturing")
    values = enrollment(setup, subscriber=as_submitted(own, firstName="Otherfirst"))
    body = await api.query("admin@acme.example", ENROLL, input=values)
    assert body["data"]["memberEnroll"]["status"] == "PENDING_REVIEW", body
    async with api.app.state.database.reader.connect() as connection:
        item = await connection.scalar(select(func.max(ReviewItem.id)))
    assert item is not None
    before = await counts(api)
    linked = await resolve(
        api, itemId=gid("ReviewItem", item), decision="LINK", memberId=gid("Member", own.key)
    )
    assert errors_of(linked) == [("memberId", "ALREADY_DONE")]
    assert await counts(api) == before
    still = (await queue(api))["data"]["reviewQueue"]["edges"]
    assert [edge["node"]["id"] for edge in still] == [gid("ReviewItem", item)]
