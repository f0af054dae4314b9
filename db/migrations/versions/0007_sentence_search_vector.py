"""A full-text vector per transcript sentence, for keyword matching at the sentence the answer is in.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Generated, like the chunks' vector, so it can never drift from the text. No GIN index:
    # sentence BM25 reads the group's sentences through video_id (it needs their lengths anyway),
    # and a table-wide index only cost ingestion time and misled the planner.
    op.add_column(
        "transcript_sentences",
        sa.Column("search_vector", TSVECTOR(), sa.Computed("to_tsvector('english', text)", persisted=True)),
    )


def downgrade() -> None:
    op.drop_column("transcript_sentences", "search_vector")
