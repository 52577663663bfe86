"""New-group applications through the endpoint: submission with documents (all or nothing),
following it, the review queue and every transition, and approval creating the group."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from data import applications as data_applications
from data.contracts import write_demo_files
from data.models.audit import AuditEvent
from data.models.contracts import Document
from data.models.groups import Group
from data.models.quotes import GroupApplication, GroupApplicationEvent
from resolvers.contracts import DownloadGrant, ProspectGrant, download_token
from tests.conftest import Api, statements
from tests.quote_helpers import make_older

BROKER = "broker@summit.example"
OTHER_BROKER = "amara.okafor@harborview.example"
ADMIN = "admin@acme.example"
ACCOUNTS = "accounts@carrier.example"

QUOTE = """
mutation ($input: QuoteCreateInput!) {
  quoteCreate(input: $input) {
    accessKey errors { field code } quote { id number plans { plan { id } } }
  }
}"""
APPLICATION_FIELDS = """
  id number status decisionReason decidedAt createdAt groupId
  company { legalName employeeCount taxId addressLine1 addressLine2 city state postalCode }
  officer { name email title }
  plans { id }
  quote { number }
  history { status reason occurredAt }
  documents { kind title contentType sizeBytes sha256 }"""
SUBMIT = (
    """
mutation ($input: GroupApplicationSubmitInput!) {
  groupApplicationSubmit(input: $input) {
    errors { field code message }
    application {"""
    + APPLICATION_FIELDS
    + "} } }"
)
READ = (
    "query ($id: ID, $n: String, $k: String) {"
    " groupApplication(id: $id, number: $n, accessKey: $k) {" + APPLICATION_FIELDS + "} }"
)

SIGNED = ("ENROLLMENT_APPLICATION", "signed application.pdf", b"%PDF-1.7\nsigned\n%%EOF")
LETTER = ("BROKER_OF_RECORD_LETTER", "bor.pdf", b"%PDF-1.4\nbroker of record\n%%EOF")
OTHER = ("OTHER", "census.pdf", b"%PDF-1.5\ncensus\n%%EOF")


def gid(kind: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def key_of(global_id: str) -> int:
    return int(base64.urlsafe_b64decode(global_id).decode().partition(":")[2])


async def make_quote(api: Api, email: str | None) -> dict[str, Any]:
    body = await api.query(
        email,
        QUOTE,
        input={
            "prospect": {"name": "Lakeside Robotics LLC", "region": "NCAL", "postalCode": "94612"},
            "census": [{"tier": "EMPLOYEE", "employees": 8}, {"tier": "FAMILY", "employees": 4}],
        },
    )
    payload: dict[str, Any] = body["data"]["quoteCreate"]
    assert payload["errors"] == [], payload
    return payload


def application_input(quote: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A whole, valid application on `quote` (a quoteCreate payload), with `changes`."""
    reference: dict[str, Any] = (
        {"quoteId": quote["quote"]["id"]}
        if quote["accessKey"] is None
        else {"quoteNumber": quote["quote"]["number"], "accessKey": quote["accessKey"]}
    )
    given: dict[str, Any] = {
        **reference,
        "company": {
            "legalName": "Lakeside  Robotics LLC",
            "address": {
                "line1": "100 Harbor Way",
                "city": "Oakland",
                "state": "ca",
                "postalCode": "94612",
            },
            "employeeCount": 12,
            "taxId": "941234567",
        },
        "officer": {"name": "Grace Lee", "email": "Grace.Lee@lakeside.example", "title": "CEO"},
        "planIds": [quote["quote"]["plans"][0]["plan"]["id"]],
    }
    given.update(changes)
    return given


async def submit(
    api: Api,
    email: str | None,
    given: dict[str, Any],
    documents: list[tuple[str, str, bytes]],
) -> dict[str, Any]:
    """A GraphQL multipart request: the operation, the map, and one file per document."""
    variables = {
        "input": {**given, "documents": [{"kind": kind, "file": None} for kind, _, _ in documents]}
    }
    files = {
        str(index): (name, content, "application/pdf")
        for index, (_, name, content) in enumerate(documents)
    }
    mapping = {str(i): [f"variables.input.documents.{i}.file"] for i in range(len(documents))}
    headers = {"authorization": f"Bearer {await api.token(email)}"} if email else {}
    response = await api.client.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": SUBMIT, "variables": variables}),
            "map": json.dumps(mapping),
        },
        files=files,
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def submitted(
    api: Api, email: str | None, given: dict[str, Any], documents: list[tuple[str, str, bytes]]
) -> dict[str, Any]:
    body = await submit(api, email, given, documents)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["groupApplicationSubmit"]
    assert payload["errors"] == [], payload
    application: dict[str, Any] = payload["application"]
    return application


async def stored(api: Api) -> tuple[int, int, int, int]:
    """Applications, their events and documents, and files in the store."""
    async with api.app.state.database.reader.connect() as connection:
        counts = [
            int(await connection.scalar(select(func.count()).select_from(table)) or 0)
            for table in (GroupApplication, GroupApplicationEvent)
        ]
        documents = await connection.scalar(
            select(func.count()).select_from(Document).where(Document.application_id.is_not(None))
        )
    root = api.app.state.file_store.root / "applications"
    files = sum(1 for path in root.rglob("*") if path.is_file()) if root.exists() else 0
    return counts[0], counts[1], int(documents or 0), files


async def test_a_broker_submits_an_application_with_its_documents(api: Api) -> None:
    quote = await make_quote(api, BROKER)
    plans = [plan["plan"]["id"] for plan in quote["quote"]["plans"][:2]]
    application = await submitted(
        api, BROKER, application_input(quote, planIds=plans), [SIGNED, LETTER, OTHER]
    )
    assert application["status"] == "SUBMITTED"
    assert application["number"].startswith("A")
    assert application["groupId"] is None
    assert application["quote"] == {"number": quote["quote"]["number"]}
    assert application["company"] == {
        "legalName": "Lakeside Robotics LLC",
        "employeeCount": 12,
        "taxId": "94-1234567",
        "addressLine1": "100 Harbor Way",
        "addressLine2": None,
        "city": "Oakland",
        "state": "CA",
        "postalCode": "94612",
    }
    assert application["officer"] == {
        "name": "Grace Lee",
        "email": "grace.lee@lakeside.example",
        "title": "CEO",
    }
    assert [plan["id"] for plan in application["plans"]] == plans
    assert [(e["status"], e["reason"]) for e in application["history"]] == [("SUBMITTED", None)]
    assert application["documents"] == [
        {
            "kind": kind,
            "title": name,
            "contentType": "application/pdf",
            "sizeBytes": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }
        for kind, name, content in (SIGNED, LETTER, OTHER)
    ]
    application_id = key_of(application["id"])
    async with api.app.state.database.reader.connect() as connection:
        keys = list(
            await connection.scalars(
                select(Document.storage_key)
                .where(Document.application_id == application_id)
                .order_by(Document.id)
            )
        )
        event = (
            await connection.execute(
                select(AuditEvent).where(AuditEvent.action == "group_application.submitted")
            )
        ).one()
    store = api.app.state.file_store
    assert [await store.read(key) for key in keys] == [SIGNED[2], LETTER[2], OTHER[2]]
    assert event.actor_user_id == await api.user_id(BROKER)
    assert event.target_id == str(application_id)

    # Who follows it: the quote's agency and account representatives; nobody else.
    for email, sees in [
        (BROKER, True),
        ("luis.ortega@summit.example", True),
        (ACCOUNTS, True),
        (OTHER_BROKER, False),
        (ADMIN, False),
        (None, False),
    ]:
        body = await api.query(email, READ, id=application["id"])
        assert "errors" not in body, body
        assert (body["data"]["groupApplication"] is not None) is sees, email


async def test_a_prospect_applies_with_its_key_and_one_application_holds_a_quote(
    api: Api,
) -> None:
    quote = await make_quote(api, None)
    application = await submitted(api, None, application_input(quote), [SIGNED])
    assert [d["kind"] for d in application["documents"]] == ["ENROLLMENT_APPLICATION"]
    number, key = application["number"], quote["accessKey"]
    followed = await api.query(None, READ, n=number, k=key)
    assert followed["data"]["groupApplication"]["id"] == application["id"]
    other = await make_quote(api, None)
    for email, number_given, key_given in [
        (None, number, other["accessKey"]),
        (None, number, ""),
        (BROKER, number, key + "x"),
    ]:
        body = await api.query(email, READ, n=number_given, k=key_given)
        assert body["data"]["groupApplication"] is None
    anonymous_by_id = await api.query(None, READ, id=application["id"])
    assert anonymous_by_id["data"]["groupApplication"] is None

    before = await stored(api)
    again = await submit(api, None, application_input(quote), [SIGNED])
    payload = again["data"]["groupApplicationSubmit"]
    assert payload["application"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("input.quoteNumber", "CONFLICT")
    ]
    assert await stored(api) == before

    # Approved, the prospect's group has no broker of record: no agency reads it.
    await reviewed(api, application["id"], "IN_REVIEW")
    approved = await reviewed(api, application["id"], "APPROVED")
    assert approved["errors"] == [], approved
    followed = await api.query(None, READ, n=number, k=key)
    assert followed["data"]["groupApplication"]["status"] == "APPROVED"
    group_number = f"G{2_000_000 + key_of(application['id'])}"
    body = await api.query(ACCOUNTS, GROUP, n=group_number)
    assert body["data"]["group"]["brokersOfRecord"] == []
    assert (await api.query(BROKER, GROUP, n=group_number))["data"]["group"] is None


async def test_an_expired_quote_takes_no_application(api: Api) -> None:
    before = await stored(api)  # the demo's applications
    for days_old, usable in [(60, False), (59, True)]:
        quote = await make_quote(api, BROKER)
        await make_older(api, key_of(quote["quote"]["id"]), days_old)
        body = await submit(api, BROKER, application_input(quote), [SIGNED, LETTER])
        payload = body["data"]["groupApplicationSubmit"]
        if usable:
            assert payload["errors"] == []
            assert payload["application"]["status"] == "SUBMITTED"
        else:
            assert payload["application"] is None
            assert [(e["field"], e["code"]) for e in payload["errors"]] == [
                ("input.quoteId", "QUOTE_EXPIRED")
            ]
            assert await stored(api) == before


async def test_a_bad_application_names_every_fault_and_stores_nothing(api: Api) -> None:
    before = await stored(api)  # the demo's applications
    quote = await make_quote(api, BROKER)
    prospect = await make_quote(api, None)
    other_agency = await make_quote(api, OTHER_BROKER)
    good = application_input(quote)
    company, officer = good["company"], good["officer"]
    too_big = b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024)
    foreign_plan = gid("Plan", 10**12)
    cases: list[tuple[str | None, dict[str, Any], list[Any], list[tuple[str | None, str]]]] = [
        (BROKER, good, [LETTER], [("input.documents", "REQUIRED")]),
        (BROKER, good, [SIGNED], [("input.documents", "REQUIRED")]),
        (
            BROKER,
            good,
            [SIGNED, LETTER, ("OTHER", "x.pdf", b"GIF89a not a pdf")],
            [("input.documents[2].file", "INVALID")],
        ),
        (
            BROKER,
            good,
            [SIGNED, ("CONTRACT", "c.pdf", b"%PDF-1.7"), ("OTHER", "big.pdf", too_big), LETTER],
            [("input.documents[1].kind", "INVALID"), ("input.documents[2].file", "INVALID")],
        ),
        (
            BROKER,
            {**good, "planIds": []},
            [SIGNED, LETTER],
            [("input.planIds", "REQUIRED")],
        ),
        (
            BROKER,
            {**good, "planIds": [good["planIds"][0], foreign_plan, "?", good["planIds"][0]]},
            [SIGNED, LETTER],
            [
                ("input.planIds[1]", "NOT_FOUND"),
                ("input.planIds[2]", "INVALID"),
                ("input.planIds[3]", "INVALID"),
            ],
        ),
        (
            BROKER,
            {
                **good,
                "company": {
                    **company,
                    "legalName": " ",
                    "taxId": "94-12345",
                    "employeeCount": 0,
                    "address": {**company["address"], "state": "XX", "postalCode": "9461"},
                },
                "officer": {**officer, "email": "grace", "title": ""},
            },
            [SIGNED, LETTER],
            [
                ("input.company.legalName", "REQUIRED"),
                ("input.company.address.state", "INVALID"),
                ("input.company.address.postalCode", "INVALID"),
                ("input.company.employeeCount", "INVALID"),
                ("input.company.taxId", "INVALID"),
                ("input.officer.email", "INVALID"),
                ("input.officer.title", "REQUIRED"),
            ],
        ),
        (
            BROKER,
            {**good, "quoteNumber": prospect["quote"]["number"], "accessKey": "x"},
            [SIGNED, LETTER],
            [("input.quoteId", "INVALID")],
        ),
        (
            BROKER,
            application_input(other_agency),
            [SIGNED, LETTER],
            [("input.quoteId", "NOT_FOUND")],
        ),
        (ADMIN, good, [SIGNED, LETTER], [("input.quoteId", "NOT_FOUND")]),
        (None, good, [SIGNED, LETTER], [("input.quoteId", "NOT_FOUND")]),
        (
            None,
            {**application_input(prospect), "accessKey": quote["quote"]["number"]},
            [SIGNED],
            [("input.quoteNumber", "NOT_FOUND")],
        ),
    ]
    for email, given, documents, expected in cases:
        body = await submit(api, email, given, documents)
        assert "errors" not in body, body
        payload = body["data"]["groupApplicationSubmit"]
        assert payload["application"] is None, (given, payload)
        assert [(e["field"], e["code"]) for e in payload["errors"]] == expected, payload
        assert all(e["message"] for e in payload["errors"])
    # Carrier staff read every quote, yet only the agency's brokers apply on its behalf.
    forbidden = await submit(api, ACCOUNTS, good, [SIGNED, LETTER])
    assert forbidden["data"]["groupApplicationSubmit"] is None
    assert [e["extensions"]["code"] for e in forbidden["errors"]] == ["FORBIDDEN"]
    assert await stored(api) == before
    # And the same quote still takes a whole application afterwards.
    assert (await submitted(api, BROKER, good, [SIGNED, LETTER]))["status"] == "SUBMITTED"


REVIEW = """
mutation ($id: ID!, $status: ApplicationStatus!, $reason: String) {
  groupApplicationReview(input: {applicationId: $id, status: $status, reason: $reason}) {
    errors { field code message }
    officerInvitationUrl
    application { id status decisionReason decidedAt groupId history { status reason } }
  }
}"""
QUEUE = """
query ($status: ApplicationStatus, $first: Int, $after: String) {
  groupApplications(status: $status, first: $first, after: $after) {
    edges { node { number status company { legalName } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def reviewed(
    api: Api, application_id: str, status: str, reason: str | None = None
) -> dict[str, Any]:
    body = await api.query(ACCOUNTS, REVIEW, id=application_id, status=status, reason=reason)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["groupApplicationReview"]
    return payload


async def test_every_review_transition(api: Api) -> None:
    quote = await make_quote(api, BROKER)
    application = await submitted(api, BROKER, application_input(quote), [SIGNED, LETTER])
    ident = application["id"]
    refusals: dict[str, list[tuple[str, str | None]]] = {
        "SUBMITTED": [("APPROVED", None), ("DECLINED", "no"), ("SUBMITTED", None)],
        "IN_REVIEW": [("IN_REVIEW", None), ("SUBMITTED", None)],
        "DECLINED": [("IN_REVIEW", None), ("APPROVED", None), ("DECLINED", "again")],
    }
    steps: list[tuple[str, str, str | None]] = [
        ("SUBMITTED", "IN_REVIEW", None),
        ("IN_REVIEW", "DECLINED", "Census does not match the payroll report."),
    ]
    for current, status, reason in steps:
        for wrong, wrong_reason in refusals[current]:
            payload = await reviewed(api, ident, wrong, wrong_reason)
            assert payload["application"] is None
            assert [(e["field"], e["code"]) for e in payload["errors"]] == [
                ("input.status", "INVALID")
            ], (current, wrong)
        if status == "DECLINED":
            missing = await reviewed(api, ident, status, "   ")
            assert [(e["field"], e["code"]) for e in missing["errors"]] == [
                ("input.reason", "REQUIRED")
            ]
        payload = await reviewed(api, ident, status, reason)
        assert payload["errors"] == [], payload
        assert payload["application"]["status"] == status
    for wrong, wrong_reason in refusals["DECLINED"]:
        payload = await reviewed(api, ident, wrong, wrong_reason)
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("input.status", "INVALID")]
    followed = (await api.query(BROKER, READ, id=ident))["data"]["groupApplication"]
    assert followed["status"] == "DECLINED"
    assert followed["decisionReason"] == "Census does not match the payroll report."
    assert followed["decidedAt"] is not None
    assert followed["groupId"] is None
    assert [(e["status"], e["reason"]) for e in followed["history"]] == [
        ("SUBMITTED", None),
        ("IN_REVIEW", None),
        ("DECLINED", "Census does not match the payroll report."),
    ]
    missing = await reviewed(api, gid("GroupApplication", 10**9), "IN_REVIEW")
    assert [(e["field"], e["code"]) for e in missing["errors"]] == [
        ("input.applicationId", "NOT_FOUND")
    ]
    # A declined application frees the quote for another.
    officer = {"name": "Rachel Kim", "email": BROKER, "title": "Owner"}
    again = await submitted(
        api, BROKER, application_input(quote, officer=officer), [SIGNED, LETTER]
    )
    assert again["status"] == "SUBMITTED"
    # A broker's account cannot become a group officer: approval is refused, nothing changes.
    await reviewed(api, again["id"], "IN_REVIEW")
    refused = await reviewed(api, again["id"], "APPROVED")
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("input.status", "CONFLICT")]
    followed = (await api.query(ACCOUNTS, READ, id=again["id"]))["data"]["groupApplication"]
    assert (followed["status"], followed["groupId"]) == ("IN_REVIEW", None)
    assert [e["status"] for e in followed["history"]] == ["SUBMITTED", "IN_REVIEW"]
    async with api.app.state.database.reader.connect() as connection:
        groups = await connection.scalar(
            select(func.count()).select_from(Group).where(Group.legal_name.startswith("Lakeside"))
        )
    assert groups == 0


QUEUE_IN_FULL = """
query ($first: Int) {
  groupApplications(first: $first) {
    edges { node { number plans { code } quote { number plans { plan { code } } }
                   history { status } documents { kind sha256 downloadUrl } } }
  }
}"""


async def queue_of(api: Api) -> list[tuple[str, str]]:
    body = await api.query(ACCOUNTS, QUEUE, first=100)
    return [
        (e["node"]["number"], e["node"]["status"])
        for e in body["data"]["groupApplications"]["edges"]
    ]


async def test_who_works_the_queue_oldest_first(api: Api) -> None:
    demo = await queue_of(api)  # the demo's applications, in every status
    numbers = []
    for _ in range(3):
        quote = await make_quote(api, BROKER)
        numbers.append(await submitted(api, BROKER, application_input(quote), [SIGNED, LETTER]))
    for email, code in [
        (None, "UNAUTHENTICATED"),
        (BROKER, "FORBIDDEN"),
        (OTHER_BROKER, "FORBIDDEN"),
        (ADMIN, "FORBIDDEN"),
    ]:
        body = await api.query(email, REVIEW, id=numbers[1]["id"], status="IN_REVIEW")
        assert body["data"]["groupApplicationReview"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == [code], email
        queue = await api.query(email, QUEUE, status="SUBMITTED")
        assert queue["data"] is None
        assert [e["extensions"]["code"] for e in queue["errors"]] == [code], email
    followed = await api.query(BROKER, READ, id=numbers[1]["id"])
    assert followed["data"]["groupApplication"]["status"] == "SUBMITTED"

    assert (await reviewed(api, numbers[1]["id"], "IN_REVIEW"))["errors"] == []
    # Oldest first: the demo's applications, then these; SUBMITTED ones page by page.
    submitted_now = [n for n, status in demo if status == "SUBMITTED"]
    submitted_now += [numbers[0]["number"], numbers[2]["number"]]
    walked, after = [], None
    while True:
        body = await api.query(ACCOUNTS, QUEUE, status="SUBMITTED", first=1, after=after)
        page = body["data"]["groupApplications"]
        walked += [e["node"]["number"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == submitted_now
    assert await queue_of(api) == [
        *demo,
        (numbers[0]["number"], "SUBMITTED"),
        (numbers[1]["number"], "IN_REVIEW"),
        (numbers[2]["number"], "SUBMITTED"),
    ]
    counted = []
    for size in (1, 3):
        with statements(api.app.state.database.engine) as seen:
            body = await api.query(ACCOUNTS, QUEUE_IN_FULL, first=size)
        edges = body["data"]["groupApplications"]["edges"]
        assert len(edges) == size
        assert all(len(edge["node"]["documents"]) == 2 for edge in edges)
        assert all(d["downloadUrl"] for edge in edges for d in edge["node"]["documents"])
        counted.append(len(seen))
    # The caller, the page, then one batch per level: the applications' plans, quotes, quoted
    # plans, the quoted plans' plans, history, documents (their links ask nothing more: the
    # application of each document is known). Measured: 9 on both databases.
    assert counted[0] == counted[1] <= 9, counted


async def test_concurrent_reviews_make_one_decision(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    quote = await make_quote(api, BROKER)
    application = await submitted(api, BROKER, application_input(quote), [SIGNED, LETTER])
    await reviewed(api, application["id"], "IN_REVIEW")
    application_id = key_of(application["id"])
    read = data_applications.applications_by_id

    async def read_then_another_review_commits(connection: Any, ids: Any) -> Any:
        found = await read(connection, ids)
        async with api.app.state.database.engine.begin() as other:
            await other.execute(
                update(GroupApplication)
                .where(GroupApplication.id == application_id)
                .values(status="DECLINED", decision_reason="declined elsewhere")
            )
        return found

    monkeypatch.setattr(data_applications, "applications_by_id", read_then_another_review_commits)
    lost = await reviewed(api, application["id"], "APPROVED")
    monkeypatch.undo()
    assert lost["application"] is None
    assert [(e["field"], e["code"]) for e in lost["errors"]] == [
        ("input.applicationId", "CONFLICT")
    ]
    followed = (await api.query(ACCOUNTS, READ, id=application["id"]))["data"]["groupApplication"]
    assert followed["status"] == "DECLINED"
    assert followed["groupId"] is None
    assert [e["status"] for e in followed["history"]] == ["SUBMITTED", "IN_REVIEW"]
    async with api.app.state.database.reader.connect() as connection:
        created = await connection.scalar(
            select(func.count()).select_from(Group).where(Group.legal_name.startswith("Lakeside"))
        )
    assert created == 0

    # Two reviews sent together: one decides, the other is refused.
    quote = await make_quote(api, BROKER)
    application = await submitted(api, BROKER, application_input(quote), [SIGNED, LETTER])
    await reviewed(api, application["id"], "IN_REVIEW")
    results = await asyncio.gather(
        reviewed(api, application["id"], "APPROVED"),
        reviewed(api, application["id"], "DECLINED", "Duplicate."),
    )
    winners = [r for r in results if not r["errors"]]
    assert len(winners) == 1, results
    [loser] = [r for r in results if r["errors"]]
    # Overlapping, the loser finds nothing to move; after the winner, its status is decided.
    assert [(e["field"], e["code"]) for e in loser["errors"]] in (
        [("input.applicationId", "CONFLICT")],
        [("input.status", "INVALID")],
    )
    followed = (await api.query(ACCOUNTS, READ, id=application["id"]))["data"]["groupApplication"]
    assert followed["status"] == winners[0]["application"]["status"]
    assert len(followed["history"]) == 3


DESIGNATE = """
mutation ($g: ID!, $who: String!, $name: String!) {
  primaryAdministratorDesignate(input: {groupId: $g, email: $who, name: $name}) {
    invitationUrl errors { field code }
  }
}"""
GROUP = """
query ($n: String!) {
  group(groupNumber: $n) {
    id groupNumber legalName region status employeeCount renewalDate
    contracts { contractNumber planYear startDate endDate plans { id } }
    brokersOfRecord { startDate agency { name } }
  }
}"""


async def accept(api: Api, invitation_url: str, password: str) -> None:
    path = invitation_url.removeprefix("http://127.0.0.1:8000")
    assert path.startswith("/invitations/")
    response = await api.client.post(path, data={"password": password, "confirmation": password})
    assert response.status_code == 200, response.text


async def test_approval_creates_the_group_its_officer_and_broker_of_record(api: Api) -> None:
    quote = await make_quote(api, BROKER)
    plans = [plan["plan"]["id"] for plan in quote["quote"]["plans"][:2]]
    application = await submitted(
        api, BROKER, application_input(quote, planIds=plans), [SIGNED, LETTER]
    )
    await reviewed(api, application["id"], "IN_REVIEW")
    approved = await reviewed(api, application["id"], "APPROVED", "Welcome.")
    assert approved["errors"] == [], approved
    decided = approved["application"]
    assert decided["status"] == "APPROVED"
    assert decided["decisionReason"] == "Welcome."
    assert [e["status"] for e in decided["history"]] == ["SUBMITTED", "IN_REVIEW", "APPROVED"]
    group_id = key_of(decided["groupId"])
    today = datetime.now(UTC).date()
    effective = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    renewal = effective.replace(year=effective.year + 1)
    number = f"G{2_000_000 + key_of(application['id'])}"
    for wrong in ("IN_REVIEW", "DECLINED", "APPROVED"):
        again = await reviewed(api, application["id"], wrong, "x")
        assert [(e["field"], e["code"]) for e in again["errors"]] == [("input.status", "INVALID")]

    # The officer accepts the invitation, then designates the primary administrator.
    officer = "grace.lee@lakeside.example"
    assert approved["officerInvitationUrl"]
    await accept(api, approved["officerInvitationUrl"], "officer's long passphrase")
    designated = await api.query(
        officer, DESIGNATE, g=decided["groupId"], who="hr@lakeside.example", name="Ana Ruiz"
    )
    payload = designated["data"]["primaryAdministratorDesignate"]
    assert payload["errors"] == [], designated
    await accept(api, payload["invitationUrl"], "administrator's long passphrase")

    expected = {
        "id": decided["groupId"],
        "groupNumber": number,
        "legalName": "Lakeside Robotics LLC",
        "region": "NCAL",
        "status": "PENDING",
        "employeeCount": 12,
        "renewalDate": renewal.isoformat(),
        "contracts": [
            {
                "contractNumber": f"C{number[1:]}-{effective.year}",
                "planYear": effective.year,
                "startDate": effective.isoformat(),
                "endDate": (renewal - timedelta(days=1)).isoformat(),
                "plans": [{"id": plan_id} for plan_id in sorted(plans, key=key_of)],
            }
        ],
        "brokersOfRecord": [
            {"startDate": today.isoformat(), "agency": {"name": "Summit Benefits"}}
        ],
    }
    for email, sees in [
        ("hr@lakeside.example", True),
        (BROKER, True),
        ("luis.ortega@summit.example", True),
        (ACCOUNTS, True),
        (OTHER_BROKER, False),
        (ADMIN, False),
    ]:
        body = await api.query(email, GROUP, n=number)
        assert "errors" not in body, (email, body)
        if sees:
            shown = body["data"]["group"]
            shown["contracts"][0]["plans"].sort(key=lambda plan: key_of(plan["id"]))
            assert shown == expected, email
        else:
            assert body["data"]["group"] is None, email
    # The officer reads the contracts but does not run the account.
    officer_view = (await api.query(officer, GROUP, n=number))["data"]["group"]
    officer_view["contracts"][0]["plans"].sort(key=lambda plan: key_of(plan["id"]))
    assert officer_view["contracts"] == expected["contracts"]

    async with api.app.state.database.reader.connect() as connection:
        actions = list(
            await connection.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.group_id == group_id)
                .order_by(AuditEvent.id)
            )
        )
        kept = await connection.scalar(
            select(GroupApplication.group_id).where(
                GroupApplication.id == key_of(application["id"])
            )
        )
    assert actions == [
        "user.created",
        "group.created",
        "group_application.approved",
        "user.created",
        "primary_administrator.designated",
    ]
    assert kept == group_id


# Download links for an application's documents (docs/decisions/0011, "Documents' links").
LINKS = """
query ($id: ID, $n: String, $k: String) {
  groupApplication(id: $id, number: $n, accessKey: $k) { documents { kind downloadUrl } }
}"""
PUBLIC_URL = "http://127.0.0.1:8000"


def secret_of(api: Api) -> bytes:
    return str(api.app.state.settings.secret_key.get_secret_value()).encode()


async def links(
    api: Api,
    email: str | None,
    *,
    id: str | None = None,
    n: str | None = None,
    k: str | None = None,
) -> list[str | None] | None:
    """The download links `email` gets for the application's documents (None: not readable)."""
    body = await api.query(email, LINKS, id=id, n=n, k=k)
    assert "errors" not in body, body
    found = body["data"]["groupApplication"]
    if found is None:
        return None
    return [
        None if d["downloadUrl"] is None else d["downloadUrl"].removeprefix(PUBLIC_URL)
        for d in found["documents"]
    ]


async def fetched(api: Api, path: str, bearer: str | None = None) -> tuple[int, bytes]:
    headers = {"authorization": f"Bearer {await api.token(bearer)}"} if bearer else {}
    response = await api.client.get(path, headers=headers)
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, response.content


def signed_path(api: Api, grant: DownloadGrant | ProspectGrant) -> str:
    return f"/files/{download_token(secret_of(api), grant)}"


def in_a_minute() -> int:
    return int((datetime.now(UTC) + timedelta(minutes=1)).timestamp())


async def document_ids(api: Api, application_id: str) -> list[int]:
    async with api.app.state.database.reader.connect() as connection:
        return list(
            await connection.scalars(
                select(Document.id)
                .where(Document.application_id == key_of(application_id))
                .order_by(Document.id)
            )
        )


async def test_who_gets_and_fetches_links_to_an_applications_documents(api: Api) -> None:
    quote = await make_quote(api, BROKER)
    application = await submitted(api, BROKER, application_input(quote), [SIGNED, LETTER])
    ident = application["id"]
    [signed_id, _] = await document_ids(api, ident)
    expected = [(200, SIGNED[2]), (200, LETTER[2])]

    # Who gets a link, and the link serves exactly the file sent; a persona that may not read
    # the application gets none, and a link the gateway signed for it anyway answers 404, as
    # for a document that does not exist.
    missing = (404, b"no such document")
    for email, follows in [
        (BROKER, True),
        ("luis.ortega@summit.example", True),
        (ACCOUNTS, True),
        (OTHER_BROKER, False),
        ("rep@carrier.example", False),
        (ADMIN, False),
        ("officer@acme.example", False),
    ]:
        paths = await links(api, email, id=ident)
        if follows:
            assert paths is not None, email
            assert None not in paths, email
            assert [await fetched(api, p) for p in paths if p] == expected, email
        else:
            assert paths is None, email
            grant = DownloadGrant(signed_id, await api.user_id(email), in_a_minute())
            assert await fetched(api, signed_path(api, grant)) == missing, email
    nowhere = DownloadGrant(10**9, await api.user_id(BROKER), in_a_minute())
    assert await fetched(api, signed_path(api, nowhere)) == missing
    assert await links(api, None, id=ident) is None

    # A link is its user's only: another signed-in user following it gets 404.
    [own, _] = await links(api, BROKER, id=ident) or []
    assert own is not None
    assert (await fetched(api, own, ACCOUNTS))[0] == 404
    assert await fetched(api, own, BROKER) == (200, SIGNED[2])
    # A broker's link is no prospect's: it cannot be passed off as one.
    document_id, _user_id, expires, signature = own.removeprefix("/files/").split(".")
    posing = f"/files/a.{document_id}.{key_of(ident)}.{expires}.{signature}"
    assert (await fetched(api, posing))[0] == 403
    # Nor is a broker's application a prospect's, even with a link the gateway signed.
    prospects = ProspectGrant(signed_id, key_of(ident), in_a_minute())
    assert await fetched(api, signed_path(api, prospects)) == missing

    # Once approved, the new group's readers of documents fetch them too; still nobody else.
    await reviewed(api, ident, "IN_REVIEW")
    approved = await reviewed(api, ident, "APPROVED")
    assert approved["errors"] == [], approved
    await accept(api, approved["officerInvitationUrl"], "officer's long passphrase")
    officer_paths = await links(api, "grace.lee@lakeside.example", id=ident)
    assert officer_paths is not None
    assert [await fetched(api, p) for p in officer_paths if p] == expected
    assert await links(api, ADMIN, id=ident) is None


async def test_a_prospect_uploads_a_real_pdf_and_fetches_it_with_a_keyed_link(api: Api) -> None:
    # A signed application of about 2 MB, over the small limit of unsigned requests.
    big = (SIGNED[0], "signed application.pdf", b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024))
    quote = await make_quote(api, None)
    application = await submitted(api, None, application_input(quote), [big, OTHER])
    assert [d["sizeBytes"] for d in application["documents"]] == [len(big[2]), len(OTHER[2])]
    ident, number, key = application["id"], application["number"], quote["accessKey"]

    # The prospect reads it with the quote's key and gets links bound to the application,
    # fetched without signing in; a signed-in user following such a link gets 404.
    paths = await links(api, None, n=number, k=key)
    assert paths is not None
    assert all(p and p.startswith("/files/a.") for p in paths)
    [first, second] = [p for p in paths if p]
    assert await fetched(api, first) == (200, big[2])
    assert await fetched(api, second) == (200, OTHER[2])
    assert (await fetched(api, first, BROKER))[0] == 404
    assert await links(api, None, n=number, k="wrong") is None
    # A broker who was handed the key reads the application, but gets no link of its own.
    assert await links(api, BROKER, n=number, k=key) == [None, None]
    # The account representative gets its own link.
    [mine, _] = await links(api, ACCOUNTS, id=ident) or []
    assert mine is not None
    assert not mine.startswith("/files/a.")
    assert await fetched(api, mine) == (200, big[2])

    # Tampered, re-signed elsewhere, or expired: refused before anything is looked up.
    _, document_id, application_id, expires, signature = first.removeprefix("/files/").split(".")
    swapped = f"/files/a.{document_id}.{int(application_id) + 1}.{expires}.{signature}"
    assert (await fetched(api, swapped))[0] == 403
    later = f"/files/a.{document_id}.{application_id}.{int(expires) + 60}.{signature}"
    assert (await fetched(api, later))[0] == 403
    past = int((datetime.now(UTC) - timedelta(seconds=1)).timestamp())
    expired = ProspectGrant(int(document_id), int(application_id), past)
    assert (await fetched(api, signed_path(api, expired)))[0] == 410
    forged = f"/files/{download_token(b'guess', ProspectGrant(int(document_id), 1, 10**10))}"
    assert (await fetched(api, forged))[0] == 403

    # A prospect's link names its own application's documents only, even when signed by the
    # gateway: another application's document answers like a missing one.
    broker_quote = await make_quote(api, BROKER)
    other = await submitted(api, BROKER, application_input(broker_quote), [SIGNED, LETTER])
    [theirs, _] = await document_ids(api, other["id"])
    for grant in (
        ProspectGrant(theirs, int(application_id), in_a_minute()),
        ProspectGrant(int(document_id), key_of(other["id"]), in_a_minute()),
    ):
        assert await fetched(api, signed_path(api, grant)) == (404, b"no such document")


async def test_an_applications_documents_fit_an_unsigned_request(api: Api) -> None:
    before = await stored(api)  # the demo's applications
    quote = await make_quote(api, BROKER)
    nine = b"%PDF-1.7\n" + b"0" * (9 * 1024 * 1024)
    body = await submit(
        api,
        BROKER,
        application_input(quote),
        [(SIGNED[0], "a.pdf", nine), (LETTER[0], "b.pdf", nine), (OTHER[0], "c.pdf", nine)],
    )
    errors = body["data"]["groupApplicationSubmit"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("input.documents", "INVALID")]
    assert await stored(api) == before


# Relay nodes: seen exactly as `quote(id)` and `groupApplication(id)` see them.
NODES = """
query ($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename id
    ... on Quote { number }
    ... on GroupApplication { number }
  }
}"""
QUOTE_BY_ID = "query ($id: ID) { quote(id: $id) { number } }"


async def test_quotes_and_applications_are_nodes_seen_as_by_their_own_fields(api: Api) -> None:
    quote = await make_quote(api, BROKER)
    application = await submitted(api, BROKER, application_input(quote), [SIGNED, LETTER])
    prospect = await make_quote(api, None)
    ids = [quote["quote"]["id"], application["id"], prospect["quote"]["id"]]
    await reviewed(api, application["id"], "IN_REVIEW")
    approved = await reviewed(api, application["id"], "APPROVED")
    await accept(api, approved["officerInvitationUrl"], "officer's long passphrase")
    as_quote = {"__typename": "Quote", "id": ids[0], "number": quote["quote"]["number"]}
    as_application = {
        "__typename": "GroupApplication",
        "id": ids[1],
        "number": application["number"],
    }
    as_prospect = {"__typename": "Quote", "id": ids[2], "number": prospect["quote"]["number"]}
    table: list[tuple[str | None, list[dict[str, str] | None]]] = [
        (BROKER, [as_quote, as_application, None]),
        ("luis.ortega@summit.example", [as_quote, as_application, None]),
        (ACCOUNTS, [as_quote, as_application, as_prospect]),
        # The new group's officer follows its application, not the agency's quote.
        ("grace.lee@lakeside.example", [None, as_application, None]),
        (OTHER_BROKER, [None, None, None]),
        ("rep@carrier.example", [None, None, None]),
        (ADMIN, [None, None, None]),
        (None, [None, None, None]),
    ]
    for email, sees in table:
        body = await api.query(email, NODES, ids=ids)
        assert body == {"data": {"nodes": sees}}, email
        # The same as the types' own fields.
        by_field = [
            (await api.query(email, QUOTE_BY_ID, id=ids[0]))["data"]["quote"],
            (await api.query(email, READ, id=ids[1]))["data"]["groupApplication"],
            (await api.query(email, QUOTE_BY_ID, id=ids[2]))["data"]["quote"],
        ]
        assert [found is not None for found in by_field] == [s is not None for s in sees], email


ID_PARTS = st.integers(min_value=0, max_value=10**18 - 1)


@hypothesis.settings(
    max_examples=30,
    deadline=None,
    # Examples share the one served database: each answer stands on its own.
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(
    raw=st.text(
        alphabet=st.sampled_from("a0123456789.-_AZaz"),
        max_size=80,
    ),
    grant=st.builds(ProspectGrant, ID_PARTS, ID_PARTS, st.just(10**10))
    | st.builds(DownloadGrant, ID_PARTS, ID_PARTS, st.just(10**10)),
)
# A demo user who may read a demo document (found by Hypothesis: its file must be served).
@hypothesis.example(raw="", grant=DownloadGrant(1, 2, 10**10))
async def test_arbitrary_links_never_fail_the_server(
    api: Api, raw: str, grant: DownloadGrant | ProspectGrant
) -> None:
    # Any token: refused before a lookup (404: no token at all). Any grant the gateway could
    # sign: decided by lookups (a demo user may read a demo document: 200, so the demo's files
    # must be in this server's store; written once, later examples find them there).
    await write_demo_files(api.app.state.database, api.app.state.file_store)
    assert (await api.client.get(f"/files/{raw}")).status_code in {403, 404}
    assert (await api.client.get(signed_path(api, grant))).status_code in {200, 404}
