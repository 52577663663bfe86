"""New-group applications: `groupApplicationSubmit` with its documents (a GraphQL multipart
request), `groupApplication` for the submitter, and the account representatives' queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

# Registers DocumentKind with its description before the inputs below name it.
import schema.contracts  # noqa: F401
from data.applications import ApplicationRecord, EventRecord
from data.contracts import DocumentRecord
from data.models.contracts import DocumentKind
from data.models.quotes import ApplicationStatus
from resolvers import applications, contracts
from resolvers.applications import review, submission
from resolvers.applications.submission import (
    ApplicationRequest,
    Company,
    Officer,
    UploadedDocument,
)
from resolvers.errors import Refused
from resolvers.member_changes import AddressChange
from schema.common import Info, global_id, parse_global_id, served_as
from schema.errors import UserError, user_errors
from schema.plans import Plan
from schema.quotes import QuoteType
from schema.relay import Connection, Node, connection

strawberry.enum(
    ApplicationStatus,
    description="SUBMITTED → IN_REVIEW → APPROVED (the group exists) or DECLINED (with the "
    "reason).",
)


@strawberry.input(description="The company's address.")
class CompanyAddressInput:
    line1: str
    line2: str | None = strawberry.field(default=None, description="Null: none.")
    city: str
    state: str = strawberry.field(description="The USPS two-letter code of a state or territory.")
    postal_code: str = strawberry.field(description="ZIP code: 5 or 9 digits.")


@strawberry.input
class CompanyInput:
    legal_name: str = strawberry.field(description="1 to 200 characters.")
    address: CompanyAddressInput
    employee_count: int = strawberry.field(description="Eligible employees: 1 to 10,000.")
    tax_id: str = strawberry.field(
        description="The employer identification number (EIN), as 12-3456789."
    )


@strawberry.input(description="The company's officer: becomes the group officer on approval.")
class OfficerInput:
    name: str
    email: str = strawberry.field(description="Invited by e-mail on approval.")
    title: str = strawberry.field(description="As President or CFO: 1 to 100 characters.")


@strawberry.input
class ApplicationDocumentInput:
    kind: DocumentKind = strawberry.field(
        description="ENROLLMENT_APPLICATION: the signed application (required); "
        "BROKER_OF_RECORD_LETTER: the broker-of-record authorisation (required for a broker's "
        "quote); OTHER: anything else asked for."
    )
    file: Upload = strawberry.field(description="A PDF file of at most 10 MB.")


@strawberry.input
class GroupApplicationSubmitInput:
    quote_id: strawberry.ID | None = strawberry.field(
        default=None, description="A broker names its agency's quote by its ID."
    )
    quote_number: str | None = strawberry.field(
        default=None, description="A prospect names its quote by number, with its access key."
    )
    access_key: str | None = None
    company: CompanyInput
    officer: OfficerInput
    plan_ids: list[strawberry.ID] = strawberry.field(
        description="The plans chosen: one or more of the quote's plans."
    )
    documents: list[ApplicationDocumentInput] = strawberry.field(
        description="Sent as a GraphQL multipart request; at most 10, 24 MB in all (a request "
        "without a token may be 25 MB at most, envelope included)."
    )


@strawberry.type(description="The company as the application gave it.")
class ApplicationCompany:
    legal_name: str
    employee_count: int
    tax_id: str = strawberry.field(description="The EIN, as 12-3456789.")
    address_line1: str
    address_line2: str | None
    city: str
    state: str
    postal_code: str


@strawberry.type(description="The officer named by the application.")
class ApplicationOfficer:
    name: str
    email: str
    title: str


@strawberry.type(description="A status the application entered, when, and why.")
class ApplicationEvent:
    status: ApplicationStatus
    reason: str | None
    occurred_at: datetime


@strawberry.type(description="A document sent with an application.")
class ApplicationDocument:
    kind: DocumentKind
    title: str = strawberry.field(description="The file's name as sent.")
    content_type: str
    size_bytes: int
    sha256: str = strawberry.field(description="Hex SHA-256 of the file as received.")
    created_at: datetime

    @strawberry.field(
        description="Fetches the file for 5 minutes; rights are checked again then. Yours if "
        "you follow the application (the quote's brokers, account representatives, once "
        "approved the group's readers of documents); for a prospect, a link for whoever holds "
        "the quote's key, fetched without signing in. Null: you read the application only with "
        "the quote's key while signed in as someone who may not follow it."
    )
    async def download_url(self: DocumentRecord, info: Info) -> str | None:
        return await contracts.application_download_url(info.context, self)


@strawberry.type(description="A prospective group's application for coverage.")
class GroupApplication(Node):
    status: ApplicationStatus
    decision_reason: str | None = strawberry.field(description="Why it was DECLINED.")
    decided_at: datetime | None
    created_at: datetime = strawberry.field(description="When it was submitted.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, ApplicationRecord)

    @strawberry.field
    def id(self: ApplicationRecord) -> strawberry.ID:
        return global_id("GroupApplication", self.id)

    @strawberry.field(description="With the quote's access key, a prospect follows it.")
    def number(self: ApplicationRecord) -> str:
        return self.application_number

    @strawberry.field
    def company(self: ApplicationRecord) -> ApplicationCompany:
        given = self.company
        address = given["address"]
        return ApplicationCompany(
            legal_name=given["legalName"],
            employee_count=given["employeeCount"],
            tax_id=given["taxId"],
            address_line1=address["line1"],
            address_line2=address["line2"],
            city=address["city"],
            state=address["state"],
            postal_code=address["postalCode"],
        )

    @strawberry.field
    def officer(self: ApplicationRecord) -> ApplicationOfficer:
        return ApplicationOfficer(
            name=self.officer_name, email=self.officer_email, title=self.officer_title
        )

    @strawberry.field(description="The plans chosen.")
    async def plans(self: ApplicationRecord, info: Info) -> list[Plan]:
        found = await info.context.loaders.plan_by_id.load_all(self.plan_ids)
        return served_as([plan for plan in found if plan is not None], Plan)

    @strawberry.field
    async def quote(self: ApplicationRecord, info: Info) -> QuoteType | None:
        found = await applications.quote_of(info.context, self)
        return served_as([found], QuoteType)[0] if found else None

    @strawberry.field(description="Every status it entered, oldest first.")
    async def history(self: ApplicationRecord, info: Info) -> list[ApplicationEvent]:
        found: list[EventRecord] = await applications.history(info.context, self)
        return served_as(found, ApplicationEvent)

    @strawberry.field(description="The documents sent, in the order they were sent.")
    async def documents(self: ApplicationRecord, info: Info) -> list[ApplicationDocument]:
        found: list[DocumentRecord] = await applications.documents(info.context, self)
        return served_as(found, ApplicationDocument)

    @strawberry.field(description="The ID of the group an approval created (null before).")
    def group_id(self: ApplicationRecord) -> strawberry.ID | None:
        return None if self.group_id is None else global_id("Group", self.group_id)


@strawberry.type
class GroupApplicationConnection(Connection[GroupApplication]):
    """Applications, oldest first."""


@strawberry.type
class GroupApplicationSubmitPayload:
    application: GroupApplication | None = None
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="QUOTE_EXPIRED: the quote is past its 60 days; CONFLICT: the quote already "
        "has an application that is not DECLINED. Nothing was stored.",
    )


async def _uploaded(given: list[ApplicationDocumentInput]) -> list[UploadedDocument]:
    uploaded = []
    for index, document in enumerate(given):
        upload: object = document.file
        if not isinstance(upload, UploadFile):
            raise Refused.on(
                f"input.documents[{index}].file", "send the file as a GraphQL multipart request"
            )
        try:
            content = await upload.read()
        finally:
            await upload.close()
        uploaded.append(UploadedDocument(document.kind, upload.filename or "", content))
    return uploaded


def _request(
    given: GroupApplicationSubmitInput, documents: list[UploadedDocument]
) -> ApplicationRequest:
    company, address = given.company, given.company.address
    return ApplicationRequest(
        quote_id=None if given.quote_id is None else parse_global_id(given.quote_id, "Quote"),
        quote_id_given=given.quote_id is not None,
        quote_number=given.quote_number,
        access_key=given.access_key,
        company=Company(
            legal_name=company.legal_name,
            address=AddressChange(
                line1=address.line1,
                line2=address.line2,
                city=address.city,
                state=address.state,
                postal_code=address.postal_code,
            ),
            employee_count=company.employee_count,
            tax_id=company.tax_id,
        ),
        officer=Officer(
            name=given.officer.name, email=given.officer.email, title=given.officer.title
        ),
        plan_ids=[parse_global_id(plan_id, "Plan") for plan_id in given.plan_ids],
        documents=documents,
    )


@strawberry.input
class GroupApplicationReviewInput:
    application_id: strawberry.ID
    status: ApplicationStatus = strawberry.field(
        description="From SUBMITTED: IN_REVIEW. From IN_REVIEW: APPROVED or DECLINED."
    )
    reason: str | None = strawberry.field(
        default=None, description="Required to decline: shown to the submitter. At most 2,000."
    )


@strawberry.type
class GroupApplicationReviewPayload:
    application: GroupApplication | None = None
    officer_invitation_url: str | None = strawberry.field(
        default=None,
        description="On approval, when the officer is new to the gateway: the link, valid once "
        "for 72 hours, with which the officer sets a password. Send it to the officer.",
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="CONFLICT: another review changed the application first. Nothing changed.",
    )


@strawberry.type
class ApplicationsQuery:
    @strawberry.field(
        description="An application by its ID (the quote's brokers, account representatives), "
        "or by its number with the quote's access key (the prospect). Null: none you may read."
    )
    async def group_application(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        number: str | None = None,
        access_key: str | None = None,
    ) -> GroupApplication | None:
        context = info.context
        if id is not None:
            application_id = parse_global_id(id, "GroupApplication")
            found = (
                None
                if application_id is None
                else await applications.application(context, application_id)
            )
        elif number is not None and access_key is not None:
            found = await applications.application_with_key(context, number, access_key)
        else:
            raise Refused.on("id", "give an id, or a number and the quote's access key")
        return served_as([found], GroupApplication)[0] if found else None

    @strawberry.field(
        description="The review queue: applications of one status (or all), oldest first. "
        "Needs APPLICATIONS_REVIEW."
    )
    async def group_applications(
        self,
        info: Info,
        status: ApplicationStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> GroupApplicationConnection:
        found = await applications.queue(info.context, status=status, first=first, after=after)
        return connection(
            found.page, list(found.applications), GroupApplication, GroupApplicationConnection
        )


@strawberry.type
class ApplicationsMutation:
    @strawberry.mutation(
        description="Apply for coverage on a quote, with its documents (a GraphQL multipart "
        "request). By the quote's broker (QUOTES_MANAGE over its agency) naming `quoteId`, or by "
        "the prospect naming `quoteNumber` and `accessKey`. Checked whole: a refusal stores "
        "nothing."
    )
    async def group_application_submit(
        self, info: Info, input: GroupApplicationSubmitInput
    ) -> GroupApplicationSubmitPayload | None:
        try:
            documents = await _uploaded(input.documents)
            submitted = await submission.submit(info.context, _request(input, documents))
        except Refused as refused:
            return GroupApplicationSubmitPayload(errors=user_errors(refused))
        return GroupApplicationSubmitPayload(
            application=served_as([submitted], GroupApplication)[0]
        )

    @strawberry.mutation(
        description="Move an application on: SUBMITTED → IN_REVIEW → APPROVED or DECLINED (with "
        "a reason). Approval creates the group (PENDING until coverage starts on the first of "
        "next month), its contract with the applied plans, the group officer (invited by "
        "e-mail) and the quote's agency as broker of record. Needs APPLICATIONS_REVIEW."
    )
    async def group_application_review(
        self, info: Info, input: GroupApplicationReviewInput
    ) -> GroupApplicationReviewPayload | None:
        try:
            reviewed = await review.review(
                info.context,
                application_id=parse_global_id(input.application_id, "GroupApplication"),
                status=input.status,
                reason=input.reason,
            )
        except Refused as refused:
            return GroupApplicationReviewPayload(errors=user_errors(refused))
        return GroupApplicationReviewPayload(
            application=served_as([reviewed.application], GroupApplication)[0],
            officer_invitation_url=reviewed.officer_invitation_url,
        )
