"""The demo data set drawn in memory, group by group, before any of it is written.

Pure and deterministic: a group's design depends only on (index, seed, max_members, today), so
that two databases loaded with the same arguments hold the same data, and a group designed on
its own (because the earlier ones exist already) comes out as it would among the others.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from data.demo import names
from data.demo.names import GroupProfile, PlanSpec, UserSpec
from data.models.billing import PaymentMethod, PaymentStatus
from data.models.members import MemberStatus, Relationship, Sex
from data.models.plans import CoverageTier
from data.normalize import name_key

# Member numbers hold the group's position in five digits and the member's in four.
MAX_GROUPS = 90_000
MAX_GROUP_SIZE = 9_999
RENEWAL_OFFER_DAYS = 120  # renewals are prepared this long before their effective date
BILLED_MONTHS = 12
# Monthly tier rates relative to the EMPLOYEE tier, in thousandths.
_TIER_PERMILLE = {
    CoverageTier.EMPLOYEE: 1000,
    CoverageTier.EMPLOYEE_CHILDREN: 1800,
    CoverageTier.EMPLOYEE_SPOUSE: 2000,
    CoverageTier.FAMILY: 2850,
}
_PLANS_BY_CODE = {plan.code: plan for plan in names.PLANS}
_SETTLEMENT_DAYS = {
    PaymentMethod.ACH: 2,
    PaymentMethod.CARD: 0,
    PaymentMethod.CHECK: 5,
    PaymentMethod.AUTOPAY: 1,
}


def group_number(index: int) -> str:
    return f"G{100_000 + index}"


def member_number(index: int, position: int) -> str:
    return f"M{10_000 + index}{position:04d}"


def demo_ssn(number: str) -> str:
    """The made-up SSN of a demo member: a fixed permutation of its member number, so unique."""
    value = int(number[1:])
    # A Feistel network permutes 30-bit numbers; repeating it until the value has nine digits
    # keeps the map one-to-one on nine-digit numbers, and neighbours get unrelated SSNs.
    value = _feistel(value)
    while value >= 1_000_000_000:
        value = _feistel(value)
    digits = f"{value:09d}"
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def _feistel(value: int) -> int:
    left, right = value >> 15, value & 0x7FFF
    for round_number in range(4):
        digest = hashlib.blake2b(b"%d:%d" % (round_number, right), digest_size=2).digest()
        left, right = right, left ^ (int.from_bytes(digest, "big") & 0x7FFF)
    return left << 15 | right


def plan_years(today: date) -> range:
    """Every plan year a demo contract can fall in: three back, the current one and the next."""
    return range(today.year - 3, today.year + 2)


def monthly_rate(plan: PlanSpec, plan_year: int, tier: CoverageTier) -> int:
    rate, step = plan.employee_rate_cents, 10_000 + plan.trend_basis_points
    for _ in range(names.RATE_BASE_YEAR, plan_year):
        rate = (rate * step + 5_000) // 10_000
    for _ in range(plan_year, names.RATE_BASE_YEAR):
        rate = (rate * 10_000 + step // 2) // step
    return (rate * _TIER_PERMILLE[tier] + 500) // 1000


def document_content(title: str) -> bytes:
    """A one-page PDF showing the title: what the file store holds for a demo document."""
    text = title.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 20 Tf 72 720 Td ({text}) Tj ET".encode("cp1252", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    content, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(content))
        content += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_offset = len(content)
    content += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    content += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    content += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    content += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(content)


@dataclass(slots=True)
class Person:
    number: str
    relationship: Relationship
    first_name: str
    middle_name: str | None
    last_name: str
    birth_date: date
    sex: Sex
    has_ssn: bool
    is_disabled: bool = False


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of coverage: employment, then possibly COBRA continuation."""

    effective: date
    termination: date | None
    is_cobra: bool = False

    def covers(self, day: date) -> bool:
        return self.effective <= day and (self.termination is None or day <= self.termination)


@dataclass(slots=True)
class Family:
    subscriber: Person
    dependents: list[Person]
    hire_date: date
    division_code: str | None
    plan_code: str
    spans: list[Span]
    contact: dict[str, str | None]  # the subscriber's address, phone and e-mail columns

    @property
    def tier(self) -> CoverageTier:
        kinds = {person.relationship for person in self.dependents}
        partner = bool(kinds & {Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER})
        children = Relationship.CHILD in kinds
        if partner:
            return CoverageTier.FAMILY if children else CoverageTier.EMPLOYEE_SPOUSE
        return CoverageTier.EMPLOYEE_CHILDREN if children else CoverageTier.EMPLOYEE

    @property
    def status(self) -> MemberStatus:
        ended = self.spans[-1].termination is not None
        return MemberStatus.TERMINATED if ended else MemberStatus.ACTIVE

    def covered(self, day: date) -> bool:
        return any(span.covers(day) for span in self.spans)


@dataclass(frozen=True, slots=True)
class ContractDesign:
    plan_year: int
    start: date
    end: date
    plan_codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PaymentDesign:
    amount_cents: int
    method: PaymentMethod
    status: PaymentStatus
    submitted_at: datetime
    settled_at: datetime | None


@dataclass(frozen=True, slots=True)
class BillLineDesign:
    family: int  # position in GroupDesign.families
    plan_code: str
    tier: CoverageTier
    amount_cents: int


@dataclass(frozen=True, slots=True)
class AdjustmentDesign:
    family: int | None
    reason: str
    amount_cents: int


@dataclass(slots=True)
class BillDesign:
    period: date  # first day of the month billed
    lines: list[BillLineDesign]
    adjustments: list[AdjustmentDesign]
    payments: list[PaymentDesign] = field(default_factory=list)

    @property
    def issue_date(self) -> date:
        return self.period - timedelta(days=20)

    @property
    def due_date(self) -> date:
        return self.period + timedelta(days=14)

    @property
    def amount_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines) + sum(
            adjustment.amount_cents for adjustment in self.adjustments
        )


@dataclass(frozen=True, slots=True)
class ChangeRequestDesign:
    """A renewal change request as the group submitted it: one plan change and one termination.

    `status` is SUBMITTED or IN_REVIEW; the events are the statuses entered, with their times.
    """

    status: str
    from_plan_code: str
    to_plan_code: str
    terminated_family: int  # position in GroupDesign.families: its subscriber leaves
    submitted_at: datetime
    reviewed_at: datetime | None  # when it went IN_REVIEW


@dataclass(slots=True)
class GroupDesign:
    index: int
    profile: GroupProfile
    renewal_date: date
    end_date: date | None  # last covered day of a terminated group
    autopay_account: tuple[str, str] | None  # routing number, account number
    contracts: list[ContractDesign]  # oldest first
    families: list[Family]
    employee_count: int
    renewal_alternatives: tuple[str, ...]  # empty when no renewal is prepared yet
    bills: list[BillDesign] = field(default_factory=list)
    change_request: ChangeRequestDesign | None = None

    @property
    def number(self) -> str:
        return group_number(self.index)

    @property
    def start(self) -> date:
        return self.contracts[0].start

    @property
    def payer(self) -> UserSpec:
        """Who pays the bills by hand: a billing sub-user if there is one."""
        payers = [
            sub_user.user
            for sub_user in self.profile.sub_users
            if names.PRIVILEGE_BILLING_PAY in sub_user.privileges
        ]
        return payers[0] if payers else self.profile.administrator


def company_names(seed: int) -> list[str]:
    """Every company name once, in a seeded order: generated groups do not share names."""
    combinations = [
        f"{prefix} {trade}{suffix}"
        for prefix in names.COMPANY_PREFIXES
        for trade in names.COMPANY_TRADES
        for suffix in names.COMPANY_SUFFIXES
    ]
    random.Random(f"groupgate-demo:{seed}:companies").shuffle(combinations)
    return combinations


def design_group(
    index: int, seed: int, max_members: int, today: date, companies: Sequence[str]
) -> GroupDesign:
    # Seeded per group: reproducible made-up data, nothing secret (hence no S311 concern).
    rng = random.Random(f"groupgate-demo:{seed}:{index}")
    personas = names.PERSONA_GROUPS
    if index < len(personas):
        profile = personas[index]
    else:
        company = companies[(index - len(personas)) % len(companies)]
        profile = _generated_profile(rng, index, max_members, company)
    showcase = names.SHOWCASE_GROUPS.get(index)
    if showcase is not None:
        # Applied after the draw, so that the rest of the group comes out as the seed has it.
        profile = replace(
            profile,
            agency_license=showcase.agency_license,
            former_agency_license=None,
            renewal_months_ahead=showcase.renewal_months_ahead or profile.renewal_months_ahead,
            terminated_months_ago=None,
        )
    this_month = _month_start(today)
    renewal_date = _month_start(today, profile.renewal_months_ahead)
    in_region = [plan for plan in names.PLANS if plan.region == profile.region]
    offered = [plan.code for plan in in_region if plan.is_offered]
    withdrawn = tuple(plan.code for plan in in_region if not plan.is_offered)
    current_plans = tuple(rng.sample(offered, rng.randint(2, min(4, len(offered) - 2))))
    contracts = []
    for years_back in range(rng.randint(2, 3), 0, -1):
        start = renewal_date.replace(year=renewal_date.year - years_back)
        end = start.replace(year=start.year + 1) - timedelta(days=1)
        plan_codes = current_plans + withdrawn if years_back == 3 else current_plans
        contracts.append(ContractDesign(start.year, start, end, plan_codes))
    end_date = None
    if profile.terminated_months_ago is not None:
        end_date = _month_end(this_month, -profile.terminated_months_ago)
    families = _families(rng, index, profile, current_plans, contracts[0].start, end_date, today)
    others = [code for code in offered if code not in current_plans]
    alternatives = tuple(rng.sample(others, min(len(others), rng.randint(2, 3))))
    prepared = end_date is None and (renewal_date - today).days <= RENEWAL_OFFER_DAYS
    last_day = min(today, end_date or today)
    design = GroupDesign(
        index=index,
        profile=profile,
        renewal_date=renewal_date,
        end_date=end_date,
        autopay_account=_bank_account(rng) if profile.autopay else None,
        contracts=contracts,
        families=families,
        employee_count=sum(1 for f in families if f.covered(last_day) and not f.spans[-1].is_cobra),
        renewal_alternatives=alternatives if prepared else (),
    )
    design.bills = _bills(rng, design, today)
    if showcase is not None and showcase.payment_exceptions:
        _reverse_and_underpay(design, today)
    if showcase is not None and showcase.change_request_status is not None and prepared:
        design.change_request = _change_request(design, showcase.change_request_status, today)
    return design


def _reverse_and_underpay(design: GroupDesign, today: date) -> None:
    """Two months ago a payment was reversed (the bank took it back) and paid again by check;
    last month's bill is paid only in part. Both settle before the first of this month."""
    this_month = _month_start(today)
    bills = {bill.period: bill for bill in design.bills}
    reversed_bill = bills[_month_start(this_month, -2)]
    amount, issued = reversed_bill.amount_cents, reversed_bill.issue_date
    reversed_bill.payments = [
        PaymentDesign(
            amount,
            PaymentMethod.ACH,
            PaymentStatus.REVERSED,
            utc_at(issued + timedelta(days=4), 14),
            utc_at(issued + timedelta(days=6), 18),
        ),
        PaymentDesign(
            amount,
            PaymentMethod.CHECK,
            PaymentStatus.SETTLED,
            utc_at(issued + timedelta(days=10), 14),
            utc_at(issued + timedelta(days=15), 18),
        ),
    ]
    partial_bill = bills[_month_start(this_month, -1)]
    issued = partial_bill.issue_date
    partial_bill.payments = [
        PaymentDesign(
            max(1, partial_bill.amount_cents * 60 // 100),
            PaymentMethod.ACH,
            PaymentStatus.SETTLED,
            utc_at(issued + timedelta(days=8), 14),
            utc_at(issued + timedelta(days=10), 18),
        )
    ]


def _change_request(design: GroupDesign, status: str, today: date) -> ChangeRequestDesign:
    """The group moves its first current plan to the first alternative and ends the coverage of
    its first subscriber still covered on the renewal date, as `renewalChangesSubmit` takes."""
    terminated = next(
        position
        for position, family in enumerate(design.families)
        if family.spans[-1].termination is None
        and not family.spans[-1].is_cobra
        and family.spans[-1].effective < design.renewal_date
    )
    in_review = status == "IN_REVIEW"
    return ChangeRequestDesign(
        status=status,
        from_plan_code=design.contracts[-1].plan_codes[0],
        to_plan_code=design.renewal_alternatives[0],
        terminated_family=terminated,
        submitted_at=utc_at(today - timedelta(days=8 if in_review else 3), 10, 15),
        reviewed_at=utc_at(today - timedelta(days=6), 16, 40) if in_review else None,
    )


def _slug(text: str, separator: str) -> str:
    return re.sub(r"[^a-z0-9]+", separator, name_key(text)).strip(separator)


def _random_user(rng: random.Random, domain: str) -> UserSpec:
    first = rng.choice(names.FEMALE_FIRST_NAMES + names.MALE_FIRST_NAMES)
    last = rng.choice(names.LAST_NAMES)
    return UserSpec(f"{_slug(first, '')}.{_slug(last, '')}@{domain}", f"{first} {last}")


def _generated_profile(
    rng: random.Random, index: int, max_members: int, company: str
) -> GroupProfile:
    # Skewed sizes: most groups small, a few close to max_members.
    size = min(max_members, max(3, round(3 * (max_members / 3) ** (rng.random() ** 1.8))))
    domain = f"{_slug(company, '-')}.example"
    officer = _random_user(rng, domain)
    administrator = _random_user(rng, domain)
    while administrator.email == officer.email:
        administrator = _random_user(rng, domain)
    division_count = rng.randint(2, 5 if size >= 300 else 3)
    return GroupProfile(
        legal_name=company,
        region=rng.choice(tuple(names.CITIES_BY_REGION)),
        member_count=size,
        # Spread evenly over the coming year, so that every run has groups in their window.
        renewal_months_ahead=1 + index * 7 % 12,
        divisions=tuple(rng.sample(names.DIVISIONS, division_count)) if size >= 50 else (),
        officer=officer,
        administrator=administrator,
        agency_license=rng.choice(names.AGENCIES).license_number if rng.random() < 0.85 else None,
        billing_email=f"accounts.payable@{domain}" if rng.random() < 0.25 else None,
        autopay=rng.random() < 0.25,
        cobra_administered_by_carrier=rng.random() < 0.3,
        terminated_months_ago=rng.randint(1, 4) if rng.random() < 0.02 else None,
    )


def _bank_account(rng: random.Random) -> tuple[str, str]:
    """A routing number with a valid ABA check digit, and an account number."""
    digits = [rng.randint(0, 9) for _ in range(8)]
    weights = (3, 7, 1, 3, 7, 1, 3, 7)
    weighted = sum(weight * digit for weight, digit in zip(weights, digits, strict=True))
    routing = "".join(map(str, digits)) + str(-weighted % 10)
    return routing, str(rng.randint(10**9, 10**12 - 1))


def _month_start(day: date, months: int = 0) -> date:
    month = day.year * 12 + day.month - 1 + months
    return date(month // 12, month % 12 + 1, 1)


def _month_end(day: date, months: int = 0) -> date:
    return _month_start(day, months + 1) - timedelta(days=1)


def utc_at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), UTC)


def _families(
    rng: random.Random,
    index: int,
    profile: GroupProfile,
    plan_codes: tuple[str, ...],
    group_start: date,
    end_date: date | None,
    today: date,
) -> list[Family]:
    families: list[Family] = []
    position = 0
    while position < profile.member_count:
        family = _family(rng, profile, plan_codes, group_start, today, first=not families)
        family.dependents = family.dependents[: profile.member_count - position - 1]
        for offset, person in enumerate((family.subscriber, *family.dependents)):
            person.number = member_number(index, position + offset)
        if end_date is not None:  # the group left: every open coverage ended with it
            family.spans = [
                Span(span.effective, min(span.termination or end_date, end_date), span.is_cobra)
                for span in family.spans
            ]
        families.append(family)
        position += 1 + len(family.dependents)
    return families


def _family(
    rng: random.Random,
    profile: GroupProfile,
    plan_codes: tuple[str, ...],
    group_start: date,
    today: date,
    *,
    first: bool,
) -> Family:
    age = rng.randint(22, 64) if rng.random() < 0.96 else rng.randint(65, 71)
    sex = rng.choices((Sex.FEMALE, Sex.MALE, Sex.UNKNOWN), (49, 49, 1))[0]
    last_name = rng.choice(names.LAST_NAMES)
    subscriber = _person(rng, Relationship.SUBSCRIBER, sex, last_name, _birth(rng, today, age))
    dependents = _dependents(rng, subscriber, age, today)
    # The first family is long-standing, so that every month of a group has a bill line.
    weights = (
        84,
        0 if first or profile.terminated_months_ago else 8,
        0 if first else 5,
        0 if first or profile.cobra_administered_by_carrier or profile.terminated_months_ago else 3,
    )
    kind = rng.choices(("employed", "new hire", "terminated", "cobra"), weights)[0]
    this_month = _month_start(today)
    billed_from = _month_start(today, 1 - BILLED_MONTHS)
    if kind == "new hire":
        hire = billed_from + timedelta(days=rng.randint(0, (this_month - billed_from).days - 1))
    else:
        earliest = max(
            subscriber.birth_date + timedelta(days=18 * 366), today - timedelta(days=20 * 365)
        )
        latest = billed_from - timedelta(days=30)
        hire = earliest + timedelta(days=rng.randint(0, max(0, (latest - earliest).days)))
    effective = max(group_start, _month_start(hire, 1))
    spans = [Span(effective, None)]
    if kind == "terminated":
        spans = [Span(effective, _month_end(this_month, -rng.randint(1, 10)))]
    elif kind == "cobra":
        left = _month_end(this_month, -rng.randint(2, 10))
        spans = [Span(effective, left), Span(left + timedelta(days=1), None, is_cobra=True)]
    division = rng.choice(profile.divisions)[0] if profile.divisions else None
    plan = rng.choices(plan_codes, range(len(plan_codes), 0, -1))[0]
    contact = _contact(rng, subscriber, profile.region)
    return Family(subscriber, dependents, hire, division, plan, spans, contact)


def _dependents(rng: random.Random, subscriber: Person, age: int, today: date) -> list[Person]:
    dependents = []
    if rng.random() < 0.5:
        spouse = rng.random() < 0.88
        relationship = Relationship.SPOUSE if spouse else Relationship.DOMESTIC_PARTNER
        sex = subscriber.sex
        if rng.random() < 0.9:
            sex = Sex.MALE if subscriber.sex is Sex.FEMALE else Sex.FEMALE
        shares_name = spouse and rng.random() < 0.7
        last_name = subscriber.last_name if shares_name else rng.choice(names.LAST_NAMES)
        birth = _birth(rng, today, min(80, max(19, age + rng.randint(-6, 6))))
        dependents.append(_person(rng, relationship, sex, last_name, birth))
    partner = dependents[0] if dependents else None
    if rng.random() < (0.55 if partner else 0.2):
        for _ in range(rng.choices((1, 2, 3), (45, 40, 15))[0]):
            birth = _birth(rng, today, rng.randint(0, min(25, age - 18)))
            takes_partner_name = partner is not None and rng.random() < 0.15
            last_name = (
                partner.last_name if partner and takes_partner_name else subscriber.last_name
            )
            sex = rng.choice((Sex.FEMALE, Sex.MALE))
            dependents.append(_person(rng, Relationship.CHILD, sex, last_name, birth))
    if age >= 48 and rng.random() < 0.02:  # a disabled adult child stays covered past 26
        birth = _birth(rng, today, rng.randint(26, min(45, age - 20)))
        sex = rng.choice((Sex.FEMALE, Sex.MALE))
        child = _person(rng, Relationship.CHILD, sex, subscriber.last_name, birth)
        child.is_disabled = True
        dependents.append(child)
    return dependents


def _person(
    rng: random.Random, relationship: Relationship, sex: Sex, last_name: str, birth: date
) -> Person:
    pool: tuple[str, ...]
    if sex is Sex.FEMALE:
        pool = names.FEMALE_FIRST_NAMES
    elif sex is Sex.MALE:
        pool = names.MALE_FIRST_NAMES
    else:
        pool = names.FEMALE_FIRST_NAMES + names.MALE_FIRST_NAMES
    first_name = rng.choice(pool)
    middle_name = rng.choice(pool) if rng.random() < 0.3 else None
    # Subscribers always give an SSN; a few dependents (newborns, mostly) have none on file.
    has_ssn = relationship is Relationship.SUBSCRIBER or rng.random() < 0.9
    number = ""  # assigned once the family's size within the group is known
    return Person(number, relationship, first_name, middle_name, last_name, birth, sex, has_ssn)


def _birth(rng: random.Random, today: date, age: int) -> date:
    return today - timedelta(days=age * 365 + rng.randint(0, 364))


def _contact(rng: random.Random, subscriber: Person, region: str) -> dict[str, str | None]:
    city = rng.choice(names.CITIES_BY_REGION[region])
    street = f"{rng.choice(names.STREET_NAMES)} {rng.choice(names.STREET_SUFFIXES)}"
    mailbox = f"{_slug(subscriber.first_name, '')}.{_slug(subscriber.last_name, '')}"
    return {
        "address_line1": f"{rng.randint(100, 9899)} {street}",
        "address_line2": f"Apt {rng.randint(1, 40)}" if rng.random() < 0.2 else None,
        "city": city.name,
        "state": city.state,
        "postal_code": f"{city.zip_prefix}{rng.randint(1, 99):02d}",
        # 555-0100 to 555-0199 are set aside for fiction.
        "phone": f"({city.area_code}) 555-01{rng.randint(0, 99):02d}",
        "email": f"{mailbox}{rng.randint(1, 99)}@{rng.choice(names.PERSONAL_EMAIL_DOMAINS)}",
    }


def _bills(rng: random.Random, design: GroupDesign, today: date) -> list[BillDesign]:
    this_month = _month_start(today)
    last_period = _month_start(design.end_date) if design.end_date else this_month
    bills = []
    for months_back in range(BILLED_MONTHS - 1, -1, -1):
        period = _month_start(this_month, -months_back)
        if period > last_period:
            break
        plan_year = next(c.plan_year for c in design.contracts if c.start <= period <= c.end)
        lines = [
            BillLineDesign(
                position,
                family.plan_code,
                family.tier,
                monthly_rate(_PLANS_BY_CODE[family.plan_code], plan_year, family.tier),
            )
            for position, family in enumerate(design.families)
            if family.covered(period)
        ]
        adjustments = _adjustments(rng, lines) if rng.random() < 0.1 else []
        bill = BillDesign(period, lines, adjustments)
        autopay = design.autopay_account is not None
        bill.payments = _payments(rng, bill, autopay, period == this_month, today)
        bills.append(bill)
    return bills


def _adjustments(rng: random.Random, lines: list[BillLineDesign]) -> list[AdjustmentDesign]:
    # A credit never exceeds one line of several, so that the bill stays positive.
    if len(lines) >= 2 and rng.random() < 0.6:
        line = rng.choice(lines)
        if rng.random() < 0.5:
            return [
                AdjustmentDesign(line.family, "Retroactive termination credit", -line.amount_cents)
            ]
        return [AdjustmentDesign(line.family, "Retroactive enrollment charge", line.amount_cents)]
    cents = rng.choice((-1, 1)) * rng.randint(5_00, 40_00)
    return [AdjustmentDesign(None, "Rate correction", cents)]


def _payments(
    rng: random.Random, bill: BillDesign, autopay: bool, is_current: bool, today: date
) -> list[PaymentDesign]:
    amount = bill.amount_cents
    if amount <= 0:
        return []
    parts = [amount]
    if autopay:
        method, days = PaymentMethod.AUTOPAY, [bill.due_date]
    else:
        # Past bills are nearly all paid; the current month's mostly not yet.
        if rng.random() >= (0.15 if is_current else 0.96):
            return []
        methods = (PaymentMethod.ACH, PaymentMethod.ACH, PaymentMethod.CARD, PaymentMethod.CHECK)
        method = rng.choice(methods)
        days = [bill.issue_date + timedelta(days=rng.randint(3, 30))]
        if rng.random() < 0.12:  # paid in two instalments
            first = amount * rng.randint(30, 70) // 100
            parts = [first, amount - first]
            days.append(days[0] + timedelta(days=rng.randint(3, 12)))
    payments = []
    if method is PaymentMethod.CARD and rng.random() < 0.1 and days[0] <= today:
        declined_at = utc_at(days[0], 9, rng.randint(0, 59))
        payments.append(PaymentDesign(parts[0], method, PaymentStatus.FAILED, declined_at, None))
    for part, day in zip(parts, days, strict=True):
        if day > today:
            break
        settles = day + timedelta(days=_SETTLEMENT_DAYS[method])
        submitted_at = utc_at(day, 14, rng.randint(0, 59))
        if settles <= today:
            payment = PaymentDesign(
                part, method, PaymentStatus.SETTLED, submitted_at, utc_at(settles, 18)
            )
        else:
            payment = PaymentDesign(part, method, PaymentStatus.PENDING, submitted_at, None)
        payments.append(payment)
    return payments
