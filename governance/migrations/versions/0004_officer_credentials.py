"""officers' passkeys: enrolment invites, credentials, WebAuthn ceremonies (issue 14)

An officer's votes were signed by a ledger key the gateway held; from here on every
decision carries the officer's own WebAuthn assertion, verified against the credential
registered here and on the ledger. Existing officers have no credential: an admin invites
each of them (`dexin admin invite-officer`) to enrol a passkey or an officer-held key.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "officer_invites",
        sa.Column("token_hash", sa.String(length=64), primary_key=True),
        sa.Column(
            "officer_id",
            sa.String(length=40),
            sa.ForeignKey("clients.client_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("invited_by", sa.String(length=40), nullable=False),
        _time("created_at"),
        _time("expires_at"),
        _time("used_at", nullable=True),
    )
    op.create_table(
        "officer_credentials",
        sa.Column("credential_id", sa.String(length=1400), primary_key=True),
        sa.Column(
            "officer_id",
            sa.String(length=40),
            sa.ForeignKey("clients.client_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("public_key", sa.String(length=512), nullable=False),
        sa.Column("rp_id", sa.String(length=255), nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("invited_by", sa.String(length=40), nullable=False),
        sa.Column("ledger_tx", sa.String(length=80), nullable=False),
        _time("created_at"),
        _time("revoked_at", nullable=True),
    )
    op.create_table(
        "passkey_challenges",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("challenge", sa.String(length=128), nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=False),
        _time("expires_at"),
    )


def downgrade() -> None:
    op.drop_table("passkey_challenges")
    op.drop_table("officer_credentials")
    op.drop_table("officer_invites")
