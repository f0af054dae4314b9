"""Ingestion: a video's origin, media facts, transcript source and segments, live progress.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = [
    sa.Column("source", sa.String(10), server_default="upload", nullable=False),
    sa.Column("source_url", sa.String(2000)),
    sa.Column("external_id", sa.String(200)),
    sa.Column("extractor", sa.String(100)),
    sa.Column("original_filename", sa.String(500)),
    sa.Column("sha256", sa.String(64)),
    sa.Column("file_size", sa.BigInteger()),
    sa.Column("captions_file", sa.String(500)),
    sa.Column("thumbnail", sa.String(500)),
    sa.Column("thumbnail_url", sa.String(2000)),
    sa.Column("channel", sa.String(300)),
    sa.Column("published_on", sa.Date()),
    sa.Column("duration_s", sa.Float()),
    sa.Column("width", sa.Integer()),
    sa.Column("height", sa.Integer()),
    sa.Column("language", sa.String(20)),
    sa.Column("transcript_source", sa.String(30)),
    sa.Column("transcript_segments", postgresql.JSONB()),
    sa.Column("progress", sa.SmallInteger(), server_default="0", nullable=False),
    sa.Column("current_step", sa.String(40)),
    sa.Column("processing_started_at", sa.DateTime(timezone=True)),
    sa.Column("processing_finished_at", sa.DateTime(timezone=True)),
]


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("videos", column)
    op.create_check_constraint("ck_videos_source", "videos", "source IN ('upload', 'url')")
    op.create_check_constraint(
        "ck_videos_transcript_source",
        "videos",
        "transcript_source IS NULL OR transcript_source IN "
        "('captions', 'remote_captions', 'remote_auto_captions', 'local_whisper', 'openai_whisper')",
    )
    op.create_check_constraint("ck_videos_progress", "videos", "progress BETWEEN 0 AND 100")
    op.create_index(
        "uq_videos_user_sha256", "videos", ["user_id", "sha256"], unique=True,
        postgresql_where=sa.text("sha256 IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_videos_user_sha256", table_name="videos")
    for name in ("ck_videos_progress", "ck_videos_transcript_source", "ck_videos_source"):
        op.drop_constraint(name, "videos", type_="check")
    for column in reversed(COLUMNS):
        op.drop_column("videos", column.name)
