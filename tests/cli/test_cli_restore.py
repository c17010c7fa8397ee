"""``ccmdesk restore FILE`` end to end, and the command line's log file."""

from __future__ import annotations

import sqlite3

from tests.cli.test_cli import err, run
from tests.damage import digest
from tests.services.csvfiles import GOOD_STAFF, STAFF_HEADER, write_csv


def staff_names(path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute("SELECT name FROM staff ORDER BY name")]
    finally:
        connection.close()


def test_help_lists_restore(tmp_path):
    done = run("--help", data=tmp_path / "userdata", check_ok=True)
    assert "restore" in done.stdout.decode()


def test_restore_brings_back_the_backup_and_keeps_the_database_it_replaced(tmp_path):
    data = tmp_path / "userdata"
    first = write_csv(tmp_path, "staff.csv", STAFF_HEADER, GOOD_STAFF[:1])
    run("import", "staff", str(first), data=data, check_ok=True)
    copy = tmp_path / "monday.sqlite3"
    run("backup", str(copy), data=data, check_ok=True)
    more = write_csv(tmp_path, "more.csv", STAFF_HEADER, GOOD_STAFF[1:])
    run("import", "staff", str(more), data=data, check_ok=True)

    done = run("restore", str(copy), data=data, check_ok=True)

    assert staff_names(data / "ccmdesk.sqlite3") == ["Dana Whitfield"]
    (kept,) = (data / "backups").glob("ccmdesk-before-restore-*.sqlite3")
    assert len(staff_names(kept)) == 3 and str(kept) in err(done)
    assert len(err(done).strip().splitlines()) == 1


def test_a_bad_file_is_refused_in_one_line_and_nothing_changes(tmp_path):
    data = tmp_path / "userdata"
    staff = write_csv(tmp_path, "staff.csv", STAFF_HEADER, GOOD_STAFF)
    run("import", "staff", str(staff), data=data, check_ok=True)
    before = digest(data / "ccmdesk.sqlite3")
    letter = tmp_path / "letter.sqlite3"
    letter.write_text("not a backup")

    done = run("restore", str(letter), data=data)

    assert done.returncode == 1
    (line,) = err(done).strip().splitlines()
    assert line.startswith("ccmdesk: ") and "not an SQLite database" in line
    assert digest(data / "ccmdesk.sqlite3") == before
    assert not (data / "backups").exists()


def test_the_command_line_logs_what_it_ran_but_no_names(tmp_path):
    data = tmp_path / "userdata"
    staff = write_csv(tmp_path, "staff.csv", STAFF_HEADER, GOOD_STAFF)
    run("import", "staff", str(staff), data=data, check_ok=True)
    run("backup", data=data, check_ok=True)
    text = (data / "logs" / "ccmdesk.log").read_text(encoding="utf-8")
    assert ": import" in text and ": backup" in text and "backup by hand written" in text
    assert "Whitfield" not in text and "Okafor" not in text
