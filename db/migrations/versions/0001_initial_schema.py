"""Initial schema: users, videos, groups and their members, chat logs, the chunk vector store.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("username", sa.String(150), nullable=False, unique=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("password", sa.String(255), nullable=False),
        sa.Column("encrypted_openai_api_key", sa.Text()),
        sa.Column("video_limit", sa.Integer(), nullable=False),
        sa.Column("date_joined", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("last_login", sa.DateTime(timezone=True)),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_staff", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_superuser", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("first_name", sa.String(150), server_default="", nullable=False),
        sa.Column("last_name", sa.String(150), server_default="", nullable=False),
        sa.CheckConstraint("video_limit > 0", name="ck_users_video_limit_positive"),
    )
    op.create_table(
        "videos",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("file", sa.String(500)),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("transcript", sa.Text()),
        sa.Column("status", sa.String(20), server_default="pending", nullable=False),
        sa.Column("error_message", sa.Text()),
        sa.Column("is_external_upload", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'error')", name="ck_videos_status"
        ),
    )
    op.create_index(
        "ix_videos_user_uploaded_at", "videos", ["user_id", sa.literal_column("uploaded_at DESC")]
    )
    op.create_table(
        "video_groups",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("share_token", sa.String(100), unique=True),
    )
    op.create_index("ix_video_groups_created_at", "video_groups", ["created_at"])
    op.create_index("ix_video_groups_user_id", "video_groups", ["user_id"])
    op.create_table(
        "video_group_members",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "group_id", sa.BigInteger(), sa.ForeignKey("video_groups.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("video_id", sa.BigInteger(), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("order", sa.Integer(), server_default="0", nullable=False),
        sa.UniqueConstraint("group_id", "video_id", name="uq_video_group_members_group_video"),
    )
    op.create_index(
        "ix_video_group_members_group_order", "video_group_members", ["group_id", "order", "added_at"]
    )
    op.create_index("ix_video_group_members_video_id", "video_group_members", ["video_id"])
    op.create_table(
        "chat_logs",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "group_id", sa.BigInteger(), sa.ForeignKey("video_groups.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("related_videos", postgresql.JSONB(), server_default="[]", nullable=False),
        sa.Column("is_shared_origin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("feedback", sa.String(4)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("feedback IS NULL OR feedback IN ('good', 'bad')", name="ck_chat_logs_feedback"),
    )
    op.create_index("ix_chat_logs_created_at", "chat_logs", ["created_at"])
    op.create_index("ix_chat_logs_group_id", "chat_logs", ["group_id"])
    op.create_index("ix_chat_logs_user_id", "chat_logs", ["user_id"])
    op.create_table(
        "transcript_chunks",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("video_id", sa.BigInteger(), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("video_title", sa.String(500), nullable=False),
        sa.Column("chunk_index", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("start_time", sa.Float(), nullable=False),
        sa.Column("end_time", sa.Float(), nullable=False),
        sa.Column("embedding", Vector(384), nullable=False),
        sa.Column("embedding_model", sa.String(200), nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english', coalesce(video_title, '') || ' ' || text)", persisted=True),
            nullable=False,
        ),
        sa.CheckConstraint("start_time >= 0 AND end_time >= start_time", name="ck_transcript_chunks_times"),
        sa.UniqueConstraint("video_id", "embedding_model", "chunk_index", name="uq_transcript_chunks_position"),
    )
    # Cosine ops to match the `<=>` operator retrieval orders by.
    op.create_index(
        "ix_transcript_chunks_embedding_hnsw",
        "transcript_chunks",
        ["embedding"],
        postgresql_using="hnsw",
        postgresql_with={"m": 16, "ef_construction": 64},
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.create_index("ix_transcript_chunks_search", "transcript_chunks", ["search_vector"], postgresql_using="gin")
    op.create_index("ix_transcript_chunks_user_id", "transcript_chunks", ["user_id"])
    op.create_index("ix_transcript_chunks_video_id", "transcript_chunks", ["video_id"])


def downgrade() -> None:
    for table in ("transcript_chunks", "chat_logs", "video_group_members", "video_groups", "videos", "users"):
        op.drop_table(table)
    # The vector extension stays: other databases objects may use it and dropping it needs ownership.
