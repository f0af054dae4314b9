"""Transcript sentences with their own vectors, for citing the sentence that answers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transcript_sentences",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("video_id", sa.BigInteger(), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sentence_index", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.Float(), nullable=False),
        sa.Column("end_time", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("embedding", Vector(384), nullable=False),
        sa.Column("embedding_model", sa.String(200), nullable=False),
        sa.CheckConstraint("start_time >= 0 AND end_time >= start_time", name="ck_transcript_sentences_times"),
        sa.UniqueConstraint("video_id", "embedding_model", "sentence_index",
                            name="uq_transcript_sentences_position"),
    )
    # Cosine ops to match the `<=>` operator retrieval orders by.
    op.create_index(
        "ix_transcript_sentences_embedding_hnsw",
        "transcript_sentences",
        ["embedding"],
        postgresql_using="hnsw",
        postgresql_with={"m": 16, "ef_construction": 64},
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.create_index("ix_transcript_sentences_video_start", "transcript_sentences", ["video_id", "start_time"])
    op.create_index("ix_transcript_sentences_user_id", "transcript_sentences", ["user_id"])


def downgrade() -> None:
    op.drop_table("transcript_sentences")
