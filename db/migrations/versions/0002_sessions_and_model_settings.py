"""Signed-in sessions (hashed tokens) and per-user model settings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    op.create_index("ix_user_sessions_expires_at", "user_sessions", ["expires_at"])
    op.add_column("users", sa.Column("openai_base_url", sa.String(500)))
    op.add_column("users", sa.Column("chat_model", sa.String(200)))
    op.add_column("users", sa.Column("embedding_model", sa.String(200)))


def downgrade() -> None:
    op.drop_column("users", "embedding_model")
    op.drop_column("users", "chat_model")
    op.drop_column("users", "openai_base_url")
    op.drop_table("user_sessions")
