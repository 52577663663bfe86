"""Enrollment: new subscribers with their dependents, dependents added to a family, COBRA
continuation, matching against the carrier's records and the manual-review queue.

The interface for other callers (the batch-file processor calls it once per row)::

    from resolvers.enrollment import EnrollmentInput, PersonInput, enroll

    async with context.transaction() as session:           # the caller's unit of work
        result = await enroll(context, session, EnrollmentInput(...), batch_row_id=row.id)

- `enroll(context, session, EnrollmentInput)`, `add_dependent(context, session,
  DependentInput)` and `continue_cobra(context, session, CobraInput)` validate, match and
  write inside the given session; they never commit it. Each returns an `EnrollmentResult`:
  PROCESSED (`member_ids`, subscriber first, and the `request_id`), PENDING_REVIEW (the
  `request_id` of a request waiting in the review queue) or REJECTED (`errors`, each naming
  its field, e.g. `subscriber.ssn`, `dependents[1].birthDate`). A REJECTED result wrote
  nothing, so the caller's session stays usable for the next row.
- `batch_row_id` is stored on the request (one request per row, by a unique constraint) and
  changes the privilege checked: ENROLLMENT_BATCH over the group or division, instead of
  MEMBERS_WRITE. A caller without it gets `NotAllowed` (raised, not returned). A batch's rows
  act with the batch's authority (its context holds ENROLLMENT_BATCH over the group, checked
  at upload), so they need no signed-in user: a file sent from the command line has none.
- Personal inputs are `PersonInput`: every field optional so that a missing one is a REQUIRED
  error; the SSN is hashed (`data.normalize.ssn_hash`, keyed by `context.secret_key`) and only
  its hash and last four are kept, in the request's payload as everywhere else. Its optional
  `contact` (address, phone, e-mail) is checked as `memberUpdate` checks them, kept in the
  payload while a request waits, and stored on the member when enrolled.
- A Medicare enrollment (`PersonInput.medicare`, `CobraInput.medicare`) is REJECTED with code
  MEDICARE_NOT_ONLINE; COBRA in a group whose COBRA the carrier administers with
  COBRA_ADMINISTERED_BY_CARRIER.

Rules: validation in `resolvers.enrollment.rules`, matching in `resolvers.matching`, what a
"link" writes in `resolvers.enrollment.writes`, the review queue in
`resolvers.enrollment.review`; the decisions are in docs/decisions/0008-enrollment-matching.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.context import Context
from resolvers.enrollment.cobra import continue_cobra
from resolvers.enrollment.enroll import enroll
from resolvers.enrollment.families import add_dependent
from resolvers.enrollment.model import (
    CobraInput,
    DependentInput,
    EnrollmentInput,
    EnrollmentResult,
    Outcome,
    PersonInput,
)

__all__ = [
    "CobraInput",
    "DependentInput",
    "EnrollmentInput",
    "EnrollmentResult",
    "Outcome",
    "PersonInput",
    "add_dependent",
    "continue_cobra",
    "enroll",
    "submit",
]

Given = TypeVar("Given")


async def submit(
    context: Context,
    use_case: Callable[[Context, AsyncSession, Given], Awaitable[EnrollmentResult]],
    given: Given,
) -> EnrollmentResult:
    """One enrollment in a unit of work of its own (the API's mutations)."""
    async with context.transaction() as session:
        return await use_case(context, session, given)
