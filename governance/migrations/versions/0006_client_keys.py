"""banks' and providers' own keys, and idempotent answers (issue 17)

``client_keys``: the public JWKs a client registered (``private_key_jwt``: the gateway stores
no secret of a bank or provider), each with the time it was added and retired, so a
signature can be checked later against the key registered at that time; at most two are
active at once, so a new key overlaps the old one during a rotation.

``idempotent_answers``: the signed answer to a ``POST /v1/scores`` or ``POST
/v1/aggregates`` that carried an ``Idempotency-Key``, kept for the key's window so a retry
gets the same answer and spends nothing again.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "client_id",
            sa.String(length=40),
            sa.ForeignKey("clients.client_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("kid", sa.String(length=128), nullable=False),
        sa.Column("thumbprint", sa.String(length=64), nullable=False),
        sa.Column("jwk", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("client_id", "thumbprint"),
    )
    op.create_table(
        "idempotent_answers",
        sa.Column("client_id", sa.String(length=40), primary_key=True),
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("result_digest", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("idempotent_answers")
    op.drop_table("client_keys")
