"""Where a transcript row keeps its vector, and what an exact scan of a scope pays for it.

    .venv/bin/python -m bench.vector_storage [--videos 3 30] [--rounds 30]

Exact vector search reads every chunk (or sentence) of a small scope through its `video_id`
index and ranks the rows by cosine distance (core/retrieval.py). pgvector's `vector` type
defaults to EXTERNAL storage, so a row over PostgreSQL's 2 kB target keeps its vector out of line
and each distance first fetches the vector from the TOAST table; revision 0023 keeps it inline
(MAIN). This fills two copies of the transcript tables with the same rows (chunks of 100 words,
sentences of 33, real words from the TutorialVQA captions when `--words` is given, random unit
vectors), one with each storage, and times the same exact top-100 scan over 3 and 30 videos on
both, taking turns scan by scan. A third copy starts out of line and is rewritten with
`VACUUM FULL` after its storage is set to MAIN: what an existing database gets from that.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from sqlalchemy import text

from bench.database import scratch_database
from bench.retrieval import RealSpeech

LAYOUTS = {"out of line (EXTERNAL, before)": "EXTERNAL", "inline (MAIN, revision 0023)": "MAIN",
           "out of line, then MAIN + VACUUM FULL": "EXTERNAL"}
KINDS = {"chunks": 100, "sentences": 33}  # words per row
ROWS_PER_VIDEO = {"chunks": 100, "sentences": 300}


def _words(eval_dir: Path | None) -> list[str]:
    if eval_dir is None:
        return [f"word{i}" for i in range(5000)]
    return RealSpeech(eval_dir).words  # every caption word, in order


def fill(db, videos: int, rng: np.random.Generator, words: list[str]) -> None:
    """The same rows into one table per layout and kind: `lab_<kind>_<n>`."""
    with db.session() as s:
        for kind, length in KINDS.items():
            rows = []
            for video in range(videos):
                for n in range(ROWS_PER_VIDEO[kind]):
                    start = int(rng.integers(0, max(1, len(words) - length)))
                    vector = rng.standard_normal(384)
                    vector /= np.linalg.norm(vector)
                    rows.append({"v": video, "t": " ".join(words[start:start + length]),
                                 "e": "[" + ",".join(f"{x:.7f}" for x in vector) + "]"})
            for n, storage in enumerate(LAYOUTS.values()):
                table = f"lab_{kind}_{n}"
                s.execute(text(f"DROP TABLE IF EXISTS {table}"))
                s.execute(text(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, video_id bigint NOT NULL, "
                               "text text NOT NULL, search_vector tsvector GENERATED ALWAYS AS "
                               "(to_tsvector('english', text)) STORED, embedding vector(384) NOT NULL)"))
                s.execute(text(f"ALTER TABLE {table} ALTER COLUMN embedding SET STORAGE {storage}"))
                s.execute(text(f"INSERT INTO {table} (video_id, text, embedding) VALUES (:v, :t, CAST(:e AS vector))"),
                          rows)
                s.execute(text(f"CREATE INDEX ON {table} (video_id)"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for kind in KINDS:
            rewritten = f"lab_{kind}_{len(LAYOUTS) - 1}"
            conn.execute(text(f"ALTER TABLE {rewritten} ALTER COLUMN embedding SET STORAGE MAIN"))
            conn.execute(text(f"VACUUM FULL {rewritten}"))
            for n in range(len(LAYOUTS)):
                conn.execute(text(f"VACUUM ANALYZE lab_{kind}_{n}"))


def sizes(db) -> dict[str, tuple[int, int]]:
    """Each table's heap and TOAST bytes."""
    with db.session() as s:
        return {r[0]: (r[1], r[2]) for r in s.execute(text(
            "SELECT c.relname, pg_relation_size(c.oid), coalesce(pg_relation_size(nullif(c.reltoastrelid, 0)), 0) "
            "FROM pg_class c WHERE c.relname LIKE 'lab\\_%' AND c.relkind = 'r'"))}


def time_scans(db, scope_videos: int, rounds: int, rng: np.random.Generator) -> dict[tuple[str, int], list[float]]:
    """ms per exact top-100 scan of `scope_videos` videos, by (kind, layout), layouts in turn."""
    spent: dict[tuple[str, int], list[float]] = {}
    with db.session() as s:
        for _ in range(rounds):
            vector = rng.standard_normal(384)
            query = "[" + ",".join(f"{x:.7f}" for x in vector / np.linalg.norm(vector)) + "]"
            for kind in KINDS:
                for n in range(len(LAYOUTS)):
                    started = time.perf_counter()
                    s.execute(text(f"SELECT id, embedding <=> CAST(:q AS vector) AS d FROM lab_{kind}_{n} "
                                   "WHERE video_id = ANY (:v) ORDER BY d LIMIT 100"),
                              {"q": query, "v": list(range(scope_videos))}).all()
                    spent.setdefault((kind, n), []).append((time.perf_counter() - started) * 1000)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, nargs="+", default=[3, 30], help="scopes to scan, in videos")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--words", type=Path, default=None, help="a TutorialVQA directory: real caption words")
    args = parser.parse_args()
    rng = np.random.default_rng(3)
    with scratch_database("storage") as db:
        fill(db, max(args.videos), rng, _words(args.words))
        stored = sizes(db)
        print("| kind | layout | heap + TOAST MB | " + " | ".join(
            f"{v} videos p50 / p95 ms" for v in args.videos) + " |")
        print("| --- | --- | --- | " + " | ".join("---" for _ in args.videos) + " |")
        figures = {videos: time_scans(db, videos, args.rounds, rng) for videos in args.videos}
        for kind in KINDS:
            for n, layout in enumerate(LAYOUTS):
                heap, toast = stored[f"lab_{kind}_{n}"]
                cells = []
                for videos in args.videos:
                    ms = sorted(figures[videos][(kind, n)])
                    cells.append(f"{statistics.median(ms):.1f} / {ms[int(0.95 * (len(ms) - 1))]:.1f}")
                print(f"| {kind} ({ROWS_PER_VIDEO[kind]} per video) | {layout} | "
                      f"{heap / 1e6:.1f} + {toast / 1e6:.1f} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
