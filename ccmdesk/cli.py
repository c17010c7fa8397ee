"""The ``ccmdesk`` command (SPEC §2): the GUI by default, headless sub-commands.

Heavy modules are imported inside the functions that need them so that
``ccmdesk --version`` and ``--help`` answer at once.  Every failure is one
line on standard error (import problems: one line per problem) and a non-zero
exit; set ``CCMDESK_DEBUG=1`` to see tracebacks.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from ccmdesk import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A failure to report as one line, then exit non-zero."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line like every other failure."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"ccmdesk: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ccmdesk",
        description="Medicare Chronic Care Management: time, billing and care plans.",
    )
    parser.add_argument("--version", action="version", version=f"ccmdesk {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy database URL (default: the one chosen in File → Database…, else"
        " ccmdesk.sqlite3 in the user data folder)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help="build a realistic demo practice and open it")
    demo.add_argument("--patients", type=_positive, default=300, metavar="N")
    demo.add_argument("--no-gui", action="store_true", help="build only")

    imp = commands.add_parser("import", help="import staff, patients or time from CSV")
    imp.add_argument("kind", choices=("staff", "patients", "time"))
    imp.add_argument("file", metavar="FILE.csv")

    billing = commands.add_parser("billing", help="the month's billing: CSV and/or PDF")
    billing.add_argument("--month", required=True, metavar="YYYY-MM")
    billing.add_argument("--csv", metavar="FILE", help="write the CSV export (- for stdout)")
    billing.add_argument("--pdf", metavar="FILE", help="write the billing summary PDF")

    careplan = commands.add_parser("careplan", help="print a patient's care plan as PDF")
    careplan.add_argument("mrn")
    careplan.add_argument("--pdf", required=True, metavar="FILE")

    timelog = commands.add_parser("timelog", help="print a patient-month's time log as PDF")
    timelog.add_argument("mrn")
    timelog.add_argument("--month", required=True, metavar="YYYY-MM")
    timelog.add_argument("--pdf", required=True, metavar="FILE")

    backup = commands.add_parser("backup", help="copy the database (SQLite online backup)")
    backup.add_argument("file", nargs="?", metavar="FILE")

    restore = commands.add_parser(
        "restore", help="replace the database with a backup (the current one is kept first)"
    )
    restore.add_argument("file", metavar="FILE")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _database_url(args: argparse.Namespace, *, demo: bool = False, gui: bool = False) -> str:
    """``--db``; else, for the window, the database chosen in File → Database…;
    else SPEC §2's default file.

    Commands keep SPEC §2's default to the letter (auditors script them), but say
    so when this computer's window works on another database, so nobody bills an
    empty local file by mistake.
    """
    if args.db:
        return args.db
    from ccmdesk import paths

    path = paths.demo_database_path() if demo else paths.default_database_path()
    if demo:
        return paths.sqlite_url(path)
    from ccmdesk.app import saved_database_url
    from ccmdesk.services.connectivity import hide_password

    saved = saved_database_url()
    if saved and gui:
        return saved
    if saved and saved != paths.sqlite_url(path):
        _say(
            f"note: using {path}; this computer's ccmdesk window uses {hide_password(saved)}"
            " (pass --db to use that)"
        )
    return paths.sqlite_url(path)


def _open(url: str):  # -> Database
    from ccmdesk.storage.database import open_database

    return open_database(url)


def _month(text: str):  # -> Month
    from ccmdesk.domain.time import Month

    try:
        return Month.parse(text)
    except ValueError as error:
        raise CliError(f"--month: {error}") from None


def cmd_demo(args: argparse.Namespace) -> int:
    from ccmdesk.services.demo import build_demo
    from ccmdesk.storage.database import sqlite_path

    url = _database_url(args, demo=True)
    if not args.db:
        path = sqlite_path(url)
        assert path is not None
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = _open(url)
    try:
        try:
            summary = build_demo(db, patients=args.patients)
        except ValueError as error:
            raise CliError(str(error)) from None
    finally:
        db.close()
    _say(
        f"demo practice built in {summary.elapsed_seconds:.1f} s: {summary.patients} patients,"
        f" {summary.staff} staff, {summary.time_entries} time entries -> {url}"
    )
    if args.no_gui:
        return EXIT_OK
    from ccmdesk.app import run_gui

    return run_gui(url)


def cmd_import(args: argparse.Namespace) -> int:
    from ccmdesk.services.audit import Actor
    from ccmdesk.services.imports import ImportRejected
    from ccmdesk.services.imports.patients import import_patients
    from ccmdesk.services.imports.staff import import_staff
    from ccmdesk.services.imports.time_entries import import_time

    runner = {"staff": import_staff, "patients": import_patients, "time": import_time}[args.kind]
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{args.file}: no such file")
    db = _open(_database_url(args))
    try:
        summary = runner(db, path, Actor.command_line())
    except ImportRejected as rejected:
        for line in rejected.lines():
            _say(line)
        _say(f"ccmdesk: {args.file}: nothing was imported ({len(rejected.problems)} problems)")
        return EXIT_FAILED
    finally:
        db.close()
    _say(summary.describe())
    return EXIT_OK


def cmd_billing(args: argparse.Namespace) -> int:
    from ccmdesk.services.billing import compute_month
    from ccmdesk.services.billing_csv import write_billing_csv

    month = _month(args.month)
    if not args.csv and not args.pdf:
        raise CliError("billing: say where to write it: --csv FILE and/or --pdf FILE")
    if args.csv == "-" and args.pdf == "-":
        raise CliError("billing: only one of --csv and --pdf can be - (standard output)")
    db = _open(_database_url(args))
    try:
        report = compute_month(db, month)
        pdf = None
        if args.pdf:  # laid out before anything is written, so a failure writes nothing
            from ccmdesk.reports.billing_pdf import render_billing_summary
            from ccmdesk.reports.billing_summary import load_billing_summary

            pdf = render_billing_summary(load_billing_summary(db, report))
    finally:
        db.close()
    if report.fees.note:
        _say(report.fees.note)
    if args.csv == "-":
        write_billing_csv(report, sys.stdout)
        sys.stdout.flush()
    elif args.csv:
        _write_text(Path(args.csv), lambda handle: write_billing_csv(report, handle))
    if pdf is not None:
        _emit_pdf(args.pdf, pdf)
    billable = sum(1 for row in report.rows if row.result.billable)
    _say(f"{month}: {len(report.rows)} patients, {billable} billable")
    return EXIT_OK


def _write_text(path: Path, write) -> None:  # type: ignore[no-untyped-def]
    """Write a text file completely or not at all (temporary file, then rename)."""
    from ccmdesk.files import atomic_target

    try:
        with (
            atomic_target(path) as partial,
            partial.open("w", encoding="utf-8", newline="") as handle,
        ):
            write(handle)
    except OSError as error:
        raise CliError(f"{path}: cannot be written ({error.strerror or error})") from None


def _emit_pdf(target: str, data: bytes) -> None:
    """PDF bytes to standard output (``-``) or to a file, completely or not at all."""
    if target == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    from ccmdesk.files import write_bytes_atomically

    path = Path(target)
    try:
        write_bytes_atomically(path, data)
    except OSError as error:
        raise CliError(f"{path}: cannot be written ({error.strerror or error})") from None


def cmd_timelog(args: argparse.Namespace) -> int:
    from ccmdesk.reports.timelog import TimeLogError
    from ccmdesk.reports.timelog_load import load_time_log
    from ccmdesk.reports.timelog_pdf import render_time_log

    month = _month(args.month)
    db = _open(_database_url(args))
    try:
        log = load_time_log(db, args.mrn, month)
    except TimeLogError as error:
        raise CliError(f"timelog: {error}") from None
    finally:
        db.close()
    _emit_pdf(args.pdf, render_time_log(log))
    entries = f"{len(log.entries)} {'entry' if len(log.entries) == 1 else 'entries'}"
    _say(f"{month}: time log of {entries}, {log.minutes} countable minutes")
    return EXIT_OK


def cmd_careplan(args: argparse.Namespace) -> int:
    """Print the current care plan: the latest signed version, else the draft marked DRAFT."""
    from ccmdesk.reports.care_plan_pdf import render_care_plan
    from ccmdesk.services.care_plans import CarePlanError, printable_plan

    db = _open(_database_url(args))
    try:
        report = printable_plan(db, args.mrn)
    except CarePlanError as error:
        raise CliError(f"careplan: {error}") from None
    finally:
        db.close()
    _emit_pdf(args.pdf, render_care_plan(report))
    if report.draft:
        _say(
            f"{report.mrn}: care plan version {report.version_number} is not signed yet;"
            " printed marked DRAFT"
        )
    else:
        signed = report.signed_at.date().isoformat() if report.signed_at else ""
        _say(
            f"{report.mrn}: care plan version {report.version_number}, signed {signed}"
            f" by {report.signed_by}"
        )
    return EXIT_OK


def cmd_backup(args: argparse.Namespace) -> int:
    from ccmdesk.paths import backups_dir
    from ccmdesk.services.audit import Actor
    from ccmdesk.services.backup import BackupError, backup

    db = _open(_database_url(args))
    try:
        written = backup(db, args.file or "", backups_dir(), Actor.command_line())
    except BackupError as error:
        raise CliError(str(error)) from None
    except OSError as error:
        raise CliError(f"backup failed: {error}") from None
    finally:
        db.close()
    if written is not None:
        _say(f"backup written to {written}")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    """Check the backup, keep the current database, then write the backup into its place."""
    from ccmdesk.paths import backups_dir
    from ccmdesk.services.audit import Actor
    from ccmdesk.services.backup import BackupError
    from ccmdesk.services.restore import restore

    try:
        done = restore(_database_url(args), Path(args.file), backups_dir(), Actor.command_line())
    except BackupError as error:
        raise CliError(str(error)) from None
    except OSError as error:
        raise CliError(f"restore failed: {error}") from None
    _say(done.describe())
    return EXIT_OK


def cmd_gui(args: argparse.Namespace) -> int:
    from ccmdesk.app import run_gui

    return run_gui(_database_url(args, gui=True))


COMMANDS = {
    None: cmd_gui,
    "demo": cmd_demo,
    "import": cmd_import,
    "billing": cmd_billing,
    "careplan": cmd_careplan,
    "timelog": cmd_timelog,
    "backup": cmd_backup,
    "restore": cmd_restore,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _start_log(args.command)
    try:
        return COMMANDS[args.command](args)
    except CliError as error:
        _say(f"ccmdesk: {error}")
    except KeyboardInterrupt:
        _say("ccmdesk: interrupted")
        return 130
    except Exception as error:
        if os.environ.get("CCMDESK_DEBUG"):
            raise
        from ccmdesk.storage.database import DatabaseError

        if isinstance(error, DatabaseError):
            _say(f"ccmdesk: {error}")
        else:
            logging.getLogger("ccmdesk.cli").error("%s failed", args.command, exc_info=True)
            _say(f"ccmdesk: unexpected error: {type(error).__name__}: {error}")
    return EXIT_FAILED


def _start_log(command: str | None) -> None:
    """The log file (ccmdesk/logs.py); only the command's name, never its arguments (an MRN)."""
    from ccmdesk.logs import setup_logging

    setup_logging()
    logging.getLogger("ccmdesk.cli").info("ccmdesk %s: %s", __version__, command or "window")
