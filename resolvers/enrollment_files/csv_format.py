"""The enrollment CSV format (docs/enrollment-files.md): a header row naming the columns, then
one row per person. Row numbers are the file's line numbers (the header is line 1).

The header is checked before any row: an unknown column (it would be silently dropped) or a
missing required one refuses the whole file, naming them. A row that cannot be read is a
`RowProblem` naming its column; the rows around it are read as usual.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from typing import Any

from data.models.enrollment import BatchRowAction
from data.models.members import Relationship, Sex
from data.models.plans import CoverageTier
from resolvers.enrollment_files import values
from resolvers.enrollment_files.records import (
    Address,
    FileRefused,
    ParsedRow,
    PersonRow,
    RowProblem,
    pieces,
)
from resolvers.enrollment_files.values import BadValue
from resolvers.member_changes import TerminationReason

REQUIRED_COLUMNS = (
    "action",
    "subscriber_key",
    "member_number",
    "relationship",
    "first_name",
    "last_name",
    "birth_date",
    "sex",
)
OPTIONAL_COLUMNS = (
    "middle_name",
    "ssn",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "phone",
    "email",
    "disabled",
    "plan_code",
    "tier",
    "effective_date",
    "termination_date",
    "termination_reason",
    "group_number",
    "division_code",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
_ADDRESS = ("address_line1", "address_line2", "city", "state", "postal_code")
_ADDRESS_NEEDED = ("address_line1", "city", "state", "postal_code")

_ACTIONS = {action.value: action for action in BatchRowAction}
_RELATIONSHIPS = {relationship.value: relationship for relationship in Relationship}
_SEXES = {sex.value: sex for sex in Sex}
_TIERS = {tier.value: tier for tier in CoverageTier}
_REASONS = {reason.value: reason for reason in TerminationReason}
_YES_NO = {"Y": True, "YES": True, "N": False, "NO": False}

# Column → how its cell is read; an empty cell is None ("not given") for every column.
_READERS: dict[str, Callable[[str], Any]] = {
    "action": values.choice(_ACTIONS, "action"),
    "relationship": values.choice(_RELATIONSHIPS, "relationship"),
    "sex": values.choice(_SEXES, "sex"),
    "tier": values.choice(_TIERS, "tier"),
    "termination_reason": values.choice(_REASONS, "termination reason"),
    "disabled": values.choice(_YES_NO, "yes or no"),
    "ssn": values.ssn,
    "division_code": values.division_code,
    "birth_date": values.iso_date,
    "effective_date": values.iso_date,
    "termination_date": values.iso_date,
}


def parse_csv(chunks: Iterator[str]) -> Iterator[ParsedRow]:
    # Lines keep their end, so that a quoted value may span lines as CSV allows.
    lines = (line + "\n" for line in pieces(chunks, "\n", "line"))
    reader = csv.reader(lines, strict=True)
    header = _header(reader)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield RowProblem(reader.line_num, None, f"not valid CSV: {error}")
            continue
        if not any(cell.strip() for cell in cells):
            continue  # a blank line (spreadsheets leave them) holds no person
        if len(cells) != len(header):
            message = f"the row has {len(cells)} values, the header {len(header)} columns"
            yield RowProblem(reader.line_num, None, message)
            continue
        yield read_row(reader.line_num, dict(zip(header, cells, strict=True)))


def _header(reader: Any) -> list[str]:
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                break
        else:
            raise FileRefused("the file is empty: it has no header row")
    except csv.Error as error:  # an unclosed quote, say: without a header nothing is read
        raise FileRefused(f"the header row is not valid CSV: {error}") from None
    header = [cell.strip().lower() for cell in cells]
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise FileRefused(
            f"unknown columns: {', '.join(unknown)} (the columns are {', '.join(COLUMNS)})"
        )
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise FileRefused(f"columns given twice: {', '.join(twice)}")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise FileRefused(f"missing required columns: {', '.join(missing)}")
    return header


def read_row(row_number: int, cells: dict[str, str]) -> ParsedRow:
    """A person from one row's cells (column → text), or the problems of the row."""
    read: dict[str, Any] = {}
    problems: list[tuple[str | None, str]] = []
    for column in COLUMNS:
        cell = values.text(cells.get(column, ""))
        if cell is None:
            read[column] = None
            continue
        try:
            read[column] = _READERS.get(column, _same)(cell)
        except BadValue as bad:
            problems.append((column, str(bad)))
    action: BatchRowAction | None = read.get("action")
    if not problems:
        problems = _missing(read)
    if problems:
        return _problem(row_number, problems, action)
    assert action is not None
    return PersonRow(
        row_number=row_number,
        action=action,
        subscriber_key=read["subscriber_key"],
        relationship=read["relationship"],
        member_number=read["member_number"],
        first_name=read["first_name"],
        middle_name=read["middle_name"],
        last_name=read["last_name"],
        birth_date=read["birth_date"],
        sex=read["sex"],
        ssn=read["ssn"],
        address=_address(read),
        phone=read["phone"],
        email=read["email"],
        is_disabled=read["disabled"],
        plan_code=read["plan_code"],
        tier=read["tier"],
        effective_date=read["effective_date"],
        termination_date=read["termination_date"],
        termination_reason=read["termination_reason"],
        group_number=read["group_number"],
        division_code=read["division_code"],
    )


def _same(value: str) -> str:
    return value


def _address(read: dict[str, Any]) -> Address | None:
    if read["address_line1"] is None:
        return None
    return Address(
        read["address_line1"],
        read["address_line2"],
        read["city"],
        read["state"],
        read["postal_code"],
    )


def _missing(read: dict[str, Any]) -> list[tuple[str | None, str]]:
    """What the row's action needs and the row leaves empty."""
    action: BatchRowAction | None = read["action"]
    relationship: Relationship | None = read["relationship"]
    needed = ["action", "subscriber_key", "relationship"]
    if action == BatchRowAction.ADD:
        needed += ["first_name", "last_name", "birth_date", "sex", "effective_date"]
        if relationship == Relationship.SUBSCRIBER:
            needed += ["plan_code", "tier"]
    elif action is not None and relationship not in (None, Relationship.SUBSCRIBER):
        # The subscriber is found by its key; a dependent by its own member number.
        needed.append("member_number")
    problems: list[tuple[str | None, str]] = [
        (column, f"required for {action.value if action else 'every'} row")
        for column in needed
        if read[column] is None
    ]
    if any(read[column] is not None for column in _ADDRESS):
        lacking = [column for column in _ADDRESS_NEEDED if read[column] is None]
        if lacking:
            message = "an address needs address_line1, city, state and postal_code together"
            problems.append((lacking[0], message))
    if action == BatchRowAction.CHANGE and not any(
        read[column] is not None for column in _CHANGEABLE
    ):
        problems.append((None, "a CHANGE row gives at least one value to change"))
    return problems


# What a CHANGE row may change: the demographic fields of the member-update use case.
_CHANGEABLE = (
    "first_name",
    "middle_name",
    "last_name",
    "birth_date",
    "sex",
    "address_line1",
    "phone",
    "email",
    "disabled",
)


def _problem(
    row_number: int, problems: list[tuple[str | None, str]], action: BatchRowAction | None
) -> RowProblem:
    (field, message), *others = problems
    if others:
        message += "; " + "; ".join(f"{column or 'row'}: {text}" for column, text in others)
    return RowProblem(row_number, field, message, action)
