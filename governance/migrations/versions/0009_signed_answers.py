"""providers sign their answers to disputes (issue 18): the answer's signed statement

``disputes.answer_attestation``: the provider's signed statement of its answer (confirm,
delete: `governance.answer_signatures`; correct: the correcting contribution's signed
statement), its detached JWS and the key's id, as JSON, kept for auditors.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("disputes", sa.Column("answer_attestation", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("disputes", "answer_attestation")
