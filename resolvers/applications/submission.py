"""Submitting a new-group application on a quote, with its documents.

Who submits: the quote's broker (QUOTES_MANAGE over the quote's agency, naming `quoteId`) or
the anonymous prospect (naming `quoteNumber` with the quote's `accessKey`). Everything is
checked before anything is stored; one application holds a quote at a time (any status but
DECLINED); a DECLINED application frees the quote for another.
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from authz.privileges import Privilege
from data import applications, audit
from data.applications import ApplicationRecord
from data.models.contracts import Document, DocumentKind
from data.models.quotes import ApplicationStatus, GroupApplication
from data.quotes import QuoteRecord
from resolvers import quotes
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError, NotAllowed, Refused
from resolvers.member_changes import AddressChange, valid_address
from resolvers.users import valid_email

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_DOCUMENTS = 10
# The documents of one application together: what an unsigned multipart request may carry
# (groupgate.graphql.MAX_ANONYMOUS_UPLOAD_BODY_BYTES, 1 MB more for the envelope).
MAX_APPLICATION_BYTES = 24 * 1024 * 1024
MAX_EMPLOYEES = quotes.MAX_EMPLOYEES
PDF_MAGIC = b"%PDF-"
# The kinds an application takes: the signed application, the broker-of-record authorisation,
# and anything else the carrier asked for.
APPLICATION_KINDS = (
    DocumentKind.ENROLLMENT_APPLICATION,
    DocumentKind.BROKER_OF_RECORD_LETTER,
    DocumentKind.OTHER,
)
# An employer identification number: two digits, a dash (optional when typed), seven digits.
_EIN = re.compile(r"([0-9]{2})-?([0-9]{7})")


class QuoteKey(enum.Enum):
    """How the submitter named the quote: the field its errors name."""

    ID = "input.quoteId"
    NUMBER = "input.quoteNumber"


@dataclass(frozen=True, slots=True)
class UploadedDocument:
    kind: DocumentKind
    filename: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Company:
    legal_name: str
    address: AddressChange
    employee_count: int
    tax_id: str


@dataclass(frozen=True, slots=True)
class Officer:
    name: str
    email: str
    title: str


@dataclass(frozen=True, slots=True)
class ApplicationRequest:
    quote_id: int | None
    quote_id_given: bool
    quote_number: str | None
    access_key: str | None
    company: Company
    officer: Officer
    # An item None: not a plan ID.
    plan_ids: list[int | None]
    documents: list[UploadedDocument]


async def _quote_of_request(
    context: Context, request: ApplicationRequest
) -> tuple[QuoteRecord, QuoteKey]:
    by_id = request.quote_id_given
    by_key = request.quote_number is not None or request.access_key is not None
    if by_id == by_key:
        raise Refused.on(
            QuoteKey.ID.value, "name the quote by its ID, or by its number with its access key"
        )
    if by_id:
        found = None if request.quote_id is None else await quotes.quote(context, request.quote_id)
        if found is None:
            raise Refused.on(QuoteKey.ID.value, "no such quote", ErrorCode.NOT_FOUND)
        record = found.record
        agency_id = record.agency_id
        # Carrier staff read every quote, but only the agency's brokers apply on its behalf.
        if agency_id is None or Privilege.QUOTES_MANAGE not in context.access.privileges(
            agency_id=agency_id
        ):
            raise NotAllowed(Privilege.QUOTES_MANAGE.value)
        field = QuoteKey.ID
    else:
        keyed = await quotes.keyed_quote(
            context, request.quote_number or "", request.access_key or ""
        )
        if keyed is None:
            raise Refused.on(
                QuoteKey.NUMBER.value, "no quote with this number and key", ErrorCode.NOT_FOUND
            )
        record = keyed
        field = QuoteKey.NUMBER
    if context.now >= record.expires_at:
        raise Refused.on(
            field.value,
            f"this quote expired on {record.expires_at:%Y-%m-%d}: ask for a new quote",
            ErrorCode.QUOTE_EXPIRED,
        )
    return record, field


def _name(value: str, field: str, longest: int, errors: list[FieldError]) -> str:
    text = " ".join(value.split())
    if not text:
        errors.append(FieldError(field, "required", ErrorCode.REQUIRED))
    elif len(text) > longest or not text.isprintable():
        errors.append(
            FieldError(field, f"at most {longest} printable characters", ErrorCode.INVALID)
        )
    elif not any(character.isalpha() for character in text):
        errors.append(FieldError(field, "must contain letters", ErrorCode.INVALID))
    return text


def _company(company: Company, errors: list[FieldError]) -> Company:
    name = _name(company.legal_name, "input.company.legalName", 200, errors)
    address = company.address
    try:
        address = valid_address(company.address, "input.company.address")
    except Refused as refused:
        errors.extend(refused.errors)
    if not 1 <= company.employee_count <= MAX_EMPLOYEES:
        errors.append(
            FieldError(
                "input.company.employeeCount",
                f"must be between 1 and {MAX_EMPLOYEES}",
                ErrorCode.INVALID,
            )
        )
    ein = _EIN.fullmatch(company.tax_id.strip())
    if ein is None:
        errors.append(
            FieldError(
                "input.company.taxId",
                "an employer identification number: 9 digits, as 12-3456789",
                ErrorCode.INVALID,
            )
        )
    tax_id = f"{ein.group(1)}-{ein.group(2)}" if ein else company.tax_id
    return Company(name, address, company.employee_count, tax_id)


def _officer(officer: Officer, errors: list[FieldError]) -> Officer:
    name = _name(officer.name, "input.officer.name", 200, errors)
    email = officer.email.strip().lower()
    if not valid_email(email):
        errors.append(FieldError("input.officer.email", "not an e-mail address", ErrorCode.INVALID))
    title = _name(officer.title, "input.officer.title", 100, errors)
    return Officer(name, email, title)


def _plans(plan_ids: list[int | None], quoted: set[int], errors: list[FieldError]) -> list[int]:
    if not plan_ids:
        errors.append(
            FieldError("input.planIds", "choose at least one quoted plan", ErrorCode.REQUIRED)
        )
    chosen: list[int] = []
    for index, plan_id in enumerate(plan_ids):
        field = f"input.planIds[{index}]"
        if plan_id is None:
            errors.append(FieldError(field, "not a plan ID", ErrorCode.INVALID))
        elif plan_id in chosen:
            errors.append(FieldError(field, "named twice", ErrorCode.INVALID))
        elif plan_id not in quoted:
            errors.append(FieldError(field, "not a plan of this quote", ErrorCode.NOT_FOUND))
        else:
            chosen.append(plan_id)
    return chosen


def _documents(
    documents: list[UploadedDocument], quote: QuoteRecord, errors: list[FieldError]
) -> None:
    if len(documents) > MAX_DOCUMENTS:
        errors.append(
            FieldError("input.documents", f"at most {MAX_DOCUMENTS} documents", ErrorCode.INVALID)
        )
        return
    for index, document in enumerate(documents):
        field = f"input.documents[{index}]"
        if document.kind not in APPLICATION_KINDS:
            allowed = ", ".join(APPLICATION_KINDS)
            errors.append(FieldError(f"{field}.kind", f"one of {allowed}", ErrorCode.INVALID))
        if len(document.content) > MAX_DOCUMENT_BYTES:
            errors.append(
                FieldError(
                    f"{field}.file",
                    f"at most {MAX_DOCUMENT_BYTES // 1024 // 1024} MB",
                    ErrorCode.INVALID,
                )
            )
        elif not document.content.startswith(PDF_MAGIC):
            errors.append(FieldError(f"{field}.file", "send a PDF file", ErrorCode.INVALID))
    if sum(len(document.content) for document in documents) > MAX_APPLICATION_BYTES:
        errors.append(
            FieldError(
                "input.documents",
                f"at most {MAX_APPLICATION_BYTES // 1024 // 1024} MB in all",
                ErrorCode.INVALID,
            )
        )
    given = {document.kind for document in documents}
    if DocumentKind.ENROLLMENT_APPLICATION not in given:
        errors.append(
            FieldError(
                "input.documents",
                "attach the signed application (ENROLLMENT_APPLICATION)",
                ErrorCode.REQUIRED,
            )
        )
    if quote.agency_id is not None and DocumentKind.BROKER_OF_RECORD_LETTER not in given:
        errors.append(
            FieldError(
                "input.documents",
                "attach the broker-of-record authorisation (BROKER_OF_RECORD_LETTER)",
                ErrorCode.REQUIRED,
            )
        )


def _title(document: UploadedDocument) -> str:
    name = " ".join(document.filename.split())[:200]
    return name or document.kind.value.replace("_", " ").capitalize()


async def submit(context: Context, request: ApplicationRequest) -> ApplicationRecord:
    """Check the whole application, then store it, its documents and its first event at once."""
    quote, quote_field = await _quote_of_request(context, request)
    errors: list[FieldError] = []
    company = _company(request.company, errors)
    officer = _officer(request.officer, errors)
    quoted = {plan.plan_id for plan in await quotes.loaders(context).plans_by_quote.load(quote.id)}
    chosen = _plans(request.plan_ids, quoted, errors)
    _documents(request.documents, quote, errors)
    if errors:
        raise Refused(*errors)
    store = context.files
    assert store is not None, "the endpoint hands the file store down"
    number = f"A{secrets.randbelow(10**10):010d}"
    submitter = context.actor.user_id
    try:
        async with context.transaction() as session:
            if await applications.open_application_of_quote(session, quote.id) is not None:
                raise _quote_taken(quote_field)
            documents = []
            for index, upload in enumerate(request.documents):
                key = f"applications/{number}/{index + 1}-{upload.kind.value.lower()}.pdf"
                stored = await store.put(key, upload.content)
                documents.append(
                    Document(
                        kind=upload.kind,
                        title=_title(upload),
                        storage_key=key,
                        content_type="application/pdf",
                        size_bytes=stored.size_bytes,
                        sha256=stored.sha256,
                        uploaded_by_user_id=submitter,
                        created_at=context.now,
                    )
                )
            record = await applications.insert_application(
                session,
                GroupApplication(
                    application_number=number,
                    quote_id=quote.id,
                    company={
                        "legalName": company.legal_name,
                        "address": {
                            "line1": company.address.line1,
                            "line2": company.address.line2,
                            "city": company.address.city,
                            "state": company.address.state,
                            "postalCode": company.address.postal_code,
                        },
                        "employeeCount": company.employee_count,
                        "taxId": company.tax_id,
                    },
                    officer_name=officer.name,
                    officer_email=officer.email,
                    officer_title=officer.title,
                    plan_ids=chosen,
                    status=ApplicationStatus.SUBMITTED,
                    submitted_by_user_id=submitter,
                    created_at=context.now,
                ),
                documents,
            )
            audit.record(
                session,
                context.actor,
                action="group_application.submitted",
                target_type="group_application",
                target_id=record.id,
                group_id=None,
                now=context.now,
                after={
                    "applicationNumber": number,
                    "quoteId": quote.id,
                    "planIds": chosen,
                    "documents": [
                        {"kind": d.kind.value, "sha256": d.sha256, "sizeBytes": d.size_bytes}
                        for d in documents
                    ],
                },
            )
    except IntegrityError:
        # Another submission took the quote between the check and the insert.
        raise _quote_taken(quote_field) from None
    return record


def _quote_taken(field: QuoteKey) -> Refused:
    return Refused.on(
        field.value,
        "this quote already has an application in progress or approved",
        ErrorCode.CONFLICT,
    )
