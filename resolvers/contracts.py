"""A group's contracts (CONTRACTS_READ) and documents (DOCUMENTS_READ), and download links.

A document the caller may not read answers like one that does not exist. Its file is fetched
through a link that the gateway signs and serves itself: good for five minutes, for the one
user it was issued to, and decided again when used — the user must still be active and still
hold DOCUMENTS_READ in the document's group, and the file must still match its recorded digest.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from authz.access import AccessMap
from authz.privileges import Privilege
from data import contracts
from data.contracts import ContractRecord, DocumentRecord
from data.files import FileStore
from data.models.contracts import DocumentKind
from data.models.users import UserStatus
from data.plans import PlanRecord
from resolvers import groups
from resolvers.context import Context
from resolvers.loaders import BatchLoader, DomainLoaders

DOWNLOAD_LINK_TTL = timedelta(minutes=5)
# The secret key signs more than one kind of thing: each gets its own key, derived for it.
_LINK_KEY_PURPOSE = b"groupgate download link v1"
_KEY_PART = re.compile(r"[0-9]{1,18}")  # a 64-bit key or Unix time, in ASCII digits


class ContractLoaders(DomainLoaders):
    @cached_property
    def contracts_by_group(self) -> BatchLoader[int, list[ContractRecord]]:
        return BatchLoader(self.reader, contracts.contracts_of_groups)

    @cached_property
    def contract_by_id(self) -> BatchLoader[int, ContractRecord | None]:
        return BatchLoader(self.reader, contracts.contracts_by_id)

    @cached_property
    def plans_by_contract(self) -> BatchLoader[int, list[PlanRecord]]:
        return BatchLoader(self.reader, contracts.plans_of_contracts)

    @cached_property
    def documents_by_group(self) -> BatchLoader[int, list[DocumentRecord]]:
        return BatchLoader(self.reader, contracts.documents_of_groups)

    @cached_property
    def documents_by_contract(self) -> BatchLoader[int, list[DocumentRecord]]:
        return BatchLoader(self.reader, contracts.documents_of_contracts)

    @cached_property
    def document_by_id(self) -> BatchLoader[int, DocumentRecord | None]:
        return BatchLoader(self.reader, contracts.documents_by_id)


def _loaders(context: Context) -> ContractLoaders:
    return context.loaders.domain(ContractLoaders)


def is_current(contract: ContractRecord, today: date) -> bool:
    return contract.start_date <= today <= contract.end_date


async def group_contracts(
    context: Context, group_id: int, *, include_past: bool
) -> list[ContractRecord]:
    """Newest first: the current and any upcoming contract, and with `include_past` ended ones."""
    groups.require(context, Privilege.CONTRACTS_READ, group_id)
    found = await _loaders(context).contracts_by_group.load(group_id)
    if include_past:
        return found
    return [contract for contract in found if contract.end_date >= context.today]


async def contract(context: Context, contract_id: int) -> ContractRecord | None:
    found = await _loaders(context).contract_by_id.load(contract_id)
    if found is None or not context.access.allows(Privilege.CONTRACTS_READ, found.group_id):
        return None
    return found


async def contract_plans(context: Context, contract: ContractRecord) -> list[PlanRecord]:
    return await _loaders(context).plans_by_contract.load(contract.id)


async def contract_documents(context: Context, contract: ContractRecord) -> list[DocumentRecord]:
    groups.require(context, Privilege.DOCUMENTS_READ, contract.group_id)
    return await _loaders(context).documents_by_contract.load(contract.id)


async def group_documents(
    context: Context, group_id: int, kind: DocumentKind | None
) -> list[DocumentRecord]:
    """Newest first, of one kind or of every kind."""
    groups.require(context, Privilege.DOCUMENTS_READ, group_id)
    found = await _loaders(context).documents_by_group.load(group_id)
    return found if kind is None else [document for document in found if document.kind == kind]


async def document(context: Context, document_id: int) -> DocumentRecord | None:
    found = await _loaders(context).document_by_id.load(document_id)
    return found if found is not None and _may_read(context.access, found) else None


def _may_read(access: AccessMap, document: DocumentRecord) -> bool:
    # An application's documents (no group yet) are read through the application, not here.
    return document.group_id is not None and access.allows(
        Privilege.DOCUMENTS_READ, document.group_id
    )


@dataclass(frozen=True, slots=True)
class DownloadGrant:
    """What a link says: this user may fetch this document until then (Unix seconds)."""

    document_id: int
    user_id: int
    expires: int


class LinkInvalid(Exception):
    """Not a link the gateway signed: malformed, altered, or signed with another key."""


class LinkExpired(Exception):
    """A link the gateway signed, past its time."""


class FileDamaged(Exception):
    """The stored file is missing or differs from its record: an operator must look."""


def download_url(context: Context, document: DocumentRecord) -> str:
    """A link for the signed-in caller, to a document it has just read."""
    expires = int((context.now + DOWNLOAD_LINK_TTL).timestamp())
    grant = DownloadGrant(document.id, context.signed_in().id, expires)
    return context.link(f"/files/{download_token(context.secret_key, grant)}")


def download_token(secret_key: bytes, grant: DownloadGrant) -> str:
    message = f"{grant.document_id}.{grant.user_id}.{grant.expires}"
    return f"{message}.{_signature(secret_key, message)}"


def verified_grant(secret_key: bytes, token: str, now: datetime) -> DownloadGrant:
    """The grant of a token signed with this key, still in time; else LinkInvalid/LinkExpired."""
    message, _, signature = token.rpartition(".")
    parts = message.split(".")
    if len(parts) != 3 or not all(_KEY_PART.fullmatch(part) for part in parts):
        raise LinkInvalid
    if not hmac.compare_digest(signature.encode(), _signature(secret_key, message).encode()):
        raise LinkInvalid
    grant = DownloadGrant(*(int(part) for part in parts))
    if now.timestamp() >= grant.expires:
        raise LinkExpired
    return grant


def _signature(secret_key: bytes, message: str) -> str:
    if not secret_key:
        raise RuntimeError("no secret key in the context: download links cannot be signed")
    key = hmac.new(secret_key, _LINK_KEY_PURPOSE, hashlib.sha256).digest()
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class Download:
    document: DocumentRecord
    content: bytes


async def download(context: Context, store: FileStore, grant: DownloadGrant) -> Download | None:
    """The file of a verified grant, if its user may read it now; None answers like no document.

    `context.user` is whoever else the request names (its bearer token), if anyone: a link is
    only ever good for the user it was issued to.
    """
    if context.user is not None and context.user.id != grant.user_id:
        return None
    holder = await context.loaders.user_by_id.load(grant.user_id)
    if holder is None or holder.status != UserStatus.ACTIVE:
        return None
    found = await _loaders(context).document_by_id.load(grant.document_id)
    if found is None or not _may_read(context.policy.access_for(holder.id), found):
        return None
    try:
        content = await store.read(found.storage_key)
    except FileNotFoundError:
        raise FileDamaged(f"document {found.id}: no file at {found.storage_key}") from None
    digest = await asyncio.to_thread(lambda: hashlib.sha256(content).hexdigest())
    if len(content) != found.size_bytes or digest != found.sha256:
        raise FileDamaged(f"document {found.id}: the file at {found.storage_key} was altered")
    return Download(found, content)
