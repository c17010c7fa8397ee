"""users and seats: application roles, sign-in lock-out, one running stopwatch per person

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

* ``staff.office_manager`` / ``staff.administrator``: the application roles a
  staff member holds besides their clinical role (``staff.role``).
* ``staff.failed_sign_ins`` / ``staff.locked_until``: kept in the database, not
  on one seat, so trying passwords at another workstation gains nothing.
* ``staff.must_change_password``: set when an administrator resets a password.
* ``uq_time_entry_running``: at most one running stopwatch a person, enforced by
  the database itself so two seats starting at the same instant cannot both win.
  A database that already holds two running stopwatches for one person (possible
  before this revision only through a crash mid-start) keeps the newest running;
  the older ones are stopped at their last heartbeat and the fact is written to
  the audit trail, never silently.
* ``ix_audit_event_actor``: the audit browser filters by user.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

RUNNING = sa.text("end_at IS NULL AND deleted_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(
            sa.Column("office_manager", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("administrator", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    _stop_extra_running_stopwatches()
    op.create_index(
        "uq_time_entry_running",
        "time_entry",
        ["staff_id"],
        unique=True,
        sqlite_where=RUNNING,
        postgresql_where=RUNNING,
    )
    op.create_index("ix_audit_event_actor", "audit_event", ["actor_id"])


def _stop_extra_running_stopwatches() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, staff_id, start_at, heartbeat_at FROM time_entry "
            "WHERE end_at IS NULL AND deleted_at IS NULL ORDER BY staff_id, start_at DESC"
        )
    ).all()
    seen: set[int] = set()
    for entry_id, staff_id, start_at, heartbeat_at in rows:
        if staff_id not in seen:
            seen.add(staff_id)
            continue
        if heartbeat_at is not None and heartbeat_at > start_at:
            change = "end_at = heartbeat_at"
            detail = "stopped at its last heartbeat"
        else:  # never seen alive after its start: nothing to count, kept visible as deleted
            change = "deleted_at = CURRENT_TIMESTAMP, delete_reason = :why"
            detail = "deleted (no heartbeat after its start)"
        bind.execute(
            sa.text(f"UPDATE time_entry SET {change} WHERE id = :id"),
            {"id": entry_id, "why": "second running stopwatch found at upgrade 0004"},
        )
        bind.execute(
            sa.text(
                "INSERT INTO audit_event (at, actor, action, entity, entity_id, detail) "
                "VALUES (CURRENT_TIMESTAMP, 'upgrade 0004', 'recover', 'time_entry', :id, :d)"
            ),
            {"id": entry_id, "d": f"a second running stopwatch for one person was {detail}"},
        )


def downgrade() -> None:
    op.drop_index("ix_audit_event_actor", table_name="audit_event")
    op.drop_index("uq_time_entry_running", table_name="time_entry")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("must_change_password")
        batch.drop_column("locked_until")
        batch.drop_column("failed_sign_ins")
        batch.drop_column("administrator")
        batch.drop_column("office_manager")
