"""providers sign their credit repairs (issue 18): the repair's signed statement

``repairs.attestation``: the provider's signed statement of its filing or decision
(`governance.repair_signatures`), its detached JWS and the key's id, as JSON, kept for
auditors.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("repairs", sa.Column("attestation", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("repairs", "attestation")
