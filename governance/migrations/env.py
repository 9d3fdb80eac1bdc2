"""Alembic environment: runs on the connection `governance.db.migrate` passes in."""

from __future__ import annotations

from alembic import context

from governance.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
