"""`node(id)` and `nodes(ids)`: fetch any object by its global ID, authorized like any path."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from resolvers import (
    applications,
    billing,
    contracts,
    enrollment_batches,
    groups,
    id_cards,
    members,
    plans,
    quotes,
)
from resolvers.context import Context
from resolvers.enrollment import requests as enrollment_requests
from resolvers.enrollment import review
from resolvers.errors import Refused
from schema.applications import GroupApplication
from schema.billing import Bill, BillLine, Payment
from schema.common import Info
from schema.contracts import Contract, Document
from schema.enrollment import EnrollmentRequest, ReviewItem
from schema.enrollment_batches import EnrollmentBatch
from schema.groups import Division, Group
from schema.id_cards import IdCardRequest
from schema.members import Member
from schema.plans import Plan
from schema.quotes import QuoteType
from schema.relay import Node

MAX_NODES = 100

# Type name in the ID → how to fetch one the caller may see (None: hidden or missing, alike).
Fetch = Callable[[Context, int], Awaitable[Any]]
FETCHERS: dict[str, Fetch] = {
    "Group": groups.group,
    "Division": groups.visible_division,
    "Member": members.member,
    "Plan": plans.plan,
    "Bill": billing.bill,
    "BillLine": billing.bill_line,
    "Payment": billing.payment,
    "Contract": contracts.contract,
    "Document": contracts.document,
    "IdCardRequest": id_cards.request,
    "EnrollmentRequest": enrollment_requests.request,
    "EnrollmentBatch": enrollment_batches.batch,
    "ReviewItem": review.item,
    "Quote": quotes.quote,
    "GroupApplication": applications.application,
}
NODE_TYPES: list[type] = [
    Group,
    Division,
    Member,
    Plan,
    Contract,
    Document,
    Bill,
    BillLine,
    Payment,
    IdCardRequest,
    EnrollmentRequest,
    EnrollmentBatch,
    ReviewItem,
    QuoteType,
    GroupApplication,
]


def _parse(value: str) -> tuple[str, int] | None:
    try:
        name, _, key = base64.urlsafe_b64decode(value.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if name not in FETCHERS or not key.isdigit() or len(key) > 18:
        return None
    return name, int(key)


async def _fetch(context: Context, value: str) -> Any:
    parsed = _parse(value)
    return None if parsed is None else await FETCHERS[parsed[0]](context, parsed[1])


@strawberry.type
class NodesQuery:
    @strawberry.field(
        description="Any object by its ID; null if it does not exist or is not yours."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        found: Node | None = await _fetch(info.context, id)
        return found

    @strawberry.field(description="Objects by their IDs, in order (at most 100).")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise Refused.on("ids", f"at most {MAX_NODES} IDs at a time")
        # Fetched together, so that IDs of one type share their loader's batch.
        return list(await asyncio.gather(*(_fetch(info.context, value) for value in ids)))
