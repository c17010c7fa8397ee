"""The ORM tables: every entity of SPEC §3.

Conventions that matter for the rest of the code:

* every instant is a :class:`~ccmdesk.storage.types.UTCDateTime`; calendar
  dates (birth, consent, onset ...) are plain ``Date`` columns;
* enumerations are short strings guarded by CHECK constraints (portable to
  PostgreSQL without native enum types, easy to extend in a migration);
* nothing clinical is ever hard-deleted by the app: time entries carry a soft
  delete, the audit log is append-only;
* ``row_version`` columns are there for optimistic locking on shared servers.

The schema itself is created by the Alembic migrations in
``ccmdesk/storage/migrations``; this module must stay in step with them
(``tests/storage/test_migrations.py`` checks that it does).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ccmdesk.domain.vocabulary import (
    ACTIVITY_TYPES,
    CONSENT_METHODS,
    COPY_METHODS,
    ENTRY_SOURCES,
    STAFF_ROLES,
    VISIT_TYPES,
)
from ccmdesk.storage.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Practice(Base):
    """The practice itself (one row)."""

    __tablename__ = "practice"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    npi: Mapped[str | None] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    after_hours_phone: Mapped[str] = mapped_column(String(40), default="")
    time_zone: Mapped[str | None] = mapped_column(String(64))


class Setting(Base):
    """Free-form application settings (JSON text values)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Staff(Base):
    """Staff members and application users (a user is a staff member with a login)."""

    __tablename__ = "staff"
    __table_args__ = (CheckConstraint(_one_of("role", STAFF_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credential: Mapped[str] = mapped_column(String(20), default="")
    role: Mapped[str] = mapped_column(String(20))
    npi: Mapped[str | None] = mapped_column(String(10), unique=True)
    #: Direct line; a care plan prints the care manager's (SPEC §1.5 continuity).
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    login: Mapped[str | None] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Application roles held besides the clinical ``role`` (see services/access.py).
    office_manager: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    administrator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Sign-in throttling lives in the database so every seat shares it.
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Set by an administrator's reset: the temporary password must be replaced.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Patient(Base):
    __tablename__ = "patient"
    __table_args__ = (
        CheckConstraint("sex IN ('F', 'M', 'X') OR sex IS NULL", name="sex"),
        Index("ix_patient_name", "last_name", "first_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(40), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    dob: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    mbi: Mapped[str | None] = mapped_column(String(11))
    phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(40), default="")
    caregiver: Mapped[str] = mapped_column(Text, default="")
    part_b: Mapped[bool] = mapped_column(Boolean, default=True)
    billing_practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    care_manager_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    care_plan_date: Mapped[dt.date | None] = mapped_column(Date)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Condition(Base):
    """A coded problem; ``chronic`` starts from the shipped list and may be overridden."""

    __tablename__ = "condition"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(Text, default="")
    onset: Mapped[dt.date | None] = mapped_column(Date)
    resolved: Mapped[dt.date | None] = mapped_column(Date)
    chronic: Mapped[bool] = mapped_column(Boolean)
    chronic_overridden: Mapped[bool] = mapped_column(Boolean, default=False)


class ConsentRecord(Base):
    """Consent (or a refusal) to CCM, with the four points the patient was told."""

    __tablename__ = "consent_record"
    __table_args__ = (CheckConstraint(_one_of("method", CONSENT_METHODS), name="method"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    consent_date: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(10))
    obtained_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    told_availability: Mapped[bool] = mapped_column(Boolean, default=False)
    told_cost_sharing: Mapped[bool] = mapped_column(Boolean, default=False)
    told_stop_anytime: Mapped[bool] = mapped_column(Boolean, default=False)
    told_one_practitioner: Mapped[bool] = mapped_column(Boolean, default=False)
    declined: Mapped[bool] = mapped_column(Boolean, default=False)
    opt_out_date: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class InitiatingVisit(Base):
    __tablename__ = "initiating_visit"
    __table_args__ = (CheckConstraint(_one_of("visit_type", VISIT_TYPES), name="visit_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    visit_date: Mapped[dt.date] = mapped_column(Date)
    visit_type: Mapped[str] = mapped_column(String(20))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class ComplexMonth(Base):
    """A month the billing practitioner flagged as complex (moderate/high MDM)."""

    __tablename__ = "complex_month"
    __table_args__ = (UniqueConstraint("patient_id", "month", name="uq_complex_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    flagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class TimeEntry(Base):
    """Care-management time; ``end_at`` is NULL while the stopwatch runs."""

    __tablename__ = "time_entry"
    __table_args__ = (
        CheckConstraint(_one_of("activity", ACTIVITY_TYPES), name="activity"),
        CheckConstraint(_one_of("source", ENTRY_SOURCES), name="source"),
        CheckConstraint("end_at IS NULL OR end_at > start_at", name="positive"),
        Index("ix_time_entry_patient_start", "patient_id", "start_at"),
        Index("ix_time_entry_start", "start_at"),
        # Covers the billing month query, so it never touches the table itself.
        Index(
            "ix_time_entry_month",
            "start_at",
            "end_at",
            "patient_id",
            "staff_id",
            "activity",
            "deleted_at",  # always NULL here, but SQLite needs it to see the index covers
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # One running stopwatch a person, whichever seat they sign in at: the
        # database decides when two seats press Start at the same instant.
        Index(
            "uq_time_entry_running",
            "staff_id",
            unique=True,
            sqlite_where=text("end_at IS NULL AND deleted_at IS NULL"),
            postgresql_where=text("end_at IS NULL AND deleted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    activity: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10))
    edit_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    delete_reason: Mapped[str | None] = mapped_column(Text)
    row_version: Mapped[int] = mapped_column(Integer, default=1)


class CarePlan(Base):
    """A patient's comprehensive care plan; its content lives in versions."""

    __tablename__ = "care_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, default=1)


class CarePlanVersion(Base):
    """One version of a care plan; immutable once ``signed_at`` is set."""

    __tablename__ = "care_plan_version"
    __table_args__ = (UniqueConstraint("care_plan_id", "number", name="uq_care_plan_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    care_plan_id: Mapped[int] = mapped_column(ForeignKey("care_plan.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)  # JSON document of the plan's elements
    next_review_date: Mapped[dt.date | None] = mapped_column(Date)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CarePlanCopy(Base):
    """A copy of a care plan version given to the patient or caregiver."""

    __tablename__ = "care_plan_copy"
    __table_args__ = (CheckConstraint(_one_of("method", COPY_METHODS), name="method"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("care_plan_version.id", ondelete="CASCADE"), index=True
    )
    given_on: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    given_to: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class MonthClose(Base):
    """A month closed after billing; it is open again once ``reopened_at`` is set."""

    __tablename__ = "month_close"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reopened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reopen_reason: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    """Append-only record of who changed what, with the values before and after.

    ``patient_id`` deliberately has no foreign key: the trail must outlive
    anything it describes.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_at", "at"),
        Index("ix_audit_event_patient", "patient_id"),
        Index("ix_audit_event_actor", "actor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(30))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="")


class FeeOverride(Base):
    """The practice's own allowed amount for one code in one year (locality rates)."""

    __tablename__ = "fee_override"
    __table_args__ = (UniqueConstraint("year", "code", name="uq_fee_override"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(5))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
