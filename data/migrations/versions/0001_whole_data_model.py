"""The whole data model of the product, and the triggers that keep the audit log append-only.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 20:05:18.593601
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import data.models.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("license_number", sa.String(length=32), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
        sa.UniqueConstraint("license_number", name=op.f("uq_agencies_license_number")),
    )
    op.create_table(
        "casbin_rule",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ptype", sa.String(length=255), nullable=True),
        sa.Column("v0", sa.String(length=255), nullable=True),
        sa.Column("v1", sa.String(length=255), nullable=True),
        sa.Column("v2", sa.String(length=255), nullable=True),
        sa.Column("v3", sa.String(length=255), nullable=True),
        sa.Column("v4", sa.String(length=255), nullable=True),
        sa.Column("v5", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casbin_rule")),
    )
    with op.batch_alter_table("casbin_rule", schema=None) as batch_op:
        batch_op.create_index("ix_casbin_rule_ptype_v0_v1", ["ptype", "v0", "v1"], unique=False)

    op.create_table(
        "groups",
        sa.Column("group_number", sa.String(length=16), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "PENDING",
                "TERMINATED",
                name="group_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("employee_count", sa.Integer(), nullable=False),
        sa.Column("renewal_date", sa.Date(), nullable=False),
        sa.Column("cobra_administered_by_carrier", sa.Boolean(), nullable=False),
        sa.Column(
            "billing_delivery",
            sa.Enum(
                "PAPER",
                "PAPERLESS",
                name="billing_delivery",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("billing_email", sa.String(length=320), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "billing_delivery = 'PAPER' OR billing_email IS NOT NULL",
            name=op.f("ck_groups_paperless_needs_email"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("group_number", name=op.f("uq_groups_group_number")),
    )
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_groups_name_key"), ["name_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_groups_renewal_date"), ["renewal_date"], unique=False)

    op.create_table(
        "plans",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "HMO",
                "DHMO",
                "HSA_HMO",
                "PPO",
                name="plan_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "metal_level",
            sa.Enum(
                "BRONZE",
                "SILVER",
                "GOLD",
                "PLATINUM",
                name="metal_level",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("is_offered", sa.Boolean(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("code", name=op.f("uq_plans_code")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_region"), ["region"], unique=False)

    policy_version = op.create_table(
        "policy_version",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_version")),
    )
    # The one row every instance polls to learn that grants changed.
    op.bulk_insert(
        policy_version, [{"id": 1, "version": 0, "changed_at": datetime.now(UTC)}]
    )
    op.create_table(
        "sign_in_attempts",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("attempted_at", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    with op.batch_alter_table("sign_in_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sign_in_attempts_address_attempted_at", ["address", "attempted_at"], unique=False
        )
        batch_op.create_index(
            "ix_sign_in_attempts_email_attempted_at", ["email", "attempted_at"], unique=False
        )

    op.create_table(
        "bills",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bill_number", sa.String(length=24), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("due_date >= issue_date", name=op.f("ck_bills_dates_ordered")),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name=op.f("fk_bills_group_id_groups")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bills")),
        sa.UniqueConstraint("bill_number", name=op.f("uq_bills_bill_number")),
        sa.UniqueConstraint("group_id", "period", name=op.f("uq_bills_group_id_period")),
    )
    op.create_table(
        "commission_schedules",
        sa.Column(
            "agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("plan_year", sa.SmallInteger(), nullable=False),
        sa.Column(
            "basis",
            sa.Enum(
                "PERCENT_OF_PREMIUM",
                "PER_SUBSCRIBER_PER_MONTH",
                name="commission_basis",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("rate_basis_points", sa.Integer(), nullable=True),
        sa.Column("amount_cents", sa.Integer(), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(basis = 'PERCENT_OF_PREMIUM' AND rate_basis_points IS NOT NULL AND amount_cents IS NULL AND rate_basis_points BETWEEN 0 AND 10000) OR (basis = 'PER_SUBSCRIBER_PER_MONTH' AND amount_cents IS NOT NULL AND rate_basis_points IS NULL AND amount_cents >= 0)",
            name=op.f("ck_commission_schedules_basis_figure"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_commission_schedules_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_schedules")),
        sa.UniqueConstraint(
            "agency_id", "plan_year", name=op.f("uq_commission_schedules_agency_id_plan_year")
        ),
    )
    op.create_table(
        "commission_statements",
        sa.Column(
            "agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_commission_statements_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_statements")),
        sa.UniqueConstraint(
            "agency_id", "period", name=op.f("uq_commission_statements_agency_id_period")
        ),
    )
    op.create_table(
        "contracts",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contract_number", sa.String(length=24), nullable=False),
        sa.Column("plan_year", sa.SmallInteger(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("end_date > start_date", name=op.f("ck_contracts_dates_ordered")),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_contracts_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("contract_number", name=op.f("uq_contracts_contract_number")),
        sa.UniqueConstraint("group_id", "plan_year", name=op.f("uq_contracts_group_id_plan_year")),
    )
    op.create_table(
        "divisions",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_divisions_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_divisions")),
        sa.UniqueConstraint("group_id", "code", name=op.f("uq_divisions_group_id_code")),
    )
    op.create_table(
        "plan_benefits",
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_year", sa.SmallInteger(), nullable=False),
        sa.Column("deductible_individual_cents", sa.Integer(), nullable=False),
        sa.Column("deductible_family_cents", sa.Integer(), nullable=False),
        sa.Column("oop_max_individual_cents", sa.Integer(), nullable=False),
        sa.Column("oop_max_family_cents", sa.Integer(), nullable=False),
        sa.Column("primary_care_copay_cents", sa.Integer(), nullable=False),
        sa.Column("specialist_copay_cents", sa.Integer(), nullable=False),
        sa.Column("urgent_care_copay_cents", sa.Integer(), nullable=False),
        sa.Column("emergency_copay_cents", sa.Integer(), nullable=False),
        sa.Column("generic_drug_copay_cents", sa.Integer(), nullable=False),
        sa.Column("coinsurance_percent", sa.SmallInteger(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.CheckConstraint(
            "coinsurance_percent BETWEEN 0 AND 100",
            name=op.f("ck_plan_benefits_coinsurance_percent"),
        ),
        sa.CheckConstraint(
            "deductible_individual_cents >= 0 AND deductible_family_cents >= 0 AND oop_max_individual_cents >= 0 AND oop_max_family_cents >= 0 AND primary_care_copay_cents >= 0 AND specialist_copay_cents >= 0 AND urgent_care_copay_cents >= 0 AND emergency_copay_cents >= 0 AND generic_drug_copay_cents >= 0",
            name=op.f("ck_plan_benefits_amounts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_benefits_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_benefits")),
        sa.UniqueConstraint(
            "plan_id", "plan_year", name=op.f("uq_plan_benefits_plan_id_plan_year")
        ),
    )
    op.create_table(
        "plan_rates",
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_year", sa.SmallInteger(), nullable=False),
        sa.Column(
            "tier",
            sa.Enum(
                "EMPLOYEE",
                "EMPLOYEE_SPOUSE",
                "EMPLOYEE_CHILDREN",
                "FAMILY",
                name="coverage_tier",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("monthly_rate_cents", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.CheckConstraint("monthly_rate_cents > 0", name=op.f("ck_plan_rates_rate_positive")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_rates_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_rates")),
        sa.UniqueConstraint(
            "plan_id", "plan_year", "tier", name=op.f("uq_plan_rates_plan_id_plan_year_tier")
        ),
    )
    op.create_table(
        "renewals",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("plan_year", sa.SmallInteger(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_renewals_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewals")),
        sa.UniqueConstraint(
            "group_id", "effective_date", name=op.f("uq_renewals_group_id_effective_date")
        ),
    )
    op.create_table(
        "users",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "EMPLOYER",
                "BROKER",
                "CARRIER",
                name="user_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "INVITED",
                "ACTIVE",
                "DEACTIVATED",
                name="user_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("external_subject", sa.String(length=255), nullable=True),
        sa.Column(
            "created_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("last_sign_in_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("deactivated_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind = 'BROKER') = (agency_id IS NOT NULL)", name=op.f("ck_users_broker_agency")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_users_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["users.id"], name=op.f("fk_users_created_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("external_subject", name=op.f("uq_users_external_subject")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_agency_id"), ["agency_id"], unique=False)

    op.create_table(
        "access_grants",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "division_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("role", sa.String(length=40), nullable=True),
        sa.Column("privilege", sa.String(length=40), nullable=True),
        sa.Column(
            "granted_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("granted_at", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "revoked_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("ended_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.CheckConstraint(
            "(role IS NULL) <> (privilege IS NULL)", name=op.f("ck_access_grants_role_or_privilege")
        ),
        sa.CheckConstraint(
            "division_id IS NULL OR group_id IS NOT NULL",
            name=op.f("ck_access_grants_division_in_group"),
        ),
        sa.ForeignKeyConstraint(
            ["division_id"], ["divisions.id"], name=op.f("fk_access_grants_division_id_divisions")
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_user_id"],
            ["users.id"],
            name=op.f("fk_access_grants_granted_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_access_grants_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_user_id"],
            ["users.id"],
            name=op.f("fk_access_grants_revoked_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_access_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grants")),
    )
    with op.batch_alter_table("access_grants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_access_grants_group_id_ended_at", ["group_id", "ended_at"], unique=False
        )
        batch_op.create_index(
            "ix_access_grants_user_id_ended_at", ["user_id", "ended_at"], unique=False
        )

    op.create_table(
        "audit_events",
        sa.Column("occurred_at", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "actor_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column(
            "before",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "after",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_audit_events_actor_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_audit_events_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_events_actor_user_id_occurred_at",
            ["actor_user_id", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_audit_events_group_id_occurred_at", ["group_id", "occurred_at"], unique=False
        )

    op.create_table(
        "autopay_mandates",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "CANCELLED",
                name="autopay_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("account_holder", sa.String(length=200), nullable=False),
        sa.Column("routing_number", sa.String(length=9), nullable=False),
        sa.Column("account_last4", sa.String(length=4), nullable=False),
        sa.Column("account_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("cancelled_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "cancelled_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["cancelled_by_user_id"],
            ["users.id"],
            name=op.f("fk_autopay_mandates_cancelled_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_autopay_mandates_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_autopay_mandates_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopay_mandates")),
    )
    with op.batch_alter_table("autopay_mandates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_autopay_mandates_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            "uq_autopay_mandates_group_id_active",
            ["group_id"],
            unique=True,
            postgresql_where=sa.text("status = 'ACTIVE'"),
            sqlite_where=sa.text("status = 'ACTIVE'"),
        )

    op.create_table(
        "brokers_of_record",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("access_enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "assigned_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date",
            name=op.f("ck_brokers_of_record_dates_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_brokers_of_record_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by_user_id"],
            ["users.id"],
            name=op.f("fk_brokers_of_record_assigned_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_brokers_of_record_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brokers_of_record")),
    )
    with op.batch_alter_table("brokers_of_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_brokers_of_record_agency_id"), ["agency_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_brokers_of_record_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            "uq_brokers_of_record_group_id_agency_id_current",
            ["group_id", "agency_id"],
            unique=True,
            postgresql_where=sa.text("end_date IS NULL"),
            sqlite_where=sa.text("end_date IS NULL"),
        )

    op.create_table(
        "contract_plans",
        sa.Column(
            "contract_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_contract_plans_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_contract_plans_plan_id_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_plans")),
        sa.UniqueConstraint(
            "contract_id", "plan_id", name=op.f("uq_contract_plans_contract_id_plan_id")
        ),
    )
    with op.batch_alter_table("contract_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contract_plans_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "members",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "division_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "subscriber_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "relationship",
            sa.Enum(
                "SUBSCRIBER",
                "SPOUSE",
                "DOMESTIC_PARTNER",
                "CHILD",
                "OTHER_DEPENDENT",
                name="relationship",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("member_number", sa.String(length=16), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("middle_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("first_name_key", sa.String(length=100), nullable=False),
        sa.Column("last_name_key", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column(
            "sex",
            sa.Enum("F", "M", "U", name="sex", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("ssn_hash", sa.String(length=64), nullable=True),
        sa.Column("ssn_last4", sa.String(length=4), nullable=True),
        sa.Column("address_line1", sa.String(length=200), nullable=True),
        sa.Column("address_line2", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=2), nullable=True),
        sa.Column("postal_code", sa.String(length=10), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("is_disabled", sa.Boolean(), nullable=False),
        sa.Column("hire_date", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "TERMINATED",
                name="member_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("updated_at", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(relationship = 'SUBSCRIBER') = (subscriber_id IS NULL)",
            name=op.f("ck_members_subscriber_link"),
        ),
        sa.CheckConstraint(
            "ssn_last4 IS NULL OR (length(ssn_last4) = 4 AND ssn_hash IS NOT NULL)",
            name=op.f("ck_members_ssn_last4"),
        ),
        sa.ForeignKeyConstraint(
            ["division_id"], ["divisions.id"], name=op.f("fk_members_division_id_divisions")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_members_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"], ["members.id"], name=op.f("fk_members_subscriber_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("member_number", name=op.f("uq_members_member_number")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_members_birth_date_last_name_key", ["birth_date", "last_name_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_members_division_id"), ["division_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_group_id"), ["group_id"], unique=False)
        batch_op.create_index(
            "ix_members_group_id_first_name_key",
            ["group_id", "first_name_key"],
            unique=False,
            postgresql_ops={"first_name_key": "text_pattern_ops"},
        )
        batch_op.create_index(
            "ix_members_group_id_last_name_key",
            ["group_id", "last_name_key"],
            unique=False,
            postgresql_ops={"last_name_key": "text_pattern_ops"},
        )
        batch_op.create_index(batch_op.f("ix_members_ssn_hash"), ["ssn_hash"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_members_subscriber_id"), ["subscriber_id"], unique=False
        )

    op.create_table(
        "oauth_authorization_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("code_challenge_method", sa.String(length=8), nullable=False),
        sa.Column("nonce", sa.String(length=255), nullable=True),
        sa.Column("expires_at", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_oauth_authorization_codes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_authorization_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_oauth_authorization_codes_code_hash")),
    )
    op.create_table(
        "oauth_clients",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("client_secret_hash", sa.String(length=200), nullable=True),
        sa.Column(
            "redirect_uris",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "grant_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column(
            "service_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("revoked_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["service_user_id"], ["users.id"], name=op.f("fk_oauth_clients_service_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_clients_client_id")),
    )
    op.create_table(
        "oauth_refresh_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("expires_at", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_oauth_refresh_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_oauth_refresh_tokens_token_hash")),
    )
    with op.batch_alter_table("oauth_refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_refresh_tokens_family_id"), ["family_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_oauth_refresh_tokens_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "payments",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bill_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "ACH",
                "CARD",
                "CHECK",
                "AUTOPAY",
                name="payment_method",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "SETTLED",
                "FAILED",
                "REVERSED",
                name="payment_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("confirmation_number", sa.String(length=24), nullable=False),
        sa.Column(
            "submitted_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("settled_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(["bill_id"], ["bills.id"], name=op.f("fk_payments_bill_id_bills")),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_payments_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_user_id"],
            ["users.id"],
            name=op.f("fk_payments_submitted_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("confirmation_number", name=op.f("uq_payments_confirmation_number")),
        sa.UniqueConstraint(
            "group_id", "idempotency_key", name=op.f("uq_payments_group_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_bill_id"), ["bill_id"], unique=False)
        batch_op.create_index(
            "ix_payments_group_id_created_at", ["group_id", "created_at"], unique=False
        )

    op.create_table(
        "primary_administrator_designations",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "designated_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "OFFICER",
                "OFFICER_FORM",
                name="designation_channel",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("form_reference", sa.String(length=64), nullable=True),
        sa.Column("designated_at", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["designated_by_user_id"],
            ["users.id"],
            name=op.f("fk_primary_administrator_designations_designated_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_primary_administrator_designations_group_id_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_primary_administrator_designations_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_primary_administrator_designations")),
    )
    with op.batch_alter_table("primary_administrator_designations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_primary_administrator_designations_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_primary_administrator_designations_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            "uq_primary_administrator_designations_group_id_current",
            ["group_id"],
            unique=True,
            postgresql_where=sa.text("ended_at IS NULL"),
            sqlite_where=sa.text("ended_at IS NULL"),
        )

    op.create_table(
        "quotes",
        sa.Column("quote_number", sa.String(length=24), nullable=False),
        sa.Column("agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "created_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("prospect_name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("postal_code", sa.String(length=10), nullable=False),
        sa.Column("employee_count", sa.Integer(), nullable=False),
        sa.Column(
            "census",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("plan_year", sa.Integer(), nullable=False),
        sa.Column("expires_at", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("employee_count > 0", name=op.f("ck_quotes_employee_count_positive")),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_quotes_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["users.id"], name=op.f("fk_quotes_created_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
        sa.UniqueConstraint("quote_number", name=op.f("uq_quotes_quote_number")),
    )
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quotes_agency_id"), ["agency_id"], unique=False)

    op.create_table(
        "renewal_change_requests",
        sa.Column(
            "renewal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "status",
            sa.Enum(
                "SUBMITTED",
                "IN_REVIEW",
                "CONFIRMED",
                "CONFIRMED_WITH_CHANGES",
                "REJECTED",
                "DEFAULT_RENEWAL",
                name="renewal_change_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "submitted_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["renewal_id"],
            ["renewals.id"],
            name=op.f("fk_renewal_change_requests_renewal_id_renewals"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_user_id"],
            ["users.id"],
            name=op.f("fk_renewal_change_requests_submitted_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewal_change_requests")),
    )
    with op.batch_alter_table("renewal_change_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_renewal_change_requests_renewal_id"), ["renewal_id"], unique=False
        )

    op.create_table(
        "renewal_options",
        sa.Column(
            "renewal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "CURRENT",
                "ALTERNATIVE",
                name="offer_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_renewal_options_plan_id_plans")
        ),
        sa.ForeignKeyConstraint(
            ["renewal_id"],
            ["renewals.id"],
            name=op.f("fk_renewal_options_renewal_id_renewals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewal_options")),
        sa.UniqueConstraint(
            "renewal_id", "plan_id", name=op.f("uq_renewal_options_renewal_id_plan_id")
        ),
    )
    op.create_table(
        "user_invitations",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_invitations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_invitations_token_hash")),
    )
    with op.batch_alter_table("user_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_invitations_user_id"), ["user_id"], unique=False)

    op.create_table(
        "bill_adjustments",
        sa.Column("bill_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("amount_cents <> 0", name=op.f("ck_bill_adjustments_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["bill_id"],
            ["bills.id"],
            name=op.f("fk_bill_adjustments_bill_id_bills"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_bill_adjustments_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_adjustments")),
    )
    with op.batch_alter_table("bill_adjustments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bill_adjustments_bill_id"), ["bill_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_bill_adjustments_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "bill_lines",
        sa.Column("bill_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "subscriber_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tier",
            sa.Enum(
                "EMPLOYEE",
                "EMPLOYEE_SPOUSE",
                "EMPLOYEE_CHILDREN",
                "FAMILY",
                name="coverage_tier",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.CheckConstraint("amount_cents >= 0", name=op.f("ck_bill_lines_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["bill_id"], ["bills.id"], name=op.f("fk_bill_lines_bill_id_bills"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_bill_lines_plan_id_plans")
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"], ["members.id"], name=op.f("fk_bill_lines_subscriber_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_lines")),
        sa.UniqueConstraint(
            "bill_id", "subscriber_id", name=op.f("uq_bill_lines_bill_id_subscriber_id")
        ),
    )
    with op.batch_alter_table("bill_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bill_lines_subscriber_id"), ["subscriber_id"], unique=False
        )

    op.create_table(
        "commission_statement_lines",
        sa.Column(
            "statement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("premium_paid_cents", sa.Integer(), nullable=False),
        sa.Column("subscriber_count", sa.Integer(), nullable=False),
        sa.Column("commission_cents", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_commission_statement_lines_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_commission_statement_lines_payment_id_payments"),
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["commission_statements.id"],
            name=op.f("fk_commission_statement_lines_statement_id_commission_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_statement_lines")),
        sa.UniqueConstraint(
            "statement_id",
            "payment_id",
            name=op.f("uq_commission_statement_lines_statement_id_payment_id"),
        ),
    )
    with op.batch_alter_table("commission_statement_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commission_statement_lines_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commission_statement_lines_payment_id"), ["payment_id"], unique=False
        )

    op.create_table(
        "coverages",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tier",
            sa.Enum(
                "EMPLOYEE",
                "EMPLOYEE_SPOUSE",
                "EMPLOYEE_CHILDREN",
                "FAMILY",
                name="coverage_tier",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("termination_date", sa.Date(), nullable=True),
        sa.Column("is_cobra", sa.Boolean(), nullable=False),
        sa.Column("is_medicare", sa.Boolean(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "termination_date IS NULL OR termination_date >= effective_date",
            name=op.f("ck_coverages_dates_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_coverages_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_coverages_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverages")),
    )
    with op.batch_alter_table("coverages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coverages_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coverages_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "group_applications",
        sa.Column("quote_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "company",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("officer_name", sa.String(length=200), nullable=False),
        sa.Column("officer_email", sa.String(length=320), nullable=False),
        sa.Column(
            "plan_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "SUBMITTED",
                "IN_REVIEW",
                "APPROVED",
                "DECLINED",
                name="application_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column(
            "decided_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("decided_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "submitted_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["users.id"],
            name=op.f("fk_group_applications_decided_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_group_applications_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quotes.id"], name=op.f("fk_group_applications_quote_id_quotes")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_user_id"],
            ["users.id"],
            name=op.f("fk_group_applications_submitted_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_applications")),
        sa.UniqueConstraint("group_id", name=op.f("uq_group_applications_group_id")),
    )
    with op.batch_alter_table("group_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_group_applications_quote_id"), ["quote_id"], unique=False
        )

    op.create_table(
        "id_card_requests",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "REQUESTED",
                "PRINTED",
                "MAILED",
                name="id_card_request_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "mail_to",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "requested_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_id_card_requests_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_id_card_requests_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_user_id"],
            ["users.id"],
            name=op.f("fk_id_card_requests_requested_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_id_card_requests")),
    )
    with op.batch_alter_table("id_card_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_id_card_requests_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_id_card_requests_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "quote_plans",
        sa.Column("quote_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("projected_monthly_premium_cents", sa.Integer(), nullable=False),
        sa.Column(
            "rates_cents",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_quote_plans_plan_id_plans")
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quotes.id"],
            name=op.f("fk_quote_plans_quote_id_quotes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_plans")),
        sa.UniqueConstraint("quote_id", "plan_id", name=op.f("uq_quote_plans_quote_id_plan_id")),
    )
    op.create_table(
        "renewal_change_events",
        sa.Column(
            "change_request_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "SUBMITTED",
                "IN_REVIEW",
                "CONFIRMED",
                "CONFIRMED_WITH_CHANGES",
                "REJECTED",
                "DEFAULT_RENEWAL",
                name="renewal_change_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column(
            "actor_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("occurred_at", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_renewal_change_events_actor_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["change_request_id"],
            ["renewal_change_requests.id"],
            name=op.f("fk_renewal_change_events_change_request_id_renewal_change_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewal_change_events")),
    )
    with op.batch_alter_table("renewal_change_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_renewal_change_events_change_request_id"),
            ["change_request_id"],
            unique=False,
        )

    op.create_table(
        "documents",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "contract_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "kind",
            sa.Enum(
                "CONTRACT",
                "ARBITRATION_AGREEMENT",
                "AMENDMENT",
                "SUMMARY_OF_BENEFITS",
                "ENROLLMENT_APPLICATION",
                "BROKER_OF_RECORD_LETTER",
                "ENROLLMENT_FILE",
                "OTHER",
                name="document_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "uploaded_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(group_id IS NULL) <> (application_id IS NULL)",
            name=op.f("ck_documents_exactly_one_owner"),
        ),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_documents_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["group_applications.id"],
            name=op.f("fk_documents_application_id_group_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_documents_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_documents_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"],
            ["users.id"],
            name=op.f("fk_documents_uploaded_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_documents_storage_key")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_documents_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_documents_contract_id"), ["contract_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_group_id"), ["group_id"], unique=False)

    op.create_table(
        "enrollment_batches",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column(
            "format",
            sa.Enum(
                "CSV", "X12_834", name="batch_format", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "document_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "status",
            sa.Enum(
                "QUEUED",
                "RUNNING",
                "COMPLETED",
                "FAILED",
                name="batch_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "uploaded_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("leased_by", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("started_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_enrollment_batches_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_enrollment_batches_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"],
            ["users.id"],
            name=op.f("fk_enrollment_batches_uploaded_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_batches")),
        sa.UniqueConstraint(
            "group_id", "sha256", name=op.f("uq_enrollment_batches_group_id_sha256")
        ),
    )
    with op.batch_alter_table("enrollment_batches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enrollment_batches_status_created_at", ["status", "created_at"], unique=False
        )

    op.create_table(
        "enrollment_batch_rows",
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "ADD",
                "CHANGE",
                "TERMINATE",
                name="batch_row_action",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "outcome",
            sa.Enum(
                "PROCESSED",
                "PENDING_REVIEW",
                "REJECTED",
                name="batch_row_outcome",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("field", sa.String(length=100), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("processed_at", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["enrollment_batches.id"],
            name=op.f("fk_enrollment_batch_rows_batch_id_enrollment_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_enrollment_batch_rows_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_batch_rows")),
        sa.UniqueConstraint(
            "batch_id", "row_number", name=op.f("uq_enrollment_batch_rows_batch_id_row_number")
        ),
    )
    op.create_table(
        "enrollment_requests",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "SUBSCRIBER",
                "DEPENDENT",
                "COBRA",
                "CHANGE",
                "TERMINATION",
                name="enrollment_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "PROCESSED",
                "PENDING_REVIEW",
                "REJECTED",
                name="enrollment_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "submitted_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "batch_row_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["batch_row_id"],
            ["enrollment_batch_rows.id"],
            name=op.f("fk_enrollment_requests_batch_row_id_enrollment_batch_rows"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_enrollment_requests_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_enrollment_requests_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_user_id"],
            ["users.id"],
            name=op.f("fk_enrollment_requests_submitted_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_requests")),
        sa.UniqueConstraint("batch_row_id", name=op.f("uq_enrollment_requests_batch_row_id")),
    )
    with op.batch_alter_table("enrollment_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enrollment_requests_group_id_status", ["group_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_enrollment_requests_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "enrollment_request_events",
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "status",
            sa.Enum(
                "PROCESSED",
                "PENDING_REVIEW",
                "REJECTED",
                name="enrollment_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "actor_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("occurred_at", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_enrollment_request_events_actor_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["enrollment_requests.id"],
            name=op.f("fk_enrollment_request_events_request_id_enrollment_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_request_events")),
    )
    with op.batch_alter_table("enrollment_request_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrollment_request_events_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "review_items",
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "status",
            sa.Enum(
                "OPEN",
                "RESOLVED",
                name="review_item_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "candidate_member_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("match_reason", sa.Text(), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "LINK",
                "CREATE_NEW",
                "REJECT",
                name="review_decision",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "linked_member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "resolved_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("resolved_at", data.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at",
            data.models.base.UtcDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(status = 'RESOLVED') = (decision IS NOT NULL)",
            name=op.f("ck_review_items_resolved_has_decision"),
        ),
        sa.ForeignKeyConstraint(
            ["linked_member_id"],
            ["members.id"],
            name=op.f("fk_review_items_linked_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["enrollment_requests.id"],
            name=op.f("fk_review_items_request_id_enrollment_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_user_id"],
            ["users.id"],
            name=op.f("fk_review_items_resolved_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
        sa.UniqueConstraint("request_id", name=op.f("uq_review_items_request_id")),
    )
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_items_status_created_at", ["status", "created_at"], unique=False
        )
    _create_audit_guards()


def downgrade() -> None:
    _drop_audit_guards()
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.drop_index("ix_review_items_status_created_at")

    op.drop_table("review_items")
    with op.batch_alter_table("enrollment_request_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrollment_request_events_request_id"))

    op.drop_table("enrollment_request_events")
    with op.batch_alter_table("enrollment_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrollment_requests_member_id"))
        batch_op.drop_index("ix_enrollment_requests_group_id_status")

    op.drop_table("enrollment_requests")
    op.drop_table("enrollment_batch_rows")
    with op.batch_alter_table("enrollment_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_enrollment_batches_status_created_at")

    op.drop_table("enrollment_batches")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_group_id"))
        batch_op.drop_index(batch_op.f("ix_documents_contract_id"))
        batch_op.drop_index(batch_op.f("ix_documents_application_id"))

    op.drop_table("documents")
    with op.batch_alter_table("renewal_change_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_renewal_change_events_change_request_id"))

    op.drop_table("renewal_change_events")
    op.drop_table("quote_plans")
    with op.batch_alter_table("id_card_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_id_card_requests_member_id"))
        batch_op.drop_index(batch_op.f("ix_id_card_requests_group_id"))

    op.drop_table("id_card_requests")
    with op.batch_alter_table("group_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_applications_quote_id"))

    op.drop_table("group_applications")
    with op.batch_alter_table("coverages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coverages_plan_id"))
        batch_op.drop_index(batch_op.f("ix_coverages_member_id"))

    op.drop_table("coverages")
    with op.batch_alter_table("commission_statement_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commission_statement_lines_payment_id"))
        batch_op.drop_index(batch_op.f("ix_commission_statement_lines_group_id"))

    op.drop_table("commission_statement_lines")
    with op.batch_alter_table("bill_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bill_lines_subscriber_id"))

    op.drop_table("bill_lines")
    with op.batch_alter_table("bill_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bill_adjustments_member_id"))
        batch_op.drop_index(batch_op.f("ix_bill_adjustments_bill_id"))

    op.drop_table("bill_adjustments")
    with op.batch_alter_table("user_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_invitations_user_id"))

    op.drop_table("user_invitations")
    op.drop_table("renewal_options")
    with op.batch_alter_table("renewal_change_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_renewal_change_requests_renewal_id"))

    op.drop_table("renewal_change_requests")
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quotes_agency_id"))

    op.drop_table("quotes")
    with op.batch_alter_table("primary_administrator_designations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_primary_administrator_designations_group_id_current",
            postgresql_where=sa.text("ended_at IS NULL"),
            sqlite_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_primary_administrator_designations_user_id"))
        batch_op.drop_index(batch_op.f("ix_primary_administrator_designations_group_id"))

    op.drop_table("primary_administrator_designations")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_group_id_created_at")
        batch_op.drop_index(batch_op.f("ix_payments_bill_id"))

    op.drop_table("payments")
    with op.batch_alter_table("oauth_refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_refresh_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_refresh_tokens_family_id"))

    op.drop_table("oauth_refresh_tokens")
    op.drop_table("oauth_clients")
    op.drop_table("oauth_authorization_codes")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_subscriber_id"))
        batch_op.drop_index(batch_op.f("ix_members_ssn_hash"))
        batch_op.drop_index(
            "ix_members_group_id_last_name_key",
            postgresql_ops={"last_name_key": "text_pattern_ops"},
        )
        batch_op.drop_index(
            "ix_members_group_id_first_name_key",
            postgresql_ops={"first_name_key": "text_pattern_ops"},
        )
        batch_op.drop_index(batch_op.f("ix_members_group_id"))
        batch_op.drop_index(batch_op.f("ix_members_division_id"))
        batch_op.drop_index("ix_members_birth_date_last_name_key")

    op.drop_table("members")
    with op.batch_alter_table("contract_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_plans_plan_id"))

    op.drop_table("contract_plans")
    with op.batch_alter_table("brokers_of_record", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_brokers_of_record_group_id_agency_id_current",
            postgresql_where=sa.text("end_date IS NULL"),
            sqlite_where=sa.text("end_date IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_brokers_of_record_group_id"))
        batch_op.drop_index(batch_op.f("ix_brokers_of_record_agency_id"))

    op.drop_table("brokers_of_record")
    with op.batch_alter_table("autopay_mandates", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_autopay_mandates_group_id_active",
            postgresql_where=sa.text("status = 'ACTIVE'"),
            sqlite_where=sa.text("status = 'ACTIVE'"),
        )
        batch_op.drop_index(batch_op.f("ix_autopay_mandates_group_id"))

    op.drop_table("autopay_mandates")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_group_id_occurred_at")
        batch_op.drop_index("ix_audit_events_actor_user_id_occurred_at")

    op.drop_table("audit_events")
    with op.batch_alter_table("access_grants", schema=None) as batch_op:
        batch_op.drop_index("ix_access_grants_user_id_ended_at")
        batch_op.drop_index("ix_access_grants_group_id_ended_at")

    op.drop_table("access_grants")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_agency_id"))

    op.drop_table("users")
    op.drop_table("renewals")
    op.drop_table("plan_rates")
    op.drop_table("plan_benefits")
    op.drop_table("divisions")
    op.drop_table("contracts")
    op.drop_table("commission_statements")
    op.drop_table("commission_schedules")
    op.drop_table("bills")
    with op.batch_alter_table("sign_in_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_in_attempts_email_attempted_at")
        batch_op.drop_index("ix_sign_in_attempts_address_attempted_at")

    op.drop_table("sign_in_attempts")
    op.drop_table("policy_version")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_region"))

    op.drop_table("plans")
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_groups_renewal_date"))
        batch_op.drop_index(batch_op.f("ix_groups_name_key"))

    op.drop_table("groups")
    with op.batch_alter_table("casbin_rule", schema=None) as batch_op:
        batch_op.drop_index("ix_casbin_rule_ptype_v0_v1")

    op.drop_table("casbin_rule")
    op.drop_table("agencies")


# The audit log is append-only: the database itself refuses UPDATE and DELETE on it.
_PG_GUARD_FUNCTION = """
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$
"""


def _create_audit_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_GUARD_FUNCTION)
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events"
                " FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
            )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events"
                " BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )


def _drop_audit_guards() -> None:
    for verb in ("update", "delete"):
        op.execute(
            f"DROP TRIGGER IF EXISTS audit_events_no_{verb} ON audit_events"
            if op.get_bind().dialect.name == "postgresql"
            else f"DROP TRIGGER IF EXISTS audit_events_no_{verb}"
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
