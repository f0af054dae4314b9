"""BM25's postings per video: each (video, lexeme) row of `keyword_terms` also lists the documents
that hold the lexeme, how often, and how long each document is.

Until now the keyword side found the documents holding a question's words by reading the search
vector of every chunk and sentence of a small scope, or through the GIN index of the whole table for
a large one, and read each match's vector again for its term frequencies: for a 30-video group in a
1,000,000-chunk table that was ~60 of its ~130 ms, and for a whole library the GIN scans' posting
lists came off disk (BENCHMARKS.md). The rows it already reads for document frequencies now carry
the postings, so a question reads a few rows per video and word and never a search vector.

Inserts append to the arrays; deletes and updates (a rename rewrites every chunk of the video, a
model change) recount the touched videos from the table, in the same statement-level trigger
(revision 0015), so every writer keeps them exact. Existing rows are recounted once here.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_TABLES = ("transcript_chunks", "transcript_sentences")

# One (video, model, lexeme) row from a set of documents `x` (a table or a transition table).
_POSTINGS = """
    SELECT {kind}, x.embedding_model, t.lexeme, x.video_id, count(*),
           array_agg(x.id ORDER BY x.id), array_agg(coalesce(cardinality(t.positions), 0) ORDER BY x.id),
           array_agg(length(x.search_vector) ORDER BY x.id)
      FROM {source} x CROSS JOIN LATERAL unnest(x.search_vector) t
"""
_COLUMNS = "(kind, embedding_model, lexeme, video_id, documents, document_ids, term_counts, document_lengths)"

_TRACK = f"""
CREATE OR REPLACE FUNCTION keyword_stats_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched text := CASE TG_OP WHEN 'UPDATE' THEN
                        'SELECT video_id, embedding_model FROM old_rows UNION SELECT video_id, embedding_model FROM new_rows'
                    WHEN 'DELETE' THEN 'SELECT DISTINCT video_id, embedding_model FROM old_rows'
                    ELSE 'SELECT DISTINCT video_id, embedding_model FROM new_rows' END;
BEGIN
    -- One writer of a video's postings at a time: a recount reads the table, and documents another
    -- transaction is adding meanwhile would be lost. A row lock on each touched video (NO KEY
    -- UPDATE: the inserts' foreign-key checks hold KEY SHARE on it, which this does not wait for),
    -- held to commit; the product's writers hold a stronger one already. A video deleted in this
    -- transaction is not seen and needs none.
    EXECUTE format('SELECT 1 FROM videos WHERE id IN (SELECT video_id FROM (%s) t) ORDER BY id FOR NO KEY UPDATE',
                   touched);
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE keyword_stats s
           SET documents = s.documents - o.documents, total_length = s.total_length - o.total_length
          FROM (SELECT video_id, embedding_model, count(*) AS documents,
                       coalesce(sum(length(search_vector)), 0) AS total_length
                  FROM old_rows GROUP BY video_id, embedding_model) o
         WHERE s.video_id = o.video_id AND s.embedding_model = o.embedding_model AND s.kind = TG_TABLE_NAME;
        -- The touched videos' postings, recounted from what the table now holds.
        EXECUTE format('DELETE FROM keyword_terms k USING (%s) o
                         WHERE k.kind = %L AND k.video_id = o.video_id AND k.embedding_model = o.embedding_model',
                       touched, TG_TABLE_NAME);
        EXECUTE format('INSERT INTO keyword_terms {_COLUMNS} {_POSTINGS.format(kind="%L", source="%I")}
                         WHERE x.video_id IN (SELECT video_id FROM (%s) v)
                           AND (x.video_id, x.embedding_model) IN (%s)
                         GROUP BY x.embedding_model, t.lexeme, x.video_id',
                       TG_TABLE_NAME, TG_TABLE_NAME, touched, touched);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO keyword_stats AS s (video_id, embedding_model, kind, documents, total_length)
        SELECT video_id, embedding_model, TG_TABLE_NAME, count(*), coalesce(sum(length(search_vector)), 0)
          FROM new_rows GROUP BY video_id, embedding_model
        ON CONFLICT (video_id, embedding_model, kind) DO UPDATE
           SET documents = s.documents + excluded.documents, total_length = s.total_length + excluded.total_length;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO keyword_terms AS k {_COLUMNS} {_POSTINGS.format(kind="TG_TABLE_NAME", source="new_rows")}
         GROUP BY x.embedding_model, t.lexeme, x.video_id
        ON CONFLICT (kind, embedding_model, lexeme, video_id) DO UPDATE
           SET documents = k.documents + excluded.documents, document_ids = k.document_ids || excluded.document_ids,
               term_counts = k.term_counts || excluded.term_counts,
               document_lengths = k.document_lengths || excluded.document_lengths;
    END IF;
    RETURN NULL;
END
$$
"""

def _revision_0015_track() -> str:
    """Revision 0015's function, for the way back (read from that revision, not copied here)."""
    path = Path(__file__).with_name("0015_keyword_stats.py")
    spec = importlib.util.spec_from_file_location("revision_0015", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._TRACK.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def upgrade() -> None:
    for column, item in (("document_ids", sa.BigInteger()), ("term_counts", sa.Integer()),
                         ("document_lengths", sa.Integer())):
        op.add_column("keyword_terms", sa.Column(column, ARRAY(item), nullable=False, server_default="{}"))
    op.execute(_TRACK)
    op.execute("TRUNCATE keyword_terms")
    for table in _TABLES:
        op.execute(f"INSERT INTO keyword_terms {_COLUMNS} {_POSTINGS.format(kind=repr(table), source=table)}"
                   " GROUP BY x.embedding_model, t.lexeme, x.video_id")


def downgrade() -> None:
    op.execute(_revision_0015_track())
    for column in ("document_ids", "term_counts", "document_lengths"):
        op.drop_column("keyword_terms", column)
