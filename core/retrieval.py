"""Hybrid retrieval over a group's, a video's or all the workspace's chunks: chunk vectors, sentence
vectors and Okapi BM25, fused.

All vector and full-text SQL of the product lives here, with bound parameters only. The scope
filter is inside every search (not applied afterwards), so a group of three videos among a
million chunks still gets its full top k. How a scope is read follows its size, which the SQL
knows from per-video counts (the planner cannot see into a CTE and takes it for one row):
- a small scope (up to EXACT_SCAN_LIMIT chunks or sentences) is read video by video through the
  indexes that start with `video_id`, and searched exactly; its workspace check is written
  `workspace_id + 0 = :workspace_id` so it stays a filter (as an index condition the planner
  AND-ed the workspace's whole index into every per-video lookup: 100k chunks, 30-video group,
  ~110 of ~190 ms);
- a large one (a whole library, hundreds of videos) comes from the HNSW index, with pgvector
  0.8's iterative scan reading on until enough rows pass the filter; each row's scope is then
  checked by a lookup (`_IN_SCOPE`). A large workspace's own partial indexes
  (core/workspace_indexes.py) serve it when they exist: its workspace is stated as
  `workspace_id = :workspace_id` there, so the planner can match their `WHERE workspace_id = N`.
The size is read first (`_plan_for`, in the round trip that makes the transaction's settings) and
the question's SQL holds only the path it takes; a scope whose chunks and sentences are both read by
video keeps a cached generic plan.
See bench/retrieval.py and BENCHMARKS.md.

No question reads a search vector: BM25's document counts, lengths, each word's document frequency and
its postings (which documents hold it, how often) come from per-video rows that triggers keep
(revisions 0015 and 0022), and over a large scope it scores only the documents holding the
question's rarest words (`_SEARCHED`).

A chunk is ranked four ways — its own vector, its best sentence's vector, BM25 over the group's
chunks and BM25 over the group's sentences — and the ranks are fused (weighted reciprocal-rank
fusion). A lower hit that overlaps a better one of the same video is folded into it, so the top
k shows k different moments. The cited second is the start of the chunk's best sentence, a
short lead-in earlier: playing from there lands on the answer with a little context
(BENCHMARKS.md, TutorialVQA).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, fields
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pgvector.sqlalchemy import Vector
from pydantic import ConfigDict
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from core import model_settings, workspaces
from core.config import SENTENCE_KEYWORD_WEIGHT
from core.model_settings import ModelAccess
from core.reranking import rerank
from db.models import EMBEDDING_DIMENSIONS
from db.states import PassageKind, Scope

# Reciprocal-rank fusion constant. The usual 60 flattens the top; 15 lets the first few ranks of
# each signal count more and measured better on TutorialVQA dev and on both its halves.
RRF_K = 15
CANDIDATES = 100  # chunks each search contributes to the fusion
SENTENCE_CANDIDATES = 100  # nearest sentences whose chunks join the candidates
NEIGHBOUR_SHARE = 0.3  # a chunk gains this share of its best overlapping neighbour's score
BM25_K1, BM25_B = 1.2, 0.75  # Okapi BM25's usual constants
# Documents each BM25 side scores at most (chunks, then sentences) before it keeps to those holding
# the question's rarest words (see _SEARCHED): about 40 ms of scoring on this machine's cores.
POSTING_BUDGET = 4000
# Over the budget, a video's admitted documents up to this many are looked up by their position in
# each word's row; past it (a long video saying a rare word throughout) the rows are unpacked.
ADMITTED_BY_POSITION = 32
# A scope with at most this many chunks (or sentences) is searched by vector exactly, its rows read
# by video; a larger one through the HNSW index, which pays once the scope is a fair share of the
# table (bench/retrieval.py: 300 videos read exactly took 100 ms for the chunks, 150 for the sentences).
EXACT_SCAN_LIMIT = 10_000
# The same for a scope's sentences (three per chunk): bench/retrieval.py --sentence-scan times the
# sentence HNSW index against reading them by video.
SENTENCE_EXACT_SCAN_LIMIT = EXACT_SCAN_LIMIT
HNSW_EF_SEARCH = 800  # HNSW candidate list: recall@12 vs an exact scan 0.85 at 100, 0.97 at 400, 0.996 at 800 (+10 ms)
LEAD_IN_S = 8.0  # a citation starts up to this much before its best sentence (one sentence back)

_WORD = re.compile(r"\w+", re.UNICODE)
# A slash between words ("on/off") or a dot before a letter ("2.how", "file.psd") glues words into
# one token PostgreSQL's parser keeps whole (a path, a host); "2.5" stays a number.
_GLUE = re.compile(r"(?<=\w)/(?=\w)|(?<=\w)\.(?=[^\W\d_])", re.UNICODE)


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    video_id: int
    title: str
    start: float  # the cited second: the best sentence's start, with a short lead-in
    end: float
    text: str
    score: float  # fused reciprocal-rank score
    similarity: float  # cosine similarity of the chunk to the question
    keyword_match: bool
    sentence: str = ""  # the chunk's sentence nearest the question ("" if it has none stored)
    sentence_end: float = 0.0
    sentence_similarity: float = 0.0
    chunk_start: float = 0.0  # where the chunk itself starts
    keyword_coverage: float = 0.0  # share of the question's words, weighed by their rarity in the group, it holds
    kind: str = PassageKind.SPEECH  # what it quotes: speech, or text on screen
    thumbnail: str | None = None  # a screen passage's frame picture, media-relative


@dataclass(frozen=True)
class Candidate:
    """One chunk with every signal the fusion needs, as the SQL returns it."""

    chunk_id: int
    video_id: int
    title: str
    start: float
    end: float
    text: str
    similarity: float
    bm25_rank: int | None
    sentence_start: float | None
    sentence_end: float | None
    sentence: str | None
    sentence_similarity: float | None
    previous_start: float | None  # the start of the sentence before the best one
    sentence_keyword_score: float | None = None  # best BM25 of a sentence in the chunk (if among the top)
    keyword_coverage: float = 0.0  # share of the question's words, weighed by rarity in the group, the chunk holds
    kind: str = PassageKind.SPEECH
    thumbnail: str | None = None


_CANDIDATE_FIELDS = tuple(field.name for field in fields(Candidate))


def keyword_text(question: str) -> str:
    """The question as the keyword side reads it: glued words apart, and each pair of neighbouring
    words also written as one, so "art board" meets a transcript's "artboard" (words absent from
    the group weigh nothing, so the extra forms cost nothing where they do not occur)."""
    text = _GLUE.sub(" ", question[:4000])
    words = _WORD.findall(text.lower())[:64]
    return text + " " + " ".join(a + b for a, b in zip(words, words[1:]))


def or_query(question: str) -> str:
    """A tsquery that matches any of the question's words (to_tsquery drops stop words itself)."""
    words = [w for w in _WORD.findall(question.lower()) if len(w) > 1 or w.isdigit()]
    return " | ".join(dict.fromkeys(words[:64]))


def _bm25_documents(table: str, prefix: str = "") -> str:
    """CTEs that score the scope's rows of `table` as BM25 documents without reading a document:
    their count and average length (`{prefix}stats`) and each query term's document frequency
    (`{prefix}df`) summed from per-video rows (keyword_stats, keyword_terms), which documents to
    score (`{prefix}searched`, see `_SEARCHED`), and their query-term frequencies and lengths
    (`{prefix}tf`) from the same per-video rows' postings (revision 0022, `{prefix}rows`), read only
    in the videos that say a searched term. When the budget holds every term's documents
    (`complete`) all postings are used; otherwise only the documents admitted (`{prefix}admitted`)
    are looked up in them: over a whole library a common word's postings in every video cost more
    than the rest of the question."""
    return f"""
    {prefix}stats AS MATERIALIZED (
        SELECT coalesce(sum(k.documents), 0) AS n,
               CAST(greatest(sum(k.total_length)::numeric / nullif(sum(k.documents), 0), 1) AS double precision) AS avgdl
          FROM keyword_stats k
         WHERE k.kind = '{table}' AND k.embedding_model = :model
           AND k.video_id = ANY ((SELECT videos FROM scope_videos)::bigint[])
    ),
    {prefix}df AS MATERIALIZED (
        SELECT k.lexeme, sum(k.documents) AS df,
               CAST(ln(1 + ((SELECT n FROM {prefix}stats) - sum(k.documents) + 0.5) / (sum(k.documents) + 0.5))
                    AS double precision) AS idf,  -- floats: numeric arithmetic cost a third of the scoring
               array_agg(k.video_id) AS videos  -- the scope's videos saying it
          FROM keyword_terms k
         WHERE k.kind = '{table}' AND k.embedding_model = :model
           AND k.lexeme = ANY ((SELECT lexemes FROM terms_query)::text[])
           AND k.video_id = ANY ((SELECT videos FROM scope_videos)::bigint[])
         GROUP BY k.lexeme
    ),
    {prefix}searched AS MATERIALIZED ({_SEARCHED.format(df=prefix + "df", stats=prefix + "stats")}),
    {prefix}rows AS MATERIALIZED (  -- every query term's per-video row in the videos saying a searched term
        SELECT k.video_id, k.lexeme, k.document_ids, k.term_counts, k.document_lengths
          FROM keyword_terms k
         WHERE k.kind = '{table}' AND k.embedding_model = :model
           AND k.lexeme = ANY ((SELECT lexemes FROM terms_query)::text[])
           -- an array, so that the planner looks these videos up instead of a word's rows in every video
           AND k.video_id = ANY ((SELECT array_agg(DISTINCT v) FROM {prefix}df d, {prefix}searched s, unnest(d.videos) v
                                   WHERE d.lexeme = ANY (s.lexemes))::bigint[])
    ),
    {prefix}admitted AS MATERIALIZED (  -- when not every term is searched: the documents admitted, by video
        SELECT video_id, array_agg(id) AS ids FROM (
            SELECT r.video_id, p.id
              FROM {prefix}rows r CROSS JOIN LATERAL unnest(r.document_ids) p(id) CROSS JOIN {prefix}searched s
             WHERE NOT s.complete AND r.lexeme = ANY (s.lexemes)
             GROUP BY r.video_id, p.id, s.every, s.lexemes
            HAVING NOT s.every OR count(*) = cardinality(s.lexemes)
        ) documents
         GROUP BY video_id
    ),
    {prefix}rows_admitted AS MATERIALIZED (  -- each row with its video's admitted documents
        -- by a window over both (one sort), not a join that the CTEs' guessed sizes could make a nested loop
        SELECT * FROM (
            SELECT both_sides.*, max(admitted_ids) OVER (PARTITION BY video_id) AS ids
              FROM (SELECT video_id, lexeme, document_ids, term_counts, document_lengths, NULL::bigint[] AS admitted_ids
                      FROM {prefix}rows
                    UNION ALL
                    SELECT video_id, NULL, NULL, NULL, NULL, ids FROM {prefix}admitted) both_sides
        ) joined
         WHERE lexeme IS NOT NULL AND ids IS NOT NULL
    ),
    {prefix}tf AS MATERIALIZED (  -- the postings of the documents `searched` admits
        -- Every posting when every term is searched (the budget holds them all; BM25 is exact either way)...
        (SELECT p.id, r.video_id, r.lexeme, p.tf, p.dl
           FROM {prefix}rows r CROSS JOIN LATERAL unnest(r.document_ids, r.term_counts, r.document_lengths) p(id, tf, dl)
          WHERE (SELECT complete FROM {prefix}searched))
        UNION ALL
        -- ...else only the admitted documents' postings (a common word's, unpacked in every video saying a
        -- rare one, were 80,000 rows over a whole library: ~100 ms per side). Where a video has a few
        -- admitted documents, each is found by its position in the row...
        (SELECT a.id, r.video_id, r.lexeme, r.term_counts[at], r.document_lengths[at]
           FROM {prefix}rows_admitted r CROSS JOIN LATERAL unnest(r.ids) a(id)
           CROSS JOIN LATERAL array_position(r.document_ids, a.id) at
          WHERE cardinality(r.ids) <= :by_position_up_to AND at IS NOT NULL)
        UNION ALL
        -- ...and where it has many (a long video saying the rare word throughout: positions would cost
        -- admitted x postings per row), its rows are unpacked and each document's searched words counted.
        (SELECT id, video_id, lexeme, tf, dl FROM (
            SELECT p.id, r.video_id, r.lexeme, p.tf, p.dl, s.every, cardinality(s.lexemes) AS needed,
                   count(*) FILTER (WHERE r.lexeme = ANY (s.lexemes)) OVER (PARTITION BY p.id) AS held
              FROM {prefix}rows_admitted r
              CROSS JOIN LATERAL unnest(r.document_ids, r.term_counts, r.document_lengths) p(id, tf, dl)
              CROSS JOIN {prefix}searched s
             WHERE cardinality(r.ids) > :by_position_up_to
        ) counted
         WHERE held > 0 AND (NOT every OR held = needed))
    )"""


# Which documents BM25 scores. All that hold a query term while their number (the terms' summed
# document frequencies) is within :posting_budget: then the ranking is exact Okapi BM25. Over a
# scope where the question's words are common (a whole library of tutorials that all say "layer"
# and "image"), scoring every such document would cost seconds, so only the documents holding the
# rarest terms are scored: the rarer terms, commonest last, while their summed frequencies stay in
# the budget (always the rarest one); and if even the rarest term is over the budget, the
# documents holding each of the rarest terms together (`every`), adding terms until (as if words
# were independent) fewer than the budget are expected. Scores stay exact BM25 over the whole
# scope; only documents with none of the rare words go unscored, and those rank low on this side.
_SEARCHED = """
        SELECT CASE WHEN min(df) <= :posting_budget
                    THEN array_agg(lexeme) FILTER (WHERE postings <= :posting_budget OR rarest)
                    ELSE array_agg(lexeme) FILTER (WHERE rarest OR holding_rarer > :posting_budget)
               END AS lexemes,
               coalesce(min(df) > :posting_budget, false) AS every,
               coalesce(sum(df) <= :posting_budget, true) AS complete  -- every term's documents scored
          FROM (SELECT lexeme, df, row_number() OVER rarer_first = 1 AS rarest,
                       sum(df) OVER rarer_first AS postings,
                       -- documents expected to hold every rarer term
                       (SELECT n FROM {stats}) * exp(sum(ln(df / greatest((SELECT n FROM {stats}), 1)))
                           OVER (rarer_first ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) AS holding_rarer
                  FROM {df}
                WINDOW rarer_first AS (ORDER BY df, lexeme)) terms_by_rarity
"""

# One document's Okapi BM25, summed over its query terms (`tf`, `df` and `stats` as above).
# Summed in lexeme order, so a score is the same to the last bit whatever order the plan reads the
# postings in, and documents with equal scores (the same words as often, the same length) rank by id.
_BM25_SCORE = """sum(df.idf * tf.tf * (:k1 + 1) / (tf.tf + :k1 * (1 - :b + :b * tf.dl / stats.avgdl))
                     ORDER BY tf.lexeme)"""

# Okapi BM25 over the group's chunks, computed in SQL: document frequencies and the average
# length come from the group alone, so a word rare in this group counts as rare. Query terms are
# the question's lexemes under the English configuration (stemmed, stop words dropped), so
# "how do I" weighs nothing and "exporting" matches "export".
_BM25_CTES = """
    terms AS MATERIALIZED (
        SELECT DISTINCT t.lexeme FROM unnest(to_tsvector('english', :question)) t
    ),
    terms_query AS MATERIALIZED (  -- the terms as an array to test lexemes against
        SELECT array_agg(lexeme) AS lexemes FROM terms
    ),""" + _bm25_documents("transcript_chunks") + """,
    -- The question's own words (not the joined pairs), each weighed by its rarity in the group; a word
    -- the group never says weighs most. A chunk's coverage is the share of that weight it holds.
    words AS MATERIALIZED (
        SELECT w.lexeme, ln(1 + (stats.n - coalesce(df.df, 0) + 0.5) / (coalesce(df.df, 0) + 0.5)) AS idf
          FROM (SELECT DISTINCT t.lexeme FROM unnest(to_tsvector('english', :words)) t) w
          CROSS JOIN stats LEFT JOIN df USING (lexeme)
    ),
    sparse AS (
        SELECT id, score, row_number() OVER (ORDER BY score DESC, id) AS rank FROM (
            SELECT tf.id, """ + _BM25_SCORE + """ AS score
              FROM tf JOIN df USING (lexeme) CROSS JOIN stats
             GROUP BY tf.id
             ORDER BY score DESC, tf.id
             LIMIT :candidates
        ) scored
    )
"""

# What a question asks: a group's videos, one video, or every video of the workspace; `scope_videos`
# holds them as an array, for the per-video statistics: looked up as `video_id = ANY (array)` with
# the question's words, one pass over the index finds them all (a whole library's document
# frequencies: 10 ms, against 39 ms looked up video by video).
_SCOPE_VIDEOS = """,
    scope_videos AS MATERIALIZED (SELECT array_agg(video_id) AS videos FROM scope)
"""
_SCOPES = {
    Scope.GROUP: """
    scope AS MATERIALIZED (
        SELECT m.video_id
          FROM video_group_members m JOIN videos v ON v.id = m.video_id
         WHERE m.group_id = :group_id AND v.workspace_id = :workspace_id
    )
""",
    Scope.VIDEO: """
    scope AS MATERIALIZED (SELECT v.id AS video_id FROM videos v WHERE v.id = :video_id AND v.workspace_id = :workspace_id)
""",
    Scope.ALL: """
    scope AS MATERIALIZED (SELECT v.id AS video_id FROM videos v WHERE v.workspace_id = :workspace_id)
""",
}
_SCOPES = {kind: sql + _SCOPE_VIDEOS for kind, sql in _SCOPES.items()}


def scope_of(group_id: int | None, video_id: int | None) -> tuple[Scope, dict[str, int]]:
    """The scope a group id, a video id or neither names, and its SQL parameters."""
    if group_id is not None:
        return Scope.GROUP, {"group_id": group_id}
    if video_id is not None:
        return Scope.VIDEO, {"video_id": video_id}
    return Scope.ALL, {}

# The same BM25 over the group's sentences: a question's words said together in one sentence mark
# the moment more sharply than the same words spread over a chunk. Only the best sentences count.
_SENTENCE_BM25_CTES = _bm25_documents("transcript_sentences", "sentence_") + """,
    sentence_sparse AS MATERIALIZED (
        SELECT top.video_id, (s.start_time + s.end_time) / 2 AS middle, top.score
          FROM (SELECT tf.id, tf.video_id, """ + _BM25_SCORE + """ AS score
                  FROM sentence_tf tf JOIN sentence_df df USING (lexeme) CROSS JOIN sentence_stats stats
                 GROUP BY tf.id, tf.video_id
                 ORDER BY score DESC, tf.id
                 LIMIT :sentence_candidates) top
          JOIN transcript_sentences s ON s.id = top.id AND s.workspace_id + 0 = :workspace_id
    )
"""

_CANDIDATES_SQL = (
    "," + _BM25_CTES + "," + _SENTENCE_BM25_CTES + """,
    dense AS (
        SELECT id, row_number() OVER (ORDER BY distance, id) AS rank FROM __DENSE__ nearest
    ),
    near_sentences AS __NEAR_SENTENCES__,
    sentence_chunks AS (  -- the spoken chunks each near sentence is in, found by video
        SELECT d.id
          FROM near_sentences s
          JOIN transcript_chunks d ON d.video_id = s.video_id AND d.embedding_model = :model AND d.kind = 'speech'
                                  AND (s.start_time + s.end_time) / 2 BETWEEN d.start_time AND d.end_time
    ),
    pool AS (
        SELECT id FROM dense UNION SELECT id FROM sparse UNION SELECT id FROM sentence_chunks
    ),
    held AS MATERIALIZED (  -- which documents of the pool's videos hold which of the question's terms
        SELECT p.id, k.lexeme
          FROM keyword_terms k CROSS JOIN LATERAL unnest(k.document_ids) p(id)
         WHERE k.kind = 'transcript_chunks' AND k.embedding_model = :model
           AND k.lexeme = ANY ((SELECT lexemes FROM terms_query)::text[])
           AND k.video_id = ANY ((SELECT array_agg(DISTINCT c.video_id) FROM pool JOIN transcript_chunks c ON c.id = pool.id)::bigint[])
    ),
    covered AS MATERIALIZED (  -- each pool chunk's share of the question's words, weighed by rarity
        -- Two materialized sides, so a hash join: as one query a fresh 300-video group's estimates
        -- made it unpack each video's postings once per pool chunk (750 ms).
        SELECT h.id, sum(w.idf) / nullif((SELECT sum(idf) FROM words), 0) AS share
          FROM held h JOIN pool USING (id) JOIN words w USING (lexeme)
         GROUP BY h.id
    ),
    said AS MATERIALIZED (  -- each pool chunk's best sentence-BM25 score, if one of its sentences is among the top
        SELECT d.id, max(ks.score) AS score
          FROM pool p
          JOIN transcript_chunks d ON d.id = p.id AND d.embedding_model = :model AND d.kind = 'speech'
          JOIN sentence_sparse ks ON ks.video_id = d.video_id AND ks.middle BETWEEN d.start_time AND d.end_time
         GROUP BY d.id
    )
    -- A screen passage (a slide's text) has no sentences: it is its own best sentence.
    SELECT c.id AS chunk_id, c.video_id, c.video_title AS title, c.start_time AS start, c.end_time AS "end",
           c.text, 1 - (c.embedding <=> :qv) AS similarity, sp.rank AS bm25_rank,
           coalesce(best.start_time, screen.start_time) AS sentence_start,
           coalesce(best.end_time, screen.end_time) AS sentence_end, coalesce(best.text, screen.text) AS sentence,
           coalesce(best.similarity, screen.similarity) AS sentence_similarity, previous.start_time AS previous_start,
           said.score AS sentence_keyword_score,
           CAST(coalesce(covered.share, 0) AS double precision) AS keyword_coverage,
           c.kind, c.thumbnail
      FROM pool p
      JOIN transcript_chunks c ON c.id = p.id AND c.workspace_id + 0 = :workspace_id  -- whichever search found it
      LEFT JOIN sparse sp ON sp.id = c.id
      LEFT JOIN LATERAL (SELECT c.start_time, c.end_time, c.text, 1 - (c.embedding <=> :qv) AS similarity
                          WHERE c.kind = 'screen') screen ON true
      LEFT JOIN LATERAL (
            -- Ordered by an expression the HNSW index cannot serve: this is an exact look at the
            -- few sentences of one chunk, found through (video_id, start_time).
            SELECT s.sentence_index, s.start_time, s.end_time, s.text, 1 - (s.embedding <=> :qv) AS similarity
              FROM transcript_sentences s
             WHERE c.kind = 'speech' AND s.video_id = c.video_id AND s.embedding_model = c.embedding_model
               AND s.start_time BETWEEN c.start_time - 120 AND c.end_time
               AND (s.start_time + s.end_time) / 2 BETWEEN c.start_time AND c.end_time
             ORDER BY 1 - (s.embedding <=> :qv) DESC, s.sentence_index
             LIMIT 1
      ) best ON true
      LEFT JOIN transcript_sentences previous
             ON previous.video_id = c.video_id AND previous.embedding_model = c.embedding_model
            AND previous.sentence_index = best.sentence_index - 1
      LEFT JOIN said ON said.id = c.id
      LEFT JOIN covered ON covered.id = c.id
    """
)

# How the vector sides read a scope (see the module's docstring): exactly, its rows read by video,
# or through the HNSW index, each row's scope then checked (IN_SCOPE). Each question's SQL holds one
# of the two for each side, chosen from the scope's size (`_plan_for`).
_DENSE = {
    False: """(SELECT c.id, c.embedding <=> :qv AS distance
               FROM transcript_chunks c
              WHERE c.workspace_id + 0 = :workspace_id AND c.embedding_model = :model
                AND c.video_id IN (SELECT video_id FROM scope)
              ORDER BY (c.embedding <=> :qv) + 0  -- exact: an order no HNSW index can serve, whatever the plan
              LIMIT :candidates)""",
    True: """(SELECT c.id, c.embedding <=> :qv AS distance
               FROM transcript_chunks c
              WHERE c.workspace_id = :workspace_id AND c.embedding_model = :model AND IN_SCOPE(c)
              ORDER BY distance
              LIMIT :candidates)""",
}
_NEAR_SENTENCES = {
    False: """(SELECT s.video_id, s.start_time, s.end_time
           FROM transcript_sentences s
          WHERE s.workspace_id + 0 = :workspace_id AND s.embedding_model = :model
            AND s.video_id IN (SELECT video_id FROM scope)
          ORDER BY (s.embedding <=> :qv) + 0
          LIMIT :sentence_candidates)""",
    True: """(SELECT s.video_id, s.start_time, s.end_time
           FROM transcript_sentences s
          WHERE s.workspace_id = :workspace_id AND s.embedding_model = :model AND IN_SCOPE(s)
          ORDER BY s.embedding <=> :qv
          LIMIT :sentence_candidates)""",
}

# A large scope's rows come from an index over the whole table (HNSW) and are checked one by
# one, by a lookup that needs no estimate of the scope's size: the planner cannot see into the
# scope CTE and, taking it for one row, scanned it once per row (300 videos: 260 ms).
_IN_SCOPE = {
    # A scalar subquery, not EXISTS: the planner would turn EXISTS into a join driven by the group's
    # members (a group made since the last ANALYZE looks small) and read 300 videos exactly.
    Scope.GROUP: "(SELECT true FROM video_group_members m WHERE m.group_id = :group_id AND m.video_id = {t}.video_id)",
    Scope.VIDEO: "{t}.video_id = :video_id",
    Scope.ALL: "true",  # the workspace check is the scope
}


def _scoped(kind: Scope, sql: str) -> str:
    return re.sub(r"IN_SCOPE\((\w+)\)", lambda m: _IN_SCOPE[kind].format(t=m.group(1)), "WITH" + _SCOPES[kind] + sql)


# The candidate SQL for each scope and each way of reading its chunks and its sentences (by index or not).
_CANDIDATES = {
    (kind, chunks_by_index, sentences_by_index): text(_scoped(kind, _CANDIDATES_SQL
                                                              .replace("__DENSE__", _DENSE[chunks_by_index])
                                                              .replace("__NEAR_SENTENCES__",
                                                                       _NEAR_SENTENCES[sentences_by_index])))
    .bindparams(bindparam("qv", type_=Vector(EMBEDDING_DIMENSIONS)))
    for kind in _SCOPES for chunks_by_index in (False, True) for sentences_by_index in (False, True)
}

_KEYWORDS = text(
    _scoped(Scope.GROUP, "," + _BM25_CTES + """
    SELECT c.id AS chunk_id, c.video_id, c.video_title AS title, c.start_time AS start, c.end_time AS "end",
           c.text, sp.score
      FROM sparse sp JOIN transcript_chunks c ON c.id = sp.id AND c.workspace_id + 0 = :workspace_id
     ORDER BY sp.rank
     LIMIT :k
    """)
)


def candidate_pool(session: Session, *, group_id: int | None, workspace_id: int, model: str, query_vector: list[float],
                   query_text: str, candidates: int = CANDIDATES, sentence_candidates: int = SENTENCE_CANDIDATES,
                   video_id: int | None = None, posting_budget: int | None = None,
                   by_index: bool | None = None) -> list[Candidate]:
    """Every chunk any of the three searches puts near the top, with all its signals, in the
    group, else the video, else (neither given) all the workspace's videos. `posting_budget` (default
    POSTING_BUDGET) bounds the documents each keyword side scores; `by_index` makes both vector
    sides read the scope through the HNSW indexes (True) or exactly, by video (False), whatever
    its size (for tests: both ways find the same). The search settings it makes (`_plan_for`) hold
    for the rest of the session's transaction: ask in a session of its own."""
    statement, parameters = _candidate_query(session, group_id=group_id, video_id=video_id, workspace_id=workspace_id,
                                             model=model, query_vector=query_vector, query_text=query_text,
                                             candidates=candidates, sentence_candidates=sentence_candidates,
                                             posting_budget=posting_budget, by_index=by_index)
    result = session.execute(statement, parameters)
    # The SQL names Candidate's fields in order, every number a float or an integer; built from
    # plain tuples (by name, 200 rows took 2 ms of a small group's question).
    if tuple(result.keys()) != _CANDIDATE_FIELDS:
        raise RuntimeError(f"the candidate SQL's columns {tuple(result.keys())} are not Candidate's fields")
    return [Candidate(*r) for r in result]


def explain_candidates(session: Session, **question: Any) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the candidate SQL for `candidate_pool`'s arguments, run under
    the same settings (for bench/retrieval.py: where a slow question's time goes)."""
    statement, parameters = _candidate_query(session, **{"candidates": CANDIDATES,
                                                         "sentence_candidates": SENTENCE_CANDIDATES,
                                                         "posting_budget": None, "by_index": None, **question})
    rows = session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + statement.text).bindparams(
        bindparam("qv", type_=Vector(EMBEDDING_DIMENSIONS))), parameters).all()
    return "\n".join(re.sub(r"'\[[^\]]*\]'::vector", "'[...]'::vector", r[0]) for r in rows)


def _candidate_query(session: Session, *, group_id: int | None, video_id: int | None, workspace_id: int, model: str,
                     query_vector: list[float], query_text: str, candidates: int, sentence_candidates: int,
                     posting_budget: int | None, by_index: bool | None):
    """The candidate SQL for the scope, and its parameters, with this transaction's settings made."""
    kind, scope = scope_of(group_id, video_id)
    chunks_by_index, sentences_by_index = _plan_for(session, kind, {**scope, "workspace_id": workspace_id,
                                                                    "model": model}, by_index)
    return _CANDIDATES[kind, chunks_by_index, sentences_by_index], {
        **scope, **_keyword_parameters(workspace_id, model, query_text, posting_budget), "qv": query_vector,
        "candidates": candidates, "sentence_candidates": sentence_candidates,
    }


# The scope's size (its chunks and sentences) and, in the same round trip, this transaction's settings.
_PLAN_FOR = {kind: text(_scoped(kind, """
    SELECT chunks_by_index, sentences_by_index,
           set_config('hnsw.iterative_scan', 'strict_order', true), set_config('hnsw.ef_search', :ef_search, true),
           set_config('work_mem', '16MB', true),
           set_config('plan_cache_mode', CASE WHEN chunks_by_index OR sentences_by_index
                                              THEN 'force_custom_plan' ELSE 'force_generic_plan' END, true)
      FROM (SELECT coalesce(sum(k.documents) FILTER (WHERE k.kind = 'transcript_chunks'), 0) > :exact_chunks
                       AS chunks_by_index,
                   coalesce(sum(k.documents) FILTER (WHERE k.kind = 'transcript_sentences'), 0) > :exact_sentences
                       AS sentences_by_index
              FROM keyword_stats k
             WHERE k.kind IN ('transcript_chunks', 'transcript_sentences') AND k.embedding_model = :model
               AND k.video_id = ANY ((SELECT videos FROM scope_videos)::bigint[])) sizes
    """)) for kind in _SCOPES}


def _plan_for(session: Session, kind: Scope, parameters: dict[str, Any],
              by_index: bool | None = None) -> tuple[bool, bool]:
    """Whether the scope's chunks and its sentences are read through their HNSW indexes (by their
    number, unless `by_index` says), with this transaction's search settings made in the same round
    trip. Iterative scans let the HNSW index keep going until enough rows pass the scope filter.
    A scope read by video has one good plan, so once psycopg has prepared its SQL PostgreSQL's
    cached generic plan saves the planning (4-5 ms of a 3-video group's ~20); a large scope's best
    plan depends on its size and the question's words (generic, 300 videos ran 15x slower, and it
    could not use a workspace's own partial indexes), so it is planned afresh each time. Postings
    sort in memory (the default 4 MB spilled a 300-video group's 40,000 to disk)."""
    exact_chunks, exact_sentences = {None: (EXACT_SCAN_LIMIT, SENTENCE_EXACT_SCAN_LIMIT),
                                     True: (-1, -1), False: (2**62, 2**62)}[by_index]
    row = session.execute(_PLAN_FOR[kind], {**parameters, "exact_chunks": exact_chunks,
                                                  "exact_sentences": exact_sentences,
                                                  "ef_search": str(HNSW_EF_SEARCH)}).one()
    return row.chunks_by_index, row.sentences_by_index


def _keyword_parameters(workspace_id: int, model: str, query_text: str, posting_budget: int | None) -> dict[str, Any]:
    """The parameters of the BM25 CTEs, shared by the candidate SQL and the keyword side alone."""
    return {"workspace_id": workspace_id, "model": model, "question": keyword_text(query_text),
            "words": _GLUE.sub(" ", query_text[:4000]), "k1": BM25_K1, "b": BM25_B,
            "posting_budget": POSTING_BUDGET if posting_budget is None else posting_budget,
            "by_position_up_to": ADMITTED_BY_POSITION}


def cited_start(c: Candidate, lead_in_s: float = LEAD_IN_S) -> float:
    """Where a citation of this chunk plays from: its best sentence, one sentence (at most
    `lead_in_s`) earlier so the listener hears the lead-up, never before the chunk itself."""
    if c.sentence_start is None:
        return c.start
    start = c.sentence_start - lead_in_s
    if c.previous_start is not None and c.previous_start >= start:
        start = c.previous_start
    return max(c.start, min(start, c.sentence_start))


def fuse(pool: list[Candidate], *, k: int, dense_weight: float = 1.0, sparse_weight: float = 1.0,
         sentence_weight: float = 1.0, sentence_keyword_weight: float = SENTENCE_KEYWORD_WEIGHT,
         lead_in_s: float = LEAD_IN_S, merge: bool = True, neighbour_share: float = NEIGHBOUR_SHARE,
         rrf_k: float = RRF_K, screen_weight: float = 1.0) -> list[Hit]:
    """The top k moments: weighted reciprocal-rank fusion of the four rankings, each chunk helped
    by its overlapping neighbours (an answer usually spans several), overlapping hits of one
    video folded into the better one."""
    def ranks(value) -> dict[int, int]:  # best first; a chunk without the signal has no rank
        present = [c for c in pool if value(c) is not None]
        return {c.chunk_id: rank for rank, c in enumerate(sorted(present, key=lambda c: (-value(c), c.chunk_id)), 1)}

    dense_rank = ranks(lambda c: c.similarity)
    sentence_rank = ranks(lambda c: c.sentence_similarity)
    said_rank = ranks(lambda c: c.sentence_keyword_score)

    def own(c: Candidate) -> float:
        total = dense_weight / (rrf_k + dense_rank[c.chunk_id])
        if c.bm25_rank is not None:
            total += sparse_weight / (rrf_k + c.bm25_rank)
        if c.chunk_id in sentence_rank:
            total += sentence_weight / (rrf_k + sentence_rank[c.chunk_id])
        if c.chunk_id in said_rank:
            total += sentence_keyword_weight / (rrf_k + said_rank[c.chunk_id])
        return total * screen_weight if c.kind == PassageKind.SCREEN else total

    base = {c.chunk_id: own(c) for c in pool}
    by_video: dict[int, list[Candidate]] = {}
    for c in pool:
        by_video.setdefault(c.video_id, []).append(c)
    best_neighbour: dict[int, float] = {}
    for found in by_video.values():
        # Only chunks starting within the longest one's length before this one can overlap it.
        found.sort(key=lambda o: o.start)
        starts = [o.start for o in found]
        longest = max(o.end - o.start for o in found)
        for c in found:
            near = found[bisect_right(starts, c.start - longest):bisect_left(starts, c.end)]
            best_neighbour[c.chunk_id] = max((base[o.chunk_id] for o in near
                                              if o.chunk_id != c.chunk_id and o.end > c.start), default=0.0)

    scored = sorted(((base[c.chunk_id] + neighbour_share * best_neighbour[c.chunk_id], c) for c in pool),
                    key=lambda pair: (-pair[0], pair[1].chunk_id))
    hits: list[Hit] = []
    for value, c in scored:
        if merge and any(h.video_id == c.video_id and h.kind == c.kind and c.start < h.end and c.end > h.chunk_start
                         for h in hits):
            continue  # the same moment, already cited higher up (what is shown and what is said both count)
        hits.append(Hit(c.chunk_id, c.video_id, c.title, cited_start(c, lead_in_s), c.end, c.text, value,
                        c.similarity, c.bm25_rank is not None, c.sentence or "", c.sentence_end or c.end,
                        c.sentence_similarity or 0.0, c.start, c.keyword_coverage, c.kind, c.thumbnail))
        if len(hits) >= k:
            break
    return hits


# When a group holds something about a question (chosen on TutorialVQA dev half A with the off-topic
# questions in tests/data; BENCHMARKS.md has half B's figures and the trade-off around this point).
FOUND_COVERAGE = 0.7  # a passage holding this share of the question's words, weighed by rarity
FOUND_SENTENCE_SIMILARITY = 0.65  # or one of its sentences this close to the question
# (or the passage itself as close as settings.min_relevance, 0.45 unless configured)


def is_found(hits: list[Hit], *, similarity: float, coverage: float = FOUND_COVERAGE,
             sentence_similarity: float = FOUND_SENTENCE_SIMILARITY) -> bool:
    """Whether the hits hold something about the question: a passage that says the question's
    rarer words, or one close to it in meaning. A vector alone is not enough to refuse: "prevent
    auto nesting" is said word for word in a passage whose vector is far from the question's."""
    return any(h.keyword_coverage >= coverage or h.similarity >= similarity
               or h.sentence_similarity >= sentence_similarity for h in hits)


# Below the found rule, a question can still be near what a passage says: on TutorialVQA's dev
# questions most refusals are real questions in that band, and so are a third of the off-topic ones.
# Only a model can tell them apart, so with a chat model configured the band goes to it (rule 3 of
# its prompt: say plainly when the passages do not answer). Chosen on dev half A: the fewest
# refused outright while at most 30 % of half A's off-topic questions cost a model call.
NEAR_SIMILARITY = 0.30
NEAR_SENTENCE_SIMILARITY = 0.45
NEAR_COVERAGE = 0.60


def is_near(hits: list[Hit]) -> bool:
    """Whether something in the hits is close enough to be what was meant: a refusal then offers the
    closest moments, and a configured model judges them (far hits are refused without a model call)."""
    return is_found(hits, similarity=NEAR_SIMILARITY, coverage=NEAR_COVERAGE,
                    sentence_similarity=NEAR_SENTENCE_SIMILARITY)


def search(
    session: Session,
    *,
    group_id: int | None,
    workspace_id: int,
    model: str,
    query_vector: list[float],
    query_text: str,
    k: int = 12,
    candidates: int = CANDIDATES,
    dense_weight: float = 1.0,
    sparse_weight: float = 1.0,
    sentence_weight: float = 1.0,
    sentence_keyword_weight: float = SENTENCE_KEYWORD_WEIGHT,
    merge: bool = True,
    video_id: int | None = None,
) -> list[Hit]:
    """The best moments for a question in a group, else a video, else all the workspace's videos."""
    pool = candidate_pool(session, group_id=group_id, workspace_id=workspace_id, model=model,
                          query_vector=query_vector, query_text=query_text, candidates=candidates,
                          video_id=video_id)
    return fuse(pool, k=k, dense_weight=dense_weight, sparse_weight=sparse_weight,
                sentence_weight=sentence_weight, sentence_keyword_weight=sentence_keyword_weight, merge=merge)


_FULL_TEXT = text(
    "WITH" + _SCOPES[Scope.GROUP] + """
    SELECT c.id AS chunk_id, c.video_id, c.video_title AS title, c.start_time AS start, c.end_time AS "end",
           c.text, ts_rank_cd(c.search_vector, q) AS score
      FROM transcript_chunks c, to_tsquery('english', :tsq) q
     WHERE :tsq <> '' AND c.search_vector @@ q
       AND c.workspace_id + 0 = :workspace_id AND c.embedding_model = :model
       AND c.video_id IN (SELECT video_id FROM scope)
     ORDER BY score DESC, c.id
     LIMIT :k
    """
)


def keyword_search(session: Session, *, group_id: int, workspace_id: int, model: str, query_text: str,
                   k: int = 12, bm25: bool = False, posting_budget: int | None = None) -> list[Hit]:
    """Keywords alone: PostgreSQL's own full-text ranking of an any-word query (the quality
    benchmark's `bm25` baseline), or with `bm25=True` the Okapi BM25 side of `search`."""
    if bm25:
        _plan_for(session, Scope.GROUP, {"group_id": group_id, "workspace_id": workspace_id, "model": model})
        rows = session.execute(_KEYWORDS, {"group_id": group_id, "candidates": k, "k": k,
                                           **_keyword_parameters(workspace_id, model, query_text, posting_budget)}).all()
    else:
        rows = session.execute(_FULL_TEXT, {"group_id": group_id, "workspace_id": workspace_id, "model": model,
                                            "tsq": or_query(query_text), "k": k}).all()
    return [Hit(r.chunk_id, r.video_id, r.title, float(r.start), float(r.end), r.text, float(r.score), 0.0, True,
                chunk_start=float(r.start))
            for r in rows]


class GroupRetriever(BaseRetriever):
    """LangChain retriever over one group (or one video, or with neither all the workspace's
    videos): only chunks of those videos, in that workspace."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    session_factory: Any  # a callable returning a context-managed SQLAlchemy Session
    embeddings: Embeddings
    embedding_model: str
    group_id: int | None
    workspace_id: int
    video_id: int | None = None
    k: int = 12
    sparse_weight: float = 1.0
    sentence_weight: float = 1.0
    sentence_keyword_weight: float = SENTENCE_KEYWORD_WEIGHT
    screen_weight: float = 1.0  # a screen passage's fused score against a spoken chunk's
    rerank_with: ModelAccess | None = None  # the workspace's chat model, when its settings re-rank with it
    llm_timeout_s: int = 60

    def hits(self, query: str) -> list[Hit]:
        hits = self.rank(self.pool(query))
        if self.rerank_with is not None and is_near(hits):  # far hits are refused: no call to order them
            return rerank(self.rerank_with, query, hits, timeout=self.llm_timeout_s)
        return hits

    def pool(self, query: str) -> list[Candidate]:
        """The candidates the group's searches return for a question, before fusion."""
        vector = self.embeddings.embed_query(query)
        with self.session_factory() as session:
            return candidate_pool(session, group_id=self.group_id, workspace_id=self.workspace_id,
                                  model=self.embedding_model, query_vector=vector, query_text=query,
                                  video_id=self.video_id)

    def rank(self, pool: list[Candidate], **fusion: Any) -> list[Hit]:
        """The top k of a pool as `hits` ranks it; `fusion` overrides `fuse`'s parameters (the
        benchmark tries other values on the same pools)."""
        settings = {"sparse_weight": self.sparse_weight, "sentence_weight": self.sentence_weight,
                    "sentence_keyword_weight": self.sentence_keyword_weight, "screen_weight": self.screen_weight}
        return fuse(pool, k=self.k, **{**settings, **fusion})

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(
                page_content=h.text,
                metadata={"chunk_id": h.chunk_id, "video_id": h.video_id, "title": h.title, "start": h.start,
                          "end": h.end, "score": h.score, "similarity": h.similarity},
            )
            for h in self.hits(query)
        ]


def group_retriever(session_factory: Any, settings: Any, embeddings: Embeddings, *, group_id: int | None,
                    workspace_id: int, rerank: bool = False, video_id: int | None = None) -> GroupRetriever:
    """The retriever the chat uses, configured from the settings (the benchmark builds it here too).
    With `rerank` (a question someone asked, not a background check) it also re-ranks with the
    workspace's chat model when its settings turn that on and have one: one model call per question."""
    access = None
    if rerank:
        with session_factory() as session:
            holder = workspaces.model_holder(session, workspace_id)
            if model_settings.reranks_with_model(session, holder):
                access = model_settings.model_access(session, settings, holder)
    return GroupRetriever(session_factory=session_factory, embeddings=embeddings,
                          embedding_model=embeddings.model_name, group_id=group_id, workspace_id=workspace_id,
                          video_id=video_id, k=settings.top_k, sparse_weight=settings.sparse_weight,
                          sentence_weight=settings.sentence_weight,
                          sentence_keyword_weight=settings.sentence_keyword_weight,
                          screen_weight=settings.screen_weight,
                          rerank_with=access if access is not None and access.remote else None,
                          llm_timeout_s=settings.llm_timeout_s)
