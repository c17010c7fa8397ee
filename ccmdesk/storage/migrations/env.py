"""Alembic environment: ccmdesk always passes an open connection in.

Migrations run in-process from :mod:`ccmdesk.storage.migrate`; there is no
``alembic.ini``.  ``render_as_batch`` lets later migrations alter tables on
SQLite, which cannot ``ALTER`` most things in place.
"""

from __future__ import annotations

from alembic import context

from ccmdesk.storage.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
