"""Commission statement lines say whether they pay commission on a payment or take it back,
and the plan year whose schedule priced them.

A payment earns commission once and is taken back at most once: unique (payment, kind).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("commission_statement_lines", schema=None) as batch_op:
        # Lines stored before this revision were all commission on payments.
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "PAYMENT",
                    "REVERSAL",
                    name="commission_line_kind",
                    native_enum=False,
                    create_constraint=True,
                    length=8,
                ),
                nullable=False,
                server_default="PAYMENT",
            )
        )
        batch_op.add_column(sa.Column("plan_year", sa.SmallInteger(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_commission_statement_lines_payment_id_kind"), ["payment_id", "kind"]
        )
    # Nothing stored statements before this revision; should a line exist, it gets the calendar
    # year of its bill's month.
    lines = sa.table("commission_statement_lines", sa.column("payment_id"), sa.column("plan_year"))
    payments = sa.table("payments", sa.column("id"), sa.column("bill_id"))
    bills = sa.table("bills", sa.column("id"), sa.column("period", sa.Date()))
    op.execute(
        lines.update().values(
            plan_year=sa.select(sa.extract("year", bills.c.period))
            .select_from(payments.join(bills, bills.c.id == payments.c.bill_id))
            .where(payments.c.id == lines.c.payment_id)
            .scalar_subquery()
        )
    )
    with op.batch_alter_table("commission_statement_lines", schema=None) as batch_op:
        batch_op.alter_column("kind", server_default=None)
        batch_op.alter_column("plan_year", existing_type=sa.SmallInteger(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("commission_statement_lines", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_commission_statement_lines_payment_id_kind"), type_="unique"
        )
        batch_op.drop_constraint(
            batch_op.f("ck_commission_statement_lines_commission_line_kind"), type_="check"
        )
        batch_op.drop_column("plan_year")
        batch_op.drop_column("kind")
