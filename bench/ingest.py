"""Ingestion speed: minutes of transcript made searchable per second of wall time.

    .venv/bin/python -m bench.ingest [--hours 1 10] [--baseline REV] [--trigger-before-postings]

For each synthetic transcript (a segment every 4 s, 10 words each) it times the product's own
path — chunking and sentence splitting, embedding chunks and sentences with the local
all-MiniLM-L6-v2, one-transaction insert into pgvector — and, in the same run, the raw embedding
ceiling: the same model embedding the same chunk and sentence texts with nothing else around it.
"embed s" is the embedding inside the product's path, "write s" the rest (chunking, the one
transaction that stores the rows, its indexes and triggers). `--baseline REV` also runs
core/indexing.py as it was at git revision REV on the same transcripts in the same run, each
version into its own video. `--trigger-before-postings` also runs today's code with the keyword
trigger as revision 0015 had it (counts only, no postings: revision 0022's downgrade body),
swapped in for its write and back after. Uses a throwaway embedded PostgreSQL (or DATABASE_URL's
server).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import random
import subprocess
import sys
import time
import types
from pathlib import Path

from sqlalchemy import text

from bench.database import scratch_database

WORDS = ("market revenue quarter team hiring product launch customer design budget roadmap metric "
         "growth churn pricing feature release bug fix plan office travel review meeting goal risk "
         "latency database index query cache model training data label video chapter summary").split()


def synthetic_segments(hours: float, seed: int = 7):
    from core.transcripts import Segment

    rng = random.Random(seed)
    return [Segment(t, t + 4.0, " ".join(rng.choice(WORDS) for _ in range(10)).capitalize() + ".")
            for t in (i * 4.0 for i in range(int(hours * 3600 / 4)))]


def talks_in_group(db, settings, owner_id: int, workspace_id: int, group_id: int, *, count: int = 5) -> None:
    """`count` synthetic 20-minute talks, ingested through the product's path into the group."""
    from core import groups, indexing
    from db.models import Video

    for n in range(count):
        with db.session() as s:
            video = Video(user_id=owner_id, workspace_id=workspace_id, title=f"Talk {n}", status="processing")
            s.add(video)
            s.flush()
            groups.add_videos(s, owner_id, group_id, [video.id])
        indexing.store_transcript(db, settings, video.id, synthetic_segments(1 / 3, seed=n), "captions")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--baseline", default=None, help="a git revision whose core/indexing.py runs beside today's")
    parser.add_argument("--trigger-before-postings", action="store_true",
                        help="also today's code writing under revision 0015's keyword trigger (no postings)")
    args = parser.parse_args()
    with scratch_database("bench") as db:
        versions = _versions(args.baseline)
        if args.trigger_before_postings:
            from core import indexing

            versions = {"0015 trigger": indexing, **versions}
        run(db, args.hours, versions)


def _keyword_trigger(db, name: str):
    """For the "0015 trigger" version: revision 0015's keyword trigger function during its write."""
    if name != "0015 trigger":
        return contextlib.nullcontext()
    path = Path(__file__).resolve().parent.parent / "db/migrations/versions/0022_keyword_postings.py"
    spec = importlib.util.spec_from_file_location("keyword_postings", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    @contextlib.contextmanager
    def swapped():
        with db.engine.begin() as conn:
            conn.execute(text(migration._revision_0015_track()))
        try:
            yield
        finally:
            with db.engine.begin() as conn:
                conn.execute(text(migration._TRACK))
    return swapped()


def _versions(baseline: str | None) -> dict:
    """Today's indexing module, and the one at git revision `baseline` if given."""
    from core import indexing

    if not baseline:
        return {"today": indexing}
    source = subprocess.run(["git", "show", f"{baseline}:core/indexing.py"], check=True, capture_output=True,
                            text=True).stdout
    module = sys.modules["baseline_indexing"] = types.ModuleType("baseline_indexing")
    exec(compile(source, f"{baseline}:core/indexing.py", "exec"), module.__dict__)
    return {baseline[:7]: module, "today": indexing}


def _timed_embedding(module) -> list[float]:
    """Have the module's embedding add its seconds to the returned list."""
    spent: list[float] = []
    embed = module.embed_texts

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return embed(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    module.embed_texts = timed
    return spent


def run(db, hours_list: list[float], versions: dict) -> None:
    from core.auth import sign_up
    from core.chunking import chunk_segments
    from core.config import load_settings
    from core.embeddings import LocalMiniLM
    from core.transcripts import sentences
    from core.workspaces import personal_workspace_id
    from db.models import Video

    settings = load_settings()
    embedder = LocalMiniLM()
    embedder.embed_documents(["warm up the model"])
    with db.session() as s:
        owner = sign_up(s, "bench", "bench@example.com", "bench password", video_limit=100,
                        min_password_length=8)
        workspace_id = personal_workspace_id(s, owner.id)
    spent = {name: _timed_embedding(module) for name, module in versions.items()}
    print(f"{'transcript':>10} {'version':>8} {'chunks':>7} {'sentences':>9} {'wall s':>7} {'embed s':>8} "
          f"{'write s':>8} {'chunks/s':>9} {'ceiling/s':>10} {'% of ceiling':>12} {'transcript min/s':>17}")
    for turn, hours in enumerate(hours_list):
        segments = synthetic_segments(hours)
        results = []
        # Versions take turns going first: the first writes into a table and HNSW graph the
        # others have not grown yet (a fresh graph's first rows cost more).
        order = list(versions.items())
        for name, module in order[::-1] if turn % 2 else order:
            with db.session() as s:
                video = Video(user_id=owner.id, workspace_id=workspace_id, title=f"{hours} h synthetic ({name})",
                              status="processing")
                s.add(video)
                s.flush()
                video_id = video.id
            spent[name].clear()
            with _keyword_trigger(db, name):
                started = time.perf_counter()
                count = module.store_transcript(db, settings, video_id, segments, "captions")
                results.append((name, count, time.perf_counter() - started, sum(spent[name])))
        chunk_texts = [c.text for c in chunk_segments(segments, target_words=settings.chunk_words,
                                                      overlap_words=settings.chunk_overlap_words)]
        sentence_texts = [s.text for s in sentences(segments)]
        started = time.perf_counter()
        embedder.embed_documents(chunk_texts)
        embedder.embed_documents(sentence_texts)
        ceiling = time.perf_counter() - started
        # chunks/s counts chunks only; the ceiling embeds the same chunk and sentence texts.
        for name, count, wall, embedding in results:
            print(f"{hours:>9g}h {name:>8} {count:>7} {len(sentence_texts):>9} {wall:>7.1f} {embedding:>8.1f} "
                  f"{wall - embedding:>8.1f} {count / wall:>9.1f} {len(chunk_texts) / ceiling:>10.1f} "
                  f"{100 * ceiling / wall:>11.0f}% {hours * 60 / wall:>17.1f}", flush=True)


if __name__ == "__main__":
    main()
