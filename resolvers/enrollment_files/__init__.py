"""Enrollment batch files: CSV and X12 834 read into the same person records.

`parse` tells the format from the file's first bytes and reads it as a stream: memory stays
flat whatever the file's size. See `records` for what it yields and raises.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import BinaryIO

from data.models.enrollment import BatchFormat
from resolvers.enrollment_files.csv_format import parse_csv
from resolvers.enrollment_files.records import (
    MAX_LINE_CHARACTERS,
    FileRefused,
    ParsedRow,
    decoded_chunks,
)
from resolvers.enrollment_files.x12_834 import parse_834

__all__ = ["FileRefused", "ParsedRow", "detect_format", "parse"]


def detect_format(first_text: str) -> BatchFormat:
    """An interchange starts with its ISA header; anything else is read as CSV."""
    return BatchFormat.X12_834 if first_text.lstrip().startswith("ISA") else BatchFormat.CSV


def parse(stream: BinaryIO) -> tuple[BatchFormat, Iterator[ParsedRow]]:
    """The file's format and its rows; `FileRefused` may come from either, as reading goes."""
    chunks = decoded_chunks(stream)
    first = next(chunks, "")
    # A file may open with blank space; the format shows in its first visible text.
    while not first.strip():
        if len(first) > MAX_LINE_CHARACTERS:
            raise FileRefused("the file starts with a long run of blank space: it is not a file")
        following = next(chunks, None)
        if following is None:
            raise FileRefused("the file is empty")
        first += following
    found = detect_format(first)
    text = itertools.chain([first], chunks)
    return found, parse_834(text) if found == BatchFormat.X12_834 else parse_csv(text)
