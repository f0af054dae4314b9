"""Transcript vectors are kept inside their rows (storage MAIN), not out of line in TOAST.

pgvector's `vector` type defaults to EXTERNAL storage: a chunk row (its text, search vector and
1,540-byte vector) is over PostgreSQL's 2 kB row target, so the vector, its largest value, went
out of line, and every exact scan of a scope fetched each vector through the TOAST table's index:
3,000 chunk vectors took 9-11 ms to rank, 2.2 ms when inline (bench/vector_storage.py,
BENCHMARKS.md). With MAIN the text and search vector are compressed or moved out instead; since
revision 0022 no question reads a search vector, and a question reads the text of its few
hundred candidates only.

Only the storage rule changes: rows written from now on (new videos, re-indexed ones) keep their
vector inline; existing rows keep theirs where they are until rewritten (`VACUUM FULL` on the two
tables in a maintenance window, or a re-index), so the upgrade is instant at any size.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_TABLES = ("transcript_chunks", "transcript_sentences")


def upgrade() -> None:
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN embedding SET STORAGE MAIN")


def downgrade() -> None:
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN embedding SET STORAGE EXTERNAL")
