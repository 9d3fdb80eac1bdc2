"""what several answer workers share (issue 16 §2): snapshot versions, used ids, rate buckets

``control_versions``: one counter per kind of snapshot the answer path keeps (``approval``,
``consent``, ``dispute``), raised in the same transaction as every change of that kind, so a
worker compares its snapshot's version with the database's before it answers from it.

``seen_once``: the identifiers used once (DPoP proofs' and client assertions' ``jti``), as
SHA-256 digests, each until the second after which it would be refused anyway.

``rate_buckets``: the rate limiter's token buckets (a digest of the client, subject or address,
the tokens left, when).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

KINDS = ("approval", "consent", "dispute")


def upgrade() -> None:
    versions = op.create_table(
        "control_versions",
        sa.Column("name", sa.String(length=16), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(versions, [{"name": kind, "version": 0} for kind in KINDS])
    op.create_table(
        "seen_once",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("until", sa.Float(), nullable=False, index=True),
    )
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_buckets")
    op.drop_table("seen_once")
    op.drop_table("control_versions")
