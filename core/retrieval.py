"""Hybrid retrieval over one group's chunks: pgvector similarity fused with PostgreSQL full text.

All vector and full-text SQL of the product lives here, with bound parameters only. The group
filter is inside both searches (not applied afterwards), so a group of three videos among a
million chunks still gets its full top k: pgvector 0.8's iterative HNSW scan keeps reading the
index until enough rows pass the filter, and for small groups the planner can instead use the
`video_id` index and sort exactly — see bench/retrieval.py for the measurements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pgvector.sqlalchemy import Vector
from pydantic import ConfigDict
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from db.models import EMBEDDING_DIMENSIONS

RRF_K = 60  # the usual reciprocal-rank-fusion constant: rank 1 scores 1/61
CANDIDATES = 50  # rows each search contributes to the fusion

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    video_id: int
    title: str
    start: float
    end: float
    text: str
    score: float  # fused reciprocal-rank score
    similarity: float  # cosine similarity of the chunk to the question
    keyword_match: bool


def or_query(question: str) -> str:
    """A tsquery that matches any of the question's words (to_tsquery drops stop words itself)."""
    words = [w for w in _WORD.findall(question.lower()) if len(w) > 1 or w.isdigit()]
    return " | ".join(dict.fromkeys(words[:64]))


_HYBRID = text(
    """
    WITH scope AS MATERIALIZED (
        SELECT m.video_id
          FROM video_group_members m JOIN videos v ON v.id = m.video_id
         WHERE m.group_id = :group_id AND v.user_id = :owner_id
    ),
    dense AS (
        SELECT id, row_number() OVER (ORDER BY distance, id) AS rank FROM (
            SELECT c.id, c.embedding <=> :qv AS distance
              FROM transcript_chunks c
             WHERE c.user_id = :owner_id AND c.embedding_model = :model
               AND c.video_id IN (SELECT video_id FROM scope)
             ORDER BY distance
             LIMIT :candidates
        ) nearest
    ),
    sparse AS (
        SELECT id, row_number() OVER (ORDER BY r DESC, id) AS rank FROM (
            SELECT c.id, ts_rank_cd(c.search_vector, q) AS r
              FROM transcript_chunks c, to_tsquery('english', :tsq) q
             WHERE :tsq <> '' AND c.search_vector @@ q
               AND c.user_id = :owner_id AND c.embedding_model = :model
               AND c.video_id IN (SELECT video_id FROM scope)
             ORDER BY r DESC, c.id
             LIMIT :candidates
        ) matched
    )
    SELECT c.id, c.video_id, c.video_title, c.start_time, c.end_time, c.text,
           COALESCE(:w_dense / (:rrf_k + d.rank), 0) + COALESCE(:w_sparse / (:rrf_k + s.rank), 0) AS score,
           1 - (c.embedding <=> :qv) AS similarity,
           s.id IS NOT NULL AS keyword_match
      FROM dense d
      FULL OUTER JOIN sparse s ON s.id = d.id
      JOIN transcript_chunks c ON c.id = COALESCE(d.id, s.id)
     ORDER BY score DESC, c.id
     LIMIT :k
    """
).bindparams(bindparam("qv", type_=Vector(EMBEDDING_DIMENSIONS)))


def search(
    session: Session,
    *,
    group_id: int,
    owner_id: int,
    model: str,
    query_vector: list[float],
    query_text: str,
    k: int = 12,
    candidates: int = CANDIDATES,
    dense_weight: float = 1.0,
    sparse_weight: float = 1.0,
) -> list[Hit]:
    """The group's best chunks for a question, fused from vector and keyword ranks."""
    # Iterative scans let the HNSW index keep going until `candidates` rows pass the group filter.
    session.execute(text("SET LOCAL hnsw.iterative_scan = 'strict_order'"))
    session.execute(text("SET LOCAL hnsw.ef_search = 100"))
    rows = session.execute(
        _HYBRID,
        {
            "group_id": group_id, "owner_id": owner_id, "model": model, "qv": query_vector,
            "tsq": or_query(query_text), "candidates": candidates, "k": k, "rrf_k": RRF_K,
            "w_dense": dense_weight, "w_sparse": sparse_weight,
        },
    ).all()
    return [Hit(r[0], r[1], r[2], float(r[3]), float(r[4]), r[5], float(r[6]), float(r[7]), bool(r[8]))
            for r in rows]


def keyword_search(session: Session, *, group_id: int, owner_id: int, model: str, query_text: str,
                   k: int = 12) -> list[Hit]:
    """Full text alone (the BM25-like baseline the quality benchmark compares against)."""
    hits = search(session, group_id=group_id, owner_id=owner_id, model=model,
                  query_vector=[1.0] + [0.0] * (EMBEDDING_DIMENSIONS - 1), query_text=query_text, k=k,
                  dense_weight=0.0)
    return [h for h in hits if h.keyword_match]


class GroupRetriever(BaseRetriever):
    """LangChain retriever over one group: only chunks of that group's videos, owned by its owner."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    session_factory: Any  # a callable returning a context-managed SQLAlchemy Session
    embeddings: Embeddings
    embedding_model: str
    group_id: int
    owner_id: int
    k: int = 12
    sparse_weight: float = 1.0

    def hits(self, query: str) -> list[Hit]:
        vector = self.embeddings.embed_query(query)
        with self.session_factory() as session:
            return search(session, group_id=self.group_id, owner_id=self.owner_id, model=self.embedding_model,
                          query_vector=vector, query_text=query, k=self.k, sparse_weight=self.sparse_weight)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(
                page_content=h.text,
                metadata={"chunk_id": h.chunk_id, "video_id": h.video_id, "title": h.title, "start": h.start,
                          "end": h.end, "score": h.score, "similarity": h.similarity},
            )
            for h in self.hits(query)
        ]


def group_retriever(session_factory: Any, settings: Any, embeddings: Embeddings, *, group_id: int,
                    owner_id: int) -> GroupRetriever:
    """The retriever the chat uses, configured from the settings (the benchmark builds it here too)."""
    return GroupRetriever(session_factory=session_factory, embeddings=embeddings,
                          embedding_model=embeddings.model_name, group_id=group_id, owner_id=owner_id,
                          k=settings.top_k, sparse_weight=settings.sparse_weight)
