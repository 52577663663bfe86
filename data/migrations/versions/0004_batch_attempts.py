"""Enrollment batches count the times a worker took them up, so that a batch whose processing
keeps failing stops after a few attempts instead of being retried at every lease expiry.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrollment_batches", schema=None) as batch_op:
        # A batch stored before this revision has been taken up at most once so far.
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("enrollment_batches", schema=None) as batch_op:
        batch_op.alter_column("attempts", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("enrollment_batches", schema=None) as batch_op:
        batch_op.drop_column("attempts")
