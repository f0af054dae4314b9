"""A transcript row keeps its vector inside the row (revision 0023): ranking a scope's chunks
exactly never fetches a vector from TOAST, however long the chunk's text."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.config import load_settings
from core.indexing import store_transcript
from core.transcripts import Segment
from tests.corpus import captioned_group
from tests.factories import make_account

# Default chunking (100 words): a chunk row with its text and search vector is well over the 2 kB
# at which PostgreSQL moves values out of line.
LONG_TALK = [(n * 4.0, n * 4.0 + 4.0, f"Segment {n} covers quarterly revenue, hiring plans, customer churn, "
              "pricing experiments and the roadmap for the analytics platform in detail.")
             for n in range(60)]


def test_a_long_talks_vectors_stay_in_their_rows_and_its_words_move_out(clean_db):
    db = clean_db
    with db.session() as s:
        if int(s.execute(text("SHOW server_version_num")).scalar_one()) < 170000:
            pytest.skip("pg_column_toast_chunk_id, which tells an out-of-line value, is PostgreSQL 17's")
    with db.session() as s:
        owner = make_account(s, "vera")
    _, ids = captioned_group(db, owner.id, {"Quarterly review": LONG_TALK[:1]})
    store_transcript(db, load_settings(), ids["Quarterly review"], [Segment(*c) for c in LONG_TALK], "captions")
    with db.session() as s:
        for table in ("transcript_chunks", "transcript_sentences"):
            rows, vectors_out = s.execute(text(
                f"SELECT count(*), count(pg_column_toast_chunk_id(embedding)) FROM {table} WHERE video_id = :v"),
                {"v": ids["Quarterly review"]}).one()
            assert rows and vectors_out == 0, table
        # A chunk's values, uncompressed, are past the 2 kB row target: something had to give (its
        # words were compressed or moved out), and it was not the vector.
        raw, squeezed = s.execute(text(
            "SELECT max(pg_column_size(text || '') + pg_column_size(search_vector || ''::tsvector) "
            "           + pg_column_size(embedding)), "
            "       count(*) FILTER (WHERE pg_column_compression(text) IS NOT NULL "
            "                           OR pg_column_compression(search_vector) IS NOT NULL "
            "                           OR pg_column_toast_chunk_id(text) IS NOT NULL "
            "                           OR pg_column_toast_chunk_id(search_vector) IS NOT NULL) "
            "FROM transcript_chunks WHERE video_id = :v"), {"v": ids["Quarterly review"]}).one()
        assert raw > 2032 and squeezed
