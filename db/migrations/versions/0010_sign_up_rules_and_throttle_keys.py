"""Sign-in failures counted per account and per client address; invitations to sign up.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sign_in_failures", sa.Column("user_id", sa.BigInteger(), nullable=True))
    op.add_column("sign_in_failures", sa.Column("address", sa.String(64), nullable=True))
    op.create_foreign_key("sign_in_failures_user_id_fkey", "sign_in_failures", "users", ["user_id"], ["id"],
                          ondelete="CASCADE")
    op.create_index("ix_sign_in_failures_user_at", "sign_in_failures", ["user_id", "failed_at"])
    op.create_index("ix_sign_in_failures_address_at", "sign_in_failures", ["address", "failed_at"])

    op.create_table(
        "invitations",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("created_by_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_invitations_created_by_id", "invitations", ["created_by_id"])


def downgrade() -> None:
    op.drop_index("ix_invitations_created_by_id", table_name="invitations")
    op.drop_table("invitations")
    op.drop_index("ix_sign_in_failures_address_at", table_name="sign_in_failures")
    op.drop_index("ix_sign_in_failures_user_at", table_name="sign_in_failures")
    op.drop_constraint("sign_in_failures_user_id_fkey", "sign_in_failures", type_="foreignkey")
    op.drop_column("sign_in_failures", "address")
    op.drop_column("sign_in_failures", "user_id")
