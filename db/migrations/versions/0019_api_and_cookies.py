"""Other tools get a way in, and the browser's JavaScript loses its way to the session token.

`access_tokens`: personal access tokens for the REST API and the MCP server (hashed, named,
scoped, expiring, revocable), with `access_token_calls` counting each token's calls per minute for
its rate limit. `spent_cookie_handoffs`: the server sets the session cookie itself (HttpOnly) from
a sealed, short-lived handoff the page posts once; a spent handoff is remembered so it cannot be
replayed.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("scope IN ('read', 'ask')", name="ck_access_tokens_scope"),
    )
    op.create_index("ix_access_tokens_user_id", "access_tokens", ["user_id"])
    op.create_table(
        "access_token_calls",
        sa.Column("token_id", sa.BigInteger(), sa.ForeignKey("access_tokens.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("minute", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("calls", sa.Integer(), nullable=False),
    )
    op.create_table(
        "spent_cookie_handoffs",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("spent_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("spent_cookie_handoffs")
    op.drop_table("access_token_calls")
    op.drop_index("ix_access_tokens_user_id", table_name="access_tokens")
    op.drop_table("access_tokens")
