"""BM25's per-video statistics: each video's count of keyword documents (chunks, sentences), their
total length, and how many of them hold each lexeme, kept exact by triggers.

Retrieval's BM25 needs the scope's document count, average length and each query word's document
frequency. Until now it read every chunk and sentence of the scope for them on every question: for
"Everything" over a 1,000-video library that alone was ~0.4 s of a 1.5 s search (BENCHMARKS.md).
Summed from one row per video (and per query word), they cost the same whatever the videos'
length, and knowing each word's frequency before reading any document lets retrieval score only
the documents holding the question's rarer words when the commoner ones cannot change the top
(core/retrieval.py).

Statement-level triggers (with transition tables, so a 500-row insert is one update) keep the rows
exact whoever writes: ingestion, a rename that rewrites the chunks' titles (their search vectors
change length), a model change, a deleted video, or a benchmark's COPY. Existing rows are counted
once here.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TABLES = ("transcript_chunks", "transcript_sentences")

# One function serves both tables and all three events: TG_TABLE_NAME is the kind, and each branch
# reads only the transition table its event has.
_TRACK = """
CREATE FUNCTION keyword_stats_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE keyword_stats s
           SET documents = s.documents - o.documents, total_length = s.total_length - o.total_length
          FROM (SELECT video_id, embedding_model, count(*) AS documents,
                       coalesce(sum(length(search_vector)), 0) AS total_length
                  FROM old_rows GROUP BY video_id, embedding_model) o
         WHERE s.video_id = o.video_id AND s.embedding_model = o.embedding_model AND s.kind = TG_TABLE_NAME;
        UPDATE keyword_terms k SET documents = k.documents - o.documents
          FROM (SELECT video_id, embedding_model, t.lexeme, count(*) AS documents
                  FROM old_rows CROSS JOIN LATERAL unnest(search_vector) t
                 GROUP BY video_id, embedding_model, t.lexeme) o
         WHERE k.kind = TG_TABLE_NAME AND k.embedding_model = o.embedding_model AND k.lexeme = o.lexeme
           AND k.video_id = o.video_id;
        DELETE FROM keyword_terms k
         WHERE k.kind = TG_TABLE_NAME AND k.documents <= 0
           AND k.video_id IN (SELECT DISTINCT video_id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO keyword_stats AS s (video_id, embedding_model, kind, documents, total_length)
        SELECT video_id, embedding_model, TG_TABLE_NAME, count(*), coalesce(sum(length(search_vector)), 0)
          FROM new_rows GROUP BY video_id, embedding_model
        ON CONFLICT (video_id, embedding_model, kind) DO UPDATE
           SET documents = s.documents + excluded.documents, total_length = s.total_length + excluded.total_length;
        INSERT INTO keyword_terms AS k (kind, embedding_model, lexeme, video_id, documents)
        SELECT TG_TABLE_NAME, embedding_model, t.lexeme, video_id, count(*)
          FROM new_rows CROSS JOIN LATERAL unnest(search_vector) t
         GROUP BY embedding_model, t.lexeme, video_id
        ON CONFLICT (kind, embedding_model, lexeme, video_id) DO UPDATE SET documents = k.documents + excluded.documents;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "keyword_stats",
        sa.Column("video_id", sa.BigInteger(), sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("embedding_model", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("documents", sa.BigInteger(), nullable=False),
        sa.Column("total_length", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('transcript_chunks', 'transcript_sentences')", name="ck_keyword_stats_kind"),
    )
    # Keyed for the question's lookup: a few lexemes, each across the scope's videos.
    op.create_table(
        "keyword_terms",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("embedding_model", sa.String(200), primary_key=True),
        sa.Column("lexeme", sa.Text(), primary_key=True),
        sa.Column("video_id", sa.BigInteger(), sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("documents", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('transcript_chunks', 'transcript_sentences')", name="ck_keyword_terms_kind"),
    )
    op.create_index("ix_keyword_terms_video_id", "keyword_terms", ["video_id"])  # a deleted video's rows cascade
    op.execute(_TRACK)
    for table in _TABLES:
        for event, transition in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                                  ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
            op.execute(f"CREATE TRIGGER {table}_keyword_stats_{event.lower()} AFTER {event} ON {table} "
                       f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION keyword_stats_track()")
        op.execute(f"""
            INSERT INTO keyword_stats (video_id, embedding_model, kind, documents, total_length)
            SELECT video_id, embedding_model, '{table}', count(*), coalesce(sum(length(search_vector)), 0)
              FROM {table} GROUP BY video_id, embedding_model
        """)
        op.execute(f"""
            INSERT INTO keyword_terms (kind, embedding_model, lexeme, video_id, documents)
            SELECT '{table}', embedding_model, t.lexeme, video_id, count(*)
              FROM {table} CROSS JOIN LATERAL unnest(search_vector) t
             GROUP BY embedding_model, t.lexeme, video_id
        """)


def downgrade() -> None:
    for table in _TABLES:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER {table}_keyword_stats_{event} ON {table}")
    op.execute("DROP FUNCTION keyword_stats_track()")
    op.drop_table("keyword_terms")
    op.drop_table("keyword_stats")
