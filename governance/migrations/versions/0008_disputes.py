"""disputes and credit repair (issue 18, parts 2 and 5): residents' disputes of records or
scores with their 20-day clock, the anchored dispute log, and repairs of records

``disputes``: the dispute, its sealed reason and attachment, its clock, escalation and answer.
``dispute_events``: the append-only dispute log whose roots are anchored. ``repairs``:
repairs applied for by residents (decided by providers) or filed by providers.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "disputes",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("subject", sa.String(64), nullable=False, index=True),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("provider", sa.String(40), nullable=True, index=True),
        sa.Column("table_name", sa.String(40), nullable=True),
        sa.Column("contribution_id", sa.String(40), nullable=True),
        sa.Column("row_no", sa.Integer(), nullable=True),
        sa.Column("row_digest", sa.String(64), nullable=True),
        sa.Column("record_key", sa.String(64), nullable=True),
        sa.Column("reason", sa.LargeBinary(), nullable=False),
        sa.Column("content_digest", sa.String(64), nullable=False),
        sa.Column("attachment", sa.LargeBinary(), nullable=True),
        sa.Column("attachment_name", sa.String(128), nullable=True),
        sa.Column("attachment_type", sa.String(64), nullable=True),
        sa.Column("attachment_size", sa.Integer(), nullable=True),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("due_at", _TIME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("escalated_at", _TIME, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("note", sa.LargeBinary(), nullable=True),
        sa.Column("answered_at", _TIME, nullable=True),
        sa.Column("answered_by", sa.String(40), nullable=True),
        sa.Column("correction", sa.String(40), nullable=True),
    )
    op.create_table(
        "dispute_events",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("dispute_id", sa.String(40), nullable=False, index=True),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.String(64), nullable=False),
        sa.Column("anchor", sa.String(128), nullable=True),
        sa.Column("at", _TIME, nullable=False),
    )
    op.create_table(
        "repairs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("origin", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False, index=True),
        sa.Column("provider", sa.String(40), nullable=False, index=True),
        sa.Column("table_name", sa.String(40), nullable=False),
        sa.Column("contribution_id", sa.String(40), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("row_digest", sa.String(64), nullable=False),
        sa.Column("record_key", sa.String(64), nullable=False),
        sa.Column("reason", sa.LargeBinary(), nullable=True),
        sa.Column("applied_at", _TIME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("decided_at", _TIME, nullable=True),
        sa.Column("decided_by", sa.String(40), nullable=True),
        sa.Column("note", sa.LargeBinary(), nullable=True),
        sa.Column("repaired_on", sa.Date(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("repairs")
    op.drop_table("dispute_events")
    op.drop_table("disputes")
