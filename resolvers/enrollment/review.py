"""The manual-review queue of carrier staff (REVIEW_QUEUE_WORK, held carrier-wide).

Items come oldest first. Each shows, for every person matching could not settle, the submitted
data beside the candidate records and the fields that differ, and its age against a target of
2 business days: business days are Monday to Friday (no holiday calendar), counted in UTC from
the day after submission; an item is overdue once more than 2 have passed.

Resolving an item decides for the whole request:
- LINK (with a `memberId` among the candidates): the person whose candidates include it is
  linked to that record; any other uncertain person of the family is created new.
- CREATE_NEW: every uncertain person is created new.
- REJECT: nothing is enrolled; the request becomes REJECTED.
The request's status and history show the outcome to the group. The item's `version` is an
optimistic lock: of two representatives resolving at once, one wins and the other gets CONFLICT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from authz.privileges import Privilege
from data import audit, enrollment
from data.enrollment import CandidateRecord, ReviewItemRecord
from data.members import MemberRecord
from data.models.enrollment import EnrollmentStatus, ReviewDecision, ReviewItemStatus
from data.pagination import Page
from resolvers.context import Context
from resolvers.enrollment.enroll import complete, refuse_active_links
from resolvers.enrollment.model import Person
from resolvers.enrollment.requests import SubmittedPerson, loaders, submitted_people
from resolvers.errors import ErrorCode, FieldError, NotAllowed, Refused
from resolvers.matching import Identity, differing_fields
from resolvers.pagination import page_request

TARGET_BUSINESS_DAYS = 2
MAX_REASON = 500


def business_days_between(start: date, end: date) -> int:
    """Mondays to Fridays after `start`, up to and including `end`."""
    if end <= start:
        return 0
    weeks, extra = divmod((end - start).days, 7)
    days = weeks * 5
    for offset in range(1, extra + 1):
        if (start + timedelta(days=offset)).weekday() < 5:
            days += 1
    return days


def add_business_days(start: date, count: int) -> date:
    day = start
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


@dataclass(frozen=True, slots=True)
class ReviewAge:
    business_days: int
    due_on: date
    overdue: bool


def age(context: Context, item: ReviewItemRecord) -> ReviewAge:
    submitted = item.created_at.date()
    end = item.resolved_at.date() if item.resolved_at is not None else context.today
    elapsed = business_days_between(submitted, end)
    return ReviewAge(
        business_days=elapsed,
        due_on=add_business_days(submitted, TARGET_BUSINESS_DAYS),
        overdue=elapsed > TARGET_BUSINESS_DAYS,
    )


@dataclass(frozen=True, slots=True)
class CandidateView:
    member: MemberRecord
    differing_fields: list[str]


@dataclass(frozen=True, slots=True)
class PersonUnderReview:
    submitted: SubmittedPerson
    reason: str
    candidates: list[CandidateView]


def _require(context: Context) -> None:
    context.signed_in()
    if not context.access.allows(Privilege.REVIEW_QUEUE_WORK):
        raise NotAllowed(Privilege.REVIEW_QUEUE_WORK.value)


async def queue(
    context: Context,
    *,
    status: ReviewItemStatus | None,
    first: int | None,
    after: str | None,
    count: bool,
) -> tuple[Page, list[ReviewItemRecord]]:
    _require(context)
    request = page_request(first=first, after=after, last=None, before=None, kinds=(datetime, int))
    async with context.database.reader.connect() as connection:
        return await enrollment.review_items_page(
            connection, status=status, request=request, count=count
        )


async def item(context: Context, item_id: int) -> ReviewItemRecord | None:
    """A review item, for carrier staff who work the queue; for anyone else, none at all."""
    if not context.access.allows(Privilege.REVIEW_QUEUE_WORK):
        return None
    found: ReviewItemRecord | None = await loaders(context).review_item_by_id.load(item_id)
    return found


async def people(context: Context, item: ReviewItemRecord) -> list[PersonUnderReview]:
    """Each uncertain person: what was submitted beside its candidates, and what differs."""
    request = await loaders(context).request_by_id.load(item.request_id)
    assert request is not None  # an item's request is never deleted
    payload = request.payload
    found = []
    for submitted, stored, decided in zip(
        submitted_people(request), payload["people"], payload["matches"], strict=True
    ):
        if decided["outcome"] != "REVIEW":
            continue
        identity = Person.from_json(stored).identity
        ids = decided["candidateIds"]
        records = await loaders(context).candidate_by_id.load_many(ids)
        shown = await context.loaders.member_by_id.load_many(ids)
        found.append(
            PersonUnderReview(
                submitted=submitted,
                reason=decided["reason"],
                candidates=[
                    CandidateView(member, differing_fields(identity, Identity.of(record)))
                    for record, member in zip(records, shown, strict=True)
                    if record is not None and member is not None
                ],
            )
        )
    return found


async def resolve(
    context: Context,
    *,
    item_id: int | None,
    decision: ReviewDecision,
    member_id: int | None,
    reason: str,
) -> ReviewItemRecord:
    _require(context)
    found = None if item_id is None else await loaders(context).review_item_by_id.load(item_id)
    if found is None:
        raise Refused.on("itemId", "no such review item", ErrorCode.NOT_FOUND)
    errors = []
    reason = " ".join(reason.split())
    if not reason:
        errors.append(FieldError("reason", "required", ErrorCode.REQUIRED))
    elif len(reason) > MAX_REASON or not reason.isprintable():
        errors.append(
            FieldError("reason", f"at most {MAX_REASON} printable characters", ErrorCode.INVALID)
        )
    if decision == ReviewDecision.LINK and member_id not in found.candidate_member_ids:
        errors.append(
            FieldError(
                "memberId",
                "LINK needs one of this item's candidates"
                if member_id is not None
                else "required to LINK: one of this item's candidates",
                ErrorCode.INVALID if member_id is not None else ErrorCode.REQUIRED,
            )
        )
    elif decision != ReviewDecision.LINK and member_id is not None:
        errors.append(FieldError("memberId", "given only to LINK", ErrorCode.INVALID))
    if errors:
        raise Refused(*errors)
    if found.status == ReviewItemStatus.RESOLVED:
        raise _already(found)
    async with context.transaction() as session:
        claimed = await enrollment.claim_review_item(
            session,
            found.id,
            version=found.version,
            decision=decision,
            linked_member_id=member_id,
            reason=reason,
            user_id=context.actor.user_id,
            now=context.now,
        )
        if not claimed:
            raise Refused.on(
                "itemId",
                "another representative resolved this item first: reload it",
                ErrorCode.CONFLICT,
            )
        request = await enrollment.request_for_update(session, found.request_id)
        assert request is not None
        if decision == ReviewDecision.REJECT:
            request.status = EnrollmentStatus.REJECTED
            note = f"rejected after review: {reason}"
        else:
            people_ = [Person.from_json(stored) for stored in request.payload["people"]]
            links = await _links(session, request.payload["matches"], member_id)
            try:
                refuse_active_links(people_, links, request.group_id)
            except Refused:
                raise Refused.on(
                    "memberId",
                    "already an active member of the request's group: REJECT the request instead",
                    ErrorCode.ALREADY_DONE,
                ) from None
            rows = await complete(context, session, request, people_, links)
            linked = " (linked to an existing record)" if member_id is not None else ""
            note = f"enrolled after review{linked}: {len(rows)} member(s); {reason}"
        enrollment.add_event(
            session, request, note=note, user_id=context.actor.user_id, now=context.now
        )
        audit.record(
            session,
            context.actor,
            action="review_item.resolved",
            target_type="review_item",
            target_id=found.id,
            group_id=request.group_id,
            now=context.now,
            before={"status": ReviewItemStatus.OPEN.value},
            after={
                "decision": decision.value,
                "memberId": member_id,
                "reason": reason,
                "requestId": request.id,
                "requestStatus": request.status.value,
            },
        )
    async with context.database.reader.connect() as connection:
        resolved = (await enrollment.review_items_by_id(connection, [found.id]))[0]
    assert resolved is not None
    return resolved


def _already(item: ReviewItemRecord) -> Refused:
    decision = item.decision.value if item.decision else "?"
    return Refused.on(
        "itemId", f"already resolved ({decision}) by another representative", ErrorCode.CONFLICT
    )


async def _links(
    session: enrollment.Reader, matches: list[dict[str, object]], member_id: int | None
) -> list[CandidateRecord | None]:
    """Who each person is linked to: matching's own links, and the representative's choice."""
    wanted: list[int | None] = []
    for decided in matches:
        linked = decided.get("linkedMemberId")
        candidates = decided.get("candidateIds")
        if decided["outcome"] == "LINK" and isinstance(linked, int):
            wanted.append(linked)
        elif (
            decided["outcome"] == "REVIEW"
            and isinstance(candidates, list)
            and member_id in candidates
        ):
            wanted.append(member_id)
        else:
            wanted.append(None)
    ids = [key for key in wanted if key is not None]
    records = {r.id: r for r in await enrollment.candidates_by_id(session, ids) if r is not None}
    return [None if key is None else records[key] for key in wanted]
