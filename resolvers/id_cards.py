"""Member ID cards: a group asks for them, the carrier prints and mails them.

Requesting needs ID_CARDS_REQUEST over each member's division (or its whole group); a member the
caller cannot read answers NOT_FOUND, exactly like one that does not exist, and one it reads but
may not request for is a top-level FORBIDDEN (as for member changes, ADR 7). One call asks for
up to 100 cards of one group, all or none. Without `mailTo` a card goes to the member's address;
a dependent's to its subscriber's.

The carrier's membership representatives move a request on, one step at a time: REQUESTED →
PRINTED → MAILED. They do it with REVIEW_QUEUE_WORK, the one privilege of carrier staff for
member work (`policies/roles.csv`): printing and mailing cards is the same desk's work as the
manual-review queue, so no privilege of its own is added.

Both are audited on the member (target type "member"), so that the mailing address, as
`address.*`, is redacted for audit readers without MEMBERS_READ_PII like any member's address.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from authz.privileges import Privilege
from data import audit, id_cards
from data.id_cards import IdCardRequestRecord, NewIdCardRequest
from data.members import MemberRecord
from data.models.enrollment import IdCardRequestStatus
from data.models.members import MemberStatus
from data.pagination import Page
from resolvers import members
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError, NotAllowed, Refused
from resolvers.loaders import BatchLoader, DomainLoaders
from resolvers.member_changes import AddressChange, valid_address
from resolvers.members import CoverageStatus, can_read
from resolvers.pagination import page_request

MAX_MEMBERS = 100

# The only moves: one step forward.
NEXT_STATUS = {
    IdCardRequestStatus.REQUESTED: IdCardRequestStatus.PRINTED,
    IdCardRequestStatus.PRINTED: IdCardRequestStatus.MAILED,
}


class IdCardReason(enum.StrEnum):
    LOST = "LOST"
    STOLEN = "STOLEN"
    DAMAGED = "DAMAGED"
    NEVER_RECEIVED = "NEVER_RECEIVED"
    NAME_CHANGED = "NAME_CHANGED"
    OTHER = "OTHER"


def _mail_to(address: AddressChange) -> dict[str, Any]:
    return {
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "state": address.state,
        "postalCode": address.postal_code,
    }


def _address_on_file(member: MemberRecord) -> AddressChange | None:
    """The member's stored address, if a card can be mailed to it."""
    if None in (member.address_line1, member.city, member.state, member.postal_code):
        return None
    return AddressChange(
        line1=str(member.address_line1),
        line2=member.address_line2,
        city=str(member.city),
        state=str(member.state),
        postal_code=str(member.postal_code),
    )


async def _readable_members(
    context: Context, member_ids: Sequence[int | None]
) -> tuple[list[MemberRecord], list[FieldError]]:
    """The members, in order, and an error for each that is missing, hidden or given twice."""
    keys = [key for key in member_ids if key is not None]
    loaded = dict(zip(keys, await context.loaders.member_by_id.load_many(keys), strict=True))
    found: list[MemberRecord] = []
    errors: list[FieldError] = []
    first_index: dict[int, int] = {}
    for index, key in enumerate(member_ids):
        field = f"memberIds[{index}]"
        member = None if key is None else loaded[key]
        if key is None or member is None or not can_read(context, member):
            errors.append(FieldError(field, "no such member", ErrorCode.NOT_FOUND))
        elif key in first_index:
            errors.append(
                FieldError(
                    field, f"given twice: also memberIds[{first_index[key]}]", ErrorCode.INVALID
                )
            )
        else:
            first_index[key] = index
            found.append(member)
    return found, errors


async def _mailing_addresses(
    context: Context, chosen: list[MemberRecord]
) -> list[AddressChange | None]:
    """Where each card goes without `mailTo`: the member's address; a dependent's subscriber's."""
    subscriber_ids = [m.subscriber_id for m in chosen if m.subscriber_id is not None]
    subscribers = await context.loaders.member_by_id.load_many(subscriber_ids)
    by_id = {s.id: s for s in subscribers if s is not None}
    addresses = []
    for member in chosen:
        holder = member if member.subscriber_id is None else by_id.get(member.subscriber_id)
        addresses.append(None if holder is None else _address_on_file(holder))
    return addresses


async def request_cards(
    context: Context,
    *,
    member_ids: Sequence[int | None],
    reason: IdCardReason,
    mail_to: AddressChange | None,
) -> list[IdCardRequestRecord]:
    """One REQUESTED card per member, all of one group, or none at all."""
    user = context.signed_in()
    if not member_ids:
        raise Refused.on("memberIds", "give at least one member", ErrorCode.REQUIRED)
    if len(member_ids) > MAX_MEMBERS:
        raise Refused.on("memberIds", f"at most {MAX_MEMBERS} members at a time")
    chosen, errors = await _readable_members(context, member_ids)
    given: AddressChange | None = None
    if mail_to is not None:
        try:
            given = valid_address(mail_to, "mailTo")
        except Refused as refused:
            errors += refused.errors
    if errors:
        raise Refused(*errors)
    for member in chosen:
        if not context.access.allows(
            Privilege.ID_CARDS_REQUEST, member.group_id, member.division_id
        ):
            raise NotAllowed(Privilege.ID_CARDS_REQUEST.value)
    coverages = await asyncio.gather(*(members.coverage(context, m) for m in chosen))
    on_file = await _mailing_addresses(context, chosen) if given is None else []
    group_id = chosen[0].group_id
    addresses: list[AddressChange] = []
    for index, member in enumerate(chosen):
        field = f"memberIds[{index}]"
        coverage = coverages[index]
        address = given or on_file[index]
        if member.group_id != group_id:
            errors.append(
                FieldError(
                    field,
                    "not in the group of memberIds[0]: ask for each group's cards apart",
                    ErrorCode.INVALID,
                )
            )
        elif (
            member.status == MemberStatus.TERMINATED
            or coverage is None
            or coverage.status == CoverageStatus.TERMINATED
        ):
            errors.append(FieldError(field, "coverage is not active: no card", ErrorCode.INVALID))
        elif address is None:
            errors.append(
                FieldError(
                    field,
                    "no mailing address on file (a dependent's card goes to its subscriber's): "
                    "give mailTo",
                    ErrorCode.REQUIRED,
                )
            )
        else:
            addresses.append(address)
    if errors:
        raise Refused(*errors)
    new = [
        NewIdCardRequest(
            group_id=member.group_id,
            member_id=member.id,
            reason=reason.value,
            mail_to=_mail_to(address),
            requested_by_user_id=user.id,
        )
        for member, address in zip(chosen, addresses, strict=True)
    ]
    async with context.transaction() as session:
        rows = await id_cards.add_requests(session, new, now=context.now)
        for row, member in zip(rows, chosen, strict=True):
            audit.record(
                session,
                context.actor,
                action="id_card.requested",
                target_type="member",
                target_id=member.id,
                group_id=member.group_id,
                now=context.now,
                after={
                    "idCardRequestId": row.id,
                    "reason": row.reason,
                    "status": row.status.value,
                    **{f"address.{part}": value for part, value in row.mail_to.items()},
                },
            )
        return [
            id_cards.record_of(row, member.division_id)
            for row, member in zip(rows, chosen, strict=True)
        ]


async def advance_request(
    context: Context, *, request_id: int | None, status: IdCardRequestStatus
) -> IdCardRequestRecord:
    """Move a request one step on (PRINTED, then MAILED); never back, never a step skipped."""
    context.signed_in()
    async with context.transaction() as session:
        row = None if request_id is None else await id_cards.request_for_update(session, request_id)
        division_id = (
            None if row is None else await id_cards.member_division(session, row.member_id)
        )
        if row is None or not context.access.allows(
            Privilege.MEMBERS_READ, row.group_id, division_id
        ):
            raise Refused.on("requestId", "no such ID card request", ErrorCode.NOT_FOUND)
        if not context.access.allows(Privilege.REVIEW_QUEUE_WORK, row.group_id, division_id):
            raise NotAllowed(Privilege.REVIEW_QUEUE_WORK.value)
        current = row.status
        if status == current:
            raise Refused.on(
                "status", f"the card is already {current.value}", ErrorCode.ALREADY_DONE
            )
        following = NEXT_STATUS.get(current)
        if following is None:
            raise Refused.on("status", f"a {current.value} card moves no further")
        if status != following:
            raise Refused.on("status", f"a {current.value} card moves on to {following.value} only")
        row.status = status
        audit.record(
            session,
            context.actor,
            action="id_card.advanced",
            target_type="member",
            target_id=row.member_id,
            group_id=row.group_id,
            now=context.now,
            before={"idCardRequestId": row.id, "status": current.value},
            after={"idCardRequestId": row.id, "status": status.value},
        )
        return id_cards.record_of(row, division_id)


class IdCardLoaders(DomainLoaders):
    @cached_property
    def request_by_id(self) -> BatchLoader[int, IdCardRequestRecord | None]:
        return BatchLoader(self.reader, id_cards.requests_by_id)

    @cached_property
    def requests_page(
        self,
    ) -> BatchLoader[id_cards.RequestsPageKey, tuple[Page, list[IdCardRequestRecord]]]:
        """Pages of several groups (a list of groups with their requests) share a statement."""
        return BatchLoader(self.reader, id_cards.requests_pages)


async def request(context: Context, request_id: int) -> IdCardRequestRecord | None:
    """A request whose member the caller may read; any other answers like one that is not."""
    found = await context.loaders.domain(IdCardLoaders).request_by_id.load(request_id)
    if found is None or not context.access.allows(
        Privilege.MEMBERS_READ, found.group_id, found.division_id
    ):
        return None
    return found


async def requests_page(
    context: Context,
    group_id: int,
    *,
    status: IdCardRequestStatus | None,
    first: int | None,
    after: str | None,
    count: bool,
) -> tuple[Page, list[IdCardRequestRecord]]:
    """The group's requests, newest first, as far as the caller reads their members."""
    divisions = members.readable_divisions(context, group_id)
    request = page_request(first=first, after=after, last=None, before=None, kinds=(datetime, int))
    key = id_cards.RequestsPageKey(group_id, divisions, status, request, count)
    return await context.loaders.domain(IdCardLoaders).requests_page.load(key)
