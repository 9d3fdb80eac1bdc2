"""residents' identity: the link from an IdP's pairwise subject to the resident's pseudonym,
and the IdP-signed evidence kept with every consent event (issue 14)

A resident signs in at the authority's OpenID Connect provider; the first identifying sign-in
releases the ID number once, which is pseudonymised at once and linked to the IdP's pairwise
``sub`` (never stored raw). Each consent grant or withdrawal keeps the ID token of the fresh
sign-in for exactly its terms; the consent log's entry binds its digest.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resident_links",
        sa.Column("issuer", sa.String(length=256), primary_key=True),
        sa.Column("sub", sa.String(length=256), primary_key=True),
        sa.Column("subject", sa.String(length=64), nullable=False, index=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("consent_events") as batch:
        batch.add_column(sa.Column("evidence", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_events") as batch:
        batch.drop_column("evidence")
    op.drop_table("resident_links")
