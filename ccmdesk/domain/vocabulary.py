"""The fixed words of the domain (SPEC §1.1, §2.1, §3), in one place."""

from __future__ import annotations

STAFF_ROLES: tuple[str, ...] = ("clinical_staff", "practitioner", "non_clinical")

ACTIVITY_TYPES: tuple[str, ...] = (
    "phone_call",
    "care_coordination",
    "medication_management",
    "care_plan_review",
    "care_transition",
    "referral_coordination",
    "patient_education",
    "face_to_face",
    "other",
)
#: Logged but never counted toward CCM minutes (SPEC §1.3).
NON_COUNTABLE_ACTIVITIES: frozenset[str] = frozenset({"face_to_face"})
DEFAULT_ACTIVITY = "care_coordination"

ACTIVITY_LABELS: dict[str, str] = {
    "phone_call": "Phone call",
    "care_coordination": "Care coordination",
    "medication_management": "Medication management",
    "care_plan_review": "Care plan review",
    "care_transition": "Care transition",
    "referral_coordination": "Referral coordination",
    "patient_education": "Patient education",
    "face_to_face": "Face-to-face (not countable)",
    "other": "Other",
}

ENTRY_SOURCES: tuple[str, ...] = ("timer", "manual", "import")
CONSENT_METHODS: tuple[str, ...] = ("verbal", "written")
#: ``unspecified`` is used for imported visits: the practice's records say a
#: qualifying visit (E/M, AWV or IPPE) took place without saying which.
VISIT_TYPES: tuple[str, ...] = ("em_visit", "awv", "ippe", "unspecified")
COPY_METHODS: tuple[str, ...] = ("printed", "mailed", "portal", "email", "in_person")

#: SPEC §1.1 reason codes, in the order of the eligibility table.
REASON_CODES: tuple[str, ...] = (
    "no_part_b",
    "no_billing_practitioner",
    "fewer_than_two_chronic_conditions",
    "no_consent",
    "opted_out",
    "no_initiating_visit",
    "no_care_plan",
    "under_threshold",
)

REASON_LABELS: dict[str, str] = {
    "no_part_b": "No Medicare Part B",
    "no_billing_practitioner": "No billing practitioner assigned",
    "fewer_than_two_chronic_conditions": "Fewer than two chronic conditions",
    "no_consent": "No consent on file",
    "opted_out": "Opted out",
    "no_initiating_visit": "No qualifying initiating visit",
    "no_care_plan": "No care plan established",
    "under_threshold": "Not enough minutes",
}
