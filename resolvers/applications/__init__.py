"""New-group applications: submitted on a quote with its documents (`submission`), followed by
the submitter, reviewed by account representatives (`review`: approval creates the group).

Who follows an application: whoever reads its quote through the gateway (the quote's agency's
brokers, account representatives), once approved the new group's readers of documents
(DOCUMENTS_READ in the group: it is the group's own application), or the prospect with the
quote's access key. Whoever follows it may fetch its documents (`resolvers.contracts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from authz.access import AccessMap
from authz.privileges import Privilege
from data import applications
from data.applications import ApplicationRecord, EventRecord
from data.contracts import DocumentRecord
from data.models.quotes import ApplicationStatus
from data.pagination import Page
from data.quotes import QuoteRecord
from resolvers import quotes
from resolvers.context import Context
from resolvers.errors import NotAllowed, NotAuthenticated
from resolvers.loaders import BatchLoader, DomainLoaders
from resolvers.pagination import page_request


class ApplicationLoaders(DomainLoaders):
    @cached_property
    def application_by_id(self) -> BatchLoader[int, ApplicationRecord | None]:
        return BatchLoader(self.reader, applications.applications_by_id)

    @cached_property
    def events_by_application(self) -> BatchLoader[int, list[EventRecord]]:
        return BatchLoader(self.reader, applications.events_of_applications)

    @cached_property
    def application_of_document(self) -> BatchLoader[int, int | None]:
        return BatchLoader(self.reader, applications.applications_of_documents)

    @cached_property
    def documents_by_application(self) -> BatchLoader[int, list[DocumentRecord]]:
        return BatchLoader(self.reader, applications.documents_of_applications)


def loaders(context: Context) -> ApplicationLoaders:
    return context.loaders.domain(ApplicationLoaders)


@dataclass(frozen=True, slots=True)
class ApplicationsPage:
    page: Page
    applications: list[ApplicationRecord]


def may_follow(access: AccessMap, quote: QuoteRecord, found: ApplicationRecord) -> bool:
    """Whether the holder of `access` (a signed-in user) follows the application on `quote`:
    whoever reads the quote, and once approved whoever reads the new group's documents."""
    if quotes.may_read_with(access, quote):
        return True
    return found.group_id is not None and access.allows(Privilege.DOCUMENTS_READ, found.group_id)


async def application(context: Context, application_id: int) -> ApplicationRecord | None:
    """For the quote's brokers and account representatives; anyone else: as if missing."""
    if context.user is None:
        return None
    found = await loaders(context).application_by_id.load(application_id)
    if found is None:
        return None
    quote = await quotes.loaders(context).quote_by_id.load(found.quote_id)
    return found if quote is not None and may_follow(context.access, quote, found) else None


async def application_with_key(
    context: Context, number: str, access_key: str
) -> ApplicationRecord | None:
    """The prospect's application, by its number and its quote's access key."""
    async with context.database.reader.connect() as connection:
        found = await applications.application_by_number(connection, number.strip().upper())
    if found is None:
        return None
    quote = await quotes.loaders(context).quote_by_id.load(found.quote_id)
    if quote is None:
        return None
    keyed = await quotes.keyed_quote(context, quote.quote_number, access_key)
    return found if keyed is not None else None


async def history(context: Context, found: ApplicationRecord) -> list[EventRecord]:
    return await loaders(context).events_by_application.load(found.id)


async def documents(context: Context, found: ApplicationRecord) -> list[DocumentRecord]:
    loaded = loaders(context)
    sent = await loaded.documents_by_application.load(found.id)
    # Their links ask which application each was sent with: known here, not asked again.
    loaded.application_by_id.prime(found.id, found)
    for document in sent:
        loaded.application_of_document.prime(document.id, found.id)
    return sent


async def quote_of(context: Context, found: ApplicationRecord) -> quotes.QuoteView | None:
    record = await quotes.loaders(context).quote_by_id.load(found.quote_id)
    return None if record is None else quotes.QuoteView(record, context.now)


def require_reviewer(context: Context) -> None:
    if context.user is None:
        raise NotAuthenticated
    if not context.access.allows(Privilege.APPLICATIONS_REVIEW):
        raise NotAllowed(Privilege.APPLICATIONS_REVIEW.value)


async def queue(
    context: Context, *, status: ApplicationStatus | None, first: int | None, after: str | None
) -> ApplicationsPage:
    """Every application (of one status), oldest first: the account representatives' queue."""
    require_reviewer(context)
    request = page_request(first=first, after=after, last=None, before=None, kinds=[int])
    async with context.database.reader.connect() as connection:
        page = await applications.applications_page(connection, status, request)
    return ApplicationsPage(page, list(page.rows))
