"""Ingestion speed: minutes of transcript made searchable per second of wall time.

    .venv/bin/python -m bench.ingest [--hours 1 10]

For each synthetic transcript (a segment every 4 s, 10 words each) it times the product's own
path — chunking and sentence splitting, embedding chunks and sentences with the local
all-MiniLM-L6-v2, one-transaction insert into pgvector — and, in the same run, the raw embedding
ceiling: the same model embedding the same chunk and sentence texts with nothing else around it. Uses a throwaway embedded PostgreSQL (or DATABASE_URL's server).
"""

from __future__ import annotations

import argparse
import random
import time

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
    args = parser.parse_args()
    with scratch_database("bench") as db:
        run(db, args.hours)


def run(db, hours_list: list[float]) -> None:
    from core.auth import sign_up
    from core.chunking import chunk_segments
    from core.config import load_settings
    from core.transcripts import sentences
    from core.embeddings import LocalMiniLM
    from core.indexing import store_transcript
    from core.workspaces import personal_workspace_id
    from db.models import Video

    settings = load_settings()
    embedder = LocalMiniLM()
    embedder.embed_documents(["warm up the model"])
    with db.session() as s:
        owner = sign_up(s, "bench", "bench@example.com", "bench password", video_limit=100,
                        min_password_length=8)
        workspace_id = personal_workspace_id(s, owner.id)
    print(f"{'transcript':>10} {'chunks':>7} {'sentences':>9} {'wall s':>7} {'chunks/s':>9} {'ceiling/s':>10} "
          f"{'% of ceiling':>12} {'transcript min/s':>17}")
    for hours in hours_list:
        segments = synthetic_segments(hours)
        with db.session() as s:
            video = Video(user_id=owner.id, workspace_id=workspace_id, title=f"{hours} h synthetic",
                          status="processing")
            s.add(video)
            s.flush()
            video_id = video.id
        started = time.perf_counter()
        count = store_transcript(db, settings, video_id, segments, "captions")
        wall = time.perf_counter() - started
        chunk_texts = [c.text for c in chunk_segments(segments, target_words=settings.chunk_words,
                                                      overlap_words=settings.chunk_overlap_words)]
        sentence_texts = [s.text for s in sentences(segments)]
        started = time.perf_counter()
        embedder.embed_documents(chunk_texts)
        embedder.embed_documents(sentence_texts)
        ceiling = time.perf_counter() - started
        # chunks/s counts chunks only; the ceiling embeds the same chunk and sentence texts.
        print(f"{hours:>9g}h {count:>7} {len(sentence_texts):>9} {wall:>7.1f} {count / wall:>9.1f} "
              f"{len(chunk_texts) / ceiling:>10.1f} "
              f"{100 * ceiling / wall:>11.0f}% {hours * 60 / wall:>17.1f}")


if __name__ == "__main__":
    main()
