"""What a parsed enrollment file is made of: one typed record per person, or a row problem.

Both formats (CSV and X12 834) read into the same records, so that everything after parsing —
applying a row, recording its result — knows nothing of the format. A parser reads the file as
a stream of bytes and yields one item per person in file order: a `PersonRow`, or a
`RowProblem` naming the row, the field and what is wrong. A fault of the whole file (not text,
truncated, missing columns, empty) raises `FileRefused`; nothing else escapes a parser.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from data.models.enrollment import BatchRowAction
from data.models.members import Relationship, Sex
from data.models.plans import CoverageTier
from resolvers.member_changes import TerminationReason

# A parser reads this much at a time, so memory stays flat whatever the file's size.
CHUNK_BYTES = 64 * 1024
# Longer than any sane row or segment: beyond it the file is junk, refused without reading on.
MAX_LINE_CHARACTERS = 8 * 1024


class FileRefused(Exception):
    """The whole file is refused: nothing of it is applied. The message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    line2: str | None
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True, slots=True)
class PersonRow:
    """One person of a file. `subscriber_key` ties a dependent to its subscriber (the
    subscriber's member number or SSN); `member_number` names an existing member for CHANGE and
    TERMINATE. Fields a row leaves empty are None: for a CHANGE, "leave as it is"."""

    row_number: int
    action: BatchRowAction
    subscriber_key: str
    relationship: Relationship
    member_number: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    ssn: str | None = None
    address: Address | None = None
    phone: str | None = None
    email: str | None = None
    is_disabled: bool | None = None
    plan_code: str | None = None
    tier: CoverageTier | None = None
    effective_date: date | None = None
    termination_date: date | None = None
    termination_reason: TerminationReason | None = None
    # The group the file says the person belongs to (834 REF*1L): it must be the batch's.
    group_number: str | None = None
    # The division of the group a new subscriber joins (CSV `division_code`); a dependent's must
    # be its family's.
    division_code: str | None = None


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that cannot be read as a person; `action` when the row said which it was."""

    row_number: int
    field: str | None
    message: str
    action: BatchRowAction | None = None


ParsedRow = PersonRow | RowProblem


def decoded_chunks(stream: BinaryIO) -> Iterator[str]:
    """The file's text, a chunk at a time: UTF-8 (ASCII is UTF-8), a leading BOM skipped.

    Anything else is refused at the first byte that is not UTF-8 — Latin-1 or Windows-1252
    included: their bytes cannot be told apart from each other, and guessing would corrupt
    names silently. Random bytes fail within the first few, so junk is refused at once.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    first = True
    empty = True
    while True:
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:
            break
        if first:
            if chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8) :]
                offset = len(codecs.BOM_UTF8)
            first = False
        text = _decode(decoder, chunk, offset, final=False)
        offset += len(chunk)
        if "\0" in text:
            raise FileRefused("the file holds binary data (NUL bytes): it is not a text file")
        if text:
            empty = empty and not text.strip()
            yield text
    _decode(decoder, b"", offset, final=True)
    if empty:
        raise FileRefused("the file is empty")


def _decode(decoder: codecs.IncrementalDecoder, chunk: bytes, offset: int, *, final: bool) -> str:
    try:
        return decoder.decode(chunk, final)
    except UnicodeDecodeError as error:
        at = offset + error.start
        raise FileRefused(
            f"the file is not UTF-8 text (byte {at} is not valid UTF-8): save it as UTF-8"
        ) from None


def pieces(chunks: Iterator[str], terminator: str, what: str) -> Iterator[str]:
    """The text split on `terminator` (the terminator dropped), each piece bounded in length."""
    pending = ""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(terminator)
        for piece in complete:
            if len(piece) > MAX_LINE_CHARACTERS:
                raise FileRefused(f"a {what} is over {MAX_LINE_CHARACTERS} characters long")
            yield piece
        if len(pending) > MAX_LINE_CHARACTERS:
            raise FileRefused(f"a {what} is over {MAX_LINE_CHARACTERS} characters long")
    if pending:
        yield pending
