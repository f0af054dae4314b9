"""Group-filtered hybrid retrieval latency at growing table sizes, and offline time to first token.

    .venv/bin/python -m bench.retrieval [--sizes 10000 100000 1000000] [--queries 200]

Each size fills transcript_chunks with synthetic 384-dimensional unit vectors and random text
(100 chunks per video, three sentences per chunk in transcript_sentences; the group's owner has a
tenth of them, 49 other users the rest), builds the HNSW indexes, and times the product's
`retrieval.search` for groups of 3 and 30 videos (0.3k and 3k chunks), reporting p50/p95 and
the dense side's recall@12 against an exact scan of the same group. Time to first token is the
product's offline answer path (`answers.prepare` + first piece of `answers.stream`) on a real
one-hour transcript embedded with all-MiniLM-L6-v2.
"""

from __future__ import annotations

import argparse
import sys
import random
import statistics
import time

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


def fill(conn, total: int, rng: np.random.Generator) -> tuple[int, list[int]]:
    """Insert `total` chunks; returns (owner id, the owner's video ids)."""
    videos = total // CHUNKS_PER_VIDEO
    with conn.cursor() as cur:
        cur.execute("TRUNCATE users, videos, transcript_chunks, transcript_sentences RESTART IDENTITY CASCADE")
        for u in range(USERS):
            cur.execute("INSERT INTO users (username, email, password, video_limit) VALUES (%s, %s, 'x', 100000)",
                        (f"u{u}", f"u{u}@example.com"))
        with cur.copy("COPY videos (user_id, title, status) FROM STDIN") as copy:
            for v in range(videos):
                copy.write_row((_owner_of(v + 1), f"Video {v}", "completed"))
        cur.execute("DROP INDEX IF EXISTS ix_transcript_chunks_embedding_hnsw")
        cur.execute("DROP INDEX IF EXISTS ix_transcript_sentences_embedding_hnsw")
        per_video = CHUNKS_PER_VIDEO * SENTENCES_PER_CHUNK

        def chunk(row: int, words: str, vector: str) -> str:
            video, index = row // CHUNKS_PER_VIDEO + 1, row % CHUNKS_PER_VIDEO
            return (f"{video}\t{_owner_of(video)}\tVideo {video - 1}\t{index}\t{words}\t{index * 30}\t"
                    f"{index * 30 + 30}\t{vector}\tall-MiniLM-L6-v2\n")

        def sentence(row: int, words: str, vector: str) -> str:
            video, index = row // per_video + 1, row % per_video
            return (f"{video}\t{_owner_of(video)}\t{index}\t{words}\t{index * 10}\t{index * 10 + 10}\t"
                    f"{vector}\tall-MiniLM-L6-v2\n")

        _copy(cur, "transcript_chunks (video_id, user_id, video_title, chunk_index, text, start_time, end_time, "
                   "embedding, embedding_model)", total, 12, chunk, rng)
        _copy(cur, "transcript_sentences (video_id, user_id, sentence_index, text, start_time, end_time, "
                   "embedding, embedding_model)", total * SENTENCES_PER_CHUNK, 4, sentence, rng)
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
    return 1, [v for v in range(1, videos + 1) if _owner_of(v) == 1]


def _copy(cur, table: str, rows: int, words_per_row: int, line, rng: np.random.Generator) -> None:
    """COPY `rows` synthetic rows into `table` in batches: random words and random unit vectors."""
    words = np.array(WORDS)
    with cur.copy(f"COPY {table} FROM STDIN") as copy:
        for start in range(0, rows, 10_000):
            n = min(10_000, rows - start)
            vectors = _unit_vectors(rng, n)
            texts = rng.choice(words, size=(n, words_per_row))
            copy.write("".join(line(start + i, " ".join(texts[i]), _as_text(vectors[i])) for i in range(n)))


def _unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _as_text(vector: np.ndarray) -> str:
    """pgvector's text form, for COPY."""
    return "[" + ",".join(f"{x:.5f}" for x in vector) + "]"


def _owner_of(video_id: int) -> int:
    """User 1 (the group owner) has every tenth video; the other users share the rest."""
    return 1 if video_id % 10 == 0 else 2 + video_id % (USERS - 1)


def make_group(session, owner_id: int, video_ids: list[int]) -> int:
    from core import groups

    group_id = groups.create_group(session, owner_id, f"bench {len(video_ids)}")
    groups.add_videos(session, owner_id, group_id, video_ids)
    return group_id


def exact_dense(session, group_id: int, owner_id: int, vector: list[float], k: int) -> list[int]:
    from pgvector.sqlalchemy import Vector
    from sqlalchemy import bindparam, text

    session.execute(text("SET LOCAL enable_indexscan = off"))
    rows = session.execute(text(
        "SELECT c.id FROM transcript_chunks c JOIN video_group_members m ON m.video_id = c.video_id "
        "WHERE m.group_id = :g AND c.user_id = :o ORDER BY c.embedding <=> :qv LIMIT :k"
    ).bindparams(bindparam("qv", type_=Vector(384))), {"g": group_id, "o": owner_id, "qv": vector, "k": k}).all()
    return [r[0] for r in rows]


def bench_size(db, total: int, queries: int, rng: np.random.Generator) -> list[str]:
    from core import retrieval

    started = time.perf_counter()
    with db.engine.raw_connection() as raw:
        owner_id, owner_videos = fill(raw.driver_connection, total, rng)
    load_s = time.perf_counter() - started
    lines = []
    for group_videos in (3, 30):
        if len(owner_videos) < group_videos:
            continue
        with db.session() as session:
            group_id = make_group(session, owner_id, owner_videos[:group_videos])
        latencies, recalls = [], []
        for _ in range(queries):
            vector = rng.standard_normal(384)
            vector = (vector / np.linalg.norm(vector)).tolist()
            words = " ".join(random.choices(WORDS, k=3))
            t0 = time.perf_counter()
            with db.session() as session:
                hits = retrieval.search(session, group_id=group_id, owner_id=owner_id, model="all-MiniLM-L6-v2",
                                        query_vector=vector, query_text=words, k=12)
            latencies.append((time.perf_counter() - t0) * 1000)
            assert len(hits) == 12, "the group filter starved the top k"
            if len(recalls) < 30:
                with db.session() as session:
                    dense = retrieval.search(session, group_id=group_id, owner_id=owner_id,
                                             model="all-MiniLM-L6-v2", query_vector=vector, query_text="",
                                             k=12, sparse_weight=0.0, sentence_weight=0.0, merge=False)
                    exact = exact_dense(session, group_id, owner_id, vector, 12)
                recalls.append(len({h.chunk_id for h in dense} & set(exact)) / 12)
        lines.append(f"| {total:,} | {group_videos} videos ({group_videos * CHUNKS_PER_VIDEO:,} chunks) | "
                     f"{_percentile(latencies, 50):.1f} | {_percentile(latencies, 95):.1f} | "
                     f"{statistics.mean(recalls):.3f} | {load_s:.0f} |")
        print(lines[-1], flush=True)
    return lines


def time_to_first_token(db, settings, questions: int = 30) -> tuple[float, float]:
    from bench.ingest import synthetic_segments
    from core import answers, groups
    from core.auth import sign_up
    from core.indexing import store_transcript
    from db.models import Video

    with db.session() as s:
        s.execute(__import__("sqlalchemy").text("TRUNCATE users RESTART IDENTITY CASCADE"))
        owner = sign_up(s, "ttft", "ttft@example.com", "bench password", video_limit=10, min_password_length=8)
        video = Video(user_id=owner.id, title="One hour", status="processing")
        s.add(video)
        s.flush()
        group_id = groups.create_group(s, owner.id, "ttft")
        groups.add_videos(s, owner.id, group_id, [video.id])
    store_transcript(db, settings, video.id, synthetic_segments(1), "captions")
    rng = random.Random(3)
    timings = []
    for _ in range(questions):
        question = "What did they say about " + " and ".join(rng.sample(WORDS, 2)) + "?"
        t0 = time.perf_counter()
        prepared = answers.prepare(db, settings, group_id=group_id, owner_id=owner.id, question=question)
        next(iter(answers.stream(prepared)))
        timings.append((time.perf_counter() - t0) * 1000)
    return _percentile(timings, 50), _percentile(timings, 95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    from core.config import load_settings
    from core.embeddings import LocalMiniLM

    with scratch_database("bench") as db:
        rng = np.random.default_rng(11)
        random.seed(5)
        print("| chunks in table | group | p50 ms | p95 ms | dense recall@12 vs exact | load + index s |")
        print("| --- | --- | --- | --- | --- | --- |")
        for size in args.sizes:
            bench_size(db, size, args.queries, rng)
        LocalMiniLM().embed_query("warm up")
        p50, p95 = time_to_first_token(db, load_settings())
        print(f"\noffline time to first answer token (1-hour transcript, 30 questions): p50 {p50:.0f} ms, p95 {p95:.0f} ms")


if __name__ == "__main__":
    main()
