"""Contracts and documents through the endpoint, and their files through signed download links."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from data.contracts import write_demo_files
from data.demo.design import document_content
from data.files import LocalFileStore, UnsafeKey
from data.models.contracts import Document
from resolvers.contracts import DownloadGrant, download_token
from schema.common import global_id, parse_global_id
from tests.conftest import Api, statements
from tests.test_users import DEACTIVATE, UPDATE, acme, user_gid

CONTRACTS = """
query ($n: String!, $past: Boolean!) {
  group(groupNumber: $n) {
    contracts(includePast: $past) {
      id contractNumber planYear startDate endDate isCurrent
      plans { id code }
      documents { kind title }
    }
  }
}"""
PLAN_YEAR = """
query ($id: ID!, $year: Int!) {
  node(id: $id) {
    ... on Contract {
      planYear
      plans {
        code
        rates(planYear: $year) { tier monthlyRate { amount currency } }
        benefits(planYear: $year) { planYear coinsurancePercent }
      }
    }
  }
}"""
DOCUMENTS = """
query ($n: String!, $kind: DocumentKind) {
  group(groupNumber: $n) {
    documents(kind: $kind) { id kind title contentType sizeBytes sha256 createdAt downloadUrl }
  }
}"""
NODE = "query ($id: ID!) { node(id: $id) { id ... on Document { title } } }"
PUBLIC_URL = "http://127.0.0.1:8000"


async def contracts(api: Api, email: str, *, include_past: bool) -> list[dict[str, Any]]:
    body = await api.query(email, CONTRACTS, n=(await acme(api))["number"], past=include_past)
    assert "errors" not in body, body
    found: list[dict[str, Any]] = body["data"]["group"]["contracts"]
    return found


async def test_current_contract_by_default_and_past_ones_on_request(api: Api) -> None:
    today = date.today()
    [current] = await contracts(api, "admin@acme.example", include_past=False)
    assert current["isCurrent"] is True
    assert (
        date.fromisoformat(current["startDate"]) <= today <= date.fromisoformat(current["endDate"])
    )

    every = await contracts(api, "admin@acme.example", include_past=True)
    assert len(every) >= 2
    assert every[0] == current
    starts = [contract["startDate"] for contract in every]
    assert starts == sorted(starts, reverse=True)  # newest first
    for past in every[1:]:
        assert past["isCurrent"] is False
        assert date.fromisoformat(past["endDate"]) < today
    assert len({contract["contractNumber"] for contract in every}) == len(every)


async def test_a_contract_carries_its_plans_with_the_rates_of_its_year(api: Api) -> None:
    every = await contracts(api, "admin@acme.example", include_past=True)
    for contract in every:
        assert contract["plans"], contract
        body = await api.query(
            "broker@summit.example", PLAN_YEAR, id=contract["id"], year=contract["planYear"]
        )
        assert "errors" not in body, body
        plans = body["data"]["node"]["plans"]
        assert [plan["code"] for plan in plans] == [plan["code"] for plan in contract["plans"]]
        for plan in plans:
            assert plan["benefits"]["planYear"] == contract["planYear"]
            assert len(plan["rates"]) == 4
            assert all(rate["monthlyRate"]["amount"] > 0 for rate in plan["rates"])
            assert {rate["monthlyRate"]["currency"] for rate in plan["rates"]} == {"USD"}
    # Plans withdrawn since an older contract stay on it; the current one carries today's.
    current_codes = {plan["code"] for plan in every[0]["plans"]}
    assert all(current_codes <= {plan["code"] for plan in c["plans"]} for c in every)


async def test_each_contract_lists_its_own_document(api: Api) -> None:
    for contract in await contracts(api, "officer@acme.example", include_past=True):
        [document] = contract["documents"]
        assert document["kind"] == "CONTRACT"
        assert document["title"].endswith(f"plan year {contract['planYear']}")


async def documents(api: Api, email: str, kind: str | None = None) -> list[dict[str, Any]]:
    body = await api.query(email, DOCUMENTS, n=(await acme(api))["number"], kind=kind)
    assert "errors" not in body, body
    found: list[dict[str, Any]] = body["data"]["group"]["documents"]
    return found


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (None, {"CONTRACT", "ARBITRATION_AGREEMENT"}),
        ("CONTRACT", {"CONTRACT"}),
        ("ARBITRATION_AGREEMENT", {"ARBITRATION_AGREEMENT"}),
        ("AMENDMENT", set()),
    ],
)
async def test_documents_by_kind(api: Api, kind: str | None, expected: set[str]) -> None:
    every = await contracts(api, "admin@acme.example", include_past=True)
    found = await documents(api, "admin@acme.example", kind)
    assert {document["kind"] for document in found} == expected
    counts = {"CONTRACT": len(every), "ARBITRATION_AGREEMENT": 1}
    assert len(found) == sum(counts.get(k, 0) for k in expected)
    stamps = [document["createdAt"] for document in found]
    assert stamps == sorted(stamps, reverse=True)
    assert all(d["contentType"] == "application/pdf" and d["sizeBytes"] > 0 for d in found)


READERS = [
    # (persona, what it gets: "read", "FORBIDDEN" on both fields, or "hidden" group)
    ("admin@acme.example", "read"),
    ("officer@acme.example", "read"),
    ("broker@summit.example", "read"),
    ("billing@acme.example", "FORBIDDEN"),
    ("hr.east@acme.example", "FORBIDDEN"),  # MEMBERS_READ in one division only
    ("admin@globex.example", "hidden"),
]
BOTH = """
query ($n: String!) {
  group(groupNumber: $n) { contracts { contractNumber } documents { title } }
}"""


@pytest.mark.parametrize(("persona", "expected"), READERS)
async def test_who_reads_contracts_and_documents(api: Api, persona: str, expected: str) -> None:
    body = await api.query(persona, BOTH, n=(await acme(api))["number"])
    group = body["data"]["group"]
    if expected == "read":
        assert "errors" not in body, body
        assert group["contracts"]
        assert group["documents"]
    elif expected == "hidden":
        assert body == {"data": {"group": None}}
    else:
        assert group == {"contracts": None, "documents": None}
        refused = {(e["path"][-1], e["extensions"]["code"]) for e in body["errors"]}
        assert refused == {("contracts", "FORBIDDEN"), ("documents", "FORBIDDEN")}


def store_of(api: Api) -> LocalFileStore:
    return LocalFileStore(api.app.state.settings.file_store_path)


def secret_of(api: Api) -> bytes:
    secret: bytes = api.app.state.settings.secret_key.get_secret_value().encode()
    return secret


def path_of(url: str) -> str:
    assert url.startswith(f"{PUBLIC_URL}/files/"), url
    return url.removeprefix(PUBLIC_URL)


async def test_demo_files_are_written_once_and_never_made_up(api: Api) -> None:
    database = api.app.state.database
    found = await documents(api, "admin@acme.example")
    # A document that is not the demo's (its digest says so) gets no invented file.
    foreign = parse_global_id(found[0]["id"], "Document")
    async with database.engine.begin() as connection:
        await connection.execute(
            update(Document).where(Document.id == foreign).values(sha256="0" * 64)
        )
    written = await write_demo_files(database, store_of(api))
    assert written >= len(found) - 1
    assert await write_demo_files(database, store_of(api)) == 0
    response = await api.client.get(path_of(found[0]["downloadUrl"]))
    assert response.status_code == 500


async def test_download_gives_the_recorded_bytes_as_an_attachment(api: Api) -> None:
    await write_demo_files(api.app.state.database, store_of(api))
    issued = datetime.now(UTC)
    for document in await documents(api, "officer@acme.example"):
        path = path_of(document["downloadUrl"])
        expires = int(path.split(".")[2])
        assert issued + timedelta(minutes=4) < datetime.fromtimestamp(expires, UTC)
        assert datetime.fromtimestamp(expires, UTC) <= issued + timedelta(minutes=5, seconds=1)

        response = await api.client.get(path)
        assert response.status_code == 200, response.text
        assert response.content == document_content(document["title"])
        assert hashlib.sha256(response.content).hexdigest() == document["sha256"]
        assert len(response.content) == document["sizeBytes"]
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="')
        assert disposition.endswith(".pdf")


async def link(api: Api, email: str = "admin@acme.example") -> tuple[dict[str, Any], str]:
    """An Acme contract document as `email` reads it, and the path of its download link."""
    await write_demo_files(api.app.state.database, store_of(api))
    [document, *_] = await documents(api, email, "CONTRACT")
    return document, path_of(document["downloadUrl"])


def altered(path: str, part: int, change: Callable[[str], str]) -> str:
    """The link with one of its parts (document, user, expiry, signature) changed."""
    parts = path.removeprefix("/files/").split(".")
    parts[part] = change(parts[part])
    return "/files/" + ".".join(parts)


def resigned(secret: bytes, path: str, expires_in: timedelta) -> str:
    """The same document and user with another expiry, signed with `secret`."""
    document_id, user_id, _expires, _signature = path.removeprefix("/files/").split(".")
    expires = int((datetime.now(UTC) + expires_in).timestamp())
    return (
        f"/files/{download_token(secret, DownloadGrant(int(document_id), int(user_id), expires))}"
    )


def flipped(signature: str) -> str:
    return ("A" if signature[0] != "A" else "B") + signature[1:]


Change = Callable[[bytes, str], str]
BAD_LINKS: list[tuple[str, Change, int]] = [
    ("expired", lambda key, path: resigned(key, path, timedelta(seconds=-1)), 410),
    ("another key", lambda _, path: resigned(b"guess", path, timedelta(minutes=1)), 403),
    ("signature altered", lambda _, path: altered(path, 3, flipped), 403),
    ("expiry extended", lambda _, path: altered(path, 2, lambda e: str(int(e) + 3600)), 403),
    ("user swapped", lambda _, path: altered(path, 1, lambda u: str(int(u) + 1)), 403),
    ("document swapped", lambda _, path: altered(path, 0, lambda d: str(int(d) + 1)), 403),
    ("no signature", lambda _, path: path.rpartition(".")[0], 403),
    ("not a link", lambda _, path: "/files/not-a-link", 403),
]


@pytest.mark.parametrize(
    ("change", "status"), [(c, s) for _, c, s in BAD_LINKS], ids=[n for n, _, _ in BAD_LINKS]
)
async def test_a_link_altered_or_expired_is_refused(api: Api, change: Change, status: int) -> None:
    _, path = await link(api)
    assert (await api.client.get(path)).status_code == 200
    response = await api.client.get(change(secret_of(api), path))
    assert response.status_code == status
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("bearer", "status"),
    [(None, 200), ("admin@acme.example", 200), ("officer@acme.example", 404)],
)
async def test_a_link_is_good_for_its_own_user_only(
    api: Api, bearer: str | None, status: int
) -> None:
    _, path = await link(api, "admin@acme.example")
    headers = {"authorization": f"Bearer {await api.token(bearer)}"} if bearer else {}
    assert (await api.client.get(path, headers=headers)).status_code == status


async def _revoke(api: Api, group_id: str, billing: str) -> None:
    privileges = ["BILLING_READ", "BILLING_PAY"]
    body = await api.query(
        "admin@acme.example",
        UPDATE,
        input={"groupId": group_id, "userId": billing, "privileges": privileges},
    )
    assert body["data"]["userPrivilegesUpdate"]["errors"] == [], body


async def _deactivate(api: Api, group_id: str, billing: str) -> None:
    body = await api.query(
        "admin@acme.example", DEACTIVATE, input={"groupId": group_id, "userId": billing}
    )
    assert body["data"]["userDeactivate"]["errors"] == [], body


@pytest.mark.parametrize("withdraw", [_revoke, _deactivate], ids=["revoked", "deactivated"])
async def test_rights_are_checked_again_at_download(
    api: Api, withdraw: Callable[[Api, str, str], Any]
) -> None:
    group = await acme(api)
    billing = await user_gid(api, "billing@acme.example")
    granted = ["BILLING_READ", "BILLING_PAY", "DOCUMENTS_READ"]
    body = await api.query(
        "admin@acme.example",
        UPDATE,
        input={"groupId": group["id"], "userId": billing, "privileges": granted},
    )
    assert body["data"]["userPrivilegesUpdate"]["errors"] == [], body
    _, path = await link(api, "billing@acme.example")
    assert (await api.client.get(path)).status_code == 200

    await withdraw(api, group["id"], billing)
    refused = await api.client.get(path)
    assert (refused.status_code, refused.text) == (404, "no such document")


async def test_another_groups_document_answers_like_a_missing_one(api: Api) -> None:
    document, _ = await link(api)
    key = parse_global_id(document["id"], "Document")
    assert key is not None
    missing = global_id("Document", 10**9)

    [contract] = await contracts(api, "admin@acme.example", include_past=False)
    own = await api.query("admin@acme.example", NODE, id=document["id"])
    assert own == {"data": {"node": {"id": document["id"], "title": document["title"]}}}
    hidden = (document["id"], missing, contract["id"], global_id("Contract", 10**9))
    for email in ("admin@globex.example", "billing@acme.example"):
        for node_id in hidden:
            assert await api.query(email, NODE, id=node_id) == {"data": {"node": None}}

    # Even a link signed with the gateway's own key, were one ever made for another group's
    # user, answers exactly like a link to a document that does not exist.
    expires = int((datetime.now(UTC) + timedelta(minutes=1)).timestamp())
    outsider = await api.user_id("admin@globex.example")
    answers = []
    for document_id in (key, 10**9):
        token = download_token(secret_of(api), DownloadGrant(document_id, outsider, expires))
        response = await api.client.get(f"/files/{token}")
        answers.append((response.status_code, response.text))
    assert answers == [(404, "no such document")] * 2


@pytest.mark.parametrize("damage", ["altered", "missing"])
async def test_a_damaged_file_is_never_served(api: Api, damage: str) -> None:
    document, path = await link(api)
    async with api.app.state.database.reader.connect() as connection:
        key = await connection.scalar(
            select(Document.storage_key).where(
                Document.id == parse_global_id(document["id"], "Document")
            )
        )
    stored = store_of(api).root / key
    if damage == "altered":
        stored.write_bytes(stored.read_bytes().replace(b"Acme", b"Acne"))
    else:
        stored.unlink()
    response = await api.client.get(path)
    assert response.status_code == 500
    assert document["title"] not in response.text


UNSAFE_KEYS = [
    "",
    "/etc/passwd",
    "../outside.pdf",
    "groups/../../outside.pdf",
    "groups/./a.pdf",
    "groups//a.pdf",
    "groups/",
    "C:/Windows/a.pdf",
    "groups\\a.pdf",
    "groups/a\0.pdf",
]


@pytest.mark.parametrize("key", UNSAFE_KEYS)
async def test_the_file_store_refuses_keys_outside_it(tmp_path: Path, key: str) -> None:
    store = LocalFileStore(tmp_path / "store")
    with pytest.raises(UnsafeKey):
        await store.put(key, b"x")
    with pytest.raises(UnsafeKey):
        await store.read(key)
    assert not (tmp_path / "outside.pdf").exists()


async def test_the_file_store_follows_no_link_out_of_it(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "groups").symlink_to(tmp_path / "elsewhere")
    store = LocalFileStore(tmp_path / "store")
    with pytest.raises(UnsafeKey):
        await store.put("groups/a.pdf", b"x")
    assert list((tmp_path / "elsewhere").iterdir()) == []


async def test_the_file_store_replaces_files_whole(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "store")
    first = await store.put("groups/G1/a.pdf", b"first")
    assert (first.size_bytes, first.sha256) == (5, hashlib.sha256(b"first").hexdigest())
    await store.put("groups/G1/a.pdf", b"second version")
    assert await store.read("groups/G1/a.pdf") == b"second version"
    assert await store.exists("groups/G1/a.pdf")
    assert not await store.exists("groups/G1/b.pdf")
    with pytest.raises(FileNotFoundError):
        await store.read("groups/G1/b.pdf")
    # No temporary file is left beside it, and only its owner may read it.
    [only] = (tmp_path / "store" / "groups" / "G1").iterdir()
    assert only.name == "a.pdf"
    assert only.stat().st_mode & 0o077 == 0


BOOK = """
{
  groups(first: 50) {
    contracts(includePast: true) {
      plans { code rates { tier } }
      documents { downloadUrl }
    }
    documents(kind: ARBITRATION_AGREEMENT) { title }
  }
}"""
# Groups; their contracts; the contracts' plans, then those plans' rates; the contracts'
# documents; the groups' documents.
BOOK_LEVELS = 6


async def _book_statements(api: Api, reader: str) -> tuple[int, int]:
    token = await api.token(reader)  # issued before counting: a token costs no SQL to check
    with statements(api.app.state.database.engine) as seen:
        response = await api.client.post(
            "/graphql", json={"query": BOOK}, headers={"authorization": f"Bearer {token}"}
        )
    body = response.json()
    assert "errors" not in body, body
    found = body["data"]["groups"]
    assert all(group["contracts"] and group["documents"] for group in found)
    # One statement authenticates the caller; the rest answer the query.
    return len(seen) - 1, len(found)


async def test_statements_do_not_grow_with_the_groups_read(api: Api) -> None:
    broker, book = await _book_statements(api, "broker@summit.example")
    staff, every_group = await _book_statements(api, "accounts@carrier.example")
    assert book < every_group
    assert broker == staff == BOOK_LEVELS


async def test_a_download_costs_two_statements(api: Api) -> None:
    _, path = await link(api)
    with statements(api.app.state.database.engine) as seen:
        assert (await api.client.get(path)).status_code == 200
    assert len(seen) == 2, seen  # the link's user, and the document
