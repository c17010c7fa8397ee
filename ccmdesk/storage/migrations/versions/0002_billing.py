"""billing: fee schedule overrides (the practice's locality rates) and the month index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fee_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_override")),
        sa.UniqueConstraint("year", "code", name="uq_fee_override"),
    )
    op.create_index(
        "ix_time_entry_month",
        "time_entry",
        ["start_at", "end_at", "patient_id", "staff_id", "activity", "deleted_at"],
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_time_entry_month", table_name="time_entry")
    op.drop_table("fee_override")
