"""Resources are found from a checkout, a frozen bundle and an installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ccmdesk import paths

REPO = Path(__file__).resolve().parents[1]


def test_checkout_resources():
    assert paths.resources_dir() == REPO / "resources"
    assert paths.resource("fees", "2026.json").is_file()


def test_frozen_bundle_resources(tmp_path, monkeypatch):
    (tmp_path / "resources" / "fees").mkdir(parents=True)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resources_dir() == tmp_path / "resources"


def test_missing_resources_say_where_they_looked(monkeypatch):
    monkeypatch.setattr(paths, "resource_candidates", lambda: [Path("/nowhere/resources")])
    with pytest.raises(FileNotFoundError, match="/nowhere/resources"):
        paths.resources_dir()


def test_user_data_folder_override(tmp_path, monkeypatch):
    monkeypatch.setenv("CCMDESK_DATA_DIR", str(tmp_path))
    assert paths.default_database_path() == tmp_path / "ccmdesk.sqlite3"
    assert paths.demo_database_path() == tmp_path / "ccmdesk-demo.sqlite3"


@pytest.mark.slow
def test_a_built_wheel_carries_resources_and_migrations_and_runs(tmp_path):
    """Build the wheel as pip would, unpack it, and run the CLI from it."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("ccmdesk-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    for needed in (
        "ccmdesk/resources/fees/2026.json",
        "ccmdesk/resources/icd10cm/codes.tsv.gz",
        "ccmdesk/resources/chronic_conditions.txt",
        "ccmdesk/storage/migrations/env.py",
        "ccmdesk/storage/migrations/versions/0001_initial_schema.py",
    ):
        assert needed in names
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path / "site"),  # ahead of the editable checkout
        "CCMDESK_DATA_DIR": str(tmp_path / "data"),
    }

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "ccmdesk", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    where = subprocess.run(
        [sys.executable, "-c", "from ccmdesk import paths; print(paths.resources_dir())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert Path(where) == tmp_path / "site" / "ccmdesk" / "resources"
    run("demo", "--no-gui", "--patients", "20")
    db = f"sqlite:///{tmp_path / 'data' / 'ccmdesk-demo.sqlite3'}"
    out = run("--db", db, "billing", "--month", "2026-10", "--csv", "-")
    assert out.startswith("month,mrn,patient_name,")
