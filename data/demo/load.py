"""Demo data: the plan catalogue, agencies, carrier staff, persona groups and generated groups,
then brokers' and a prospect's quotes with applications at each step of their review.

Idempotent by natural keys: a group whose number exists is skipped with all its rows; plans,
agencies and users (by e-mail) are reused, quotes (with their applications) by number. Group
numbers are positional, so that a later call with more groups only adds the new positions. Rows
go in with Core bulk inserts, one transaction per group; generated ids are read back by natural
key, because an ordered executemany with RETURNING falls back to one statement per row on SQLite.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Executable, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from data.demo import names
from data.demo.design import (
    MAX_GROUP_SIZE,
    MAX_GROUPS,
    Family,
    GroupDesign,
    Person,
    company_names,
    demo_ssn,
    design_group,
    document_content,
    group_number,
    monthly_rate,
    plan_years,
    utc_at,
)
from data.demo.names import PlanSpec, UserSpec
from data.models import (
    AccessGrant,
    Agency,
    AutopayMandate,
    Base,
    Bill,
    BillAdjustment,
    BillLine,
    BrokerOfRecord,
    CommissionSchedule,
    Contract,
    ContractPlan,
    Coverage,
    Division,
    Document,
    Group,
    GroupApplication,
    GroupApplicationEvent,
    Member,
    Payment,
    Plan,
    PlanBenefits,
    PlanRate,
    PrimaryAdministratorDesignation,
    Quote,
    QuotePlan,
    Renewal,
    RenewalChangeEvent,
    RenewalChangeRequest,
    RenewalOption,
    User,
)
from data.models.billing import AutopayStatus, PaymentMethod
from data.models.commissions import CommissionBasis
from data.models.contracts import DocumentKind
from data.models.groups import BillingDelivery, GroupStatus
from data.models.plans import CoverageTier, PlanKind
from data.models.quotes import ApplicationStatus
from data.models.renewals import OfferKind, RenewalChangeStatus
from data.models.users import DesignationChannel, UserKind, UserStatus
from data.normalize import name_key, ssn_hash, ssn_last4
from data.oauth import ensure_frontend_clients

_ROWS_PER_STATEMENT = 2_000
QUOTE_DAYS = 60  # a quote expires this long after it is made (ADR 11)
_NO_CONTACT: dict[str, str | None] = dict.fromkeys(
    ("address_line1", "address_line2", "city", "state", "postal_code", "phone", "email")
)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    inserted: dict[str, int]  # table name -> rows inserted by the call

    @property
    def total(self) -> int:
        return sum(self.inserted.values())


async def load_demo(
    engine: AsyncEngine,
    *,
    secret_key: bytes,
    groups: int = 250,
    max_members: int = 2000,
    seed: int = 7,
    today: date | None = None,
) -> DemoSummary:
    """Insert whatever of the demo data set is missing.

    Deterministic given (groups, max_members, seed, today); every date is relative to `today`.
    """
    personas = len(names.PERSONA_GROUPS)
    if not personas <= groups <= MAX_GROUPS:
        raise ValueError(f"groups must be between {personas} and {MAX_GROUPS}, got {groups}")
    if not 3 <= max_members <= MAX_GROUP_SIZE:
        raise ValueError(f"max_members must be between 3 and {MAX_GROUP_SIZE}, got {max_members}")
    today = today or datetime.now(UTC).date()
    counts = dict.fromkeys(sorted(Base.metadata.tables), 0)
    async with engine.begin() as connection:
        references = await _ensure_references(connection, today, counts)
        existing = set(await connection.scalars(select(Group.group_number)))
    companies = company_names(seed)
    for index in range(groups):
        if group_number(index) in existing:
            continue
        design = design_group(index, seed, max_members, today, companies)
        async with engine.begin() as connection:
            await _write_group(connection, design, references, secret_key, counts)
    async with engine.begin() as connection:
        await _write_quotes(connection, references, today, counts)
    return DemoSummary(counts)


@dataclass(frozen=True, slots=True)
class _References:
    plan_ids: dict[str, int]
    agency_ids: dict[str, int]
    account_representative_id: int
    staff_ids: dict[str, int]  # carrier staff and brokers, by e-mail


async def _insert(
    connection: AsyncConnection,
    model: type[Base],
    rows: list[dict[str, Any]],
    counts: dict[str, int],
) -> None:
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        await connection.execute(insert(model), rows[start : start + _ROWS_PER_STATEMENT])
    counts[model.__tablename__] += len(rows)


async def _ids(
    connection: AsyncConnection, model: type[Base], key: str, where: ColumnElement[bool]
) -> dict[Any, int]:
    """Ids of the rows that match, by the value of their natural key column."""
    table = model.__table__
    result = await connection.execute(select(table.c[key], table.c.id).where(where))
    # Not dict(result): a result has keys(), so dict() would take it for a mapping.
    return {natural_key: id_ for natural_key, id_ in result}  # noqa: C416


async def _ensure(
    connection: AsyncConnection,
    model: type[Base],
    key: str,
    rows: list[dict[str, Any]],
    counts: dict[str, int],
) -> dict[Any, int]:
    """Ids of the rows by natural key, inserting those that are missing."""
    wanted = model.__table__.c[key].in_([row[key] for row in rows])
    existing = await _ids(connection, model, key, wanted)
    await _insert(connection, model, [row for row in rows if row[key] not in existing], counts)
    return await _ids(connection, model, key, wanted)


async def _existing(connection: AsyncConnection, statement: Executable) -> set[tuple[Any, ...]]:
    return {tuple(row) for row in await connection.execute(statement)}


def _user_row(user: UserSpec, kind: UserKind, agency_id: int | None = None) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "kind": kind,
        "status": UserStatus.ACTIVE,
        "agency_id": agency_id,
    }


def _grant(
    user_id: int,
    group_id: int | None,
    granted_at: datetime,
    *,
    role: str | None = None,
    privilege: str | None = None,
    division_id: int | None = None,
    granted_by: int | None = None,
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "group_id": group_id,
        "division_id": division_id,
        "role": role,
        "privilege": privilege,
        "granted_by_user_id": granted_by,
        "granted_at": granted_at,
    }


async def _ensure_references(
    connection: AsyncConnection, today: date, counts: dict[str, int]
) -> _References:
    """The catalogue, agencies with their brokers and schedules, and carrier staff."""
    plan_rows = [
        {
            "code": plan.code,
            "name": plan.name,
            "kind": plan.kind,
            "metal_level": plan.metal_level,
            "region": plan.region,
            "is_offered": plan.is_offered,
        }
        for plan in names.PLANS
    ]
    plan_ids = await _ensure(connection, Plan, "code", plan_rows, counts)
    years = plan_years(today)
    have = await _existing(connection, select(PlanBenefits.plan_id, PlanBenefits.plan_year))
    benefit_rows = [
        {"plan_id": plan_ids[plan.code], "plan_year": year, **_benefits(plan, year)}
        for plan in names.PLANS
        for year in years
        if (plan_ids[plan.code], year) not in have
    ]
    await _insert(connection, PlanBenefits, benefit_rows, counts)
    rates = select(PlanRate.plan_id, PlanRate.plan_year, PlanRate.tier)
    have = await _existing(connection, rates)
    rate_rows = [
        {
            "plan_id": plan_ids[plan.code],
            "plan_year": year,
            "tier": tier,
            "monthly_rate_cents": monthly_rate(plan, year, tier),
        }
        for plan in names.PLANS
        for year in years
        for tier in CoverageTier
        if (plan_ids[plan.code], year, tier) not in have
    ]
    await _insert(connection, PlanRate, rate_rows, counts)

    agency_rows = [{"name": a.name, "license_number": a.license_number} for a in names.AGENCIES]
    agency_ids = await _ensure(connection, Agency, "license_number", agency_rows, counts)
    user_rows = [_user_row(user, UserKind.CARRIER) for user, _ in names.CARRIER_STAFF]
    user_rows += [
        _user_row(broker, UserKind.BROKER, agency_ids[agency.license_number])
        for agency in names.AGENCIES
        for broker in agency.brokers
    ]
    user_ids = await _ensure(connection, User, "email", user_rows, counts)
    carrier_wide = select(AccessGrant.user_id, AccessGrant.role).where(
        AccessGrant.group_id.is_(None)
    )
    have = await _existing(connection, carrier_wide)
    staff_since = utc_at(date(today.year - 3, 1, 5), 9)
    grant_rows = [
        _grant(user_ids[user.email], None, staff_since, role=role)
        for user, role in names.CARRIER_STAFF
        if (user_ids[user.email], role) not in have
    ]
    await _insert(connection, AccessGrant, grant_rows, counts)

    schedules = select(CommissionSchedule.agency_id, CommissionSchedule.plan_year)
    have = await _existing(connection, schedules)
    schedule_rows = [
        _commission_schedule(agency_ids[agency.license_number], year, agency, today)
        for agency in names.AGENCIES
        for year in years
        if (agency_ids[agency.license_number], year) not in have
    ]
    await _insert(connection, CommissionSchedule, schedule_rows, counts)
    # The web and mobile frontends, as public OAuth clients.
    counts["oauth_clients"] += await ensure_frontend_clients(connection)
    return _References(plan_ids, agency_ids, user_ids[names.ACCOUNT_REPRESENTATIVE_EMAIL], user_ids)


def _commission_schedule(
    agency_id: int, year: int, agency: names.AgencySpec, today: date
) -> dict[str, Any]:
    percent = agency.commission_basis is CommissionBasis.PERCENT_OF_PREMIUM
    figure = agency.commission_figure
    if agency.next_plan_year_figure is not None and year > today.year:
        figure = agency.next_plan_year_figure
    return {
        "agency_id": agency_id,
        "plan_year": year,
        "basis": agency.commission_basis,
        "rate_basis_points": figure if percent else None,
        "amount_cents": None if percent else figure,
    }


def _benefits(plan: PlanSpec, plan_year: int) -> dict[str, int]:
    deductible, oop_max, primary, specialist, urgent, emergency, generic, coinsurance = (
        names.METAL_BENEFITS[plan.metal_level]
    )
    if plan.kind is PlanKind.HSA_HMO:  # a qualified high-deductible plan: no copays before it
        deductible = max(deductible, 3_300_00)
        primary = specialist = urgent = emergency = generic = 0
    elif plan.kind is PlanKind.DHMO:
        deductible = max(deductible, 2_500_00)
    elif plan.kind is PlanKind.PPO:
        coinsurance += 10
    # Out-of-pocket maximums are indexed a little every year.
    oop_max = oop_max * (100 + 3 * (plan_year - names.RATE_BASE_YEAR)) // 100
    return {
        "deductible_individual_cents": deductible,
        "deductible_family_cents": 2 * deductible,
        "oop_max_individual_cents": oop_max,
        "oop_max_family_cents": 2 * oop_max,
        "primary_care_copay_cents": primary,
        "specialist_copay_cents": specialist,
        "urgent_care_copay_cents": urgent,
        "emergency_copay_cents": emergency,
        "generic_drug_copay_cents": generic,
        "coinsurance_percent": coinsurance,
    }


async def _write_group(
    connection: AsyncConnection,
    design: GroupDesign,
    references: _References,
    secret_key: bytes,
    counts: dict[str, int],
) -> None:
    profile = design.profile
    people = [profile.officer, profile.administrator, *(s.user for s in profile.sub_users)]
    user_rows = [_user_row(user, UserKind.EMPLOYER) for user in people]
    user_ids = await _ensure(connection, User, "email", user_rows, counts)
    paperless = profile.billing_email is not None
    group_row = {
        "group_number": design.number,
        "legal_name": profile.legal_name,
        "name_key": name_key(profile.legal_name),
        "region": profile.region,
        "status": GroupStatus.ACTIVE if design.end_date is None else GroupStatus.TERMINATED,
        "employee_count": design.employee_count,
        "renewal_date": design.renewal_date,
        "cobra_administered_by_carrier": profile.cobra_administered_by_carrier,
        "billing_delivery": BillingDelivery.PAPERLESS if paperless else BillingDelivery.PAPER,
        "billing_email": profile.billing_email,
        "created_at": utc_at(design.start - timedelta(days=45), 10),
    }
    group_id = (await connection.execute(insert(Group).returning(Group.id), group_row)).scalar_one()
    counts[Group.__tablename__] += 1
    division_rows = [
        {"group_id": group_id, "code": code, "name": name} for code, name in profile.divisions
    ]
    await _insert(connection, Division, division_rows, counts)
    division_ids = await _ids(connection, Division, "code", Division.group_id == group_id)
    plan_ids = references.plan_ids
    subscriber_ids = await _write_members(
        connection, design, group_id, division_ids, plan_ids, secret_key, counts
    )
    await _write_contracts(connection, design, group_id, plan_ids, counts)
    payer_id = user_ids[design.payer.email]
    await _write_bills(connection, design, group_id, subscriber_ids, payer_id, plan_ids, counts)
    await _write_access(connection, design, group_id, division_ids, user_ids, references, counts)
    if design.autopay_account is not None:
        routing_number, account_number = design.autopay_account
        mandate = {
            "group_id": group_id,
            "status": AutopayStatus.ACTIVE,
            "account_holder": profile.legal_name,
            "routing_number": routing_number,
            "account_last4": account_number[-4:],
            # Keyed like SSNs: the account number itself stays with the payment processor.
            "account_hash": hmac.new(
                secret_key, account_number.encode(), hashlib.sha256
            ).hexdigest(),
            "created_by_user_id": user_ids[profile.administrator.email],
            "created_at": utc_at(design.start - timedelta(days=20), 15),
        }
        await _insert(connection, AutopayMandate, [mandate], counts)
    if design.renewal_alternatives:
        renewal_id = await _write_renewal(connection, design, group_id, plan_ids, counts)
        if design.change_request is not None:
            submitter_id = user_ids[profile.administrator.email]
            await _write_change_request(
                connection, design, renewal_id, subscriber_ids, submitter_id, references, counts
            )


async def _write_members(
    connection: AsyncConnection,
    design: GroupDesign,
    group_id: int,
    division_ids: dict[str, int],
    plan_ids: dict[str, int],
    secret_key: bytes,
    counts: dict[str, int],
) -> list[int]:
    """Members and their coverages; returns the subscribers' ids in family order."""

    def row(person: Person, family: Family, subscriber_id: int | None) -> dict[str, Any]:
        ssn = demo_ssn(person.number) if person.has_ssn else None
        is_subscriber = subscriber_id is None
        return {
            "group_id": group_id,
            "division_id": division_ids[family.division_code] if family.division_code else None,
            "subscriber_id": subscriber_id,
            "relationship": person.relationship,
            "member_number": person.number,
            "first_name": person.first_name,
            "middle_name": person.middle_name,
            "last_name": person.last_name,
            "first_name_key": name_key(person.first_name),
            "last_name_key": name_key(person.last_name),
            "birth_date": person.birth_date,
            "sex": person.sex,
            "ssn_hash": None if ssn is None else ssn_hash(ssn, secret_key),
            "ssn_last4": None if ssn is None else ssn_last4(ssn),
            **(family.contact if is_subscriber else _NO_CONTACT),
            "is_disabled": person.is_disabled,
            "hire_date": family.hire_date if is_subscriber else None,
            "status": family.status,
        }

    families = design.families
    in_group = Member.group_id == group_id
    await _insert(connection, Member, [row(f.subscriber, f, None) for f in families], counts)
    member_ids = await _ids(connection, Member, "member_number", in_group)
    dependent_rows = [
        row(person, f, member_ids[f.subscriber.number]) for f in families for person in f.dependents
    ]
    await _insert(connection, Member, dependent_rows, counts)
    member_ids = await _ids(connection, Member, "member_number", in_group)
    coverage_rows = [
        {
            "member_id": member_ids[person.number],
            "plan_id": plan_ids[f.plan_code],
            "tier": f.tier,
            "effective_date": span.effective,
            "termination_date": span.termination,
            "is_cobra": span.is_cobra,
        }
        for f in families
        for person in (f.subscriber, *f.dependents)
        for span in f.spans
    ]
    await _insert(connection, Coverage, coverage_rows, counts)
    return [member_ids[f.subscriber.number] for f in families]


async def _write_contracts(
    connection: AsyncConnection,
    design: GroupDesign,
    group_id: int,
    plan_ids: dict[str, int],
    counts: dict[str, int],
) -> None:
    """Contracts with their plans, a document for each, and the group's arbitration agreement."""
    serial = design.number[1:]
    contract_rows = [
        {
            "group_id": group_id,
            "contract_number": f"C{serial}-{contract.plan_year}",
            "plan_year": contract.plan_year,
            "start_date": contract.start,
            "end_date": contract.end,
        }
        for contract in design.contracts
    ]
    await _insert(connection, Contract, contract_rows, counts)
    contract_ids = await _ids(connection, Contract, "plan_year", Contract.group_id == group_id)
    contract_plan_rows = [
        {"contract_id": contract_ids[contract.plan_year], "plan_id": plan_ids[code]}
        for contract in design.contracts
        for code in contract.plan_codes
    ]
    await _insert(connection, ContractPlan, contract_plan_rows, counts)
    legal_name = design.profile.legal_name
    documents: list[tuple[int | None, DocumentKind, str, str]] = [
        (
            contract_ids[contract.plan_year],
            DocumentKind.CONTRACT,
            f"{legal_name} group agreement, plan year {contract.plan_year}",
            f"contract-{contract.plan_year}.pdf",
        )
        for contract in design.contracts
    ]
    documents.append(
        (
            None,
            DocumentKind.ARBITRATION_AGREEMENT,
            f"{legal_name} arbitration agreement",
            "arbitration-agreement.pdf",
        )
    )
    document_rows = []
    for contract_id, kind, title, filename in documents:
        content = document_content(title)
        document_rows.append(
            {
                "group_id": group_id,
                "contract_id": contract_id,
                "kind": kind,
                "title": title,
                "storage_key": f"groups/{design.number}/{filename}",
                "content_type": "application/pdf",
                "size_bytes": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "created_at": utc_at(design.start - timedelta(days=10), 11),
            }
        )
    await _insert(connection, Document, document_rows, counts)


async def _write_bills(
    connection: AsyncConnection,
    design: GroupDesign,
    group_id: int,
    subscriber_ids: list[int],
    payer_id: int,
    plan_ids: dict[str, int],
    counts: dict[str, int],
) -> None:
    serial = design.number[1:]
    bill_rows = [
        {
            "group_id": group_id,
            "bill_number": f"B{serial}-{bill.period:%Y%m}",
            "period": bill.period,
            "issue_date": bill.issue_date,
            "due_date": bill.due_date,
            "amount_cents": bill.amount_cents,
            "created_at": utc_at(bill.issue_date, 6),
        }
        for bill in design.bills
    ]
    await _insert(connection, Bill, bill_rows, counts)
    bill_ids = await _ids(connection, Bill, "period", Bill.group_id == group_id)
    line_rows: list[dict[str, Any]] = []
    adjustment_rows: list[dict[str, Any]] = []
    payment_rows: list[dict[str, Any]] = []
    for bill in design.bills:
        bill_id = bill_ids[bill.period]
        line_rows += (
            {
                "bill_id": bill_id,
                "subscriber_id": subscriber_ids[line.family],
                "plan_id": plan_ids[line.plan_code],
                "tier": line.tier,
                "amount_cents": line.amount_cents,
            }
            for line in bill.lines
        )
        adjustment_rows += (
            {
                "bill_id": bill_id,
                "member_id": None if a.family is None else subscriber_ids[a.family],
                "reason": a.reason,
                "amount_cents": a.amount_cents,
                "created_at": utc_at(bill.issue_date, 6),
            }
            for a in bill.adjustments
        )
        payment_rows += (
            {
                "group_id": group_id,
                "bill_id": bill_id,
                "idempotency_key": f"demo-{serial}-{bill.period:%Y%m}-{sequence}",
                "amount_cents": payment.amount_cents,
                "method": payment.method,
                "status": payment.status,
                "confirmation_number": f"PAY{serial}{bill.period:%y%m}{sequence}",
                "submitted_by_user_id": (
                    None if payment.method is PaymentMethod.AUTOPAY else payer_id
                ),
                "settled_at": payment.settled_at,
                "created_at": payment.submitted_at,
            }
            for sequence, payment in enumerate(bill.payments, start=1)
        )
    await _insert(connection, BillLine, line_rows, counts)
    await _insert(connection, BillAdjustment, adjustment_rows, counts)
    await _insert(connection, Payment, payment_rows, counts)


async def _write_access(
    connection: AsyncConnection,
    design: GroupDesign,
    group_id: int,
    division_ids: dict[str, int],
    user_ids: dict[str, int],
    references: _References,
    counts: dict[str, int],
) -> None:
    """The officer and primary administrator, delegated sub-users, brokers of record."""
    profile = design.profile
    officer_id = user_ids[profile.officer.email]
    administrator_id = user_ids[profile.administrator.email]
    since = utc_at(design.start - timedelta(days=30), 9)
    grants = [
        _grant(officer_id, group_id, since, role=names.ROLE_GROUP_OFFICER),
        _grant(
            administrator_id,
            group_id,
            since,
            role=names.ROLE_PRIMARY_ADMINISTRATOR,
            granted_by=officer_id,
        ),
    ]
    for sub_user in profile.sub_users:
        code = sub_user.division_code
        grants += (
            _grant(
                user_ids[sub_user.user.email],
                group_id,
                since + timedelta(days=7),
                privilege=privilege,
                division_id=division_ids[code] if code else None,
                granted_by=administrator_id,
            )
            for privilege in sub_user.privileges
        )
    await _insert(connection, AccessGrant, grants, counts)
    designation = {
        "group_id": group_id,
        "user_id": administrator_id,
        "designated_by_user_id": officer_id,
        "channel": DesignationChannel.OFFICER,
        "designated_at": since,
    }
    await _insert(connection, PrimaryAdministratorDesignation, [designation], counts)

    # A change of broker takes effect with the current contract.
    switched = design.contracts[-1].start
    appointments: list[tuple[str, date, date | None]] = []
    if profile.former_agency_license is not None:
        ended = switched - timedelta(days=1)
        appointments.append((profile.former_agency_license, design.start, ended))
    if profile.agency_license is not None:
        since_date = switched if profile.former_agency_license else design.start
        appointments.append((profile.agency_license, since_date, None))
    appointment_rows = [
        {
            "group_id": group_id,
            "agency_id": references.agency_ids[license_number],
            "start_date": start,
            "end_date": end,
            "assigned_by_user_id": references.account_representative_id,
        }
        for license_number, start, end in appointments
    ]
    await _insert(connection, BrokerOfRecord, appointment_rows, counts)


async def _write_renewal(
    connection: AsyncConnection,
    design: GroupDesign,
    group_id: int,
    plan_ids: dict[str, int],
    counts: dict[str, int],
) -> int:
    renewal_row = {
        "group_id": group_id,
        "effective_date": design.renewal_date,
        "plan_year": design.renewal_date.year,
    }
    statement = insert(Renewal).returning(Renewal.id)
    renewal_id = (await connection.execute(statement, renewal_row)).scalar_one()
    counts[Renewal.__tablename__] += 1
    offers = [(code, OfferKind.CURRENT) for code in design.contracts[-1].plan_codes]
    offers += [(code, OfferKind.ALTERNATIVE) for code in design.renewal_alternatives]
    option_rows = [
        {"renewal_id": renewal_id, "plan_id": plan_ids[code], "kind": kind} for code, kind in offers
    ]
    await _insert(connection, RenewalOption, option_rows, counts)
    return renewal_id


async def _write_change_request(
    connection: AsyncConnection,
    design: GroupDesign,
    renewal_id: int,
    subscriber_ids: list[int],
    submitter_id: int,
    references: _References,
    counts: dict[str, int],
) -> None:
    """The group's renewal change request, its payload shaped as the submission stores it
    (`Parts.to_json` in resolvers/renewal_changes/parts.py), and the statuses it entered."""
    change = design.change_request
    assert change is not None
    plan_ids = references.plan_ids
    payload = {
        "effectiveDate": design.renewal_date.isoformat(),
        "planChanges": [
            {
                "fromPlanId": plan_ids[change.from_plan_code],
                "toPlanId": plan_ids[change.to_plan_code],
            }
        ],
        "enrollments": [],
        "terminations": [
            {"memberId": subscriber_ids[change.terminated_family], "reason": "EMPLOYMENT_ENDED"}
        ],
        "excluded": [],
    }
    request_row = {
        "renewal_id": renewal_id,
        "status": RenewalChangeStatus(change.status),
        "payload": payload,
        "submitted_by_user_id": submitter_id,
        "created_at": change.submitted_at,
    }
    statement = insert(RenewalChangeRequest).returning(RenewalChangeRequest.id)
    request_id = (await connection.execute(statement, request_row)).scalar_one()
    counts[RenewalChangeRequest.__tablename__] += 1
    events = [(RenewalChangeStatus.SUBMITTED, submitter_id, change.submitted_at)]
    if change.reviewed_at is not None:
        reviewer = references.account_representative_id
        events.append((RenewalChangeStatus.IN_REVIEW, reviewer, change.reviewed_at))
    event_rows = [
        {
            "change_request_id": request_id,
            "status": status,
            "reasons": None,
            "actor_user_id": actor_id,
            "occurred_at": occurred_at,
        }
        for status, actor_id, occurred_at in events
    ]
    await _insert(connection, RenewalChangeEvent, event_rows, counts)


async def _write_quotes(
    connection: AsyncConnection, references: _References, today: date, counts: dict[str, int]
) -> None:
    """Brokers' and a prospect's quotes, and applications at each step of their review.

    Idempotent by quote number: a quote that exists is skipped with its application.
    """
    numbers = [quote.number for quote in names.QUOTES]
    have = await _ids(connection, Quote, "quote_number", Quote.quote_number.in_(numbers))
    specs = [quote for quote in names.QUOTES if quote.number not in have]
    if not specs:
        return
    plan_ids = references.plan_ids
    quote_rows: list[dict[str, Any]] = []
    for spec in specs:
        made_at = utc_at(today - timedelta(days=spec.days_ago), 15, 20)
        effective = _next_month(made_at.date())
        broker = spec.broker_email
        key_hash = None
        if broker is None:
            key_hash = hashlib.sha256(names.DEMO_PROSPECT_ACCESS_KEY.encode()).hexdigest()
        quote_rows.append(
            {
                "quote_number": spec.number,
                "agency_id": None if broker is None else _agency_of(broker, references),
                "created_by_user_id": None if broker is None else references.staff_ids[broker],
                "prospect_name": spec.prospect,
                "region": spec.region,
                "postal_code": spec.postal_code,
                "employee_count": sum(spec.census),
                "census": _census(spec),
                "plan_year": effective.year,
                "effective_date": effective,
                "expires_at": made_at + timedelta(days=QUOTE_DAYS),
                "access_key_hash": key_hash,
                "created_at": made_at,
            }
        )
    await _insert(connection, Quote, quote_rows, counts)
    quote_ids = await _ids(connection, Quote, "quote_number", Quote.quote_number.in_(numbers))
    plans_by_code = {plan.code: plan for plan in names.PLANS}
    quote_plan_rows = []
    for spec, row in zip(specs, quote_rows, strict=True):
        census = _census(spec)
        for code in spec.plan_codes:
            rates = {
                tier.value: monthly_rate(plans_by_code[code], row["plan_year"], tier)
                for tier in CoverageTier
            }
            quote_plan_rows.append(
                {
                    "quote_id": quote_ids[spec.number],
                    "plan_id": plan_ids[code],
                    "projected_monthly_premium_cents": sum(
                        count * rates[tier] for tier, count in census.items()
                    ),
                    "rates_cents": rates,
                }
            )
    await _insert(connection, QuotePlan, quote_plan_rows, counts)
    made = {spec.number: (spec, row) for spec, row in zip(specs, quote_rows, strict=True)}
    await _write_applications(connection, made, quote_ids, references, counts)


def _census(spec: names.QuoteSpec) -> dict[str, int]:
    return {
        tier.value: count for tier, count in zip(CoverageTier, spec.census, strict=True) if count
    }


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _agency_of(broker_email: str, references: _References) -> int:
    [license_number] = [
        agency.license_number
        for agency in names.AGENCIES
        if broker_email in {broker.email for broker in agency.brokers}
    ]
    return references.agency_ids[license_number]


async def _write_applications(
    connection: AsyncConnection,
    made: dict[str, tuple[names.QuoteSpec, dict[str, Any]]],
    quote_ids: dict[Any, int],
    references: _References,
    counts: dict[str, int],
) -> None:
    """Applications for quotes just made, with their signed PDFs and their history."""
    reviewer = references.account_representative_id
    application_rows = []
    histories = []
    for application in names.APPLICATIONS:
        if application.quote_number not in made:
            continue
        spec, quote = made[application.quote_number]
        assert spec.broker_email is not None, "the demo's applications are brokers'"
        broker_id = references.staff_ids[spec.broker_email]
        submitted_at = quote["created_at"] + timedelta(days=2, hours=1)
        reviewed_at = submitted_at + timedelta(days=1, hours=2)
        status = ApplicationStatus(application.status)
        history: list[tuple[ApplicationStatus, str | None, int, datetime]] = [
            (ApplicationStatus.SUBMITTED, None, broker_id, submitted_at)
        ]
        if status is not ApplicationStatus.SUBMITTED:
            history.append((ApplicationStatus.IN_REVIEW, None, reviewer, reviewed_at))
        decided = status in {ApplicationStatus.APPROVED, ApplicationStatus.DECLINED}
        decided_at = reviewed_at + timedelta(days=1, hours=3)
        if decided:
            history.append((status, application.reason, reviewer, decided_at))
        histories.append((application.number, history))
        line1, city, state = application.address
        application_rows.append(
            {
                "application_number": application.number,
                "quote_id": quote_ids[spec.number],
                "company": {
                    "legalName": spec.prospect,
                    "address": {
                        "line1": line1,
                        "line2": None,
                        "city": city,
                        "state": state,
                        "postalCode": spec.postal_code,
                    },
                    "employeeCount": sum(spec.census),
                    "taxId": application.tax_id,
                },
                "officer_name": application.officer.name,
                "officer_email": application.officer.email,
                "officer_title": application.officer_title,
                "plan_ids": [references.plan_ids[code] for code in spec.plan_codes],
                "status": status,
                "decision_reason": application.reason if decided else None,
                "decided_by_user_id": reviewer if decided else None,
                "decided_at": decided_at if decided else None,
                "group_id": None,
                "submitted_by_user_id": broker_id,
                "created_at": submitted_at,
            }
        )
    # In the order they came in: the review queue is worked by id.
    application_rows.sort(key=lambda row: row["created_at"])
    await _insert(connection, GroupApplication, application_rows, counts)
    wanted = GroupApplication.application_number.in_(
        [row["application_number"] for row in application_rows]
    )
    application_ids = await _ids(connection, GroupApplication, "application_number", wanted)
    event_rows = [
        {
            "application_id": application_ids[number],
            "status": status,
            "reason": reason,
            "actor_user_id": actor_id,
            "occurred_at": occurred_at,
        }
        for number, history in histories
        for status, reason, actor_id, occurred_at in history
    ]
    await _insert(connection, GroupApplicationEvent, event_rows, counts)
    document_rows = []
    for row in application_rows:
        number, legal_name = row["application_number"], row["company"]["legalName"]
        uploads = [
            (DocumentKind.ENROLLMENT_APPLICATION, f"{legal_name} signed enrollment application"),
            (DocumentKind.BROKER_OF_RECORD_LETTER, f"{legal_name} broker of record letter"),
        ]
        for index, (kind, title) in enumerate(uploads, start=1):
            content = document_content(title)
            document_rows.append(
                {
                    "group_id": None,
                    "application_id": application_ids[number],
                    "contract_id": None,
                    "kind": kind,
                    "title": title,
                    # Where a submission stores its files (resolvers/applications/submission.py).
                    "storage_key": f"applications/{number}/{index}-{kind.value.lower()}.pdf",
                    "content_type": "application/pdf",
                    "size_bytes": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "uploaded_by_user_id": row["submitted_by_user_id"],
                    "created_at": row["created_at"],
                }
            )
    await _insert(connection, Document, document_rows, counts)
