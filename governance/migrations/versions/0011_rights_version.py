"""residents' statements and reviews raise a version too (issue 16 §2)

The answer path keeps which residents have active statements or an open review
(`governance.rights_state`); several answer workers compare that snapshot with the ``rights``
row of ``control_versions``. On PostgreSQL a statement-level trigger on ``record_statements``
and ``score_reviews`` raises it in the transaction of every change, whichever use case makes
it. (SQLite: one process, which drops its snapshot after each change it commits.)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = ("record_statements", "score_reviews")


def upgrade() -> None:
    op.execute(sa.text("INSERT INTO control_versions (name, version) VALUES ('rights', 0)"))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(sa.text("""
        CREATE FUNCTION dexin_bump_rights() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE control_versions SET version = version + 1 WHERE name = 'rights';
            RETURN NULL;
        END $$"""))  # fmt: skip
    for table in TABLES:
        op.execute(sa.text(f"""
            CREATE TRIGGER {table}_rights_version AFTER INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION dexin_bump_rights()"""))  # fmt: skip


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(sa.text(f"DROP TRIGGER {table}_rights_version ON {table}"))
        op.execute(sa.text("DROP FUNCTION dexin_bump_rights()"))
    op.execute(sa.text("DELETE FROM control_versions WHERE name = 'rights'"))
