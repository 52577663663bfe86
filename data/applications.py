"""New-group applications: reads (batch functions in key order), their status history and
documents, and the writes of submission and review."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from data.contracts import DocumentRecord
from data.keys import Keyed
from data.models.contracts import Document
from data.models.quotes import ApplicationStatus, GroupApplication, GroupApplicationEvent
from data.pagination import Page, PageRequest, fetch_page


@dataclass(frozen=True, slots=True)
class ApplicationRecord:
    id: int
    application_number: str
    quote_id: int
    # legalName, address {line1, line2, city, state, postalCode}, employeeCount, taxId.
    company: dict[str, Any]
    officer_name: str
    officer_email: str
    officer_title: str
    plan_ids: list[int]
    status: ApplicationStatus
    decision_reason: str | None
    decided_by_user_id: int | None
    decided_at: datetime | None
    group_id: int | None
    submitted_by_user_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EventRecord:
    application_id: int
    status: ApplicationStatus
    reason: str | None
    actor_user_id: int | None
    occurred_at: datetime


_APPLICATION = [getattr(GroupApplication, name) for name in ApplicationRecord.__slots__]
_EVENT = [getattr(GroupApplicationEvent, name) for name in EventRecord.__slots__]
_DOCUMENT = [getattr(Document, name) for name in DocumentRecord.__slots__]
# Oldest first: the review queue is worked in the order applications came in.
APPLICATION_ORDER = [GroupApplication.id]


def _application(row: Any) -> ApplicationRecord:
    return ApplicationRecord(*row[: len(_APPLICATION)])


_APPLICATIONS_BY_ID = Keyed(lambda keys: select(*_APPLICATION).where(keys(GroupApplication.id)))


async def applications_by_id(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[ApplicationRecord | None]:
    rows = await _APPLICATIONS_BY_ID.execute(connection, ids)
    found = {row.id: _application(row) for row in rows}
    return [found.get(application_id) for application_id in ids]


_APPLICATION_BY_NUMBER = select(*_APPLICATION).where(
    GroupApplication.application_number == bindparam("number")
)


async def application_by_number(
    connection: AsyncConnection, number: str
) -> ApplicationRecord | None:
    row = (await connection.execute(_APPLICATION_BY_NUMBER, {"number": number})).first()
    return None if row is None else _application(row)


async def open_application_of_quote(
    connection: AsyncConnection | AsyncSession, quote_id: int
) -> ApplicationRecord | None:
    """The quote's application that holds it (any status but DECLINED), if there is one."""
    row = (
        await connection.execute(
            select(*_APPLICATION).where(
                GroupApplication.quote_id == quote_id,
                GroupApplication.status != ApplicationStatus.DECLINED,
            )
        )
    ).first()
    return None if row is None else _application(row)


_EVENTS_OF_APPLICATIONS = Keyed(
    lambda keys: (
        select(*_EVENT)
        .where(keys(GroupApplicationEvent.application_id))
        .order_by(GroupApplicationEvent.occurred_at, GroupApplicationEvent.id)
    )
)


async def events_of_applications(
    connection: AsyncConnection, application_ids: Sequence[int]
) -> list[list[EventRecord]]:
    """Each application's status history, oldest first."""
    found: dict[int, list[EventRecord]] = defaultdict(list)
    for row in await _EVENTS_OF_APPLICATIONS.execute(connection, application_ids):
        found[row.application_id].append(EventRecord(*row))
    return [found.get(application_id, []) for application_id in application_ids]


_DOCUMENTS_OF_APPLICATIONS = Keyed(
    lambda keys: (
        select(Document.application_id, *_DOCUMENT)
        .where(keys(Document.application_id))
        .order_by(Document.id)
    )
)


async def documents_of_applications(
    connection: AsyncConnection, application_ids: Sequence[int]
) -> list[list[DocumentRecord]]:
    """Each application's documents, in the order they were sent."""
    found: dict[int, list[DocumentRecord]] = defaultdict(list)
    for row in await _DOCUMENTS_OF_APPLICATIONS.execute(connection, application_ids):
        found[row[0]].append(DocumentRecord(*row[1:]))
    return [found.get(application_id, []) for application_id in application_ids]


_APPLICATIONS_OF_DOCUMENTS = Keyed(
    lambda keys: select(Document.id, Document.application_id).where(keys(Document.id))
)


async def applications_of_documents(
    connection: AsyncConnection, document_ids: Sequence[int]
) -> list[int | None]:
    """The application each document was sent with (None: a group's own, or no document)."""
    found = {
        row[0]: row[1] for row in await _APPLICATIONS_OF_DOCUMENTS.execute(connection, document_ids)
    }
    return [found.get(document_id) for document_id in document_ids]


async def applications_page(
    connection: AsyncConnection, status: ApplicationStatus | None, request: PageRequest
) -> Page:
    """A page of every application (of one status, or all), oldest first."""
    statement = select(*_APPLICATION, *APPLICATION_ORDER)
    if status is not None:
        statement = statement.where(GroupApplication.status == status)
    page = await fetch_page(connection, statement, APPLICATION_ORDER, request, count=False)
    return replace(page, rows=[_application(row) for row in page.rows])


def add_event(
    session: AsyncSession,
    application_id: int,
    status: ApplicationStatus,
    *,
    reason: str | None,
    actor_user_id: int | None,
    now: datetime,
) -> None:
    session.add(
        GroupApplicationEvent(
            application_id=application_id,
            status=status,
            reason=reason,
            actor_user_id=actor_user_id,
            occurred_at=now,
        )
    )


async def insert_application(
    session: AsyncSession, application: GroupApplication, documents: Sequence[Document]
) -> ApplicationRecord:
    """The application, its first event and its documents' rows (the files are stored already).

    The flush raises IntegrityError when another application already holds the quote."""
    session.add(application)
    await session.flush()
    add_event(
        session,
        application.id,
        application.status,
        reason=None,
        actor_user_id=application.submitted_by_user_id,
        now=application.created_at,
    )
    for document in documents:
        document.application_id = application.id
    session.add_all(documents)
    await session.flush()
    return ApplicationRecord(*(getattr(application, n) for n in ApplicationRecord.__slots__))


async def move_status(
    session: AsyncSession,
    application_id: int,
    *,
    expected: ApplicationStatus,
    status: ApplicationStatus,
    values: dict[str, Any],
) -> bool:
    """Move the application from `expected` to `status`; False if it is no longer `expected`
    (another review won): the row is changed only where it still stands as the reviewer saw it.
    """
    result = await session.execute(
        update(GroupApplication)
        .where(GroupApplication.id == application_id, GroupApplication.status == expected)
        .values(status=status, **values)
    )
    return bool(getattr(result, "rowcount", 0))


async def attach_group(session: AsyncSession, application_id: int, group_id: int) -> None:
    """Record the group an approval created on the application."""
    await session.execute(
        update(GroupApplication)
        .where(GroupApplication.id == application_id)
        .values(group_id=group_id)
    )
