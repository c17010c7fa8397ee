"""Write small CSV files for import tests."""

from __future__ import annotations

from pathlib import Path

STAFF_HEADER = "name,credential,role,npi"
PATIENT_HEADER = (
    "mrn,first_name,last_name,dob,sex,mbi,phone,billing_npi,part_b,conditions,consent_date,"
    "consent_method,initiating_visit_date,care_plan_date,opt_out_date,complex_months"
)
TIME_HEADER = "mrn,staff,start,end,minutes,activity,note"

DOCTOR_NPI = "1234567893"
GOOD_STAFF = [
    "Dana Whitfield,MD,practitioner,1234567893",
    "Nina Okafor,RN,clinical_staff,",
    "Sam Front,,non_clinical,",
]
GOOD_PATIENTS = [
    "P-1,Ada,Lovelace,1944-02-10,F,1EG4-TE5-MK73,555-0100,1234567893,y,E11.9;I10,2026-01-05,"
    "verbal,2025-12-10,2026-01-06,,2026-02",
    "P-2,Bo,Brummell,1950-07-30,M,,,1234567893,,J44.9;F32.A;J06.9,2026-01-20,written,"
    "2026-01-02,2026-01-20,2026-02-14,",
]


def write_csv(folder: Path, name: str, header: str, rows: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path
