"""Reviewing applications (APPLICATIONS_REVIEW): SUBMITTED → IN_REVIEW → APPROVED | DECLINED.

A review moves the application from the status the reviewer read; a concurrent review that got
there first leaves nothing to move, and the later one is refused with CONFLICT.

Approval creates, in the same transaction: the group (PENDING until its coverage starts), its
contract for the plan year with the applied plans, the group officer (a user invited by e-mail,
holding `group_officer` on the group) and the quote's agency as broker of record; the rules for
both are written with the records, so that after the commit the officer can designate the
primary administrator and the agency's brokers read the group.

Coverage starts on the first day of the month after the approval day (never in the past, even
when the quote's effective date has passed); the contract runs one year from then and the group
renews on that day a year later. The broker of record is appointed from the approval day: it
follows the group through its onboarding, before coverage starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from authz.enforcement import broker_rule, grant_rule
from authz.privileges import Role
from data import access, applications, audit, users
from data.applications import ApplicationRecord
from data.models.contracts import Contract, ContractPlan
from data.models.groups import Group, GroupStatus
from data.models.quotes import ApplicationStatus
from data.models.users import BrokerOfRecord, UserKind, UserStatus
from data.normalize import name_key
from data.quotes import QuoteRecord
from resolvers import quotes
from resolvers.applications import loaders, require_reviewer
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError, Refused
from resolvers.quotes import first_of_next_month
from resolvers.users import invite

MAX_REASON = 2000
# Where each status may go next.
NEXT = {
    ApplicationStatus.SUBMITTED: frozenset({ApplicationStatus.IN_REVIEW}),
    ApplicationStatus.IN_REVIEW: frozenset(
        {ApplicationStatus.APPROVED, ApplicationStatus.DECLINED}
    ),
    ApplicationStatus.APPROVED: frozenset(),
    ApplicationStatus.DECLINED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Reviewed:
    application: ApplicationRecord
    # On approval, when the officer is new to the gateway: its one-time invitation link.
    officer_invitation_url: str | None = None


def group_number(application_id: int) -> str:
    """New groups' numbers: seven digits, apart from the six-digit numbers of older groups."""
    return f"G{2_000_000 + application_id}"


def one_year_later(day: date) -> date:
    return day.replace(year=day.year + 1)


def _checked(found: ApplicationRecord, status: ApplicationStatus, reason: str | None) -> str | None:
    errors = []
    if status not in NEXT[found.status]:
        allowed = " or ".join(sorted(NEXT[found.status])) or "nothing: it is decided"
        errors.append(
            FieldError(
                "input.status",
                f"a {found.status} application can go to {allowed}",
                ErrorCode.INVALID,
            )
        )
    text = " ".join((reason or "").split()) or None
    if status is ApplicationStatus.DECLINED and text is None:
        errors.append(FieldError("input.reason", "say why it is declined", ErrorCode.REQUIRED))
    if text is not None and len(text) > MAX_REASON:
        errors.append(
            FieldError("input.reason", f"at most {MAX_REASON} characters", ErrorCode.INVALID)
        )
    if errors:
        raise Refused(*errors)
    return text


async def review(
    context: Context, *, application_id: int | None, status: ApplicationStatus, reason: str | None
) -> Reviewed:
    require_reviewer(context)
    found = (
        None
        if application_id is None
        else await loaders(context).application_by_id.load(application_id)
    )
    if found is None:
        raise Refused.on("input.applicationId", "no such application", ErrorCode.NOT_FOUND)
    text = _checked(found, status, reason)
    decided = status in (ApplicationStatus.APPROVED, ApplicationStatus.DECLINED)
    invitation = None
    async with context.transaction() as session:
        # First statement of the transaction: it takes the row (and, on SQLite, the write lock)
        # before anything is read, so the loser of a race waits and then finds nothing to move.
        moved = await applications.move_status(
            session,
            found.id,
            expected=found.status,
            status=status,
            values=(
                {
                    "decision_reason": text,
                    "decided_by_user_id": context.actor.user_id,
                    "decided_at": context.now,
                }
                if decided
                else {}
            ),
        )
        if not moved:
            raise Refused.on(
                "input.applicationId",
                "another review changed this application first: read it again",
                ErrorCode.CONFLICT,
            )
        applications.add_event(
            session,
            found.id,
            status,
            reason=text,
            actor_user_id=context.actor.user_id,
            now=context.now,
        )
        group_id = None
        if status is ApplicationStatus.APPROVED:
            quote = await quotes.loaders(context).quote_by_id.load(found.quote_id)
            assert quote is not None, "an application's quote is never deleted"
            group_id, invitation = await _onboard(context, session, found, quote)
        audit.record(
            session,
            context.actor,
            action=f"group_application.{status.lower()}",
            target_type="group_application",
            target_id=found.id,
            group_id=group_id,
            now=context.now,
            before={"status": found.status.value},
            after={"status": status.value, "reason": text, "groupId": group_id},
        )
    if group_id is not None:
        await context.policy.reload()
    async with context.database.reader.connect() as connection:
        [updated] = await applications.applications_by_id(connection, [found.id])
    assert updated is not None
    return Reviewed(updated, invitation)


async def _onboard(
    context: Context, session: AsyncSession, found: ApplicationRecord, quote: QuoteRecord
) -> tuple[int, str | None]:
    """The group and everything it starts with; returns its id and the officer's invitation."""
    reviewer = context.actor.user_id
    effective = first_of_next_month(context.today)
    renewal = one_year_later(effective)
    company = found.company
    number = group_number(found.id)
    group = Group(
        group_number=number,
        legal_name=company["legalName"],
        name_key=name_key(company["legalName"]),
        region=quote.region,
        status=GroupStatus.PENDING,
        employee_count=company["employeeCount"],
        renewal_date=renewal,
        created_at=context.now,
    )
    session.add(group)
    await session.flush()
    contract = Contract(
        group_id=group.id,
        contract_number=f"C{number[1:]}-{effective.year}",
        plan_year=effective.year,
        start_date=effective,
        end_date=renewal - timedelta(days=1),
        created_at=context.now,
    )
    session.add(contract)
    await session.flush()
    session.add_all(ContractPlan(contract_id=contract.id, plan_id=p) for p in found.plan_ids)
    await applications.attach_group(session, found.id, group.id)

    async with context.database.reader.connect() as connection:
        officer = await users.user_by_email(connection, found.officer_email)
    if officer is not None and officer.kind != UserKind.EMPLOYER:
        raise Refused.on(
            "input.status",
            "the officer's e-mail belongs to a broker or carrier account: it cannot be a group "
            "officer; decline the application and ask for another officer",
            ErrorCode.CONFLICT,
        )
    invitation = None
    if officer is None:
        officer = await users.insert_user(
            session,
            email=found.officer_email,
            name=found.officer_name,
            kind=UserKind.EMPLOYER,
            status=UserStatus.INVITED,
            created_by_user_id=reviewer,
        )
        invitation = await invite(context, session, officer, group.id)
    grant = await access.insert_grant(
        session,
        user_id=officer.id,
        group_id=group.id,
        division_id=None,
        role=Role.GROUP_OFFICER.value,
        privilege=None,
        granted_by_user_id=reviewer,
        now=context.now,
        expires_at=None,
    )
    access.add_rule(session, *grant_rule(grant))
    if quote.agency_id is not None:
        session.add(
            BrokerOfRecord(
                group_id=group.id,
                agency_id=quote.agency_id,
                start_date=context.today,
                access_enabled=True,
                assigned_by_user_id=reviewer,
            )
        )
        access.add_rule(session, *broker_rule(quote.agency_id, group.id))
    audit.record(
        session,
        context.actor,
        action="group.created",
        target_type="group",
        target_id=group.id,
        group_id=group.id,
        now=context.now,
        after={
            "groupNumber": number,
            "applicationId": found.id,
            "contractNumber": contract.contract_number,
            "planIds": found.plan_ids,
            "effectiveDate": effective.isoformat(),
            "officerUserId": officer.id,
            "brokerAgencyId": quote.agency_id,
        },
    )
    await access.bump_policy_version(session, context.now)
    return group.id, invitation
