"""X12 834 (Benefit Enrollment and Maintenance, 005010X220A1) read into person records.

The separators come from the ISA header, which has a fixed length: the element separator is its
4th character, the component separator its 105th and the segment terminator its 106th. The
envelopes are checked as the file streams past: ISA/IEA, GS/GE and ST/SE control numbers agree,
SE counts its transaction's segments, GE its transactions, IEA its groups — a file cut short or
spliced is refused whole. Each member loop (INS up to the next INS or SE) is one row, numbered
from 1 through the whole file; segments of the transaction header (sponsor, payer, ...) before
the first INS describe the file, not a person, and are not read.

In a member loop, a segment or qualifier Groupgate does not read makes the row a problem rather
than being dropped: see docs/enrollment-files.md for what is read.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
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

VERSION = "005010X220A1"
ISA_LENGTH = 106
ISA_ELEMENTS = 17  # the segment id and ISA01..ISA16
# A member loop longer than this is not a person but junk.
MAX_LOOP_SEGMENTS = 200

MAINTENANCE_TYPES = {
    "021": BatchRowAction.ADD,
    "001": BatchRowAction.CHANGE,
    "024": BatchRowAction.TERMINATE,
}
RELATIONSHIPS = {
    "18": Relationship.SUBSCRIBER,  # self
    "01": Relationship.SPOUSE,
    "53": Relationship.DOMESTIC_PARTNER,  # life partner
    "19": Relationship.CHILD,
    "09": Relationship.CHILD,  # adopted child
    "10": Relationship.CHILD,  # foster child
    "17": Relationship.CHILD,  # stepson or stepdaughter
    "15": Relationship.OTHER_DEPENDENT,  # ward
    "23": Relationship.OTHER_DEPENDENT,  # sponsored dependent
    "G8": Relationship.OTHER_DEPENDENT,  # other relationship
}
COVERAGE_LEVELS = {
    "EMP": CoverageTier.EMPLOYEE,
    "IND": CoverageTier.EMPLOYEE,
    "ESP": CoverageTier.EMPLOYEE_SPOUSE,
    "ECH": CoverageTier.EMPLOYEE_CHILDREN,
    "FAM": CoverageTier.FAMILY,
}
# INS04 maintenance reasons that say why coverage ends; others leave the default reason.
REASONS = {
    "01": TerminationReason.DIVORCE,
    "03": TerminationReason.DEATH,
    "04": TerminationReason.EMPLOYMENT_ENDED,  # retirement
    "07": TerminationReason.LOSS_OF_ELIGIBILITY,  # termination of benefits
    "08": TerminationReason.EMPLOYMENT_ENDED,
    "14": TerminationReason.VOLUNTARY,
}
SEXES = {"F": Sex.FEMALE, "M": Sex.MALE, "U": Sex.UNKNOWN}
PHONE_QUALIFIERS = ("TE", "HP", "CP", "WP")

# Where each value of a person comes from, to name it in a row's result.
FIELDS = {
    "action": "INS03",
    "relationship": "INS02",
    "termination_reason": "INS04",
    "disabled": "INS10",
    "subscriber_key": "REF*0F",
    "member_number": "REF*23",
    "group_number": "REF*1L",
    "last_name": "NM103",
    "first_name": "NM104",
    "middle_name": "NM105",
    "ssn": "NM109",
    "phone": "PER",
    "email": "PER",
    "address_line1": "N301",
    "address_line2": "N302",
    "city": "N401",
    "state": "N402",
    "postal_code": "N403",
    "birth_date": "DMG02",
    "sex": "DMG03",
    "plan_code": "HD04",
    "tier": "HD05",
    "effective_date": "DTP*348",
    "termination_date": "DTP*349",
}

Segment = list[str]


def parse_834(chunks: Iterator[str]) -> Iterator[ParsedRow]:
    head, rest = _isa_text(chunks)
    element, component, terminator = head[3], head[104], head[105]
    if len({element, component, terminator}) < 3 or any(
        character.isalnum() or character == " " for character in (element, component, terminator)
    ):
        raise FileRefused("the ISA header does not give three distinct separators")
    texts = pieces(itertools.chain([head], rest), terminator, "segment")
    segments = (text.strip("\r\n").split(element) for text in texts if text.strip())
    reader = _Envelopes(segments, component)
    yield from reader.interchange()


def _isa_text(chunks: Iterator[str]) -> tuple[str, Iterator[str]]:
    """The text from the ISA on, with at least the ISA's 106 characters in hand."""
    head = ""
    for chunk in chunks:
        head = (head + chunk).lstrip()
        if len(head) >= ISA_LENGTH:
            return head, chunks
    raise FileRefused("the file ends inside its ISA header: it is truncated")


class _Envelopes:
    """Walks ISA/GS/ST envelopes, checking their trailers; yields each member loop's row."""

    def __init__(self, segments: Iterator[Segment], component: str) -> None:
        self.segments = segments
        self.component = component
        self.row_number = 0

    def next(self, expected: str) -> Segment:
        segment = next(self.segments, None)
        if segment is None:
            raise FileRefused(f"the file ends before its {expected}: it is truncated")
        return segment

    def interchange(self) -> Iterator[ParsedRow]:
        isa = self.next("ISA header")
        if isa[0] != "ISA" or len(isa) != ISA_ELEMENTS:
            raise FileRefused(f"the ISA header has {len(isa) - 1} elements, not 16")
        groups = 0
        while True:
            segment = self.next("IEA trailer")
            if segment[0] == "GS":
                groups += 1
                yield from self.group(segment)
            elif segment[0] == "IEA":
                _trailer(segment, "IEA", count=groups, control=isa[13], what="functional groups")
                break
            else:
                raise FileRefused(f"a {segment[0][:3]} segment where GS or IEA was expected")
        if next(self.segments, None) is not None:
            raise FileRefused(
                "data follows the IEA trailer: the file holds more than one interchange"
            )

    def group(self, gs: Segment) -> Iterator[ParsedRow]:
        if _element(gs, 1) != "BE" or _element(gs, 8) != VERSION:
            raise FileRefused(f"not a benefit enrollment group (GS01 BE, GS08 {VERSION})")
        transactions = 0
        while True:
            segment = self.next("GE trailer")
            if segment[0] == "ST":
                transactions += 1
                yield from self.transaction(segment)
            elif segment[0] == "GE":
                _trailer(segment, "GE", count=transactions, control=gs[6], what="transactions")
                return
            else:
                raise FileRefused(f"a {segment[0][:3]} segment where ST or GE was expected")

    def transaction(self, st: Segment) -> Iterator[ParsedRow]:
        if _element(st, 1) != "834" or _element(st, 3) not in ("", VERSION):
            raise FileRefused(f"not an 834 transaction of version {VERSION} (ST01, ST03)")
        counted = 1
        bgn = self.next("BGN segment")
        counted += 1
        if bgn[0] != "BGN":
            raise FileRefused("an 834 transaction starts with BGN after its ST")
        loop: list[Segment] = []
        while True:
            segment = self.next("SE trailer")
            counted += 1
            if segment[0] in ("INS", "SE") and loop:
                self.row_number += 1
                yield _member(self.row_number, loop, self.component)
                loop = []
            if segment[0] == "SE":
                _trailer(segment, "SE", count=counted, control=st[2], what="segments")
                return
            if segment[0] in ("ST", "GE", "GS", "IEA", "ISA"):
                raise FileRefused(f"a {segment[0]} segment inside a transaction: SE is missing")
            if segment[0] == "INS" or loop:
                loop.append(segment)
                if len(loop) > MAX_LOOP_SEGMENTS:
                    raise FileRefused(f"a member loop of over {MAX_LOOP_SEGMENTS} segments")


def _element(segment: Segment, position: int) -> str:
    return segment[position].strip() if len(segment) > position else ""


def _trailer(segment: Segment, name: str, *, count: int, control: str, what: str) -> None:
    if _element(segment, 2) != control.strip():
        raise FileRefused(
            f"the {name} control number {_element(segment, 2)[:20]!r} is not its header's "
            f"{control.strip()[:20]!r}"
        )
    if _element(segment, 1) != str(count):
        raise FileRefused(
            f"{name}01 counts {_element(segment, 1)[:20]!r} {what}, the file has {count}: "
            "it is truncated or spliced"
        )


class _Problems(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _member(row_number: int, loop: list[Segment], component: str) -> ParsedRow:
    """A person from one member loop (INS ... up to the next INS or SE)."""
    read: dict[str, Any] = {}
    try:
        _read_ins(loop[0], read, component)
        for segment in loop[1:]:
            _read_segment(segment, read, component)
        return _person(row_number, read)
    except _Problems as problem:
        return RowProblem(row_number, problem.field, problem.message, read.get("action"))


def _value(field: str, reader: Any, value: str) -> Any:
    try:
        return reader(value)
    except BadValue as bad:
        raise _Problems(field, str(bad)) from None


def _set(read: dict[str, Any], name: str, value: Any) -> None:
    if value in (None, ""):
        return
    if name in read:
        raise _Problems(FIELDS.get(name, name), "given twice in one member loop")
    read[name] = value


def _read_ins(ins: Segment, read: dict[str, Any], component: str) -> None:
    read["action"] = _value(
        "INS03", values.choice(MAINTENANCE_TYPES, "maintenance type"), _element(ins, 3)
    )
    relationship = _value(
        "INS02", values.choice(RELATIONSHIPS, "relationship code"), _element(ins, 2)
    )
    read["relationship"] = relationship
    subscriber = _element(ins, 1)
    if subscriber not in ("Y", "N"):
        raise _Problems("INS01", "Y for the subscriber, N for a dependent")
    if (subscriber == "Y") != (relationship == Relationship.SUBSCRIBER):
        raise _Problems("INS02", "the subscriber (INS01 Y) and only it has relationship 18")
    reason = _element(ins, 4)
    if reason in REASONS:
        read["termination_reason"] = REASONS[reason]
    status = _element(ins, 5)
    if status not in ("", "A"):
        raise _Problems("INS05", "only active benefits (A): COBRA enrollments are made online")
    medicare = _element(ins, 6).split(component)[0]
    if medicare not in ("", "E"):
        raise _Problems(
            "INS06",
            "Medicare enrollments are not made online or by file: contact your group "
            "representative",
        )
    disabled = _element(ins, 10)
    if disabled:
        read["disabled"] = _value(
            "INS10", values.choice({"Y": True, "N": False}, "Y or N"), disabled
        )


def _read_segment(segment: Segment, read: dict[str, Any], component: str) -> None:
    name, qualifier = segment[0], _element(segment, 1)
    if name == "REF" and qualifier in ("0F", "23", "1L"):
        field = {"0F": "subscriber_key", "23": "member_number", "1L": "group_number"}[qualifier]
        _set(read, field, values.text(_element(segment, 2)))
    elif name == "DTP" and qualifier in ("348", "349"):
        if _element(segment, 2) != "D8":
            raise _Problems(f"DTP*{qualifier}", "dates are given as D8 (CCYYMMDD)")
        when = _value(f"DTP*{qualifier}", values.x12_date, _element(segment, 3))
        _set(read, "effective_date" if qualifier == "348" else "termination_date", when)
    elif name == "NM1" and qualifier == "IL":
        _read_name(segment, read)
    elif name == "PER" and qualifier == "IP":
        _read_contacts(segment, read)
    elif name == "N3":
        _set(read, "address_line1", values.text(_element(segment, 1)) or "")
        _set(read, "address_line2", values.text(_element(segment, 2)))
    elif name == "N4":
        if _element(segment, 4) not in ("", "US", "USA"):
            raise _Problems("N404", "only addresses in the United States")
        _set(read, "city", values.text(_element(segment, 1)))
        _set(read, "state", values.text(_element(segment, 2)))
        _set(read, "postal_code", values.text(_element(segment, 3)))
    elif name == "DMG":
        if qualifier != "D8":
            raise _Problems("DMG01", "the birth date is given as D8 (CCYYMMDD)")
        born = _element(segment, 2)
        if born:
            _set(read, "birth_date", _value("DMG02", values.x12_date, born))
        sex = _element(segment, 3)
        if sex:
            _set(read, "sex", _value("DMG03", values.choice(SEXES, "sex"), sex))
    elif name == "HD":
        if "plan_code" in read or "tier" in read:
            raise _Problems("HD", "one coverage (HD) per member")
        _set(read, "plan_code", values.text(_element(segment, 4)))
        level = _element(segment, 5)
        if level:
            _set(
                read,
                "tier",
                _value("HD05", values.choice(COVERAGE_LEVELS, "coverage level"), level),
            )
    else:
        shown = f"{name}*{qualifier}" if qualifier else name
        raise _Problems(shown[:20], f"{shown[:20]} is not read by Groupgate in a member loop")


def _read_name(segment: Segment, read: dict[str, Any]) -> None:
    if _element(segment, 2) != "1":
        raise _Problems("NM102", "a member is a person (1)")
    _set(read, "last_name", values.text(_element(segment, 3)))
    _set(read, "first_name", values.text(_element(segment, 4)))
    _set(read, "middle_name", values.text(_element(segment, 5)))
    kind, identifier = _element(segment, 8), _element(segment, 9)
    if kind == "34":
        _set(read, "ssn", _value("NM109", values.ssn, identifier))
    elif kind or identifier:
        raise _Problems("NM108", "the identifier of a member is its SSN (34)")


def _read_contacts(segment: Segment, read: dict[str, Any]) -> None:
    for position in (3, 5, 7):
        kind, number = _element(segment, position), _element(segment, position + 1)
        if not kind and not number:
            continue
        if kind in PHONE_QUALIFIERS:
            _set(read, "phone", values.text(number))
        elif kind == "EM":
            _set(read, "email", values.text(number))
        else:
            raise _Problems(
                f"PER{position:02d}", f"{kind[:3]!r} is not a phone or e-mail qualifier"
            )


def _person(row_number: int, read: dict[str, Any]) -> ParsedRow:
    action: BatchRowAction = read["action"]
    relationship: Relationship = read["relationship"]
    needed = ["subscriber_key"]
    if action == BatchRowAction.ADD:
        needed += ["last_name", "first_name", "birth_date", "sex", "effective_date"]
        if relationship == Relationship.SUBSCRIBER:
            needed += ["plan_code", "tier"]
    elif relationship != Relationship.SUBSCRIBER:
        needed.append("member_number")
    for name in needed:
        if read.get(name) is None:
            raise _Problems(FIELDS[name], f"required for {action.value}")
    address = None
    if "address_line1" in read or "city" in read:
        lacking = [n for n in ("address_line1", "city", "state", "postal_code") if n not in read]
        if lacking:
            raise _Problems(FIELDS[lacking[0]], "an address needs N3 and N4 with city, state, ZIP")
        address = Address(
            read["address_line1"],
            read.get("address_line2"),
            read["city"],
            read["state"],
            read["postal_code"],
        )
    birth_date: date | None = read.get("birth_date")
    return PersonRow(
        row_number=row_number,
        action=action,
        subscriber_key=read["subscriber_key"],
        relationship=relationship,
        member_number=read.get("member_number"),
        first_name=read.get("first_name"),
        middle_name=read.get("middle_name"),
        last_name=read.get("last_name"),
        birth_date=birth_date,
        sex=read.get("sex"),
        ssn=read.get("ssn"),
        address=address,
        phone=read.get("phone"),
        email=read.get("email"),
        is_disabled=read.get("disabled"),
        plan_code=read.get("plan_code"),
        tier=read.get("tier"),
        effective_date=read.get("effective_date"),
        termination_date=read.get("termination_date"),
        termination_reason=read.get("termination_reason"),
        group_number=read.get("group_number"),
    )
