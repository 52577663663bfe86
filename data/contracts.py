"""Reads of contracts, the plans they carry, and documents: batch functions in key order."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from data.database import Database
from data.files import FileStore
from data.keys import Keyed
from data.models.contracts import Contract, ContractPlan, Document, DocumentKind
from data.models.plans import Plan
from data.plans import PlanRecord


@dataclass(frozen=True, slots=True)
class ContractRecord:
    id: int
    group_id: int
    contract_number: str
    plan_year: int
    start_date: date
    end_date: date


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    id: int
    # None for a prospective group's application document (it has no group yet).
    group_id: int | None
    contract_id: int | None
    kind: DocumentKind
    title: str
    storage_key: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime


_CONTRACT = [getattr(Contract, name) for name in ContractRecord.__slots__]
_DOCUMENT = [getattr(Document, name) for name in DocumentRecord.__slots__]
_PLAN = [getattr(Plan, name) for name in PlanRecord.__slots__]
_NEWEST_DOCUMENT_FIRST = (Document.created_at.desc(), Document.id.desc())


_CONTRACTS_OF_GROUPS = Keyed(
    lambda keys: (
        select(*_CONTRACT)
        .where(keys(Contract.group_id))
        .order_by(Contract.start_date.desc(), Contract.id.desc())
    )
)


async def contracts_of_groups(
    connection: AsyncConnection, group_ids: Sequence[int]
) -> list[list[ContractRecord]]:
    """Each group's contracts, newest first."""
    rows = await _CONTRACTS_OF_GROUPS.execute(connection, group_ids)
    found: dict[int, list[ContractRecord]] = defaultdict(list)
    for row in rows:
        found[row.group_id].append(ContractRecord(*row))
    return [found.get(group_id, []) for group_id in group_ids]


_CONTRACTS_BY_ID = Keyed(lambda keys: select(*_CONTRACT).where(keys(Contract.id)))


async def contracts_by_id(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[ContractRecord | None]:
    rows = await _CONTRACTS_BY_ID.execute(connection, ids)
    found = {row.id: ContractRecord(*row) for row in rows}
    return [found.get(contract_id) for contract_id in ids]


_PLANS_OF_CONTRACTS = Keyed(
    lambda keys: (
        select(ContractPlan.contract_id, *_PLAN)
        .join(Plan, Plan.id == ContractPlan.plan_id)
        .where(keys(ContractPlan.contract_id))
        .order_by(Plan.code)
    )
)


async def plans_of_contracts(
    connection: AsyncConnection, contract_ids: Sequence[int]
) -> list[list[PlanRecord]]:
    """Each contract's plans, by plan code: one join, so plans cost no level of their own."""
    rows = await _PLANS_OF_CONTRACTS.execute(connection, contract_ids)
    found: dict[int, list[PlanRecord]] = defaultdict(list)
    for contract_id, *plan in rows:
        found[contract_id].append(PlanRecord(*plan))
    return [found.get(contract_id, []) for contract_id in contract_ids]


_DOCUMENTS_OF_GROUPS = Keyed(
    lambda keys: select(*_DOCUMENT).where(keys(Document.group_id)).order_by(*_NEWEST_DOCUMENT_FIRST)
)


async def documents_of_groups(
    connection: AsyncConnection, group_ids: Sequence[int]
) -> list[list[DocumentRecord]]:
    """Each group's documents (those of its contracts included), newest first."""
    rows = await _DOCUMENTS_OF_GROUPS.execute(connection, group_ids)
    found: dict[int, list[DocumentRecord]] = defaultdict(list)
    for row in rows:
        found[row.group_id].append(DocumentRecord(*row))
    return [found.get(group_id, []) for group_id in group_ids]


_DOCUMENTS_OF_CONTRACTS = Keyed(
    lambda keys: (
        select(*_DOCUMENT).where(keys(Document.contract_id)).order_by(*_NEWEST_DOCUMENT_FIRST)
    )
)


async def documents_of_contracts(
    connection: AsyncConnection, contract_ids: Sequence[int]
) -> list[list[DocumentRecord]]:
    """Each contract's documents, newest first."""
    rows = await _DOCUMENTS_OF_CONTRACTS.execute(connection, contract_ids)
    found: dict[int, list[DocumentRecord]] = defaultdict(list)
    for row in rows:
        found[row.contract_id].append(DocumentRecord(*row))
    return [found.get(contract_id, []) for contract_id in contract_ids]


_DOCUMENTS_BY_ID = Keyed(lambda keys: select(*_DOCUMENT).where(keys(Document.id)))


async def documents_by_id(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[DocumentRecord | None]:
    rows = await _DOCUMENTS_BY_ID.execute(connection, ids)
    found = {row.id: DocumentRecord(*row) for row in rows}
    return [found.get(document_id) for document_id in ids]


async def write_demo_files(database: Database, store: FileStore) -> int:
    """Store the file of every demo document that has none yet; returns how many were written.

    The demo loader writes document rows only (the database can be loaded without the file
    store at hand). A row is a demo document when the demo content of its title has the row's
    digest: a real upload whose file went missing is never papered over with a made-up PDF.
    """
    # Imported here: the demo package stays out of the serving process, which never calls this.
    from data.demo.design import document_content

    async with database.reader.connect() as connection:
        rows = (
            await connection.execute(
                select(Document.storage_key, Document.title, Document.sha256).order_by(Document.id)
            )
        ).all()
    written = 0
    for storage_key, title, sha256 in rows:
        if await store.exists(storage_key):
            continue
        content = document_content(title)
        if hashlib.sha256(content).hexdigest() != sha256:
            continue
        await store.put(storage_key, content)
        written += 1
    return written
