"""Reading `first/after/last/before` arguments: limits, and opaque cursors that name a position."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from data.pagination import PageRequest, Position
from resolvers.errors import ErrorCode, FieldError, Refused

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


def encode_cursor(position: Position) -> str:
    values = [v.isoformat() if isinstance(v, date | datetime) else v for v in position]
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode()


def _decode(cursor: str, field: str, kinds: Sequence[type]) -> Position:
    try:
        values: Any = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError
        return tuple(_typed(value, kind) for value, kind in zip(values, kinds, strict=True))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise Refused.on(field, "not a cursor of this list", ErrorCode.INVALID) from None


def _typed(value: Any, kind: type) -> Any:
    if kind is date:
        return date.fromisoformat(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError
    return value


def page_request(
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    kinds: Sequence[type],
) -> PageRequest:
    """Checked arguments; `kinds` are the types of the sort columns this list's cursors carry."""
    errors = []
    if first is not None and last is not None:
        errors.append(FieldError("last", "give first or last, not both", ErrorCode.INVALID))
    for name, size in (("first", first), ("last", last)):
        if size is not None and not 0 < size <= MAX_PAGE_SIZE:
            errors.append(
                FieldError(name, f"must be between 1 and {MAX_PAGE_SIZE}", ErrorCode.INVALID)
            )
    if errors:
        raise Refused(*errors)
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE
    return PageRequest(
        first=first,
        after=_decode(after, "after", kinds) if after else None,
        last=last,
        before=_decode(before, "before", kinds) if before else None,
    )
