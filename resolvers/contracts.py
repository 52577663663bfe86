"""A group's contracts (CONTRACTS_READ) and documents (DOCUMENTS_READ), and download links.

A document the caller may not read answers like one that does not exist. Its file is fetched
through a link that the gateway signs and serves itself: good for five minutes, for the one
user it was issued to, and decided again when used — the user must still be active and still
hold DOCUMENTS_READ in the document's group, and the file must still match its recorded digest.

A new-group application's documents (no group of their own) are fetched by whoever follows the
application (`resolvers.applications.may_follow`), decided again at the fetch in the same way.
The anonymous prospect, who has no user, gets a link whose subject is the application instead
(`ProspectGrant`): still signed and good for five minutes, fetched without a bearer token, and
good only while the document is still that application's and its quote still the prospect's own
(docs/decisions/0011).
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
from data.applications import ApplicationRecord
from data.contracts import ContractRecord, DocumentRecord
from data.files import FileStore
from data.models.contracts import DocumentKind
from data.models.users import UserStatus
from data.plans import PlanRecord
from resolvers import applications, groups, quotes
from resolvers.context import Context
from resolvers.loaders import BatchLoader, DomainLoaders

DOWNLOAD_LINK_TTL = timedelta(minutes=5)
# The secret key signs more than one kind of thing: each gets its own key, derived for it.
_LINK_KEY_PURPOSE = b"groupgate download link v1"
_KEY_PART = re.compile(r"[0-9]{1,18}")  # a 64-bit key or Unix time, in ASCII digits
# A prospect's link starts with this part: a user's starts with a digit, so no message of one
# kind reads as the other.
_PROSPECT_PART = "a"


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


async def may_fetch_application_document(
    context: Context, access: AccessMap, document: DocumentRecord
) -> bool:
    """Whether the holder of `access` follows the application `document` was sent with."""
    if document.group_id is not None:
        return False
    found = await _application_of(context, document)
    if found is None:
        return False
    quote = await quotes.loaders(context).quote_by_id.load(found.quote_id)
    return quote is not None and applications.may_follow(access, quote, found)


async def _application_of(context: Context, document: DocumentRecord) -> ApplicationRecord | None:
    loaded = applications.loaders(context)
    application_id = await loaded.application_of_document.load(document.id)
    return None if application_id is None else await loaded.application_by_id.load(application_id)


@dataclass(frozen=True, slots=True)
class DownloadGrant:
    """What a link says: this user may fetch this document until then (Unix seconds)."""

    document_id: int
    user_id: int
    expires: int


@dataclass(frozen=True, slots=True)
class ProspectGrant:
    """A prospect's link: whoever holds the application's quote key may fetch this document of
    the application until then (Unix seconds)."""

    document_id: int
    application_id: int
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


async def application_download_url(context: Context, document: DocumentRecord) -> str | None:
    """A link to a document of an application the caller has just read.

    A signed-in caller gets its own link if it follows the application by its own rights (None
    if it read it only with the quote's key); an anonymous caller, who read it with the key, gets
    a prospect's link to the application's document.
    """
    expires = int((context.now + DOWNLOAD_LINK_TTL).timestamp())
    grant: DownloadGrant | ProspectGrant
    if context.user is None:
        found = await _application_of(context, document)
        if found is None:
            return None
        grant = ProspectGrant(document.id, found.id, expires)
    elif await may_fetch_application_document(context, context.access, document):
        grant = DownloadGrant(document.id, context.user.id, expires)
    else:
        return None
    return context.link(f"/files/{download_token(context.secret_key, grant)}")


def download_token(secret_key: bytes, grant: DownloadGrant | ProspectGrant) -> str:
    if isinstance(grant, ProspectGrant):
        message = f"{_PROSPECT_PART}.{grant.document_id}.{grant.application_id}.{grant.expires}"
    else:
        message = f"{grant.document_id}.{grant.user_id}.{grant.expires}"
    return f"{message}.{_signature(secret_key, message)}"


def verified_grant(secret_key: bytes, token: str, now: datetime) -> DownloadGrant | ProspectGrant:
    """The grant of a token signed with this key, still in time; else LinkInvalid/LinkExpired."""
    message, _, signature = token.rpartition(".")
    parts = message.split(".")
    prospect = bool(parts) and parts[0] == _PROSPECT_PART
    keys = parts[1:] if prospect else parts
    if len(keys) != 3 or not all(_KEY_PART.fullmatch(part) for part in keys):
        raise LinkInvalid
    if not hmac.compare_digest(signature.encode(), _signature(secret_key, message).encode()):
        raise LinkInvalid
    numbers = [int(part) for part in keys]
    grant = ProspectGrant(*numbers) if prospect else DownloadGrant(*numbers)
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


async def download(
    context: Context, store: FileStore, grant: DownloadGrant | ProspectGrant
) -> Download | None:
    """The file of a verified grant, if its subject may read it now; None answers like no
    document.

    `context.user` is whoever else the request names (its bearer token), if anyone: a link is
    only ever good for the user it was issued to, and a prospect's link for no user at all.
    """
    found = await _loaders(context).document_by_id.load(grant.document_id)
    if found is None or not await _may_fetch(context, grant, found):
        return None
    try:
        content = await store.read(found.storage_key)
    except FileNotFoundError:
        raise FileDamaged(f"document {found.id}: no file at {found.storage_key}") from None
    digest = await asyncio.to_thread(lambda: hashlib.sha256(content).hexdigest())
    if len(content) != found.size_bytes or digest != found.sha256:
        raise FileDamaged(f"document {found.id}: the file at {found.storage_key} was altered")
    return Download(found, content)


async def _may_fetch(
    context: Context, grant: DownloadGrant | ProspectGrant, found: DocumentRecord
) -> bool:
    if isinstance(grant, ProspectGrant):
        if context.user is not None:
            return False
        application = await _application_of(context, found)
        if application is None or application.id != grant.application_id:
            return False
        quote = await quotes.loaders(context).quote_by_id.load(application.quote_id)
        # The prospect's own quote (the one with an access key): a broker's has none.
        return quote is not None and quote.agency_id is None
    if context.user is not None and context.user.id != grant.user_id:
        return False
    holder = await context.loaders.user_by_id.load(grant.user_id)
    if holder is None or holder.status != UserStatus.ACTIVE:
        return False
    access = context.policy.access_for(holder.id)
    if found.group_id is not None:
        return _may_read(access, found)
    return await may_fetch_application_document(context, access, found)
