"""Privilege catalogue and built-in roles, mirrored from `policies/`; a test keeps them equal."""

from __future__ import annotations

import enum


class Privilege(enum.StrEnum):
    MEMBERS_READ = "MEMBERS_READ"
    MEMBERS_READ_PII = "MEMBERS_READ_PII"
    MEMBERS_WRITE = "MEMBERS_WRITE"
    ENROLLMENT_BATCH = "ENROLLMENT_BATCH"
    ID_CARDS_REQUEST = "ID_CARDS_REQUEST"
    BILLING_READ = "BILLING_READ"
    BILLING_PAY = "BILLING_PAY"
    CONTRACTS_READ = "CONTRACTS_READ"
    DOCUMENTS_READ = "DOCUMENTS_READ"
    RENEWAL_READ = "RENEWAL_READ"
    RENEWAL_SUBMIT = "RENEWAL_SUBMIT"
    USERS_MANAGE = "USERS_MANAGE"
    AUDIT_READ = "AUDIT_READ"
    COMMISSIONS_READ = "COMMISSIONS_READ"
    QUOTES_MANAGE = "QUOTES_MANAGE"
    REVIEW_QUEUE_WORK = "REVIEW_QUEUE_WORK"
    # Beyond the first catalogue: what the officer, brokers and carrier staff need.
    ADMINISTRATOR_DESIGNATE = "ADMINISTRATOR_DESIGNATE"
    BROKERS_ASSIGN = "BROKERS_ASSIGN"
    RENEWAL_REVIEW = "RENEWAL_REVIEW"
    APPLICATIONS_REVIEW = "APPLICATIONS_REVIEW"


class Role(enum.StrEnum):
    PRIMARY_ADMINISTRATOR = "primary_administrator"
    GROUP_OFFICER = "group_officer"
    BROKER = "broker"
    AGENCY_BROKER = "agency_broker"
    MEMBERSHIP_REPRESENTATIVE = "membership_representative"
    ACCOUNT_REPRESENTATIVE = "account_representative"
    BILLING_ONLY = "billing_only"
    VIEW_ONLY = "view_only"
    MEMBERSHIP_ADMINISTRATOR = "membership_administrator"

    @property
    def subject(self) -> str:
        return f"role:{self.value}"


def privilege_subject(privilege: Privilege) -> str:
    """The role that grants exactly one privilege, for privileges granted one by one."""
    return f"privilege:{privilege.value}"


def user_subject(user_id: int) -> str:
    return f"user:{user_id}"


def group_scope(group_id: int, division_id: int | None = None) -> str:
    """A request's scope: a whole group, or one division of it."""
    return (
        f"group:{group_id}/" if division_id is None else f"group:{group_id}/division:{division_id}"
    )


def group_grant_scope(group_id: int, division_id: int | None = None) -> str:
    """A grant's scope pattern: a grant on a group covers every division of it."""
    return f"group:{group_id}/*" if division_id is None else group_scope(group_id, division_id)


def agency_scope(agency_id: int) -> str:
    return f"agency:{agency_id}/"


CARRIER_SCOPE = "carrier/"
# Carrier staff hold their roles over every scope.
EVERY_SCOPE = "*"
