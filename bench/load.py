"""A bounded load test on loopback: concurrent users asking questions while a worker ingests.

    .venv/bin/python -m bench.load [--users 20] [--seconds 60] [--uploads 6]

One process plays the app (one shared `Database`, as a Streamlit process has) with `--users`
threads, each asking offline questions back to back through the product's answer path
(`prepare` → `stream` → `finish`, which writes chat_logs). Meanwhile a real worker process ingests
`--uploads` captioned videos. Reports p50/p95 answer latency, answers per second, errors (must be
zero) and the most database connections seen. Everything stops by itself after `--seconds`.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time

import numpy as np

from bench.database import scratch_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--uploads", type=int, default=6)
    args = parser.parse_args()
    with scratch_database("load") as db:
        run(db, args)


def run(db, args: argparse.Namespace) -> None:
    from sqlalchemy import text

    from bench.ingest import WORDS, synthetic_segments
    from core import answers, groups, indexing, submission
    from core.auth import sign_up
    from core.config import PROJECT_ROOT, load_settings
    from core.embeddings import LocalMiniLM
    from core.submission import UploadItem
    from core.workspaces import personal_workspace_id
    from db.models import Video
    from tests.media_factory import TALK, srt, video

    url = db.url
    data_dir = load_settings().data_dir
    settings = load_settings()
    LocalMiniLM().embed_query("warm up")

    with db.session() as s:
        owner = sign_up(s, "load", "load@example.com", "load password", video_limit=1000, min_password_length=8)
        workspace_id = personal_workspace_id(s, owner.id)
        group_id = groups.create_group(s, owner.id, "Load", workspace_id=workspace_id)
    for n in range(5):  # five 20-minute talks already ingested
        with db.session() as s:
            v = Video(user_id=owner.id, workspace_id=workspace_id, title=f"Talk {n}", status="processing")
            s.add(v)
            s.flush()
            groups.add_videos(s, owner.id, group_id, [v.id])
        indexing.store_transcript(db, settings, v.id, synthetic_segments(1 / 3, seed=n), "captions")

    media = data_dir / "upload-media"
    media.mkdir()
    items = [UploadItem(f"u{n}.mp4", open(video(media / f"u{n}.mp4", seconds=20 + n), "rb"),
                        captions_name="c.srt", captions_data=srt(TALK)) for n in range(args.uploads)]
    worker = subprocess.Popen([sys.executable, "-m", "core.worker", "--name", "load-worker"], cwd=PROJECT_ROOT,
                              env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def user(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            question = f"What did they say about {rng.choice(WORDS)} and {rng.choice(WORDS)}?"
            started = time.perf_counter()
            try:
                prepared = answers.prepare(db, settings, group_id=group_id, user_id=owner.id,
                                           workspace_id=workspace_id, question=question)
                answers.finish(db, prepared, "".join(answers.stream(prepared)))
            except Exception as error:  # every failure counts; the figure must be zero
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
                continue
            with lock:
                latencies.append(time.perf_counter() - started)

    peak = [0]

    def watch_connections() -> None:
        with db.engine.connect() as conn:
            while time.monotonic() < deadline:
                count = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
                                     ).scalar()
                peak[0] = max(peak[0], count)
                time.sleep(0.5)

    threads = [threading.Thread(target=user, args=(n,)) for n in range(args.users)]
    watcher = threading.Thread(target=watch_connections)
    started = time.monotonic()
    submission.submit_uploads(db, settings, owner.id, items, language="en", workspace_id=workspace_id)
    for thread in [watcher, *threads]:
        thread.start()
    for thread in [watcher, *threads]:
        thread.join()
    elapsed = time.monotonic() - started
    worker.terminate()
    worker.wait(timeout=60)
    with db.session() as s:
        done = s.scalar(text("SELECT count(*) FROM videos WHERE status = 'completed' AND title LIKE 'u%'"))
    ms = np.array(latencies) * 1000
    print(f"users {args.users}, {elapsed:.0f} s, uploads ingested meanwhile {done}/{args.uploads}")
    print(f"answers {len(latencies)} ({len(latencies) / elapsed:.1f}/s), errors {len(errors)}")
    if len(ms):
        print(f"answer latency p50 {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms")
    print(f"database connections at most {peak[0]} (app pool 5 + 5 overflow, worker, watcher)")
    for message in sorted(set(errors))[:5]:
        print("  error:", message)


if __name__ == "__main__":
    main()
