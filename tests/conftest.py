"""Shared fixtures: every test gets its own user data folder and database file."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import pytest

from tests.factories import make_database


@pytest.fixture(autouse=True)
def user_data(tmp_path, monkeypatch):
    """Point ccmdesk's user data folder at a temporary one (never the real one)."""
    folder = tmp_path / "userdata"
    monkeypatch.setenv("CCMDESK_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def db(tmp_path):
    """A fresh ccmdesk database in a real temporary SQLite file."""
    database = make_database(tmp_path / "ccmdesk.sqlite3", zone="America/New_York")
    yield database
    database.close()
