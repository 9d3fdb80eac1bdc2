"""consents name the computations they cover (issue 13, finding 1)

A consent used to name only a bank and a purpose, so one member's consent also unlocked the
household score computed over every adult of the household. `covers` lists the catalogue's
computation ids the resident chose when granting.

Consents granted before this revision named no computation; they are read as covering the
person-level computations only (the narrowest reading: the resident consented to their own
score, never to a score computed over their household's members).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The person-unit computations of the catalogue when this revision was written; a migration
# must not read the live catalogue, which may have changed since.
PERSON_LEVEL = ["dimension_profile", "morality_credit_score"]


def upgrade() -> None:
    with op.batch_alter_table("consents") as batch:
        batch.add_column(sa.Column("covers", sa.JSON(), nullable=True))
    consents = sa.table("consents", sa.column("covers", sa.JSON()))
    op.execute(consents.update().values(covers=PERSON_LEVEL))
    with op.batch_alter_table("consents") as batch:
        batch.alter_column("covers", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("consents") as batch:
        batch.drop_column("covers")
