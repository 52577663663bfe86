"""Synthetic enrollment files, for the tests and the batch benchmark.

`csv_text` and `x12_text` write person records as the two formats Groupgate reads (the inverse
of `resolvers.enrollment_files`: parsing what they write gives the records back), a chunk at a
time so that a file of any size is written in flat memory. `families` makes a deterministic
population of N persons (subscribers each followed by their dependents) as ADD rows.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path

from data.demo.names import FEMALE_FIRST_NAMES, LAST_NAMES, MALE_FIRST_NAMES, STREET_NAMES
from data.models.enrollment import BatchRowAction
from data.models.members import Relationship, Sex
from data.models.plans import CoverageTier
from resolvers.enrollment_files.csv_format import COLUMNS
from resolvers.enrollment_files.records import Address, PersonRow
from resolvers.enrollment_files.x12_834 import VERSION
from resolvers.member_changes import TerminationReason

_RELATIONSHIP_CODES = {
    Relationship.SUBSCRIBER: "18",
    Relationship.SPOUSE: "01",
    Relationship.DOMESTIC_PARTNER: "53",
    Relationship.CHILD: "19",
    Relationship.OTHER_DEPENDENT: "G8",
}
_MAINTENANCE_TYPES = {
    BatchRowAction.ADD: "021",
    BatchRowAction.CHANGE: "001",
    BatchRowAction.TERMINATE: "024",
}
_COVERAGE_LEVELS = {
    CoverageTier.EMPLOYEE: "EMP",
    CoverageTier.EMPLOYEE_SPOUSE: "ESP",
    CoverageTier.EMPLOYEE_CHILDREN: "ECH",
    CoverageTier.FAMILY: "FAM",
}
_REASON_CODES = {
    TerminationReason.DIVORCE: "01",
    TerminationReason.DEATH: "03",
    TerminationReason.LOSS_OF_ELIGIBILITY: "07",
    TerminationReason.EMPLOYMENT_ENDED: "08",
    TerminationReason.VOLUNTARY: "14",
}
_ROWS_PER_CHUNK = 500


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_row(person: PersonRow) -> list[str]:
    address = person.address
    cells = {
        "action": person.action.value,
        "subscriber_key": person.subscriber_key,
        "member_number": person.member_number,
        "relationship": person.relationship.value,
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "last_name": person.last_name,
        "birth_date": person.birth_date,
        "sex": person.sex.value if person.sex else None,
        "ssn": person.ssn,
        "address_line1": address.line1 if address else None,
        "address_line2": address.line2 if address else None,
        "city": address.city if address else None,
        "state": address.state if address else None,
        "postal_code": address.postal_code if address else None,
        "phone": person.phone,
        "email": person.email,
        "disabled": person.is_disabled,
        "plan_code": person.plan_code,
        "tier": person.tier.value if person.tier else None,
        "effective_date": person.effective_date,
        "termination_date": person.termination_date,
        "termination_reason": person.termination_reason.value
        if person.termination_reason
        else None,
        "group_number": person.group_number,
        "division_code": person.division_code,
    }
    return [_cell(cells[column]) for column in COLUMNS]


def csv_text(persons: Iterable[PersonRow]) -> Iterator[str]:
    """The CSV file: the header with every column, then one row per person."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for number, person in enumerate(persons, 1):
        writer.writerow(csv_row(person))
        if number % _ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _segment(*elements: str | None) -> str:
    """One segment, trailing empty elements left out as X12 asks."""
    texts = ["" if element is None else element for element in elements]
    while texts and not texts[-1]:
        texts.pop()
    return "*".join(texts) + "~\n"


def _d8(day: date | None) -> str | None:
    return None if day is None else day.strftime("%Y%m%d")


def member_loop(person: PersonRow) -> list[str]:
    """The segments of one member loop (2000, 2100A, 2300), in the guide's order."""
    code = _MAINTENANCE_TYPES[person.action]
    reason = _REASON_CODES[person.termination_reason] if person.termination_reason else None
    subscriber = "Y" if person.relationship == Relationship.SUBSCRIBER else "N"
    disabled = None if person.is_disabled is None else ("Y" if person.is_disabled else "N")
    relationship = _RELATIONSHIP_CODES[person.relationship]
    loop = [_segment("INS", subscriber, relationship, code, reason, "A", None, None, None, None,
                     disabled)]  # fmt: skip
    loop.append(_segment("REF", "0F", person.subscriber_key))
    if person.group_number:
        loop.append(_segment("REF", "1L", person.group_number))
    if person.member_number:
        loop.append(_segment("REF", "23", person.member_number))
    names = (person.last_name, person.first_name, person.middle_name)
    if any(names) or person.ssn:
        ssn = ("34", person.ssn) if person.ssn else (None, None)
        loop.append(_segment("NM1", "IL", "1", *names, None, None, *ssn))
    if person.phone or person.email:
        phone = ("TE", person.phone) if person.phone else (None, None)
        email = ("EM", person.email) if person.email else (None, None)
        loop.append(_segment("PER", "IP", None, *phone, *email))
    if person.address:
        address = person.address
        loop.append(_segment("N3", address.line1, address.line2))
        loop.append(_segment("N4", address.city, address.state, address.postal_code))
    if person.birth_date or person.sex:
        sex = person.sex.value if person.sex else None
        loop.append(_segment("DMG", "D8", _d8(person.birth_date), sex))
    if person.plan_code or person.tier:
        level = _COVERAGE_LEVELS[person.tier] if person.tier else None
        loop.append(_segment("HD", code, None, "HLT", person.plan_code, level))
    if person.effective_date:
        loop.append(_segment("DTP", "348", "D8", _d8(person.effective_date)))
    if person.termination_date:
        loop.append(_segment("DTP", "349", "D8", _d8(person.termination_date)))
    return loop


def isa_header(control: int, when: date) -> str:
    """The fixed-length ISA: `*` between elements, `:` between components, `~` ends it."""
    header = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{'GROUPGATESEND':15}*ZZ*{'CARRIER':15}*"
        f"{when:%y%m%d}*1200*^*00501*{control:09d}*0*P*:~"
    )
    assert len(header) == 106, len(header)
    return header + "\n"


def x12_text(
    persons: Iterable[PersonRow], *, control: int = 1, when: date = date(2026, 1, 1)
) -> Iterator[str]:
    """An 834 interchange: one functional group of one transaction holding every person."""
    yield isa_header(control, when)
    yield _segment("GS", "BE", "GROUPGATESEND", "CARRIER", f"{when:%Y%m%d}", "1200", str(control),
                   "X", VERSION)  # fmt: skip
    transaction = f"{control:04d}"
    header = [
        _segment("ST", "834", transaction, VERSION),
        _segment("BGN", "00", f"BATCH{control}", f"{when:%Y%m%d}", "1200", None, None, None, "4"),
        _segment("N1", "P5", "EMPLOYER", "FI", "123456789"),
        _segment("N1", "IN", "CARRIER", "FI", "987654321"),
    ]
    counted = len(header)
    chunk = header
    for number, person in enumerate(persons, 1):
        loop = member_loop(person)
        counted += len(loop)
        chunk += loop
        if number % _ROWS_PER_CHUNK == 0:
            yield "".join(chunk)
            chunk = []
    counted += 1  # the SE counts itself
    chunk.append(_segment("SE", str(counted), transaction))
    chunk.append(_segment("GE", "1", str(control)))
    chunk.append(_segment("IEA", "1", f"{control:09d}"))
    yield "".join(chunk)


def write_file(path: Path, chunks: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        for chunk in chunks:
            file.write(chunk)


def to_bytes(chunks: Iterable[str]) -> bytes:
    return "".join(chunks).encode()


def _ssn(rng: random.Random) -> str:
    # Never issued: area 000, 666 or 9xx, group 00, serial 0000; the rest looks real.
    area = rng.choice([n for n in range(1, 900) if n != 666])
    return f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"


def families(
    count: int,
    *,
    seed: int = 1,
    plan_code: str = "NCAL-HMO-G80",
    effective_date: date = date(2026, 1, 1),
    group_number: str | None = None,
) -> Iterator[PersonRow]:
    """`count` persons to ADD, as families: each subscriber (keyed by its SSN) then its
    spouse and children, the same every time for the same seed."""
    rng = random.Random(seed)
    made = 0
    while made < count:
        last = rng.choice(LAST_NAMES)
        key = _ssn(rng)
        household = min(count - made, rng.choice((1, 1, 2, 3, 4)))
        tier = [CoverageTier.EMPLOYEE, CoverageTier.EMPLOYEE_SPOUSE, CoverageTier.FAMILY,
                CoverageTier.FAMILY][household - 1]  # fmt: skip
        address = Address(
            f"{rng.randint(1, 9999)} {rng.choice(STREET_NAMES)} St",
            None,
            "Oakland",
            "CA",
            f"9{rng.randint(4000, 4999):04d}",
        )
        for position in range(household):
            made += 1
            relationship = (
                Relationship.SUBSCRIBER
                if position == 0
                else Relationship.SPOUSE
                if position == 1
                else Relationship.CHILD
            )
            sex = rng.choice((Sex.FEMALE, Sex.MALE))
            first = rng.choice(FEMALE_FIRST_NAMES if sex == Sex.FEMALE else MALE_FIRST_NAMES)
            born = (
                date(1960, 1, 1) + timedelta(days=rng.randint(0, 14_000))
                if position < 2
                else date(2005, 1, 1) + timedelta(days=rng.randint(0, 7_000))
            )
            yield PersonRow(
                row_number=made,
                action=BatchRowAction.ADD,
                subscriber_key=key,
                relationship=relationship,
                first_name=first,
                last_name=last,
                birth_date=born,
                sex=sex,
                ssn=key if position == 0 else _ssn(rng),
                address=address,
                plan_code=plan_code,
                tier=tier if position == 0 else None,
                effective_date=effective_date,
                group_number=group_number,
            )
