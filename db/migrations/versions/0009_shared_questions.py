"""Questions asked through share links, counted when asked against each link's hourly limit.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shared_questions",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("group_id", sa.BigInteger(), sa.ForeignKey("video_groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_shared_questions_group_at", "shared_questions", ["group_id", "asked_at"])


def downgrade() -> None:
    op.drop_index("ix_shared_questions_group_at", table_name="shared_questions")
    op.drop_table("shared_questions")
