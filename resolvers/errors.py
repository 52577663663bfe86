"""Expected failures of use cases: each names the field it is about and carries a code.

Use cases raise `Refused`; the schema turns it into the payload's `errors` (nothing changed).
An object the caller may not see is refused exactly like one that does not exist: NOT_FOUND.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ErrorCode(enum.StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    ESCALATION = "ESCALATION"
    SELF_CHANGE = "SELF_CHANGE"
    PRIMARY_ADMINISTRATOR = "PRIMARY_ADMINISTRATOR"
    ALREADY_DONE = "ALREADY_DONE"
    # Enrollment: what is not done online, and why.
    MEDICARE_NOT_ONLINE = "MEDICARE_NOT_ONLINE"
    COBRA_ADMINISTERED_BY_CARRIER = "COBRA_ADMINISTERED_BY_CARRIER"
    GROUP_TOO_SMALL = "GROUP_TOO_SMALL"
    # Renewal changes: submitted outside the renewal window, or before an offer is prepared.
    RENEWAL_NOT_OPEN = "RENEWAL_NOT_OPEN"
    # Quotes and new-group applications.
    RATE_LIMITED = "RATE_LIMITED"
    QUOTE_EXPIRED = "QUOTE_EXPIRED"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str | None
    message: str
    code: ErrorCode


class Refused(Exception):
    def __init__(self, *errors: FieldError) -> None:
        super().__init__("; ".join(error.message for error in errors))
        self.errors = list(errors)

    @classmethod
    def on(cls, field: str | None, message: str, code: ErrorCode = ErrorCode.INVALID) -> Refused:
        return cls(FieldError(field, message, code))


class NotAuthenticated(Exception):
    """The operation needs a signed-in caller."""


class NotAllowed(Exception):
    """The caller lacks a privilege for an object it can see (a top-level FORBIDDEN error)."""
