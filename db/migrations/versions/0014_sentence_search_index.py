"""A GIN index over the transcript sentences' words, for the Library's search of what is said.

The search (core/moment_search.py) matches one owner's sentences by their words across the whole
library. Measured on one owner with 1,000 videos of 300 sentences (450,000 sentences in all, two
owners): a rare word took 150-250 ms without the index, reading every sentence of the owner's and
growing with the library, and about 1 ms with it; a word in one sentence in ten 295 → 214 ms; a
word in every sentence about 450 ms either way (every match is ranked). Storing a video's 600
sentences took 13 ms instead of 12. Retrieval does not use the index: its sentence BM25 applies
`@@` only to the group's sentences already read into a materialized CTE (revision 0007 left the
index out for that query).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_transcript_sentences_search", "transcript_sentences", ["search_vector"],
                    postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_transcript_sentences_search", table_name="transcript_sentences")
