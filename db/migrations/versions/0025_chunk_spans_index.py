"""Chunks are found by video and time from an index alone (`ix_transcript_chunks_video_span`).

A question maps each of its 100 nearest sentences, and each of its 100 best sentences by keywords,
to the spoken chunks holding its middle. Through the `video_id` index each lookup read every chunk
row of the video from the table (rows of about 2 kB since revision 0023 keeps vectors inline):
~5 ms of a small group's question at 1M chunks. This index holds what those lookups read (video,
model, kind, start and end, id), in start order, so they are index-only scans. It also serves
every lookup by video, so the `video_id` index it replaces is dropped.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_transcript_chunks_video_span ON transcript_chunks "
               "(video_id, embedding_model, kind, start_time) INCLUDE (end_time, id)")
    op.drop_index("ix_transcript_chunks_video_id", table_name="transcript_chunks")


def downgrade() -> None:
    op.create_index("ix_transcript_chunks_video_id", "transcript_chunks", ["video_id"])
    op.drop_index("ix_transcript_chunks_video_span", table_name="transcript_chunks")
