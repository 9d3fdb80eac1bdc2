"""residents' rights (issue 18, parts 1, 3 and 4): statements on negative records, reviews of
automated decisions, banks' attestations of a human decision, credit reports issued

``record_statements``: a resident's explanation kept with a negative record (named by its
table, contribution and leaf index, and its digest; never its content), with the short form
returned to banks. ``score_reviews``: a request for an explanation and a human review, the
score when it was asked, the clock (``due_at``) and the officer's outcome.
``decision_attestations``: a bank's attestation that a human took part in its decision, bound
to the score's audit entry. ``report_issues``: each credit report issued, numbered within the
resident's year (two free a year).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "record_statements",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("subject", sa.String(length=64), nullable=False, index=True),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("contribution_id", sa.String(length=40), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("row_digest", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("short", sa.String(length=80), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("withdrawn_at", _TIME, nullable=True),
    )
    op.create_table(
        "score_reviews",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("subject", sa.String(length=64), nullable=False, index=True),
        sa.Column("ask", sa.String(length=1000), nullable=False),
        sa.Column("score", sa.JSON(), nullable=False),
        sa.Column("requested_at", _TIME, nullable=False),
        sa.Column("due_at", _TIME, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False, index=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("dispute", sa.String(length=40), nullable=True),
        sa.Column("officer_id", sa.String(length=40), nullable=True),
        sa.Column("decided_at", _TIME, nullable=True),
    )
    op.create_table(
        "decision_attestations",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("bank_id", sa.String(length=40), nullable=False, index=True),
        sa.Column("audit_index", sa.Integer(), nullable=False, unique=True),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False, index=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reviewer_role", sa.String(length=32), nullable=False),
        sa.Column("decided_at", _TIME, nullable=False),
        sa.Column("recorded_at", _TIME, nullable=False),
    )
    op.create_table(
        "report_issues",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("subject", sa.String(length=64), nullable=False, index=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("free", sa.Boolean(), nullable=False),
        sa.Column("form", sa.String(length=8), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("issued_at", _TIME, nullable=False),
        sa.UniqueConstraint("subject", "year", "number"),
    )


def downgrade() -> None:
    for table in ("report_issues", "decision_attestations", "score_reviews", "record_statements"):
        op.drop_table(table)
