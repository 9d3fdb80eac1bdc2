"""console sign-in failures shared by every gateway process (issue 16 §2)

``login_failures``: the consecutive failures of a client address or of a user name that has
no account (`governance.login_guard.Failures`), as a SHA-256 digest, so the backoff and the
lockout of unknown names hold across processes as a real account's (kept in the accounts
file) does.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last", sa.Float(), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("login_failures")
