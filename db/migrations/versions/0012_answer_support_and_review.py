"""Answers a team can trust. A user may allow the extra model calls that check claims or re-rank;
each chat log keeps how well its claims are backed by their sources and a reviewer's pass over
it; reviewers pin the moment that answers a question, and each group's pinned questions are
checked against retrieval, run by run.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("check_claims_with_model", sa.Boolean(), server_default=sa.text("false"),
                                     nullable=False))
    op.add_column("users", sa.Column("rerank_with_model", sa.Boolean(), server_default=sa.text("false"),
                                     nullable=False))
    op.add_column("chat_logs", sa.Column("support_score", sa.Float(), nullable=True))
    op.add_column("chat_logs", sa.Column("claims", JSONB(), server_default="[]", nullable=False))
    op.add_column("chat_logs", sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("chat_logs", sa.Column("reviewed_by", sa.BigInteger(),
                                         sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True))
    op.add_column("chat_logs", sa.Column("review_note", sa.Text(), nullable=True))

    op.create_table(
        "regression_questions",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("group_id", sa.BigInteger(), sa.ForeignKey("video_groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("chat_log_id", sa.BigInteger(), sa.ForeignKey("chat_logs.id", ondelete="SET NULL"), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("video_id", sa.BigInteger(), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("answer_start_s", sa.Float(), nullable=False),
        sa.Column("answer_end_s", sa.Float(), nullable=False),
        sa.Column("pinned_by", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("answer_start_s >= 0 AND answer_end_s >= answer_start_s",
                           name="ck_regression_questions_times"),
        sa.UniqueConstraint("chat_log_id", name="uq_regression_questions_chat_log"),
    )
    op.create_index("ix_regression_questions_group", "regression_questions", ["group_id", "created_at"])
    op.create_index("ix_regression_questions_video_id", "regression_questions", ["video_id"])

    op.create_table(
        "regression_runs",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("group_id", sa.BigInteger(), sa.ForeignKey("video_groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("seek_at_5", sa.Float(), nullable=True),
        sa.Column("missed", JSONB(), server_default="[]", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_regression_runs_group_at", "regression_runs", ["group_id", "ran_at"])


def downgrade() -> None:
    op.drop_index("ix_regression_runs_group_at", table_name="regression_runs")
    op.drop_table("regression_runs")
    op.drop_index("ix_regression_questions_video_id", table_name="regression_questions")
    op.drop_index("ix_regression_questions_group", table_name="regression_questions")
    op.drop_table("regression_questions")
    for column in ("review_note", "reviewed_by", "reviewed_at", "claims", "support_score"):
        op.drop_column("chat_logs", column)
    op.drop_column("users", "rerank_with_model")
    op.drop_column("users", "check_claims_with_model")
