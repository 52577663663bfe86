"""Renewal changes: what a group submits for its renewal, and the carrier's review of it.

- `submit` (`renewalChangesSubmit`, RENEWAL_SUBMIT over the whole group): plan changes,
  enrollments and terminations taking effect on the renewal date, while the renewal is open;
  validated as a whole (`submit.Checker`), stored as one SUBMITTED request.
- `review` (`renewalChangeReview`, RENEWAL_REVIEW): SUBMITTED → IN_REVIEW → CONFIRMED,
  CONFIRMED_WITH_CHANGES (parts excluded) or REJECTED; a confirmation applies the parts.
- `reads`: a renewal's requests, its change status (DEFAULT_RENEWAL when the window closed with
  no active request), each request's parts and history, and the carrier's queue.

Parts are named by their input paths (`parts`); the decisions are in
docs/decisions/0010-renewal-changes.md.
"""

from __future__ import annotations

from resolvers.renewal_changes.parts import (
    ChangesInput,
    PlanChangeInput,
    RenewalEnrollmentInput,
    TerminationInput,
)
from resolvers.renewal_changes.reads import (
    EnrollmentView,
    PlanChangeView,
    TerminationView,
    change_requests,
    change_status,
    enrollments,
    history,
    loaders,
    plan_changes,
    queue,
    terminations,
    user_name,
)
from resolvers.renewal_changes.review import review
from resolvers.renewal_changes.submit import submit

__all__ = [
    "ChangesInput",
    "EnrollmentView",
    "PlanChangeInput",
    "PlanChangeView",
    "RenewalEnrollmentInput",
    "TerminationInput",
    "TerminationView",
    "change_requests",
    "change_status",
    "enrollments",
    "history",
    "loaders",
    "plan_changes",
    "queue",
    "review",
    "submit",
    "terminations",
    "user_name",
]
