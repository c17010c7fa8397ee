"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_event_patient", ["patient_id"], unique=False)

    op.create_table(
        "practice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("npi", sa.String(length=10), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("after_hours_phone", sa.String(length=40), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice")),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_setting")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credential", sa.String(length=20), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("npi", sa.String(length=10), nullable=True),
        sa.Column("login", sa.String(length=100), nullable=True),
        sa.Column("password_hash", sa.String(length=300), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('clinical_staff', 'practitioner', 'non_clinical')", name=op.f("ck_staff_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("login", name=op.f("uq_staff_login")),
        sa.UniqueConstraint("npi", name=op.f("uq_staff_npi")),
    )
    op.create_table(
        "month_close",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopened_by_id", sa.Integer(), nullable=True),
        sa.Column("reopen_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["staff.id"], name=op.f("fk_month_close_closed_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["reopened_by_id"], ["staff.id"], name=op.f("fk_month_close_reopened_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_month_close")),
    )
    with op.batch_alter_table("month_close", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_month_close_month"), ["month"], unique=False)

    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mrn", sa.String(length=40), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("dob", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("mbi", sa.String(length=11), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=40), nullable=False),
        sa.Column("caregiver", sa.Text(), nullable=False),
        sa.Column("part_b", sa.Boolean(), nullable=False),
        sa.Column("billing_practitioner_id", sa.Integer(), nullable=True),
        sa.Column("care_manager_id", sa.Integer(), nullable=True),
        sa.Column("care_plan_date", sa.Date(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sex IN ('F', 'M', 'X') OR sex IS NULL", name=op.f("ck_patient_sex")),
        sa.ForeignKeyConstraint(
            ["billing_practitioner_id"],
            ["staff.id"],
            name=op.f("fk_patient_billing_practitioner_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["care_manager_id"], ["staff.id"], name=op.f("fk_patient_care_manager_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("mrn", name=op.f("uq_patient_mrn")),
    )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index("ix_patient_name", ["last_name", "first_name"], unique=False)

    op.create_table(
        "care_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_care_plan_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plan")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_care_plan_patient_id")),
    )
    op.create_table(
        "complex_month",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("flagged_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["flagged_by_id"], ["staff.id"], name=op.f("fk_complex_month_flagged_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_complex_month_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complex_month")),
        sa.UniqueConstraint("patient_id", "month", name="uq_complex_month"),
    )
    op.create_table(
        "condition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("onset", sa.Date(), nullable=True),
        sa.Column("resolved", sa.Date(), nullable=True),
        sa.Column("chronic", sa.Boolean(), nullable=False),
        sa.Column("chronic_overridden", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_condition_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_condition")),
    )
    with op.batch_alter_table("condition", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_condition_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "consent_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("consent_date", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("obtained_by_id", sa.Integer(), nullable=True),
        sa.Column("practitioner_id", sa.Integer(), nullable=True),
        sa.Column("told_availability", sa.Boolean(), nullable=False),
        sa.Column("told_cost_sharing", sa.Boolean(), nullable=False),
        sa.Column("told_stop_anytime", sa.Boolean(), nullable=False),
        sa.Column("told_one_practitioner", sa.Boolean(), nullable=False),
        sa.Column("declined", sa.Boolean(), nullable=False),
        sa.Column("opt_out_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "method IN ('verbal', 'written')", name=op.f("ck_consent_record_method")
        ),
        sa.ForeignKeyConstraint(
            ["obtained_by_id"], ["staff.id"], name=op.f("fk_consent_record_obtained_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_consent_record_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"], ["staff.id"], name=op.f("fk_consent_record_practitioner_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_record")),
    )
    with op.batch_alter_table("consent_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_record_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "initiating_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("visit_type", sa.String(length=20), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "visit_type IN ('em_visit', 'awv', 'ippe', 'unspecified')",
            name=op.f("ck_initiating_visit_visit_type"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_initiating_visit_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["staff.id"],
            name=op.f("fk_initiating_visit_practitioner_id_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiating_visit")),
    )
    with op.batch_alter_table("initiating_visit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initiating_visit_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "time_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activity", sa.String(length=30), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("edit_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by_id", sa.Integer(), nullable=True),
        sa.Column("delete_reason", sa.Text(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "activity IN ('phone_call', 'care_coordination', 'medication_management', 'care_plan_review', 'care_transition', 'referral_coordination', 'patient_education', 'face_to_face', 'other')",
            name=op.f("ck_time_entry_activity"),
        ),
        sa.CheckConstraint(
            "source IN ('timer', 'manual', 'import')", name=op.f("ck_time_entry_source")
        ),
        sa.CheckConstraint(
            "end_at IS NULL OR end_at > start_at", name=op.f("ck_time_entry_positive")
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by_id"], ["staff.id"], name=op.f("fk_time_entry_deleted_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_time_entry_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_time_entry_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_entry")),
    )
    with op.batch_alter_table("time_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_time_entry_patient_start", ["patient_id", "start_at"], unique=False
        )
        batch_op.create_index("ix_time_entry_start", ["start_at"], unique=False)

    op.create_table(
        "care_plan_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("care_plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("next_review_date", sa.Date(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff.id"], name=op.f("fk_care_plan_version_author_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["care_plan_id"],
            ["care_plan.id"],
            name=op.f("fk_care_plan_version_care_plan_id_care_plan"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"], ["staff.id"], name=op.f("fk_care_plan_version_signed_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plan_version")),
        sa.UniqueConstraint("care_plan_id", "number", name="uq_care_plan_version"),
    )
    op.create_table(
        "care_plan_copy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("given_to", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "method IN ('printed', 'mailed', 'portal', 'email', 'in_person')",
            name=op.f("ck_care_plan_copy_method"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["staff.id"], name=op.f("fk_care_plan_copy_recorded_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["care_plan_version.id"],
            name=op.f("fk_care_plan_copy_version_id_care_plan_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plan_copy")),
    )
    with op.batch_alter_table("care_plan_copy", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_care_plan_copy_version_id"), ["version_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("care_plan_copy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_plan_copy_version_id"))

    op.drop_table("care_plan_copy")
    op.drop_table("care_plan_version")
    with op.batch_alter_table("time_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_time_entry_start")
        batch_op.drop_index("ix_time_entry_patient_start")

    op.drop_table("time_entry")
    with op.batch_alter_table("initiating_visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiating_visit_patient_id"))

    op.drop_table("initiating_visit")
    with op.batch_alter_table("consent_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_record_patient_id"))

    op.drop_table("consent_record")
    with op.batch_alter_table("condition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_condition_patient_id"))

    op.drop_table("condition")
    op.drop_table("complex_month")
    op.drop_table("care_plan")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_name")

    op.drop_table("patient")
    with op.batch_alter_table("month_close", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_month_close_month"))

    op.drop_table("month_close")
    op.drop_table("staff")
    op.drop_table("setting")
    op.drop_table("practice")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_patient")
        batch_op.drop_index("ix_audit_event_at")

    op.drop_table("audit_event")
