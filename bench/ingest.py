"""Ingestion speed: minutes of transcript made searchable per second of wall time.

    .venv/bin/python -m bench.ingest [--hours 1 10]

For each synthetic transcript (a segment every 4 s, 10 words each) it times the product's own
path — chunking, embedding with the local all-MiniLM-L6-v2, one-transaction insert into pgvector —
and, in the same run, the raw embedding ceiling: the same model embedding the same chunk texts
with nothing else around it. Uses a throwaway embedded PostgreSQL (or DATABASE_URL's server).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from pathlib import Path

WORDS = ("market revenue quarter team hiring product launch customer design budget roadmap metric "
         "growth churn pricing feature release bug fix plan office travel review meeting goal risk "
         "latency database index query cache model training data label video chapter summary").split()


def synthetic_segments(hours: float, seed: int = 7):
    from core.transcripts import Segment

    rng = random.Random(seed)
    return [Segment(t, t + 4.0, " ".join(rng.choice(WORDS) for _ in range(10)).capitalize() + ".")
            for t in (i * 4.0 for i in range(int(hours * 3600 / 4)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, nargs="+", default=[1, 10])
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="askvideo-bench-"))
    os.environ["ASKVIDEO_DATA_DIR"] = str(data_dir)
    external = os.environ.pop("DATABASE_URL", None)

    from core.config import load_settings
    from core.database import Database
    from core.embeddings import LocalMiniLM
    from core.ingest import store_transcript
    from core.chunking import chunk_segments
    from db.engine import drop_database, ensure_database, start_embedded, with_database
    from db.migrate import upgrade
    from db.models import Video
    from core.auth import sign_up

    server = external or start_embedded(data_dir / "pg", "postgres", cleanup_mode="stop")
    url = with_database(server, f"askvideo_bench_{uuid.uuid4().hex[:6]}")
    ensure_database(url)
    upgrade(url)
    os.environ["DATABASE_URL"] = url
    settings = load_settings()
    db = Database(url)
    embedder = LocalMiniLM()
    embedder.embed_documents(["warm up the model"])
    with db.session() as s:
        owner = sign_up(s, "bench", "bench@example.com", "bench password", video_limit=100,
                        min_password_length=8)
    print(f"{'transcript':>10} {'chunks':>7} {'wall s':>7} {'chunks/s':>9} {'ceiling/s':>10} "
          f"{'% of ceiling':>12} {'transcript min/s':>17}")
    for hours in args.hours:
        segments = synthetic_segments(hours)
        with db.session() as s:
            video = Video(user_id=owner.id, title=f"{hours} h synthetic", status="processing")
            s.add(video)
            s.flush()
            video_id = video.id
        started = time.perf_counter()
        count = store_transcript(db, settings, video_id, segments, "captions")
        wall = time.perf_counter() - started
        texts = [c.text for c in chunk_segments(segments, target_words=settings.chunk_words,
                                                overlap_words=settings.chunk_overlap_words)]
        started = time.perf_counter()
        embedder.embed_documents(texts)
        ceiling = time.perf_counter() - started
        print(f"{hours:>9g}h {count:>7} {wall:>7.1f} {count / wall:>9.1f} {len(texts) / ceiling:>10.1f} "
              f"{100 * ceiling / wall:>11.0f}% {hours * 60 / wall:>17.1f}")
    db.dispose()
    drop_database(url)


if __name__ == "__main__":
    main()
