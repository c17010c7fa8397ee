"""Care plans: drafts, sign-off, versions, copies given, reviews due (SPEC §1.5, §1.6).

Rules enforced here, whatever screen calls:

* **A plan is a draft until its patient's billing practitioner signs it.**
  Only that practitioner may sign (SPEC §1.5 "only a billing practitioner
  signs"; Medicare pays one practitioner a month for CCM, and that is the
  one who owns the plan).  Another practitioner covering for them cannot
  sign; the practice changes the patient's billing practitioner first (which
  also needs new consent, SPEC §1.1).  Clinical staff and practitioners may
  write drafts; non-clinical staff may record copies given, nothing else.
* **A signed version never changes.**  Saving or signing it again raises
  :class:`SignedVersionError` before anything is written; an ORM flush that
  would update or delete a signed row is refused too (the listener at the
  end of this module), so a future screen cannot slip past the service.
* **Editing a signed plan starts a new draft** (:func:`new_draft`), a copy of
  the latest signed version, numbered one higher.  A plan has at most one
  draft, always its newest version.
* **Drafts save anything typed** (:func:`save_draft`, for autosave): checks
  run only at signing (:func:`ccmdesk.domain.care_plan.validate`).  Saving
  unchanged content writes nothing, so autosave does not flood the audit log.
* **The current version** is the latest signed one; when none is signed yet,
  the latest draft (printed with a DRAFT mark).  Its next review date drives
  :func:`reviews_due`.
* ``row_version`` on the plan goes up with every change; screens pass the
  value they loaded, and a save or signature over someone else's newer save is
  refused (the editor keeps its text, so nothing typed is lost), saying who
  saved or signed what, and when.  Every change locks the plan's row first
  (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite ``Database.write`` runs
  writes one at a time), so two seats saving or signing at the same instant
  cannot both pass the check.

Every mutation is one transaction with its audit event and returns
:class:`~ccmdesk.services.changes.Changes`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history

from ccmdesk.domain.billing import ConsentFact, applicable_consent, opted_out_before
from ccmdesk.domain.care_plan import (
    ELEMENT_BY_KEY,
    CarePlanContent,
    ElementChange,
    PlanProblem,
    Problem,
    caregiver_from_text,
    diff,
    parse_date,
    validate,
)
from ccmdesk.domain.care_plan_templates import (
    CarePlanTemplate,
    TemplateMatch,
    default_templates,
    matching_templates,
    plan_from_templates,
)
from ccmdesk.domain.icd10 import default_index, format_icd10
from ccmdesk.domain.time import Month
from ccmdesk.domain.vocabulary import COPY_METHODS
from ccmdesk.reports.care_plan_data import CarePlanReport, staff_label
from ccmdesk.services import audit, conflicts
from ccmdesk.services.access import Permission, require
from ccmdesk.services.changes import Changes
from ccmdesk.services.practice import practice_zone
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import (
    CarePlan,
    CarePlanCopy,
    CarePlanVersion,
    Condition,
    ConsentRecord,
    Patient,
    Practice,
    Staff,
)

UTC = dt.timezone.utc
COPY_METHOD_LABELS = {
    "printed": "Printed",
    "mailed": "Mailed",
    "portal": "Patient portal",
    "email": "E-mail",
    "in_person": "In person",
}
WRITER_ROLES = frozenset({"clinical_staff", "practitioner"})


class CarePlanError(ValueError):
    """A refused care-plan action; the message says why in plain words."""


class SignedVersionError(CarePlanError):
    """An attempt to change a signed version."""


class NotAllowedError(CarePlanError):
    """The actor may not do this (sign, write a draft)."""


class StaleCopyError(CarePlanError):
    """Someone else saved the plan since the screen loaded it.

    ``other`` says who saved what and when (``Dana Whitfield at 10:42 AM
    (changed Goals)``), or is empty when the audit trail cannot tell.
    """

    def __init__(self, message: str, other: str = "") -> None:
        super().__init__(message)
        self.other = other


class PlanNotReadyError(CarePlanError):
    """The draft is not complete enough to sign; ``problems`` says what to fix."""

    def __init__(self, problems: Sequence[PlanProblem]) -> None:
        self.problems = tuple(problems)
        lines = "; ".join(p.message for p in self.problems[:3])
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(f"the plan cannot be signed yet: {lines}{more}")


# -- what screens get ------------------------------------------------------------------


@dataclass(frozen=True)
class CopyInfo:
    id: int
    version_number: int
    given_on: dt.date
    method: str
    given_to: str
    recorded_by: str

    @property
    def method_label(self) -> str:
        return COPY_METHOD_LABELS.get(self.method, self.method)


@dataclass(frozen=True)
class VersionInfo:
    """One line of a plan's history."""

    id: int
    number: int
    author: str
    created_at: dt.datetime
    updated_at: dt.datetime
    signed_by: str | None
    signed_at: dt.datetime | None
    next_review_date: dt.date | None
    copies: tuple[CopyInfo, ...] = ()

    @property
    def signed(self) -> bool:
        return self.signed_at is not None

    @property
    def status(self) -> str:
        return "signed" if self.signed else "draft"


@dataclass(frozen=True)
class PlanHistory:
    """Every version of a patient's plan, oldest first (empty when there is no plan)."""

    patient_id: int
    plan_id: int | None
    row_version: int
    versions: tuple[VersionInfo, ...]

    @property
    def current(self) -> VersionInfo | None:
        """The latest signed version, else the latest draft."""
        signed = [v for v in self.versions if v.signed]
        return signed[-1] if signed else (self.versions[-1] if self.versions else None)

    @property
    def draft(self) -> VersionInfo | None:
        last = self.versions[-1] if self.versions else None
        return last if last is not None and not last.signed else None


@dataclass(frozen=True)
class VersionDetail:
    info: VersionInfo
    patient_id: int
    row_version: int  # the plan's, to pass back to save_draft / sign
    content: CarePlanContent


@dataclass(frozen=True)
class ReviewDue:
    """An enrolled patient whose plan needs reviewing (or writing)."""

    patient_id: int
    mrn: str
    name: str  # "Last, First"
    care_manager: str
    next_review_date: dt.date | None
    has_plan: bool
    signed: bool  # the current version is signed


# -- small helpers -----------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(UTC)).astimezone(UTC)


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _patient(session: Session, patient_id: int, *, lock: bool = False) -> Patient:
    """The patient; ``lock`` holds the row (PostgreSQL) so plan starts queue."""
    patient = session.get(
        Patient, patient_id, with_for_update={"key_share": True} if lock else None
    )
    if patient is None:
        raise CarePlanError(f"patient {patient_id} does not exist")
    return patient


def _version(
    session: Session, version_id: int, *, lock: bool = False
) -> tuple[CarePlanVersion, CarePlan]:
    """The version and its plan; ``lock`` holds the plan row until commit first.

    Locked before the version is read, so a save or signature that waited for
    another seat's reads what that seat committed (READ COMMITTED re-reads).
    """
    plan_id = session.scalar(
        select(CarePlanVersion.care_plan_id).where(CarePlanVersion.id == version_id)
    )
    if plan_id is None:
        raise CarePlanError(f"care plan version {version_id} does not exist")
    plan = session.get(CarePlan, plan_id, with_for_update=lock)
    version = session.get(CarePlanVersion, version_id)
    assert plan is not None and version is not None
    return version, plan


def _writer(session: Session, actor: audit.Actor) -> Staff:
    staff = session.get(Staff, actor.id) if actor.id is not None else None
    if staff is None or not staff.active or staff.role not in WRITER_ROLES:
        raise NotAllowedError("only active clinical staff and practitioners write care plans")
    return staff


def _check_row_version(
    session: Session, plan: CarePlan, row_version: int | None, actor: audit.Actor, now: dt.datetime
) -> None:
    """Refuse a save over a newer one (``None``: no copy to compare), saying what it was."""
    if row_version is None or row_version == plan.row_version:
        return
    saves = conflicts.saves_since(
        session,
        row_version,
        plan.row_version,
        entity="care_plan_version",
        patient_id=plan.patient_id,
        actions=("create", "update", "sign"),
    )
    other = conflicts.describe(saves, actor, practice_zone(session), _what_was_done, now)
    raise StaleCopyError(
        "someone else saved this care plan since you opened it"
        + (f": {other}" if other else "")
        + "; your text is kept on screen: reopen the plan, then add your changes again",
        other,
    )


def _what_was_done(saves: Sequence[conflicts.Save]) -> list[str]:
    """``changed Goals, Outlook``, ``signed version 2``: a plan's saves in a few words."""
    said: list[str] = []
    changed: list[str] = []
    for save in saves:
        number = save.after.get("number")
        if save.action == "update":
            for key in str(save.after.get("elements") or "").split(","):
                element = ELEMENT_BY_KEY.get(key)
                label = element.label if element else key
                if key and label not in changed:
                    changed.append(label)
        elif save.action == "sign":
            said.append(f"signed version {number}")
        else:
            said.append(f"started draft version {number}")
    return ([f"changed {', '.join(changed)}"] if changed else []) + said


def _refuse_signed(session: Session, version: CarePlanVersion) -> None:
    if version.signed_at is not None:
        signer = session.get(Staff, version.signed_by_id) if version.signed_by_id else None
        who = f" by {signer.name}" if signer else ""
        raise SignedVersionError(
            f"version {version.number} was signed{who} and cannot change;"
            " edit the plan to start a new draft"
        )


def _problems_from_conditions(session: Session, patient_id: int) -> list[Problem]:
    """The patient's unresolved chronic conditions, in code order."""
    rows = session.execute(
        select(Condition.code, Condition.description)
        .where(
            Condition.patient_id == patient_id,
            Condition.chronic,
            Condition.resolved.is_(None),
        )
        .order_by(Condition.code)
    ).all()
    index = default_index()
    return [
        Problem(format_icd10(code), description or index.description(code) or "")
        for code, description in rows
    ]


def _chosen(matches: list[TemplateMatch], keys: Collection[str] | None) -> list[CarePlanTemplate]:
    """The templates to merge: those matched, or the ones named by key."""
    if keys is None:
        return [m.template for m in matches]
    by_key = {t.key: t for t in default_templates()}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise CarePlanError(f"there is no care plan template {unknown[0]!r}")
    return [by_key[k] for k in keys]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- starting and editing ----------------------------------------------------------------


def offered_templates(db: Database, patient_id: int) -> list[TemplateMatch]:
    """The templates matching the patient's chronic conditions, by ICD-10-CM prefix."""
    with db.transaction() as session:
        _patient(session, patient_id)
        problems = _problems_from_conditions(session, patient_id)
    return matching_templates(p.code for p in problems)


def start_plan(
    db: Database,
    patient_id: int,
    actor: audit.Actor,
    *,
    templates: Collection[str] | None = None,
    now: dt.datetime | None = None,
) -> Changes:
    """Create the patient's plan as draft version 1 (``created_id`` is the version).

    The problem list comes from the patient's unresolved chronic conditions;
    ``templates`` (keys; default: every template matching those conditions)
    are merged in without duplicates; the caregiver and language come from
    the patient record.
    """
    now = _now(now)
    with db.write() as session:
        zone = practice_zone(session)
        today = now.astimezone(zone).date()
        patient = _patient(session, patient_id, lock=True)
        author = _writer(session, actor)
        if session.scalar(select(CarePlan.id).where(CarePlan.patient_id == patient_id)):
            raise CarePlanError(
                f"{patient.first_name} {patient.last_name} already has a care plan;"
                " open it to edit or start a new version"
            )
        problems = _problems_from_conditions(session, patient_id)
        chosen = _chosen(matching_templates(p.code for p in problems), templates)
        content = plan_from_templates(problems, chosen, today)
        content.caregiver = caregiver_from_text(patient.caregiver)
        if patient.language and patient.language.casefold() != "english":
            content.preferences = f"Preferred language: {patient.language}"
        plan = CarePlan(patient_id=patient_id, created_at=now, row_version=1)
        session.add(plan)
        session.flush()
        version = _add_version(session, plan, 1, content, author.id, now)
        audit.record(
            session,
            actor,
            "create",
            "care_plan_version",
            entity_id=version.id,
            patient_id=patient_id,
            after={"number": 1, "templates": ",".join(t.key for t in chosen)},
            detail="Started the care plan (draft version 1)",
            at=now,
        )
        return Changes(frozenset({patient_id}), frozenset({Month.of(today)}), version.id)


def _add_version(
    session: Session,
    plan: CarePlan,
    number: int,
    content: CarePlanContent,
    author_id: int,
    now: dt.datetime,
) -> CarePlanVersion:
    version = CarePlanVersion(
        care_plan_id=plan.id,
        number=number,
        content=content.to_json(),
        next_review_date=parse_date(content.next_review),
        author_id=author_id,
        created_at=now,
        updated_at=now,
    )
    session.add(version)
    session.flush()
    return version


def new_draft(
    db: Database,
    patient_id: int,
    actor: audit.Actor,
    *,
    templates: Collection[str] = (),
    now: dt.datetime | None = None,
) -> Changes:
    """Start editing a signed plan: a new draft copied from the latest signed version.

    Chronic conditions coded since then join the problem list; ``templates``
    (keys) are merged in. Refused while a draft is open (edit that one).
    """
    now = _now(now)
    with db.write() as session:
        today = now.astimezone(practice_zone(session)).date()
        author = _writer(session, actor)
        plan = session.scalar(
            select(CarePlan).where(CarePlan.patient_id == patient_id).with_for_update()
        )
        if plan is None:
            raise CarePlanError("this patient has no care plan yet; start one first")
        latest = session.scalar(
            select(CarePlanVersion)
            .where(CarePlanVersion.care_plan_id == plan.id)
            .order_by(CarePlanVersion.number.desc())
            .limit(1)
        )
        assert latest is not None
        if latest.signed_at is None:
            raise CarePlanError(f"version {latest.number} is still a draft: edit it instead")
        base = CarePlanContent.from_json(latest.content)
        chosen = _chosen([], templates)
        content = plan_from_templates(
            _problems_from_conditions(session, patient_id), chosen, today, base=base
        )
        version = _add_version(session, plan, latest.number + 1, content, author.id, now)
        plan.row_version += 1
        audit.record(
            session,
            actor,
            "create",
            "care_plan_version",
            entity_id=version.id,
            patient_id=patient_id,
            after={"number": version.number, "from_version": latest.number},
            detail=f"Started draft version {version.number} from signed version {latest.number}",
            at=now,
        )
        return Changes(frozenset({patient_id}), created_id=version.id)


def save_draft(
    db: Database,
    version_id: int,
    content: CarePlanContent,
    actor: audit.Actor,
    *,
    row_version: int | None = None,
    now: dt.datetime | None = None,
) -> Changes:
    """Save a draft exactly as typed (autosave); nothing is checked but who and when."""
    now = _now(now)
    text = content.to_json()
    with db.write() as session:
        version, plan = _version(session, version_id, lock=True)
        _refuse_signed(session, version)
        _writer(session, actor)
        _check_row_version(session, plan, row_version, actor, now)
        if version.content == text:
            return Changes()
        changed = [c.element for c in diff(CarePlanContent.from_json(version.content), content)]
        version.content = text
        version.next_review_date = parse_date(content.next_review)
        version.updated_at = now
        plan.row_version += 1
        audit.record(
            session,
            actor,
            "update",
            "care_plan_version",
            entity_id=version.id,
            patient_id=plan.patient_id,
            after={"number": version.number, "elements": ",".join(changed)},
            detail=f"Saved draft version {version.number}",
            at=now,
        )
        return Changes(frozenset({plan.patient_id}))


def sign(
    db: Database,
    version_id: int,
    actor: audit.Actor,
    *,
    row_version: int | None = None,
    now: dt.datetime | None = None,
) -> Changes:
    """The patient's billing practitioner signs the draft; it never changes again."""
    now = _now(now)
    with db.write() as session:
        version, plan = _version(session, version_id, lock=True)
        _refuse_signed(session, version)
        patient = _patient(session, plan.patient_id)
        signer = session.get(Staff, actor.id) if actor.id is not None else None
        if signer is None or not signer.active or signer.role != "practitioner":
            raise NotAllowedError("only the patient's billing practitioner can sign a care plan")
        if patient.billing_practitioner_id != signer.id:
            raise NotAllowedError(
                f"{signer.name} is not {patient.first_name} {patient.last_name}'s billing"
                " practitioner; only the billing practitioner can sign the care plan"
            )
        _check_row_version(session, plan, row_version, actor, now)
        today = now.astimezone(practice_zone(session)).date()
        content = CarePlanContent.from_json(version.content)
        index = default_index()
        problems = validate(content, today, lambda code: index.description(code) is not None)
        if problems:
            raise PlanNotReadyError(problems)
        version.signed_by_id = signer.id
        version.signed_at = now
        version.next_review_date = parse_date(content.next_review)
        plan.row_version += 1
        audit.record(
            session,
            actor,
            "sign",
            "care_plan_version",
            entity_id=version.id,
            patient_id=plan.patient_id,
            after={
                "number": version.number,
                "next_review_date": version.next_review_date,
                "content_sha256": _sha256(version.content),
            },
            detail=f"Signed care plan version {version.number}",
            at=now,
        )
        return Changes(frozenset({plan.patient_id}))


def record_copy(
    db: Database,
    version_id: int,
    given_on: dt.date,
    method: str,
    given_to: str,
    actor: audit.Actor,
    *,
    now: dt.datetime | None = None,
) -> Changes:
    """Record that a copy of a signed version was given (SPEC §1.5; auditors ask, §1.6)."""
    now = _now(now)
    given_to = " ".join(given_to.split())
    if method not in COPY_METHODS:
        raise CarePlanError(f"how was the copy given? choose {', '.join(COPY_METHODS)}")
    if not given_to:
        raise CarePlanError("say to whom the copy was given (the patient or the caregiver)")
    if len(given_to) > 200:
        raise CarePlanError("'given to' is longer than 200 characters")
    with db.write() as session:
        require(session, actor, Permission.PRINT_PATIENT, NotAllowedError)
        version, plan = _version(session, version_id)
        if version.signed_at is None:
            raise CarePlanError("only a signed version can be given as the patient's care plan")
        zone = practice_zone(session)
        if given_on > now.astimezone(zone).date():
            raise CarePlanError("the date the copy was given is in the future")
        signed_on = _utc(version.signed_at).astimezone(zone).date()
        if given_on < signed_on:
            raise CarePlanError(
                f"the copy cannot be given before the plan was signed ({signed_on})"
            )
        copy = CarePlanCopy(
            version_id=version.id,
            given_on=given_on,
            method=method,
            given_to=given_to,
            recorded_by_id=actor.id,
            created_at=now,
        )
        session.add(copy)
        session.flush()
        audit.record(
            session,
            actor,
            "create",
            "care_plan_copy",
            entity_id=copy.id,
            patient_id=plan.patient_id,
            after={"version": version.number, "given_on": given_on, "method": method},
            detail=f"Copy of care plan version {version.number} given to {given_to}",
            at=now,
        )
        return Changes(frozenset({plan.patient_id}), created_id=copy.id)


# -- reading -------------------------------------------------------------------------------


def _labels(session: Session) -> dict[int, str]:
    return {
        row.id: staff_label(row.name, row.credential)
        for row in session.execute(select(Staff.id, Staff.name, Staff.credential))
    }


def _info(
    version: CarePlanVersion, labels: dict[int, str], copies: Sequence[CopyInfo] = ()
) -> VersionInfo:
    return VersionInfo(
        id=version.id,
        number=version.number,
        author=labels.get(version.author_id, "") if version.author_id else "",
        created_at=_utc(version.created_at),
        updated_at=_utc(version.updated_at),
        signed_by=labels.get(version.signed_by_id) if version.signed_by_id else None,
        signed_at=_utc(version.signed_at) if version.signed_at else None,
        next_review_date=version.next_review_date,
        copies=tuple(copies),
    )


def history(db: Database, patient_id: int) -> PlanHistory:
    """Every version with author, signer, dates and the copies given."""
    with db.transaction() as session:
        _patient(session, patient_id)
        plan = session.scalar(select(CarePlan).where(CarePlan.patient_id == patient_id))
        if plan is None:
            return PlanHistory(patient_id, None, 0, ())
        labels = _labels(session)
        versions = session.scalars(
            select(CarePlanVersion)
            .where(CarePlanVersion.care_plan_id == plan.id)
            .order_by(CarePlanVersion.number)
        ).all()
        numbers = {v.id: v.number for v in versions}
        copies: dict[int, list[CopyInfo]] = {}
        for c in session.scalars(
            select(CarePlanCopy)
            .where(CarePlanCopy.version_id.in_(numbers))
            .order_by(CarePlanCopy.given_on, CarePlanCopy.id)
        ):
            recorded = labels.get(c.recorded_by_id, "") if c.recorded_by_id else ""
            info = CopyInfo(c.id, numbers[c.version_id], c.given_on, c.method, c.given_to, recorded)
            copies.setdefault(c.version_id, []).append(info)
        return PlanHistory(
            patient_id,
            plan.id,
            plan.row_version,
            tuple(_info(v, labels, copies.get(v.id, ())) for v in versions),
        )


def load_version(db: Database, version_id: int) -> VersionDetail:
    with db.transaction() as session:
        version, plan = _version(session, version_id)
        return VersionDetail(
            _info(version, _labels(session)),
            plan.patient_id,
            plan.row_version,
            CarePlanContent.from_json(version.content),
        )


def current_version(db: Database, patient_id: int) -> VersionDetail | None:
    """The latest signed version, else the latest draft, else None."""
    current = history(db, patient_id).current
    return load_version(db, current.id) if current else None


def compare(db: Database, older_id: int, newer_id: int) -> list[ElementChange]:
    """What changed from one version of a plan to another, element by element."""
    older, newer = load_version(db, older_id), load_version(db, newer_id)
    if older.patient_id != newer.patient_id:
        raise CarePlanError("these versions belong to different patients' plans")
    return diff(older.content, newer.content)


def _current_ids(session: Session, patient_ids: Collection[int] | None) -> dict[int, int]:
    """patient id -> id of the current version (latest signed, else latest)."""
    query = select(
        CarePlan.patient_id,
        CarePlanVersion.id,
        CarePlanVersion.number,
        CarePlanVersion.signed_at.is_not(None),
    ).join(CarePlanVersion, CarePlanVersion.care_plan_id == CarePlan.id)
    if patient_ids is not None:
        query = query.where(CarePlan.patient_id.in_(list(patient_ids)))
    best: dict[int, tuple[bool, int, int]] = {}
    for patient_id, version_id, number, signed in session.execute(query):
        rank = (bool(signed), number, version_id)
        if patient_id not in best or rank > best[patient_id]:
            best[patient_id] = rank
    return {pid: rank[2] for pid, rank in best.items()}


def current_review_dates(
    session: Session, patient_ids: Collection[int] | None = None
) -> dict[int, dt.date | None]:
    """patient id -> next review date of the current version, for patients with a plan."""
    current = _current_ids(session, patient_ids)
    if not current:
        return {}
    dates = dict(
        session.execute(
            select(CarePlanVersion.id, CarePlanVersion.next_review_date).where(
                CarePlanVersion.id.in_(list(current.values()))
            )
        ).all()
    )
    return {pid: dates.get(version_id) for pid, version_id in current.items()}


def reviews_due(
    db: Database, on_or_before: dt.date, *, now: dt.datetime | None = None
) -> list[ReviewDue]:
    """Enrolled patients whose current plan's next review is on or before the date.

    Patients without a plan, or whose current plan has no review date, are
    due too. "Enrolled" is as on the month list: consent on record by the
    date and no opt-out that took effect before that month (SPEC §1.1).
    Most overdue first (no date first), then by name.
    """
    month = Month.of(on_or_before)
    with db.transaction() as session:
        consents: dict[int, list[ConsentFact]] = {}
        for pid, day, declined, opt_out in session.execute(
            select(
                ConsentRecord.patient_id,
                ConsentRecord.consent_date,
                ConsentRecord.declined,
                ConsentRecord.opt_out_date,
            )
        ):
            consents.setdefault(pid, []).append(ConsentFact(day, declined, opt_out))
        enrolled = set()
        for pid, facts in consents.items():
            consent = applicable_consent(facts, month)
            if (
                consent is not None
                and consent.consent_date <= on_or_before
                and not opted_out_before(consent, month)
            ):
                enrolled.add(pid)
        current = _current_ids(session, None)
        versions = {
            vid: (review, signed)
            for vid, review, signed in session.execute(
                select(
                    CarePlanVersion.id,
                    CarePlanVersion.next_review_date,
                    CarePlanVersion.signed_at.is_not(None),
                ).where(CarePlanVersion.id.in_(list(current.values())))
            )
        }
        labels = _labels(session)
        due = []
        for row in session.execute(
            select(
                Patient.id,
                Patient.mrn,
                Patient.first_name,
                Patient.last_name,
                Patient.care_manager_id,
            ).where(Patient.id.in_(list(enrolled)))
        ):
            review, signed = versions.get(current.get(row.id, -1), (None, False))
            if review is not None and review > on_or_before:
                continue
            due.append(
                ReviewDue(
                    row.id,
                    row.mrn,
                    f"{row.last_name}, {row.first_name}",
                    labels.get(row.care_manager_id, "") if row.care_manager_id else "",
                    review,
                    row.id in current,
                    bool(signed),
                )
            )
    due.sort(
        key=lambda r: (r.next_review_date is not None, r.next_review_date or on_or_before, r.name)
    )
    return due


# -- what a printed plan shows ---------------------------------------------------------------


def printable_plans(
    db: Database, patient_ids: Collection[int] | None = None, *, now: dt.datetime | None = None
) -> list[CarePlanReport]:
    """Report data for the current version of each patient's plan (None: every plan).

    Patients without a plan are skipped. A few queries whatever the count, so
    a batch of hundreds stays quick.
    """
    now = _now(now)
    with db.transaction() as session:
        zone = practice_zone(session)
        practice = session.scalar(select(Practice).order_by(Practice.id).limit(1))
        staff = {s.id: s for s in session.scalars(select(Staff))}
        current = _current_ids(session, patient_ids)
        if not current:
            return []
        patients = {
            p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(list(current))))
        }
        versions = session.scalars(
            select(CarePlanVersion).where(CarePlanVersion.id.in_(list(current.values())))
        ).all()
        by_id = {v.id: v for v in versions}

        def label(staff_id: int | None) -> str:
            member = staff.get(staff_id) if staff_id else None
            return staff_label(member.name, member.credential) if member else ""

        reports = []
        for patient_id, version_id in current.items():
            patient, version = patients[patient_id], by_id[version_id]
            manager = staff.get(patient.care_manager_id) if patient.care_manager_id else None
            signed_at = _utc(version.signed_at).astimezone(zone) if version.signed_at else None
            reports.append(
                CarePlanReport(
                    practice_name=practice.name if practice else "",
                    practice_address=practice.address if practice else "",
                    practice_phone=practice.phone if practice else "",
                    after_hours_phone=practice.after_hours_phone if practice else "",
                    patient_name=f"{patient.first_name} {patient.last_name}",
                    patient_dob=patient.dob,
                    mrn=patient.mrn,
                    care_manager=label(patient.care_manager_id),
                    care_manager_phone=manager.phone if manager else "",
                    billing_practitioner=label(patient.billing_practitioner_id),
                    version_number=version.number,
                    draft=version.signed_at is None,
                    author=label(version.author_id),
                    written_on=_utc(version.created_at).astimezone(zone).date(),
                    signed_by=label(version.signed_by_id) or None,
                    signed_at=signed_at,
                    printed_on=now.astimezone(zone).date(),
                    content=CarePlanContent.from_json(version.content),
                )
            )
    reports.sort(key=lambda r: (r.patient_name.rsplit(" ", 1)[-1], r.patient_name, r.mrn))
    return reports


def printable_plan(db: Database, mrn: str, *, now: dt.datetime | None = None) -> CarePlanReport:
    """The report data for one patient, found by MRN."""
    with db.transaction() as session:
        patient_id = session.scalar(select(Patient.id).where(Patient.mrn == mrn.strip()))
    if patient_id is None:
        raise CarePlanError(f"no patient has MRN {mrn}")
    reports = printable_plans(db, [patient_id], now=now)
    if not reports:
        raise CarePlanError(f"{mrn} has no care plan yet")
    return reports[0]


# -- signed versions stay as signed, whoever tries --------------------------------------------


def _signed_before_flush(version: CarePlanVersion) -> bool:
    history_ = get_history(version, "signed_at")
    committed = (history_.deleted or history_.unchanged or [None])[0]
    return committed is not None


@event.listens_for(CarePlanVersion, "before_update")
def _refuse_update_of_signed(mapper, connection, version) -> None:  # type: ignore[no-untyped-def]
    if _signed_before_flush(version):
        raise SignedVersionError(f"care plan version {version.number} is signed and cannot change")


@event.listens_for(CarePlanVersion, "before_delete")
def _refuse_delete_of_signed(mapper, connection, version) -> None:  # type: ignore[no-untyped-def]
    if _signed_before_flush(version):
        raise SignedVersionError(
            f"care plan version {version.number} is signed and cannot be deleted"
        )
