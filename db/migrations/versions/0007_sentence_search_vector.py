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
    # Generated, like the chunks' vector, so it can never drift from the text.
    op.add_column(
        "transcript_sentences",
        sa.Column("search_vector", TSVECTOR(), sa.Computed("to_tsvector('english', text)", persisted=True)),
    )
    op.create_index("ix_transcript_sentences_search", "transcript_sentences", ["search_vector"],
                    postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_transcript_sentences_search", table_name="transcript_sentences")
    op.drop_column("transcript_sentences", "search_vector")
