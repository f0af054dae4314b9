"""A large workspace's own search indexes: HNSW and GIN indexes over its rows alone.

The whole table's indexes serve every workspace, so a question over everything a workspace has
(or over a large group) walks past other workspaces' rows until enough of its own turn up: the
iterative HNSW scan checks each candidate's row, and the GIN index (the Library's search of what
is said; questions' BM25 reads per-video postings instead) lists every workspace's documents
holding a word. When a workspace is a small share of a large table that is most of the work
(bench/retrieval.py, BENCHMARKS.md). PostgreSQL's partial indexes (`WHERE workspace_id = N`)
give it indexes over its own rows. The planner picks them for its questions because the retrieval
SQL states the workspace as `workspace_id = :workspace_id` and is planned with the value each time
(retrieval._plan_for forces custom plans on them; a generic plan could not match a partial index).

Only large workspaces of large servers get them: each is maintained on insert beside the whole
table's (up to twice the index storage and insert work for the rows it covers) and weighed by the
planner, and a small workspace's scope is read exactly by video anyway. The worker builds them
(CREATE INDEX CONCURRENTLY: questions and ingestion's writes go on meanwhile) and drops those of
deleted workspaces; one build at a time, server-wide.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from core.retrieval import EXACT_SCAN_LIMIT
from db.models import HNSW_OPTIONS, TranscriptChunk, TranscriptSentence

log = logging.getLogger(__name__)

# A workspace gets its own indexes once its whole library is too large to read by video
# (retrieval.EXACT_SCAN_LIMIT chunks)...
OWN_INDEXES_FROM_CHUNKS = EXACT_SCAN_LIMIT
# ...while it holds at most this share of all chunks (past it the whole table's indexes are nearly
# its own)...
OWN_INDEXES_UP_TO_SHARE = 0.5
# ...on a server with at least this many chunks (below it, walking past others' rows is cheap).
OWN_INDEXES_FROM_TABLE_CHUNKS = 100_000
BUILD_MEMORY = "1GB"  # an HNSW build is quick while its graph fits (a 100,000-chunk workspace's takes ~200 MB)
_LOCK = 7_310_221  # advisory lock key: one ensure() at a time on the server


@dataclass(frozen=True)
class OwnIndex:
    table: str
    kind: str  # "embedding" (HNSW, cosine) or "search" (GIN over the search vector)

    def name(self, workspace_id: int) -> str:
        return f"ix_{self.table}_{self.kind}_w{int(workspace_id)}"

    def create(self, workspace_id: int) -> str:
        options = ", ".join(f"{key} = {value}" for key, value in HNSW_OPTIONS.items())
        using = (f"hnsw (embedding vector_cosine_ops) WITH ({options})" if self.kind == "embedding"
                 else "gin (search_vector)")
        return (f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {self.name(workspace_id)} ON {self.table} "
                f"USING {using} WHERE workspace_id = {int(workspace_id)}")


# The same indexes the whole table has (db/models.py), per workspace.
OWN_INDEXES = tuple(OwnIndex(table, kind) for table in (TranscriptChunk.__tablename__, TranscriptSentence.__tablename__)
                    for kind in ("embedding", "search"))
_OWN_NAME = re.compile(r"ix_(transcript_chunks|transcript_sentences)_(embedding|search)_w(\d+)")


def wanted(engine: Engine) -> list[int]:
    """The workspaces that should have their own indexes, by their chunk counts (kept per video
    for BM25, so this reads a few rows per video, not the chunks)."""
    with engine.connect() as conn:
        counts = dict(conn.execute(text(
            "SELECT v.workspace_id, sum(k.documents)::bigint FROM keyword_stats k JOIN videos v ON v.id = k.video_id "
            "WHERE k.kind = 'transcript_chunks' GROUP BY v.workspace_id")).all())
    total = sum(counts.values())
    if total < OWN_INDEXES_FROM_TABLE_CHUNKS:
        return []
    return sorted(w for w, n in counts.items() if OWN_INDEXES_FROM_CHUNKS <= n <= OWN_INDEXES_UP_TO_SHARE * total)


def _catalog(conn: Connection) -> dict[str, bool]:
    """Own indexes there are, by name: valid, or not (a build that died, or one under way)."""
    rows = conn.execute(text(
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname IN ('transcript_chunks', 'transcript_sentences') "
        "AND t.relnamespace = current_schema()::regnamespace")).all()
    return {name: valid for name, valid in rows if _OWN_NAME.fullmatch(name)}


def existing(engine: Engine) -> dict[int, set[str]]:
    """The valid own indexes, by workspace."""
    with engine.connect() as conn:
        catalog = _catalog(conn)
    found: dict[int, set[str]] = {}
    for name, valid in catalog.items():
        if valid:
            found.setdefault(int(_OWN_NAME.fullmatch(name).group(3)), set()).add(name)
    return found


def ensure(engine: Engine, only: int | None = None) -> tuple[list[str], list[str]]:
    """Build the missing own indexes of large workspaces (or of workspace `only`, whatever its
    size) and drop those of workspaces that no longer exist and invalid leftovers of builds that
    died; returns (built, dropped) names. A workspace keeps its indexes when it shrinks or others
    grow: dropping and rebuilding on either side of a threshold would cost more than keeping them.
    A build that fails is logged and the others go on; it is tried again next time."""
    built, dropped = [], []
    # CREATE / DROP INDEX CONCURRENTLY run outside a transaction.
    with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _LOCK}).scalar():
            return built, dropped  # another worker is at it (its invalid, half-built indexes are not ours to drop)
        try:
            conn.execute(text(f"SET maintenance_work_mem = '{BUILD_MEMORY}'"))
            conn.execute(text("SET statement_timeout = 0"))
            alive = set(conn.scalars(text("SELECT id FROM workspaces")))
            catalog = _catalog(conn)
            for name, valid in sorted(catalog.items()):
                if not valid or int(_OWN_NAME.fullmatch(name).group(3)) not in alive:
                    conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {name}"))
                    dropped.append(name)
            have = {name for name, valid in catalog.items() if valid and name not in dropped}
            for workspace_id in ([only] if only is not None else wanted(engine)):
                for index in OWN_INDEXES:
                    if index.name(workspace_id) in have:
                        continue
                    log.info("building %s", index.name(workspace_id))
                    try:
                        conn.execute(text(index.create(workspace_id)))
                    except Exception:  # a full disk, no right to create indexes: logged, tried again next time
                        log.exception("could not build %s", index.name(workspace_id))
                    else:
                        built.append(index.name(workspace_id))
        finally:
            conn.execute(text("RESET maintenance_work_mem; RESET statement_timeout"))
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK})
    return built, dropped
