"""Enrollment file parsers: CSV and X12 834 read into person records, whole-file refusals,
row problems with their row number and field, and the properties that hold for any input."""

from __future__ import annotations

import dataclasses
import io
import os
import random
import time
import tracemalloc
from datetime import date
from typing import Any, BinaryIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.enrollment_files import csv_text, families, to_bytes, x12_text
from data.models.enrollment import BatchFormat, BatchRowAction
from data.models.members import Relationship, Sex
from data.models.plans import CoverageTier
from resolvers.enrollment_files import FileRefused, parse
from resolvers.enrollment_files.csv_format import COLUMNS, REQUIRED_COLUMNS
from resolvers.enrollment_files.records import Address, ParsedRow, PersonRow, RowProblem
from resolvers.member_changes import TerminationReason


def read(content: bytes) -> tuple[BatchFormat, list[ParsedRow]]:
    found, rows = parse(io.BytesIO(content))
    return found, list(rows)


def refusal(content: bytes | BinaryIO) -> str:
    stream = io.BytesIO(content) if isinstance(content, bytes) else content
    with pytest.raises(FileRefused) as refused:
        consume(stream)
    return refused.value.message


def consume(stream: BinaryIO) -> list[ParsedRow]:
    _, rows = parse(stream)
    return list(rows)


def renumbered(persons: list[PersonRow], first: int) -> list[PersonRow]:
    return [dataclasses.replace(p, row_number=n) for n, p in enumerate(persons, first)]


def csv_file(*rows: dict[str, str], columns: tuple[str, ...] = COLUMNS) -> bytes:
    lines = [",".join(columns)]
    lines += [",".join(row.get(column, "") for column in columns) for row in rows]
    return ("\n".join(lines) + "\n").encode()


SUBSCRIBER_ADD = {
    "action": "ADD",
    "subscriber_key": "123-45-6789",
    "relationship": "SUBSCRIBER",
    "first_name": "Ana",
    "last_name": "Peña",
    "birth_date": "1980-02-29",
    "sex": "F",
    "ssn": "123456789",
    "plan_code": "NCAL-HMO-G80",
    "tier": "FAMILY",
    "effective_date": "2026-01-01",
}


# --- valid files read back into the records they were written from ----------------------------


def test_a_generated_csv_reads_back_into_its_persons() -> None:
    persons = list(families(60, seed=3, group_number="G1"))
    found, rows = read(to_bytes(csv_text(persons)))
    assert found == BatchFormat.CSV
    # Row numbers are line numbers: the header is line 1.
    assert rows == renumbered(persons, 2)


def test_a_generated_834_reads_back_into_its_persons() -> None:
    persons = list(families(60, seed=3, group_number="G1"))
    found, rows = read(to_bytes(x12_text(persons)))
    assert found == BatchFormat.X12_834
    assert rows == renumbered(persons, 1)


def test_a_utf8_bom_and_windows_line_ends_are_read() -> None:
    content = csv_file(SUBSCRIBER_ADD).replace(b"\n", b"\r\n")
    _, rows = read(b"\xef\xbb\xbf" + content)
    assert len(rows) == 1
    assert isinstance(rows[0], PersonRow)
    assert rows[0].last_name == "Peña"
    assert rows[0].ssn == "123456789"
    assert rows[0].tier == CoverageTier.FAMILY
    assert rows[0].row_number == 2


def test_an_834_with_other_separators_and_no_line_breaks() -> None:
    persons = list(families(5, seed=9))
    standard = to_bytes(x12_text(persons)).decode()
    other = standard.replace("\n", "").translate(str.maketrans("*~:", "|\x1e>"))
    _, rows = read(other.encode())
    assert rows == renumbered(persons, 1)


def test_columns_in_any_order_and_case_only_required_ones() -> None:
    columns = tuple(reversed(REQUIRED_COLUMNS))
    row = {"action": "TERMINATE", "subscriber_key": "M0001", "relationship": "subscriber"}
    content = csv_file(row, columns=columns).replace(b"action", b" Action ")
    _, rows = read(content)
    assert rows == [
        PersonRow(2, BatchRowAction.TERMINATE, "M0001", Relationship.SUBSCRIBER),
    ]


def test_blank_lines_hold_no_person_and_keep_line_numbers() -> None:
    header, row = csv_file(SUBSCRIBER_ADD).splitlines()
    empty_cells = b"," * (len(COLUMNS) - 1)
    content = b"\n".join([header, row, b"", empty_cells, b"  ", row]) + b"\n"
    _, rows = read(content)
    assert [row.row_number for row in rows] == [2, 6]


# --- whole-file refusals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b" \n\r\n  \n", "empty"),
        ("action,subscriber_key\nADD,Peña\n".encode("latin-1"), "not UTF-8 text (byte 28"),
        ("Nom;Prénom\n".encode("cp1252"), "not UTF-8"),
        ("action".encode("utf-16"), "not UTF-8"),
        (b"action\x00,x\n", "binary data"),
        (csv_file(columns=("action", "subscriber_key")), "missing required columns: member_number"),
        (csv_file(columns=(*REQUIRED_COLUMNS, "shoe_size")), "unknown columns: shoe_size"),
        (csv_file(columns=(*REQUIRED_COLUMNS, "sex")), "columns given twice: sex"),
        (b"x" * 20_000, "over 8192 characters"),
        (b'"', "the header row is not valid CSV"),
    ],
    ids=[
        "empty",
        "bom-only",
        "blank",
        "latin-1",
        "windows-1252",
        "utf-16",
        "nul",
        "missing-column",
        "unknown-column",
        "twice",
        "endless-line",
        "unclosed-quote",
    ],
)
def test_files_refused_whole(content: bytes, says: str) -> None:
    assert says in refusal(content)


def x12(persons: int = 3) -> str:
    return to_bytes(x12_text(families(persons, seed=5))).decode()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda t: t[: t.index("SE*")], "ends before its SE trailer"),
        (lambda t: t[: t.index("GE*")], "ends before its GE trailer"),
        (lambda t: t[: t.index("IEA*")], "ends before its IEA trailer"),
        (lambda t: t[:60], "ends inside its ISA header"),
        (lambda t: t.replace("SE*", "SE*9"), "SE01 counts"),
        (lambda t: t.replace("\nINS*", "\nREF*ZZ*X~\nINS*", 1).replace("SE*", "SE*1"), "SE01"),
        (lambda t: t.replace("SE*29*0001", "SE*29*0002"), "SE control number"),
        (lambda t: t.replace("GE*1*1", "GE*2*1"), "GE01 counts"),
        (lambda t: t.replace("IEA*1*000000001", "IEA*1*000000002"), "IEA control number"),
        (lambda t: t + t, "data follows the IEA"),
        (lambda t: t.replace("005010X220A1", "004010X095A1"), "GS08 005010X220A1"),
        (lambda t: t.replace("ST*834", "ST*835"), "not an 834 transaction"),
        (lambda t: t.replace("BGN*", "BGX*"), "starts with BGN"),
        (lambda t: t.replace("\nSE*", "\nST*834*0002~\nSE*"), "SE is missing"),
        (lambda t: t.replace("*00*          *00", "*00**00", 1), "ISA header"),
    ],
)
def test_broken_834_envelopes_are_refused(change: object, says: str) -> None:
    text = x12().replace("SE*29*0001", "SE*29*0001")
    assert "SE*29*0001" in text
    assert callable(change)
    assert says in refusal(change(text).encode())


def test_every_834_cut_short_is_refused() -> None:
    text = x12(2).encode()
    end = text.rindex(b"IEA*1*000000001") + len(b"IEA*1*000000001")
    for cut in range(end):
        refusal(text[:cut])


class RandomBytes(io.RawIOBase):
    """An endless file of random bytes that counts what was read of it."""

    def __init__(self, size: int, *, alphabet: bytes | None = None) -> None:
        self.left = size
        self.read_bytes = 0
        self.rng = random.Random(0)
        self.alphabet = alphabet

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        self.read_bytes += size
        if self.alphabet is None:
            return os.urandom(size)
        return bytes(self.rng.choices(self.alphabet, k=size))


@pytest.mark.parametrize(
    "alphabet",
    [None, b'abcdefghij,;" ', b"ISA*~:^0123456789 \n"],
    ids=["random-bytes", "ascii-junk", "x12-like-junk"],
)
def test_100_mb_of_junk_is_refused_after_a_bounded_prefix(alphabet: bytes | None) -> None:
    junk = RandomBytes(100 * 1024 * 1024, alphabet=alphabet)
    started = time.monotonic()
    tracemalloc.start()
    try:
        refusal(junk)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert junk.read_bytes <= 256 * 1024
    assert peak < 2 * 1024 * 1024
    assert time.monotonic() - started < 2


def test_memory_stays_flat_in_file_size() -> None:
    """Parsing holds a chunk and a row, not the file: 10 times the rows, about the same peak."""

    def peak(persons: int, writer: object) -> int:
        assert callable(writer)
        stream = io.BytesIO(to_bytes(writer(families(persons, seed=1))))
        tracemalloc.start()
        try:
            _, rows = parse(stream)
            for _row in rows:
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    for writer in (csv_text, x12_text):
        small, large = peak(1_000, writer), peak(10_000, writer)
        assert large < small * 1.25, (writer, small, large)


# --- row problems ------------------------------------------------------------------------------


def only_problem(content: bytes) -> RowProblem:
    _, rows = read(content)
    problems = [row for row in rows if isinstance(row, RowProblem)]
    assert len(problems) == 1, rows
    return problems[0]


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"action": "ENROLL"}, "action", "not a action: 'ENROLL' (one of ADD, CHANGE, TERMINATE)"),
        ({"birth_date": "02/29/1980"}, "birth_date", "not a date as YYYY-MM-DD"),
        ({"birth_date": "1981-02-29"}, "birth_date", "not a date"),
        ({"ssn": "12345678"}, "ssn", "nine digits"),
        ({"sex": "X"}, "sex", "not a sex"),
        ({"tier": "COUPLE"}, "tier", "not a tier"),
        ({"relationship": "COUSIN"}, "relationship", "not a relationship"),
        ({"first_name": " "}, "first_name", "required for ADD"),
        ({"plan_code": ""}, "plan_code", "required for ADD"),
        ({"city": "Oakland"}, "address_line1", "address needs address_line1, city, state"),
        ({"disabled": "maybe"}, "disabled", "not a yes or no"),
        ({"termination_reason": "BORED"}, "termination_reason", "not a termination reason"),
    ],
)
def test_csv_row_problems_name_the_row_and_column(
    changes: dict[str, str], field: str, says: str
) -> None:
    good = dict(SUBSCRIBER_ADD, subscriber_key="111223333", ssn="111223333")
    problem = only_problem(csv_file(good, dict(SUBSCRIBER_ADD, **changes), good))
    assert (problem.row_number, problem.field) == (3, field)
    assert says in problem.message


def test_every_problem_of_a_row_is_told() -> None:
    problem = only_problem(csv_file(dict(SUBSCRIBER_ADD, sex="X", birth_date="soon")))
    assert problem.field == "birth_date"
    assert "sex: not a sex" in problem.message
    assert problem.action == BatchRowAction.ADD


def test_csv_rows_of_the_wrong_width_or_broken_quoting() -> None:
    content = csv_file(SUBSCRIBER_ADD) + b'ADD,"x"y\n' + b"ADD,1,2\n"
    _, rows = read(content + csv_file(SUBSCRIBER_ADD).split(b"\n", 1)[1])
    assert [type(row) for row in rows] == [PersonRow, RowProblem, RowProblem, PersonRow]
    assert isinstance(rows[1], RowProblem)
    assert "not valid CSV" in rows[1].message
    assert isinstance(rows[2], RowProblem)
    assert "3 values" in rows[2].message


def test_dependents_are_changed_by_their_member_number() -> None:
    row = {"action": "CHANGE", "subscriber_key": "M1", "relationship": "CHILD", "last_name": "X"}
    problem = only_problem(csv_file(row))
    assert (problem.field, problem.message) == ("member_number", "required for CHANGE row")
    nothing = only_problem(csv_file(dict(row, member_number="M2", last_name="")))
    assert "at least one value to change" in nothing.message


def loop_with(segments: str, persons: int = 2) -> bytes:
    """An 834 whose second member loop gets extra segments (SE's count kept right)."""
    text = x12(persons)
    first = text.index("INS*")
    second = text.index("INS*", first + 1)
    loop_end = text.index("\nINS*", second) if persons > 2 else text.index("\nSE*")
    added = segments.count("~")
    count_at = text.index("SE*") + 3
    count_end = text.index("*", count_at)
    total = int(text[count_at:count_end]) + added
    text = text[:loop_end] + "\n" + segments.rstrip("\n") + text[loop_end:]
    count_at = text.index("SE*") + 3
    return (text[:count_at] + str(total) + text[text.index("*", count_at) :]).encode()


@pytest.mark.parametrize(
    ("segments", "field", "says"),
    [
        ("LUI*LE*ENG~", "LUI*LE", "not read by Groupgate"),
        ("DTP*356*D8*20260101~", "DTP*356", "not read"),
        ("DTP*349*D8*2026013~", "DTP*349", "not a date as CCYYMMDD"),
        ("DTP*349*RD8*20260101-20260131~", "DTP*349", "D8"),
        ("DMG*D8*19800101*F~", "birth_date", "given twice"),
        ("HD*021**DEN*DENTAL1*EMP~", "HD", "one coverage"),
        ("PER*IP**FX*2125550123~", "PER03", "not a phone or e-mail"),
        ("NM1*31*1~", "NM1*31", "not read"),
    ],
)
def test_834_member_loop_problems(segments: str, field: str, says: str) -> None:
    if field == "birth_date":
        field = "DMG02"
    problem = only_problem(loop_with(segments))
    assert problem.row_number == 2
    assert problem.field == field
    assert says in problem.message


@pytest.mark.parametrize(
    ("old", "new", "field", "says"),
    [
        ("*19*021*", "*19*030*", "INS03", "not a maintenance type"),
        ("*19*021*", "*18*021*", "INS02", "only it has relationship 18"),
        ("*19*021*", "*07*021*", "INS02", "not a relationship code"),
        ("*19*021**A", "*19*021**C", "INS05", "COBRA"),
        ("*19*021**A", "*19*021**A*C", "INS06", "Medicare"),
        ("DMG*D8*", "DMG*D8*2026", "DMG02", "not a date"),
    ],
)
def test_834_ins_problems(old: str, new: str, field: str, says: str) -> None:
    persons = [
        dataclasses.replace(p, relationship=Relationship.CHILD) if n else p
        for n, p in enumerate(families(2, seed=5))
    ]
    text = to_bytes(x12_text(persons)).decode()
    second = text.index("INS*N")
    changed = text[:second] + text[second:].replace(old, new, 1)
    problem = only_problem(changed.encode())
    assert (problem.row_number, problem.field) == (2, field)
    assert says in problem.message


# --- properties --------------------------------------------------------------------------------

_TEXT = (
    st.text(
        alphabet=st.characters(
            categories=["L", "Nd"], include_characters=" '-.", max_codepoint=0x2FF
        ),
        min_size=1,
        max_size=20,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)
_DATE = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def persons(draw: st.DrawFn) -> PersonRow:
    action = draw(st.sampled_from(BatchRowAction))
    relationship = draw(st.sampled_from(Relationship))

    def maybe(strategy: st.SearchStrategy[Any]) -> Any:
        return draw(st.none() | strategy)

    needs_number = action != BatchRowAction.ADD and relationship != Relationship.SUBSCRIBER
    adding = action == BatchRowAction.ADD
    subscriber_add = adding and relationship == Relationship.SUBSCRIBER
    address = maybe(
        st.builds(
            Address,
            _TEXT,
            st.none() | _TEXT,
            _TEXT,
            _TEXT,
            st.from_regex(r"[0-9]{5}", fullmatch=True),
        )
    )
    row = PersonRow(
        row_number=0,
        action=action,
        subscriber_key=draw(_TEXT),
        relationship=relationship,
        member_number=draw(_TEXT) if needs_number else maybe(_TEXT),
        first_name=draw(_TEXT) if adding else maybe(_TEXT),
        middle_name=maybe(_TEXT),
        last_name=draw(_TEXT) if adding else maybe(_TEXT),
        birth_date=draw(_DATE) if adding else maybe(_DATE),
        sex=draw(st.sampled_from(Sex)) if adding else maybe(st.sampled_from(Sex)),
        ssn=maybe(st.from_regex(r"[0-9]{9}", fullmatch=True)),
        address=address,
        phone=maybe(st.from_regex(r"[0-9]{10}", fullmatch=True)),
        email=maybe(st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.example", fullmatch=True)),
        is_disabled=maybe(st.booleans()),
        plan_code=draw(_TEXT) if subscriber_add else maybe(_TEXT),
        tier=draw(st.sampled_from(CoverageTier))
        if subscriber_add
        else maybe(st.sampled_from(CoverageTier)),
        effective_date=draw(_DATE) if adding else maybe(_DATE),
        termination_date=maybe(_DATE),
        termination_reason=maybe(st.sampled_from(TerminationReason)),
        group_number=maybe(_TEXT),
    )
    if action == BatchRowAction.CHANGE and not (
        row.first_name or row.middle_name or row.last_name or row.birth_date or row.sex
        or row.address or row.phone or row.email or row.is_disabled is not None
    ):  # fmt: skip
        row = dataclasses.replace(row, phone="2125550123")
    return row


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(persons(), min_size=1, max_size=8))
def test_written_files_read_back_into_the_same_persons(written: list[PersonRow]) -> None:
    _, from_csv = read(to_bytes(csv_text(written)))
    assert from_csv == renumbered(written, 2)
    _, from_834 = read(to_bytes(x12_text(written)))
    assert from_834 == renumbered(written, 1)


def outcome(content: bytes) -> None:
    """Either the whole file is refused or every item is a person or a row problem."""
    try:
        rows: list[ParsedRow] | str = consume(io.BytesIO(content))
    except FileRefused as refused:
        rows = refused.message
    if isinstance(rows, str):
        assert rows
    else:
        assert all(isinstance(row, PersonRow | RowProblem) for row in rows)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_are_refused_or_read_into_rows(content: bytes) -> None:
    outcome(content)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["csv", "834"]),
    st.lists(st.tuples(st.integers(0, 5000), st.binary(max_size=6)), max_size=6),
    st.integers(0, 6000),
)
def test_damaged_valid_files_are_refused_or_read_into_rows(
    kind: str, edits: list[tuple[int, bytes]], cut: int
) -> None:
    persons_ = list(families(6, seed=2))
    content = bytearray(to_bytes(csv_text(persons_) if kind == "csv" else x12_text(persons_)))
    for position, replacement in edits:
        position %= len(content) + 1
        content[position : position + len(replacement)] = replacement
    outcome(bytes(content[: cut or None]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=len(COLUMNS), max_size=len(COLUMNS)))
def test_any_cells_give_a_person_or_a_problem(cells: list[str]) -> None:
    buffer = io.StringIO()
    import csv as csv_module

    writer = csv_module.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerow(cells)
    outcome(buffer.getvalue().encode())
