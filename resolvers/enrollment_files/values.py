"""Reading one value of a row: each reader returns the value or raises `BadValue` saying why.

Both formats share them, so a CSV cell and an 834 element are held to the same rules. They check
form only (a date is a date, an SSN has nine digits); whether the value fits the member or the
plan is the use case's to say when the row is applied.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import TypeVar

_SSN = re.compile(r"([0-9]{3})-?([0-9]{2})-?([0-9]{4})")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_X12_DATE = re.compile(r"[0-9]{8}")

Value = TypeVar("Value")


class BadValue(ValueError):
    pass


def text(value: str) -> str | None:
    """Whitespace collapsed; an empty value is None ("not given")."""
    collapsed = " ".join(value.split())
    return collapsed or None


def division_code(value: str) -> str:
    """A division's code as the group has it (e.g. EAST): case does not matter."""
    code = value.strip().upper()
    if len(code) > 16 or not code.isprintable():
        raise BadValue("is not a division code (at most 16 characters)")
    return code


def ssn(value: str) -> str:
    found = _SSN.fullmatch(value.strip())
    if found is None:
        raise BadValue("an SSN has nine digits, as 123-45-6789")
    return "".join(found.groups())


def iso_date(value: str) -> date:
    value = value.strip()
    try:
        if _ISO_DATE.fullmatch(value) is None:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise BadValue(f"not a date as YYYY-MM-DD: {value[:20]!r}") from None


def x12_date(value: str) -> date:
    """A D8 date: CCYYMMDD."""
    value = value.strip()
    try:
        if _X12_DATE.fullmatch(value) is None:
            raise ValueError
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise BadValue(f"not a date as CCYYMMDD: {value[:20]!r}") from None


def choice(table: dict[str, Value], what: str) -> Callable[[str], Value]:
    """A reader of one of a closed set of codes, case-insensitive, naming the codes it takes."""

    def read(value: str) -> Value:
        found = table.get(value.strip().upper())
        if found is None:
            codes = ", ".join(sorted(table))
            raise BadValue(f"not a {what}: {value.strip()[:20]!r} (one of {codes})")
        return found

    return read
