"""A large workspace's own search indexes: HNSW and GIN indexes over its rows alone.

The whole table's indexes serve every workspace, so a question over everything a workspace has
(or over a large group) walks past other workspaces' rows until enough of its own turn up: the
iterative HNSW scan checks each candidate's row, and the GIN index lists every workspace's
documents holding a word. When a workspace is a small share of a large table that is most of the
work (bench/retrieval.py, BENCHMARKS.md). PostgreSQL's partial indexes (`WHERE workspace_id = N`)
give it indexes over its own rows, which the planner chooses for its questions because the
retrieval SQL states the workspace as `workspace_id = :workspace_id` (planned with the value).

Only large workspaces get them: every index is maintained on insert and weighed by the planner,
and a small workspace's scope is read exactly by video anyway (retrieval.EXACT_SCAN_LIMIT). The
worker builds them (CREATE INDEX CONCURRENTLY: ingestion and questions go on meanwhile) and drops
those of deleted workspaces.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy import Engine, text

from db.models import TranscriptChunk, TranscriptSentence

log = logging.getLogger(__name__)

# A workspace gets its own indexes once it has this many chunks (its whole library is then searched
# through indexes, not read by video: retrieval.EXACT_SCAN_LIMIT)...
OWN_INDEXES_FROM_CHUNKS = 10_000
# ...while it holds at most this share of all chunks: past it the whole table's indexes are nearly its own.
OWN_INDEXES_UP_TO_SHARE = 0.5
BUILD_MEMORY = "1GB"


@dataclass(frozen=True)
class OwnIndex:
    table: str
    kind: str  # "embedding" (HNSW, cosine) or "search" (GIN over the search vector)

    def name(self, workspace_id: int) -> str:
        return f"ix_{self.table}_{self.kind}_w{workspace_id}"

    def create(self, workspace_id: int) -> str:
        using = ("hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)" if self.kind == "embedding"
                 else "gin (search_vector)")
        return (f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {self.name(workspace_id)} ON {self.table} "
                f"USING {using} WHERE workspace_id = {int(workspace_id)}")


# The same indexes the whole table has (db/models.py), per workspace.
OWN_INDEXES = tuple(OwnIndex(table, kind) for table in (TranscriptChunk.__tablename__, TranscriptSentence.__tablename__)
                    for kind in ("embedding", "search"))
_OWN_NAME = re.compile(r"^ix_(transcript_chunks|transcript_sentences)_(embedding|search)_w(\d+)$")


def wanted(engine: Engine) -> list[int]:
    """The workspaces that should have their own indexes, by their chunk counts (kept per video
    for BM25, so this reads a few rows per video, not the chunks)."""
    with engine.connect() as conn:
        counts = dict(conn.execute(text(
            "SELECT v.workspace_id, sum(k.documents)::bigint FROM keyword_stats k JOIN videos v ON v.id = k.video_id "
            "WHERE k.kind = 'transcript_chunks' GROUP BY v.workspace_id")).all())
    total = sum(counts.values())
    return sorted(w for w, n in counts.items()
                  if n >= OWN_INDEXES_FROM_CHUNKS and n <= OWN_INDEXES_UP_TO_SHARE * total)


def existing(engine: Engine) -> dict[int, set[str]]:
    """Own indexes there are, by workspace (only valid ones: a build that died leaves an invalid one)."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname IN ('transcript_chunks', 'transcript_sentences') "
            "AND t.relnamespace = current_schema()::regnamespace")).all()
    found: dict[int, set[str]] = {}
    for name, valid in rows:
        if (match := _OWN_NAME.match(name)) and valid:
            found.setdefault(int(match.group(3)), set()).add(name)
    return found


def ensure(engine: Engine) -> tuple[list[str], list[str]]:
    """Build the missing own indexes of large workspaces and drop those of workspaces that no
    longer exist (or invalid leftovers of a build that died); returns (built, dropped) names.
    A workspace keeps its indexes when it shrinks or others grow: dropping and rebuilding on a
    threshold's either side would cost more than keeping them."""
    with engine.connect() as conn:
        alive = set(conn.scalars(text("SELECT id FROM workspaces")))
        invalid = set(conn.scalars(text(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid")))
    have = existing(engine)
    built, dropped = [], []
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")  # CONCURRENTLY runs outside a transaction
    with autocommit.connect() as conn:
        # An HNSW build is quick while its graph fits in this memory (a 100,000-chunk workspace's
        # takes about 200 MB), and crawls past it.
        conn.execute(text(f"SET maintenance_work_mem = '{BUILD_MEMORY}'"))
        for name in sorted(n for n in invalid if _OWN_NAME.match(n)):
            conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {name}"))
            dropped.append(name)
        for workspace_id, names in sorted(have.items()):
            if workspace_id not in alive:
                for name in sorted(names):
                    conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {name}"))
                    dropped.append(name)
        for workspace_id in wanted(engine):
            for index in OWN_INDEXES:
                if index.name(workspace_id) not in have.get(workspace_id, set()):
                    log.info("building %s", index.name(workspace_id))
                    conn.execute(text(index.create(workspace_id)))
                    built.append(index.name(workspace_id))
        conn.execute(text("RESET maintenance_work_mem"))
    return built, dropped
