"""Video intelligence: chapters, cached summaries, clips, comments and content templates.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger(), primary_key=True)


def _fk(name: str, target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> sa.Column:
    return sa.Column(name, sa.BigInteger(), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)


def _stamp(name: str, *, nullable: bool = False, default: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()") if default else None,
                     nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "chapters",
        _id(),
        _fk("video_id", "videos.id"),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), server_default="1", nullable=False),
        sa.Column("is_generated", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.CheckConstraint("start_s >= 0 AND end_s > start_s", name="ck_chapters_times"),
        sa.CheckConstraint("confidence BETWEEN 0 AND 1", name="ck_chapters_confidence"),
        sa.UniqueConstraint("video_id", "order", name="uq_chapters_video_order", deferrable=True,
                            initially="DEFERRED"),
    )
    op.create_table(
        "summaries",
        _id(),
        _fk("user_id", "users.id"),
        _fk("video_id", "videos.id", nullable=True),
        _fk("group_id", "video_groups.id", nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("citations", postgresql.JSONB(), server_default="[]", nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        _stamp("created_at"),
        sa.CheckConstraint("(video_id IS NULL) <> (group_id IS NULL)", name="ck_summaries_one_target"),
        sa.CheckConstraint("method IN ('model', 'extractive')", name="ck_summaries_method"),
    )
    op.create_index("ix_summaries_user_id", "summaries", ["user_id"])
    op.create_index("uq_summaries_video", "summaries", ["video_id"], unique=True,
                    postgresql_where=sa.text("video_id IS NOT NULL"))
    op.create_index("uq_summaries_group", "summaries", ["group_id"], unique=True,
                    postgresql_where=sa.text("group_id IS NOT NULL"))
    op.create_table(
        "clips",
        _id(),
        _fk("user_id", "users.id"),
        _fk("video_id", "videos.id"),
        sa.Column("clip_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("file", sa.String(500)),
        sa.Column("file_size", sa.BigInteger()),
        sa.Column("status", sa.String(20), server_default="pending", nullable=False),
        sa.Column("error_message", sa.Text()),
        _stamp("created_at"),
        _stamp("finished_at", nullable=True, default=False),
        sa.CheckConstraint("start_s >= 0 AND end_s > start_s", name="ck_clips_times"),
        sa.CheckConstraint("status IN ('pending', 'processing', 'completed', 'error')", name="ck_clips_status"),
    )
    op.create_index("ix_clips_user_id", "clips", ["user_id"])
    op.create_index("ix_clips_video_id", "clips", ["video_id"])
    op.create_table(
        "comments",
        _id(),
        _fk("video_id", "videos.id"),
        _fk("user_id", "users.id"),
        _fk("parent_id", "comments.id", nullable=True),
        _fk("chapter_id", "chapters.id", nullable=True, ondelete="SET NULL"),
        sa.Column("at_s", sa.Float()),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        _stamp("created_at"),
        _stamp("edited_at", nullable=True, default=False),
        sa.CheckConstraint("char_length(text) <= 2000", name="ck_comments_text_length"),
        sa.CheckConstraint("at_s IS NULL OR at_s >= 0", name="ck_comments_at"),
    )
    op.create_index("ix_comments_video_created", "comments", ["video_id", "created_at"])
    op.create_index("ix_comments_user_id", "comments", ["user_id"])
    op.create_index("ix_comments_parent_id", "comments", ["parent_id"])
    op.create_table(
        "content_templates",
        _id(),
        _fk("user_id", "users.id"),
        sa.Column("content_type", sa.String(50), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.UniqueConstraint("user_id", "content_type", name="uq_content_templates_user_type"),
    )


def downgrade() -> None:
    for table in ("content_templates", "comments", "clips", "summaries", "chapters"):
        op.drop_table(table)
