"""Users, agencies, brokers of record, access grants, Casbin rules and sign-in state."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, BigId, CreatedAtMixin, IdMixin, JsonDocument, enum_type


class UserKind(enum.StrEnum):
    EMPLOYER = "EMPLOYER"  # group officers, administrators and their sub-users
    BROKER = "BROKER"
    CARRIER = "CARRIER"  # membership and account representatives


class UserStatus(enum.StrEnum):
    INVITED = "INVITED"
    ACTIVE = "ACTIVE"
    DEACTIVATED = "DEACTIVATED"


class Agency(IdMixin, CreatedAtMixin, Base):
    """A brokerage; its brokers read every group it is broker of record for."""

    __tablename__ = "agencies"

    name: Mapped[str] = mapped_column(String(200))
    license_number: Mapped[str] = mapped_column(String(32), unique=True)


class User(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("(kind = 'BROKER') = (agency_id IS NOT NULL)", name="broker_agency"),
    )

    # Stored lower-cased: e-mail addresses identify people case-insensitively.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[UserKind] = mapped_column(enum_type(UserKind))
    status: Mapped[UserStatus] = mapped_column(enum_type(UserStatus))
    agency_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agencies.id"), index=True)
    # argon2id; NULL until an invited user sets a password.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Subject of the external identity provider's tokens, in external-IdP mode.
    external_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    last_sign_in_at: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]


class UserInvitation(IdMixin, CreatedAtMixin, Base):
    """One-time invitation with which a created user sets its password."""

    __tablename__ = "user_invitations"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class BrokerOfRecord(IdMixin, CreatedAtMixin, Base):
    """An agency's appointment as broker of record for a group."""

    __tablename__ = "brokers_of_record"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        # One current appointment per group and agency.
        Index(
            "uq_brokers_of_record_group_id_agency_id_current",
            "group_id",
            "agency_id",
            unique=True,
            postgresql_where=text("end_date IS NULL"),
            sqlite_where=text("end_date IS NULL"),
        ),
    )

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("groups.id"), index=True)
    agency_id: Mapped[int] = mapped_column(BigId, ForeignKey("agencies.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # A group administrator may switch the broker's access off without ending the appointment.
    access_enabled: Mapped[bool] = mapped_column(default=True)
    assigned_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class AccessGrant(IdMixin, Base):
    """A role or a single privilege held by a user in a scope, with who granted it and until when.

    The scope is a group, a division of it, or (both NULL) the carrier-wide domain of staff roles.
    """

    __tablename__ = "access_grants"
    __table_args__ = (
        CheckConstraint("(role IS NULL) <> (privilege IS NULL)", name="role_or_privilege"),
        CheckConstraint("division_id IS NULL OR group_id IS NOT NULL", name="division_in_group"),
        Index("ix_access_grants_user_id_ended_at", "user_id", "ended_at"),
        Index("ix_access_grants_group_id_ended_at", "group_id", "ended_at"),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    group_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("groups.id"))
    division_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("divisions.id"))
    role: Mapped[str | None] = mapped_column(String(40))
    privilege: Mapped[str | None] = mapped_column(String(40))
    granted_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    # When its Casbin rule was removed (revoked, or swept after expiry); NULL while in force.
    ended_at: Mapped[datetime | None]


class CasbinRule(Base):
    """The Casbin adapter's table (casbin-async-sqlalchemy-adapter), owned by our migrations."""

    __tablename__ = "casbin_rule"
    __table_args__ = (Index("ix_casbin_rule_ptype_v0_v1", "ptype", "v0", "v1"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ptype: Mapped[str | None] = mapped_column(String(255))
    v0: Mapped[str | None] = mapped_column(String(255))
    v1: Mapped[str | None] = mapped_column(String(255))
    v2: Mapped[str | None] = mapped_column(String(255))
    v3: Mapped[str | None] = mapped_column(String(255))
    v4: Mapped[str | None] = mapped_column(String(255))
    v5: Mapped[str | None] = mapped_column(String(255))

    def __str__(self) -> str:
        # The adapter loads each row by parsing this text as a policy line.
        values = (self.v0, self.v1, self.v2, self.v3, self.v4, self.v5)
        fields = [self.ptype or ""]
        for value in values:
            if value is None:
                break
            fields.append(value)
        return ", ".join(fields)


class PolicyVersion(Base):
    """Bumped on every policy change, so that other instances know to reload (issue: revocation)."""

    __tablename__ = "policy_version"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime]


class DesignationChannel(enum.StrEnum):
    OFFICER = "OFFICER"  # the group officer designated online
    OFFICER_FORM = "OFFICER_FORM"  # an account representative recorded the officer's form


class PrimaryAdministratorDesignation(IdMixin, Base):
    """History of a group's primary administrators; exactly one is current."""

    __tablename__ = "primary_administrator_designations"
    __table_args__ = (
        Index(
            "uq_primary_administrator_designations_group_id_current",
            "group_id",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
    )

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("groups.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    designated_by_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    channel: Mapped[DesignationChannel] = mapped_column(enum_type(DesignationChannel))
    form_reference: Mapped[str | None] = mapped_column(String(64))
    designated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class OAuthClient(IdMixin, CreatedAtMixin, Base):
    """A registered frontend (public, PKCE) or integration (confidential, client credentials)."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    client_secret_hash: Mapped[str | None] = mapped_column(String(200))
    redirect_uris: Mapped[list[str]] = mapped_column(JsonDocument)
    grant_types: Mapped[list[str]] = mapped_column(JsonDocument)
    scope: Mapped[str] = mapped_column(Text)
    # A client-credentials integration acts as this user (for example an agency's system).
    service_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]


class OAuthAuthorizationCode(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "oauth_authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    nonce: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class OAuthRefreshToken(IdMixin, CreatedAtMixin, Base):
    """Rotating refresh tokens: each use replaces the token; reuse revokes the whole family."""

    __tablename__ = "oauth_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SignInAttempt(IdMixin, Base):
    """Recent sign-in attempts, to throttle repeated failures per account and per address."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_email_attempted_at", "email", "attempted_at"),
        Index("ix_sign_in_attempts_address_attempted_at", "address", "attempted_at"),
    )

    email: Mapped[str] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
    attempted_at: Mapped[datetime]
