"""Contracts per plan year with the plans they carry, and documents with their download links."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from authz.privileges import Privilege
from data.contracts import ContractRecord, DocumentRecord
from data.groups import GroupRecord
from data.models.contracts import DocumentKind
from resolvers import contracts
from schema.common import Info, global_id, served_as
from schema.permissions import guarded
from schema.plans import Plan
from schema.relay import Node

strawberry.enum(DocumentKind, description="What a document is.")


@strawberry.type(description="A stored file: a contract, an arbitration agreement, ...")
class Document(Node):
    kind: DocumentKind
    title: str
    content_type: str = strawberry.field(description="Media type, e.g. application/pdf.")
    size_bytes: int
    sha256: str = strawberry.field(description="Hex SHA-256 of the file, to check a download.")
    created_at: datetime

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, DocumentRecord)

    @strawberry.field
    def id(self: DocumentRecord) -> strawberry.ID:
        return global_id("Document", self.id)

    @strawberry.field(
        description="Fetches the file for 5 minutes, for you only; rights are checked again then."
    )
    def download_url(self: DocumentRecord, info: Info) -> str:
        return contracts.download_url(info.context, self)


@strawberry.type(description="The group's contract for one plan year.")
class Contract(Node):
    contract_number: str
    plan_year: int
    start_date: date
    end_date: date

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, ContractRecord)

    @strawberry.field
    def id(self: ContractRecord) -> strawberry.ID:
        return global_id("Contract", self.id)

    @strawberry.field(description="Whether today lies between its start and end dates.")
    def is_current(self: ContractRecord, info: Info) -> bool:
        return contracts.is_current(self, info.context.today)

    @strawberry.field(description="Plans it offers; ask them for `rates(planYear)` of its year.")
    async def plans(self: ContractRecord, info: Info) -> list[Plan]:
        return served_as(await contracts.contract_plans(info.context, self), Plan)

    @strawberry.field(
        description="Its documents, newest first. Needs DOCUMENTS_READ.",
        extensions=guarded(Privilege.DOCUMENTS_READ),
    )
    async def documents(self: ContractRecord, info: Info) -> list[Document] | None:
        return served_as(await contracts.contract_documents(info.context, self), Document)


@strawberry.type
class GroupContracts:
    """The group's fields of this domain; `Group` inherits them."""

    @strawberry.field(
        description="Contracts, newest first: current and upcoming, and with includePast ended"
        " ones too. Needs CONTRACTS_READ.",
        extensions=guarded(Privilege.CONTRACTS_READ),
    )
    async def contracts(
        self: GroupRecord, info: Info, include_past: bool = False
    ) -> list[Contract] | None:
        found = await contracts.group_contracts(info.context, self.id, include_past=include_past)
        return served_as(found, Contract)

    @strawberry.field(
        description="Documents, newest first, of one kind or all. Needs DOCUMENTS_READ.",
        extensions=guarded(Privilege.DOCUMENTS_READ),
    )
    async def documents(
        self: GroupRecord, info: Info, kind: DocumentKind | None = None
    ) -> list[Document] | None:
        return served_as(await contracts.group_documents(info.context, self.id, kind), Document)
