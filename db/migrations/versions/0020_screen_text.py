"""What the video shows: text read from the picture becomes searchable passages.

A screen passage is a `transcript_chunks` row of kind 'screen' (spoken ones are 'speech'), so the
same SQL searches both by vector and BM25 and the keyword statistics count it; it carries a small
picture of its frame. Chunk positions are numbered per kind. A video can be told not to read its
screen (`videos.read_screen_text`), and one that says nothing but shows text becomes ready with
its screen text (`transcript_source` 'screen_text').

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_SOURCES = ("captions", "remote_captions", "remote_auto_captions", "local_whisper", "openai_whisper")


def _sources(values: tuple[str, ...]) -> str:
    return "transcript_source IS NULL OR transcript_source IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.add_column("transcript_chunks", sa.Column("kind", sa.String(10), server_default="speech", nullable=False))
    op.add_column("transcript_chunks", sa.Column("thumbnail", sa.String(500)))
    op.create_check_constraint("ck_transcript_chunks_kind", "transcript_chunks", "kind IN ('speech', 'screen')")
    op.drop_constraint("uq_transcript_chunks_position", "transcript_chunks", type_="unique")
    op.create_unique_constraint("uq_transcript_chunks_position", "transcript_chunks",
                                ["video_id", "embedding_model", "kind", "chunk_index"])
    op.add_column("videos", sa.Column("read_screen_text", sa.Boolean(), server_default=sa.text("true"), nullable=False))
    op.drop_constraint("ck_videos_transcript_source", "videos", type_="check")
    op.create_check_constraint("ck_videos_transcript_source", "videos", _sources((*_SOURCES, "screen_text")))


def downgrade() -> None:
    op.execute("UPDATE videos SET transcript_source = NULL WHERE transcript_source = 'screen_text'")
    op.drop_constraint("ck_videos_transcript_source", "videos", type_="check")
    op.create_check_constraint("ck_videos_transcript_source", "videos", _sources(_SOURCES))
    op.drop_column("videos", "read_screen_text")
    op.execute("DELETE FROM transcript_chunks WHERE kind = 'screen'")
    op.drop_constraint("uq_transcript_chunks_position", "transcript_chunks", type_="unique")
    op.create_unique_constraint("uq_transcript_chunks_position", "transcript_chunks",
                                ["video_id", "embedding_model", "chunk_index"])
    op.drop_column("transcript_chunks", "thumbnail")
    op.drop_column("transcript_chunks", "kind")
