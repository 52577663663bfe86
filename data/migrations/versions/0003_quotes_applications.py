"""Quotes and new-group applications: access keys, effective dates, application numbers, the
status history of applications, and the anonymous quote rate limit.

No endpoint wrote quotes or applications before this revision, so the new NOT NULL columns are
added to empty tables.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 01:41:32.406064
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import data.models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anonymous_quote_windows",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("window_start", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("quotes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address", "window_start", name=op.f("pk_anonymous_quote_windows")),
    )
    op.create_table(
        "group_application_events",
        sa.Column(
            "application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
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
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "actor_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("occurred_at", data.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_group_application_events_actor_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["group_applications.id"],
            name=op.f("fk_group_application_events_application_id_group_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_application_events")),
    )
    with op.batch_alter_table("group_application_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_group_application_events_application_id"),
            ["application_id"],
            unique=False,
        )

    with op.batch_alter_table("group_applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("application_number", sa.String(length=24), nullable=False))
        batch_op.add_column(sa.Column("officer_title", sa.String(length=100), nullable=False))
        batch_op.create_unique_constraint(
            batch_op.f("uq_group_applications_application_number"), ["application_number"]
        )
        batch_op.create_index(
            "uq_group_applications_quote_id_open",
            ["quote_id"],
            unique=True,
            postgresql_where=sa.text("status <> 'DECLINED'"),
            sqlite_where=sa.text("status <> 'DECLINED'"),
        )

    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effective_date", sa.Date(), nullable=False))
        batch_op.add_column(sa.Column("access_key_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_quotes_access_key_hash"), ["access_key_hash"]
        )


def downgrade() -> None:
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_quotes_access_key_hash"), type_="unique")
        batch_op.drop_column("access_key_hash")
        batch_op.drop_column("effective_date")

    with op.batch_alter_table("group_applications", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_group_applications_quote_id_open",
            postgresql_where=sa.text("status <> 'DECLINED'"),
            sqlite_where=sa.text("status <> 'DECLINED'"),
        )
        batch_op.drop_constraint(
            batch_op.f("uq_group_applications_application_number"), type_="unique"
        )
        batch_op.drop_column("officer_title")
        batch_op.drop_column("application_number")

    with op.batch_alter_table("group_application_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_application_events_application_id"))

    op.drop_table("group_application_events")
    op.drop_table("anonymous_quote_windows")
