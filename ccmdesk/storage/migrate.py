"""Apply the shipped Alembic migrations to an open connection."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _config(connection: Connection | None = None):  # -> alembic.config.Config
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


_REVISION = re.compile(r"^revision\s*=\s*[\"'](\w+)[\"']", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*=\s*(?:None|[\"'](\w+)[\"'])", re.MULTILINE)


def known_revisions() -> list[str]:
    """Every revision this version of ccmdesk ships, oldest first.

    Read from the migration files' ``revision``/``down_revision`` lines rather
    than through Alembic: importing Alembic costs a quarter of a second that
    start-up need not pay when the database is already current.
    ``tests/storage/test_database.py`` checks this agrees with Alembic.
    """
    parents: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text), _DOWN.search(text)
        if revision is None or down is None:
            raise RuntimeError(f"{path.name} is not a migration")
        parents[revision[1]] = down[1]
    children = {parent: child for child, parent in parents.items()}
    order: list[str] = []
    current: str | None = None
    while current in children:
        current = children[current]
        order.append(current)
    if len(order) != len(parents):
        raise RuntimeError("the shipped migrations do not form a single line")
    return order


def head_revision() -> str:
    return known_revisions()[-1]


def upgrade(connection: Connection, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(_config(connection), revision)
