"""Member ID cards: requesting them, the group's requests, and the carrier moving them on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from authz.privileges import Privilege
from data.id_cards import IdCardRequestRecord
from data.models.enrollment import IdCardRequestStatus
from resolvers import id_cards as use_cases
from resolvers import members
from resolvers.errors import Refused
from resolvers.id_cards import IdCardReason
from schema.common import Info, global_id, parse_global_id, selects, served_as
from schema.errors import UserError, user_errors
from schema.member_changes import AddressInput, address_change
from schema.members import Address, Member
from schema.permissions import guarded_leaf
from schema.relay import Connection, Node, connection
from schema.users import User

strawberry.enum(
    IdCardReason,
    description="Why a card is asked for. NAME_CHANGED: after the member's name was changed.",
)
strawberry.enum(
    IdCardRequestStatus,
    description="Where a card stands: REQUESTED, then PRINTED, then MAILED.",
)


@strawberry.type(description="A request for a member's ID card, and where it stands.")
class IdCardRequest(Node):
    status: IdCardRequestStatus

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, IdCardRequestRecord)

    @strawberry.field(description="Opaque: give it back to `idCardRequestAdvance`.")
    def id(self: IdCardRequestRecord) -> strawberry.ID:
        return global_id("IdCardRequest", self.id)

    @strawberry.field
    def reason(self: IdCardRequestRecord) -> IdCardReason:
        return IdCardReason(self.reason)

    @strawberry.field
    def requested_at(self: IdCardRequestRecord) -> datetime:
        return self.created_at

    @strawberry.field(description="Who asked for the card.")
    async def requested_by(self: IdCardRequestRecord, info: Info) -> User | None:
        if self.requested_by_user_id is None:
            return None
        found = await info.context.loaders.user_by_id.load(self.requested_by_user_id)
        return served_as([found], User)[0] if found else None

    @strawberry.field(description="The member whose card it is.")
    async def member(self: IdCardRequestRecord, info: Info) -> Member | None:
        found = await members.member(info.context, self.member_id)
        return served_as([found], Member)[0] if found else None

    @strawberry.field(
        description="Where the card is mailed. Needs MEMBERS_READ_PII.",
        extensions=guarded_leaf(Privilege.MEMBERS_READ_PII),
    )
    def mailing_address(self: IdCardRequestRecord) -> Address | None:
        given = self.mail_to
        return Address(
            line1=given["line1"],
            line2=given["line2"],
            city=given["city"],
            state=given["state"],
            postal_code=given["postalCode"],
        )


@strawberry.type
class IdCardRequestConnection(Connection[IdCardRequest]):
    """ID card requests, a page at a time, newest first."""


async def id_card_requests_connection(
    info: Info,
    group_id: int,
    *,
    status: IdCardRequestStatus | None,
    first: int | None,
    after: str | None,
) -> IdCardRequestConnection:
    page, records = await use_cases.requests_page(
        info.context,
        group_id,
        status=status,
        first=first,
        after=after,
        count=selects(info, "totalCount"),
    )
    return connection(page, list(records), IdCardRequest, IdCardRequestConnection)


@strawberry.input
class IdCardsRequestInput:
    member_ids: list[strawberry.ID] = strawberry.field(
        description="1 to 100 members of one group, each once."
    )
    reason: IdCardReason
    mail_to: AddressInput | None = strawberry.field(
        default=None,
        description="Where to mail every card. Null: each member's own address; a dependent's "
        "subscriber's.",
    )


@strawberry.type
class IdCardsRequestPayload:
    requests: list[IdCardRequest] = strawberry.field(
        default_factory=list, description="One per member, in the order given."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class IdCardRequestAdvanceInput:
    request_id: strawberry.ID
    status: IdCardRequestStatus = strawberry.field(
        description="The next step only: PRINTED after REQUESTED, MAILED after PRINTED."
    )


@strawberry.type
class IdCardRequestAdvancePayload:
    request: IdCardRequest | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class IdCardsMutation:
    @strawberry.mutation(
        description="Ask for members' ID cards, all or none. Needs ID_CARDS_REQUEST; members "
        "whose coverage has ended get no card."
    )
    async def id_cards_request(
        self, info: Info, input: IdCardsRequestInput
    ) -> IdCardsRequestPayload | None:
        try:
            created = await use_cases.request_cards(
                info.context,
                member_ids=[parse_global_id(value, "Member") for value in input.member_ids],
                reason=input.reason,
                mail_to=address_change(input.mail_to),
            )
        except Refused as refused:
            return IdCardsRequestPayload(errors=user_errors(refused))
        return IdCardsRequestPayload(requests=served_as(created, IdCardRequest))

    @strawberry.mutation(
        description="Move an ID card request one step on (carrier staff, REVIEW_QUEUE_WORK)."
    )
    async def id_card_request_advance(
        self, info: Info, input: IdCardRequestAdvanceInput
    ) -> IdCardRequestAdvancePayload | None:
        try:
            advanced = await use_cases.advance_request(
                info.context,
                request_id=parse_global_id(input.request_id, "IdCardRequest"),
                status=input.status,
            )
        except Refused as refused:
            return IdCardRequestAdvancePayload(errors=user_errors(refused))
        return IdCardRequestAdvancePayload(request=served_as([advanced], IdCardRequest)[0])
