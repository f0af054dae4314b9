"""Group-filtered hybrid retrieval latency at growing table sizes, and offline time to first token.

    .venv/bin/python -m bench.retrieval [--sizes 10000 100000 1000000] [--queries 200]
    .venv/bin/python -m bench.retrieval --library-videos 1000 [--queries 100] [--explain] [--kept DIR]

Each size fills transcript_chunks with synthetic 384-dimensional unit vectors and random text
(100 chunks per video, three sentences per chunk in transcript_sentences; the group's workspace,
its owner's personal one, holds a tenth of them, 49 other users' personal workspaces the rest),
builds the HNSW indexes, and times the product's `retrieval.search` for groups of 3 and 30 videos
(0.3k and 3k chunks), reporting p50/p95 and the dense side's recall@12 against an exact scan of
the same group. Time to first token is the
product's offline answer path (`answers.prepare` + first piece of `answers.stream`) on a real
one-hour transcript embedded with all-MiniLM-L6-v2.

`--library-videos N` adds the other scopes on one large library: one workspace holds N videos
(two of every three in the table; 49 other users' workspaces hold N/2 more) and is asked over
everything it has (`group_id=None`, the Ask page's "Everything"), over one of its videos (`video_id`) and, for
comparison on the same table, over groups of 3 and 30 of them; same figures, each recall against
an exact scan of the same scope. Without `--sizes` it runs only that table. `--explain` also prints
EXPLAIN (ANALYZE, BUFFERS) of the candidate SQL for one question over everything and over the
largest group. `--table-chunks M`
fills the table to M chunks instead (the workspace's N videos, other users' the rest), so the
scopes keep their size in a larger table. `--sentence-scan` also times today's retrieval with every
scope's sentences read by video instead of through the sentence HNSW index (whether that index
earns its build), question by question in turn. `--warm` asks each question once untimed
first, so the versions compare with their pages in memory. `--kept DIR` keeps the database in DIR and
asks a table an earlier run filled there (same sizes and words) instead of filling it again: the
1M table takes most of an hour to fill.

`--words DIR` fills the text from real speech instead of the 45-word vocabulary: windows of the
TutorialVQA captions in DIR (100-word chunks, 33-word sentences, the product's chunk size), asked
the TutorialVQA dev questions' words. The small vocabulary is BM25's worst case (each word is in a
quarter of all chunks); real speech is what users have. `--baseline REV` also times
`core/retrieval.py` as it was at git revision REV, question by question in turn with today's, on
the same data in the same run. REV must be 5399f99 (workspaces) or later: its SQL runs on today's
schema, and older revisions name `user_id` columns that 5399f99 renamed to `workspace_id`.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from bench.database import scratch_database

CHUNKS_PER_VIDEO = 100
SENTENCES_PER_CHUNK = 3  # 100-word chunks overlapping by half hold about three new sentences each
USERS = 50
WORDS = ("market revenue quarter team hiring product launch customer design budget roadmap metric growth churn "
         "pricing feature release bug fix plan office travel review meeting goal risk latency database index query "
         "cache model training data label video chapter summary kitchen safety laptop vpn password").split()


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def fill(conn, total: int, rng: np.random.Generator, owner_of=None, words=None) -> tuple[int, int, list[int]]:
    """Insert `total` chunks, video v uploaded by user `owner_of(v)` into that user's personal
    workspace (by default user 1 has every tenth video), their text from `words` (default: the
    small vocabulary); returns (user 1's id, their personal workspace's id, its video ids)."""
    owner_of = owner_of or _owner_of
    words = words or SmallVocabulary()
    videos = total // CHUNKS_PER_VIDEO
    with conn.cursor() as cur:
        cur.execute("TRUNCATE users, workspaces, videos, transcript_chunks, transcript_sentences "
                    "RESTART IDENTITY CASCADE")
        workspace_of: dict[int, int] = {}  # user id -> their personal workspace's id, as sign-up makes it
        for u in range(USERS):
            cur.execute("INSERT INTO users (username, email, password, video_limit) "
                        "VALUES (%s, %s, 'x', 100000) RETURNING id", (f"u{u}", f"u{u}@example.com"))
            user_id = cur.fetchone()[0]
            cur.execute("INSERT INTO workspaces (name, personal_user_id, created_by_id) "
                        "VALUES ('Personal', %s, %s) RETURNING id", (user_id, user_id))
            workspace_of[user_id] = cur.fetchone()[0]
            cur.execute("INSERT INTO workspace_members (workspace_id, user_id, role) VALUES (%s, %s, 'owner')",
                        (workspace_of[user_id], user_id))
        with cur.copy("COPY videos (user_id, workspace_id, title, status) FROM STDIN") as copy:
            for v in range(videos):
                copy.write_row((owner_of(v + 1), workspace_of[owner_of(v + 1)], f"Video {v}", "completed"))
        cur.execute("DROP INDEX IF EXISTS ix_transcript_chunks_embedding_hnsw")
        cur.execute("DROP INDEX IF EXISTS ix_transcript_sentences_embedding_hnsw")
        cur.execute("SELECT indexname FROM pg_indexes WHERE indexname ~ '^ix_transcript_(chunks|sentences)_.*_w[0-9]+$'")
        for (name,) in cur.fetchall():  # workspaces' own indexes (--own-indexes) of an earlier fill: rebuilt after
            cur.execute(f"DROP INDEX {name}")
        per_video = CHUNKS_PER_VIDEO * SENTENCES_PER_CHUNK

        def chunk(row: int, words: str, vector: str) -> str:
            video, index = row // CHUNKS_PER_VIDEO + 1, row % CHUNKS_PER_VIDEO
            return (f"{video}\t{workspace_of[owner_of(video)]}\tVideo {video - 1}\t{index}\t{words}\t{index * 30}\t"
                    f"{index * 30 + 30}\t{vector}\tall-MiniLM-L6-v2\n")

        def sentence(row: int, words: str, vector: str) -> str:
            video, index = row // per_video + 1, row % per_video
            return (f"{video}\t{workspace_of[owner_of(video)]}\t{index}\t{words}\t{index * 10}\t{index * 10 + 10}\t"
                    f"{vector}\tall-MiniLM-L6-v2\n")

        _copy(cur, "transcript_chunks (video_id, workspace_id, video_title, chunk_index, text, start_time, end_time, "
                   "embedding, embedding_model)", total, words.chunk_words, chunk, rng, words)
        _copy(cur, "transcript_sentences (video_id, workspace_id, sentence_index, text, start_time, end_time, "
                   "embedding, embedding_model)", total * SENTENCES_PER_CHUNK, words.sentence_words, sentence, rng,
              words)
        conn.commit()  # what is loaded stays loaded if an index build below fails (at 1M it took half an hour)
        # The HNSW build is fast only while its graph fits in maintenance_work_mem (about 3 GB at
        # 1M x 384 dims, 9 GB for the 3M sentences of 1M chunks); past that it crawls. Two cores:
        # the leader plus one parallel worker.
        print(f"# {total:,} rows loaded, building the HNSW index", file=sys.stderr, flush=True)
        cur.execute("SET maintenance_work_mem = '6GB'")
        cur.execute("SET max_parallel_maintenance_workers = 1")
        cur.execute("CREATE INDEX ix_transcript_chunks_embedding_hnsw ON transcript_chunks "
                    "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)")
        print("# chunk index built, building the sentence index", file=sys.stderr, flush=True)
        cur.execute("SET maintenance_work_mem = '12GB'")  # three sentences per chunk: three times the graph
        cur.execute("CREATE INDEX ix_transcript_sentences_embedding_hnsw ON transcript_sentences "
                    "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)")
        cur.execute("ANALYZE")
    conn.commit()
    return 1, workspace_of[1], [v for v in range(1, videos + 1) if owner_of(v) == 1]


def _copy(cur, table: str, rows: int, words_per_row: int, line, rng: np.random.Generator, words) -> None:
    """COPY `rows` synthetic rows into `table` in batches: texts and unit vectors from `words`."""
    with cur.copy(f"COPY {table} FROM STDIN") as copy:
        for start in range(0, rows, 10_000):
            n = min(10_000, rows - start)
            texts, vectors = words.rows(rng, n, words_per_row)
            copy.write("".join(line(start + i, texts[i], _as_text(vectors[i])) for i in range(n)))


class SmallVocabulary:
    """Random words of a 45-word vocabulary and random vectors: every word is in about a quarter of
    all chunks (the keyword side's worst case), and no vector is near another (HNSW's worst case)."""

    chunk_words, sentence_words = 12, 4

    def rows(self, rng: np.random.Generator, n: int, words_per_row: int) -> tuple[list[str], np.ndarray]:
        texts = [" ".join(row) for row in rng.choice(np.array(WORDS), size=(n, words_per_row))]
        return texts, _unit_vectors(rng, n)

    def question(self, rng: np.random.Generator) -> tuple[list[float], str]:
        vector = rng.standard_normal(384)
        return (vector / np.linalg.norm(vector)).tolist(), " ".join(random.choices(WORDS, k=3))


class RealSpeech:
    """Real captions (the TutorialVQA tutorials) and real questions (its dev questions), embedded
    with the product's model: word frequencies and vector neighbourhoods as users' libraries have
    them. Rows are windows of the captions at the product's chunk size; embedding 150,000 would
    take an hour, so each row takes the text of one of a few thousand embedded windows, and as
    vector that window's embedding plus half another's and some noise (no two rows alike)."""

    chunk_words, sentence_words = 100, 33
    WINDOWS = {100: 2000, 33: 4000}  # embedded windows per row length

    def __init__(self, eval_dir: Path):
        from core import captions

        self.eval_dir = eval_dir.resolve()
        self.words = [w for path in sorted((eval_dir / "captions").glob("*.vtt"))
                      for segment in captions.parse_captions(path.read_bytes()) for w in segment.text.split()]
        self.questions = [json.loads(line)["question"]
                          for line in (eval_dir / "questions-dev.jsonl").read_text().splitlines() if line.strip()]
        self.windows: dict[int, tuple[list[str], np.ndarray]] = {}
        self.asked: list[tuple[list[float], str]] = []

    def _embed(self, texts: list[str]) -> np.ndarray:
        from core.embeddings import LocalMiniLM

        return np.array(LocalMiniLM().embed_documents(texts), dtype=np.float32)

    def _windows(self, words_per_row: int) -> tuple[list[str], np.ndarray]:
        if words_per_row not in self.windows:
            rng = np.random.default_rng(words_per_row)
            starts = rng.integers(0, len(self.words) - words_per_row, size=self.WINDOWS[words_per_row])
            texts = [" ".join(self.words[s:s + words_per_row]).replace("\\", " ") for s in starts]
            print(f"# embedding {len(texts):,} windows of {words_per_row} words", file=sys.stderr, flush=True)
            self.windows[words_per_row] = texts, self._embed(texts)
        return self.windows[words_per_row]

    def rows(self, rng: np.random.Generator, n: int, words_per_row: int) -> tuple[list[str], np.ndarray]:
        texts, vectors = self._windows(words_per_row)
        main, other = rng.integers(0, len(texts), size=n), rng.integers(0, len(texts), size=n)
        mixed = vectors[main] + 0.5 * vectors[other] + 0.3 * _unit_vectors(rng, n)
        return [texts[i] for i in main], mixed / np.linalg.norm(mixed, axis=1, keepdims=True)

    def question(self, rng: np.random.Generator) -> tuple[list[float], str]:
        if not self.asked:
            picked = random.Random(7).sample(self.questions, 300)
            self.asked = list(zip(self._embed(picked).tolist(), picked))
        return self.asked[int(rng.integers(len(self.asked)))]


def _unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _as_text(vector: np.ndarray) -> str:
    """pgvector's text form, for COPY."""
    return "[" + ",".join(f"{x:.5f}" for x in vector) + "]"


def _owner_of(video_id: int) -> int:
    """User 1 (whose personal workspace the groups are in) has every tenth video; the other users share the rest."""
    return 1 if video_id % 10 == 0 else 2 + video_id % (USERS - 1)


def _library_owner_of(video_id: int) -> int:
    """User 1 has two of every three videos (a large library); the other users share the rest."""
    return 1 if video_id % 3 else 2 + video_id % (USERS - 1)


def _one_in(stride: int):
    """User 1 has every `stride`-th video (a library within a larger table); the others the rest."""
    return lambda video_id: 1 if video_id % stride == 0 else 2 + video_id % (USERS - 1)


def make_group(session, user_id: int, workspace_id: int, video_ids: list[int]) -> int:
    from core import groups

    group_id = groups.create_group(session, user_id, f"bench {len(video_ids)}", workspace_id=workspace_id)
    groups.add_videos(session, user_id, group_id, video_ids)
    return group_id


def exact_dense(session, workspace_id: int, vector: list[float], k: int, group_id: int | None = None,
                video_id: int | None = None) -> list[int]:
    """The k nearest chunks of the group, else the video, else all the workspace's videos, by a full
    scan (no HNSW)."""
    from pgvector.sqlalchemy import Vector
    from sqlalchemy import bindparam, text

    if group_id is not None:
        scope = "c.video_id IN (SELECT video_id FROM video_group_members WHERE group_id = :g)"
    elif video_id is not None:
        scope = "c.video_id = :v"
    else:
        scope = "true"
    session.execute(text("SET LOCAL enable_indexscan = off"))
    rows = session.execute(text(
        f"SELECT c.id FROM transcript_chunks c WHERE {scope} AND c.workspace_id = :w ORDER BY c.embedding <=> :qv "
        "LIMIT :k"
    ).bindparams(bindparam("qv", type_=Vector(384))),
        {"g": group_id, "v": video_id, "w": workspace_id, "qv": vector, "k": k}).all()
    return [r[0] for r in rows]


def _question(rng: np.random.Generator, words=None) -> tuple[list[float], str]:
    """A query vector and its question from `words` (default: a random vector and three vocabulary words)."""
    return (words or SmallVocabulary()).question(rng)


def bench_scope(db, label: str, queries: int, rng: np.random.Generator, workspace_id: int, *,
                group_id: int | None = None, video_ids: list[int] | None = None, words=None,
                versions: dict | None = None, warm: bool = False) -> dict[str, tuple[float, float, float]]:
    """Times each version's `search` (default: today's `retrieval`) over a group, else over
    `video_ids` one at a time in turn, else over everything the workspace has, the versions taking
    turns question by question (first one, then the other); returns, by version, p50 ms, p95 ms
    and the dense side's mean recall@12 against an exact scan of the same scope (over the first 30
    questions). With `warm`, each version first asks each question once untimed, so every version
    reads its pages from memory: the figures compare the code, not whose turn it was to read from disk."""
    from core import retrieval

    versions = versions or {"today": retrieval}
    latencies: dict[str, list[float]] = {name: [] for name in versions}
    recalls: dict[str, list[float]] = {name: [] for name in versions}
    for n in range(queries):
        video_id = video_ids[n % len(video_ids)] if video_ids else None
        scope = {"group_id": group_id, "video_id": video_id, "workspace_id": workspace_id, "model": "all-MiniLM-L6-v2"}
        vector, question = _question(rng, words)
        order = list(versions.items()) if n % 2 == 0 else list(reversed(versions.items()))
        for _, version in order if warm else []:  # every version: each may read pages the other does not
            with _asking(db, version) as session:
                version.search(session, **scope, query_vector=vector, query_text=question, k=12)
        for name, version in order:
            with _asking(db, version) as session:
                t0 = time.perf_counter()
                hits = version.search(session, **scope, query_vector=vector, query_text=question, k=12)
                latencies[name].append((time.perf_counter() - t0) * 1000)
            assert len(hits) == 12, f"the {label} filter starved the top k"
            if len(recalls[name]) < 30:
                with _asking(db, version) as session:
                    # Only the chunk vectors rank: the pool's chunks by their exact similarity.
                    dense = version.search(session, **scope, query_vector=vector, query_text="", k=12,
                                           sparse_weight=0.0, sentence_weight=0.0, sentence_keyword_weight=0.0,
                                           merge=False)
                    exact = exact_dense(session, workspace_id, vector, 12, group_id=group_id, video_id=video_id)
                recalls[name].append(len({h.chunk_id for h in dense} & set(exact)) / 12)
    return {name: (_percentile(latencies[name], 50), _percentile(latencies[name], 95), statistics.mean(recalls[name]))
            for name in versions}


def _rows(total: int, label: str, figures: dict[str, tuple[float, float, float]], load_s: float) -> list[str]:
    lines = [f"| {total:,} | {label} | {name} | {p50:.1f} | {p95:.1f} | {recall:.3f} | {load_s:.0f} |"
             for name, (p50, p95, recall) in figures.items()]
    print("\n".join(lines), flush=True)
    return lines


def bench_size(db, total: int, queries: int, rng: np.random.Generator, words=None, versions=None) -> list[str]:
    started = time.perf_counter()
    with db.engine.raw_connection() as raw:
        user_id, workspace_id, library_videos = fill(raw.driver_connection, total, rng, words=words)
    load_s = time.perf_counter() - started
    lines = []
    for group_videos in (3, 30):
        if len(library_videos) < group_videos:
            continue
        with db.session() as session:
            group_id = make_group(session, user_id, workspace_id, library_videos[:group_videos])
        figures = bench_scope(db, "group", queries, rng, workspace_id, group_id=group_id, words=words,
                              versions=versions)
        lines += _rows(total, f"group: {group_videos} videos ({group_videos * CHUNKS_PER_VIDEO:,} chunks)", figures,
                       load_s)
    return lines


def bench_library(db, library_videos: int, queries: int, rng: np.random.Generator, explain: bool = False,
                  words=None, versions=None, table_chunks: int | None = None, kept: Path | None = None,
                  own: bool = False, warm: bool = False) -> list[str]:
    """One workspace with `library_videos` videos (and other users' workspaces with half as many
    again, or as many as fill `table_chunks`), asked over everything it has, one of its videos,
    and groups of 3, 30 and 300 of them. With `kept` (the kept database's directory) a table
    filled by an earlier run with the same sizes and words is asked again instead of refilled. With
    `own`, the workspace's own indexes are built (core/workspace_indexes.py), each version is asked
    with them hidden and today's also with them. `warm`: see `bench_scope`."""
    if table_chunks:
        total, owner_of = table_chunks, _one_in(table_chunks // CHUNKS_PER_VIDEO // library_videos)
    else:
        total, owner_of = (library_videos + library_videos // 2) * CHUNKS_PER_VIDEO, _library_owner_of
    filled = {"chunks": total, "library_videos": library_videos, "words": str(getattr(words, "eval_dir", "45 words"))}
    marker = kept / "filled.json" if kept else None
    if marker and marker.exists() and json.loads(marker.read_text())["filled"] == filled:
        user_id, workspace_id, owned_videos = _filled(db)
        load_s = json.loads(marker.read_text())["load_s"]
        print(f"# asking the table kept in {kept} (filled in {load_s:.0f} s)", file=sys.stderr, flush=True)
    else:
        started = time.perf_counter()
        with db.engine.raw_connection() as raw:
            user_id, workspace_id, owned_videos = fill(raw.driver_connection, total, rng, owner_of=owner_of,
                                                       words=words)
        load_s = time.perf_counter() - started
        if marker:
            marker.write_text(json.dumps({"filled": filled, "load_s": load_s}))
    if kept:  # the same questions whether this run filled the table or found it filled
        rng = np.random.default_rng(12)
    if own:
        from core import retrieval

        names = own_indexes(db, workspace_id)
        versions = {**{f"{name}, whole table's indexes": WithoutOwnIndexes(module, names)
                       for name, module in (versions or {"today": retrieval}).items()},
                    "today, with the workspace's own indexes": retrieval}
    owned = len(owned_videos) * CHUNKS_PER_VIDEO
    scopes: list[tuple[str, dict]] = [
        (f"everything: {len(owned_videos):,} videos ({owned:,} chunks)", {}),
        (f"one video ({CHUNKS_PER_VIDEO} chunks)", {"video_ids": owned_videos[::max(1, len(owned_videos) // 50)]}),
    ]
    for group_videos in (3, 30, 300):
        if len(owned_videos) >= group_videos:
            with db.session() as session:
                group_id = make_group(session, user_id, workspace_id, owned_videos[:group_videos])
            scopes.append((f"group: {group_videos} videos ({group_videos * CHUNKS_PER_VIDEO:,} chunks)",
                           {"group_id": group_id}))
    lines = []
    for label, scope in scopes:
        figures = bench_scope(db, label.split(":")[0], queries, rng, workspace_id, words=words, versions=versions,
                              warm=warm, **scope)
        lines += _rows(total, label, figures, load_s)
    if explain:
        print("\n" + explain_everything(db, workspace_id, rng, words), flush=True)
        largest = [scope["group_id"] for _, scope in scopes if "group_id" in scope][-1:]
        for group_id in largest:
            print("\n" + explain_everything(db, workspace_id, rng, words, group_id=group_id), flush=True)
    return lines


def _filled(db) -> tuple[int, int, list[int]]:
    """What `fill` returned, read back from a table it filled in an earlier run."""
    from sqlalchemy import text

    with db.session() as session:
        workspace_id = session.execute(text("SELECT id FROM workspaces WHERE personal_user_id = 1")).scalar_one()
        videos = session.scalars(text("SELECT id FROM videos WHERE workspace_id = :w ORDER BY id"),
                                 {"w": workspace_id}).all()
    return 1, workspace_id, list(videos)


def explain_everything(db, workspace_id: int, rng: np.random.Generator, words=None,
                       group_id: int | None = None) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the candidate SQL `retrieval.search` runs over all the
    workspace's videos (or a group), for one question, with the settings it runs under."""
    from core import retrieval

    vector, question = _question(rng, words)
    with db.session() as session:
        plan = retrieval.explain_candidates(session, group_id=group_id, video_id=None, workspace_id=workspace_id,
                                            model="all-MiniLM-L6-v2", query_vector=vector, query_text=question)
    return f"EXPLAIN ANALYZE, {'a group' if group_id else 'everything'}, question {question!r}:\n{plan}"


def time_to_first_token(db, settings, questions: int = 30) -> tuple[float, float]:
    from bench.ingest import synthetic_segments
    from core import answers, groups
    from core.auth import sign_up
    from core.indexing import store_transcript
    from core.workspaces import personal_workspace_id
    from db.models import Video

    with db.session() as s:
        s.execute(__import__("sqlalchemy").text("TRUNCATE users RESTART IDENTITY CASCADE"))
        owner = sign_up(s, "ttft", "ttft@example.com", "bench password", video_limit=10, min_password_length=8)
        workspace_id = personal_workspace_id(s, owner.id)
        video = Video(user_id=owner.id, workspace_id=workspace_id, title="One hour", status="processing")
        s.add(video)
        s.flush()
        group_id = groups.create_group(s, owner.id, "ttft", workspace_id=workspace_id)
        groups.add_videos(s, owner.id, group_id, [video.id])
    store_transcript(db, settings, video.id, synthetic_segments(1), "captions")
    rng = random.Random(3)
    timings = []
    for _ in range(questions):
        question = "What did they say about " + " and ".join(rng.sample(WORDS, 2)) + "?"
        t0 = time.perf_counter()
        prepared = answers.prepare(db, settings, group_id=group_id, user_id=owner.id, workspace_id=workspace_id,
                                   question=question)
        next(iter(answers.stream(prepared)))
        timings.append((time.perf_counter() - t0) * 1000)
    return _percentile(timings, 50), _percentile(timings, 95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="chunks in the table, one run each (default 10000 100000 without --library-videos)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--library-videos", type=int, default=0,
                        help="also one workspace with this many videos asked over everything, one video and groups")
    parser.add_argument("--table-chunks", type=int, default=None,
                        help="with --library-videos: fill the table to this many chunks (the others' videos)")
    parser.add_argument("--sentence-scan", action="store_true",
                        help="also time today's retrieval reading every sentence of a scope by video "
                             "instead of through the sentence HNSW index, question by question in turn")
    parser.add_argument("--kept", type=Path, default=None,
                        help="with --library-videos: keep the database in this directory, and ask the table an "
                             "earlier run filled there with the same sizes instead of filling it again")
    parser.add_argument("--own-indexes", action="store_true",
                        help="with --library-videos: build the workspace's own indexes, ask each version with "
                             "only the whole table's and today's also with them, question by question in turn")
    parser.add_argument("--warm", action="store_true",
                        help="with --library-videos: ask each question once untimed before timing the versions "
                             "(their code, with the pages in memory)")
    parser.add_argument("--explain", action="store_true", help="with --library-videos: EXPLAIN the everything query")
    parser.add_argument("--words", type=Path, default=None,
                        help="a TutorialVQA directory: text from its captions and questions (default: 45 words)")
    parser.add_argument("--baseline", default=None,
                        help="a git revision whose core/retrieval.py is timed alongside; it must be 5399f99 or "
                             "later (workspaces): its SQL runs on today's schema, and older revisions name "
                             "user_id columns that no longer exist")
    args = parser.parse_args()
    sizes = args.sizes if args.sizes is not None else ([] if args.library_videos else [10_000, 100_000])
    from core.config import load_settings
    from core.embeddings import LocalMiniLM

    if args.kept and (sizes or not args.library_videos):
        parser.error("--kept keeps one --library-videos table; it cannot be used with --sizes")
    with scratch_database("bench", kept=args.kept) as db:
        rng = np.random.default_rng(11)
        random.seed(5)
        words = RealSpeech(args.words) if args.words else SmallVocabulary()
        versions = _versions(args.baseline, args.sentence_scan)
        print("| chunks in table | scope | version | p50 ms | p95 ms | dense recall@12 vs exact | load + index s |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for size in sizes:
            bench_size(db, size, args.queries, rng, words, versions)
        if args.library_videos:
            bench_library(db, args.library_videos, args.queries, rng, explain=args.explain, words=words,
                          versions=versions, table_chunks=args.table_chunks, kept=args.kept, own=args.own_indexes,
                          warm=args.warm)
        if args.kept:
            return  # time to first token starts from an empty database: not the kept table's
        LocalMiniLM().embed_query("warm up")
        p50, p95 = time_to_first_token(db, load_settings())
        print(f"\noffline time to first answer token (1-hour transcript, 30 questions): p50 {p50:.0f} ms, p95 {p95:.0f} ms")


def _versions(baseline: str | None, sentence_scan: bool = False) -> dict:
    """Today's retrieval module, the one at git revision `baseline` if given (loaded from its
    source under another name: its SQL runs on today's schema), and with `sentence_scan` today's
    again with every scope's sentences read by video instead of through their HNSW index."""
    from core import retrieval

    # The baseline must be 5399f99 or later: that commit moved every library row into a workspace
    # (chunks' and sentences' user_id renamed to workspace_id, search(owner_id=) became
    # search(workspace_id=)), so an older revision's SQL names columns this schema no longer has.
    # Old schemas are not emulated; compare revisions on either side of a change after 5399f99.

    versions = {}
    if baseline:
        source = subprocess.run(["git", "show", f"{baseline}:core/retrieval.py"], check=True, capture_output=True,
                                text=True, cwd=Path(__file__).resolve().parent.parent).stdout
        versions[baseline[:7]] = _module("baseline_retrieval", source, f"{baseline}:core/retrieval.py")
    versions["today"] = retrieval
    if sentence_scan:
        scan = _module("sentence_scan_retrieval", Path(retrieval.__file__).read_text(), retrieval.__file__)
        scan.SENTENCE_EXACT_SCAN_LIMIT = 2**62
        versions["sentences read by video"] = scan
    return versions


class WithoutOwnIndexes:
    """A retrieval module asked as if the large workspace had no indexes of its own: they are
    dropped inside the question's transaction, which is then rolled back (PostgreSQL's DDL is
    transactional), so the planner sees only the whole table's indexes, on the same data in the
    same run."""

    def __init__(self, module: types.ModuleType, names: list[str]):
        self.module, self.names = module, names

    def hide(self, session) -> None:
        from sqlalchemy import text

        for name in self.names:
            session.execute(text(f"DROP INDEX {name}"))

    def search(self, session, **question):
        return self.module.search(session, **question)


@contextmanager
def _asking(db, version) -> Iterator:
    """A session to ask `version` in; one that hides indexes does so in a savepoint rolled back after."""
    with db.session() as session:
        if not hasattr(version, "hide"):
            yield session
            return
        savepoint = session.begin_nested()
        version.hide(session)
        try:
            yield session
        finally:
            savepoint.rollback()


def own_indexes(db, workspace_id: int) -> list[str]:
    """The workspace's own indexes (core/workspace_indexes.py), built now if missing (only its:
    in a 1M table the other users' workspaces are large enough for theirs too)."""
    from core import workspace_indexes

    started = time.perf_counter()
    built, _ = workspace_indexes.ensure(db.engine, only=workspace_id)
    if built:
        print(f"# built {', '.join(built)} in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    names = sorted(workspace_indexes.existing(db.engine).get(workspace_id, ()))
    assert len(names) == len(workspace_indexes.OWN_INDEXES), f"the workspace's own indexes are not all there: {names}"
    return names


def _module(name: str, source: str, origin: str) -> types.ModuleType:
    """A copy of a retrieval module from its source, under another name."""
    module = sys.modules[name] = types.ModuleType(name)
    exec(compile(source, origin, "exec"), module.__dict__)
    return module


if __name__ == "__main__":
    main()
