"""Failed sign-ins, so repeated password guesses against one account are slowed down.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("login", sa.String(320), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_sign_in_failures_login_at", "sign_in_failures", ["login", "failed_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_failures_login_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
