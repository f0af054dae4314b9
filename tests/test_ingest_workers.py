"""Real worker processes sharing the PostgreSQL queue: racing, and one killed mid-job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select, text

from core import submission
from core.config import PROJECT_ROOT, load_settings
from core.submission import UploadItem
from db.models import TranscriptChunk, Video
from tests.factories import make_account
from tests.media_factory import TALK, long_speech_video, srt, video

pytestmark = pytest.mark.slow


LOG_DIR = PROJECT_ROOT / "test-artifacts" / "worker-logs"


def start_worker(database_url: str, name: str, **env: str) -> subprocess.Popen:
    """A worker process; its log is kept under test-artifacts/worker-logs for when a test fails."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = open(LOG_DIR / f"{name}.log", "w")
    return subprocess.Popen(
        [sys.executable, "-m", "core.worker", "--name", name],
        cwd=PROJECT_ROOT, env={**os.environ, "DATABASE_URL": database_url, **env},
        stdout=log, stderr=subprocess.STDOUT,
    )


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def heartbeats_older_than(db, seconds: int) -> bool:
    """No worker has beaten within `seconds`, so a worker starting now sees their jobs as stalled."""
    with db.engine.connect() as conn:
        return not conn.execute(text("SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat >= "
                                     "now() - make_interval(secs => :s)"), {"s": seconds}).scalar()


def statuses(db) -> dict[int, str]:
    with db.session() as s:
        return dict(s.execute(select(Video.id, Video.status)).all())


def test_two_workers_share_the_queue_and_never_process_a_video_twice(clean_db, database_url, tmp_path):
    settings = load_settings()
    with clean_db.session() as s:
        owner = make_account(s)
    items = []
    for n in range(6):
        path = video(tmp_path / f"v{n}.mp4", seconds=20 + n)  # distinct bytes, so no duplicates
        items.append(UploadItem(path.name, open(path, "rb"), captions_name="t.srt", captions_data=srt(TALK)))
    submitted = submission.submit_uploads(clean_db, settings, owner.id, items, language="en")
    workers = [start_worker(database_url, f"racer-{n}") for n in range(2)]
    try:
        wait_for(lambda: set(statuses(clean_db).values()) == {"completed"}, 180, "all videos completed")
    finally:
        for worker in workers:
            stop(worker)
    with clean_db.engine.connect() as conn:
        runs = conn.execute(text(
            "SELECT args->>'video_id', count(*) FROM procrastinate_jobs "
            "WHERE task_name = 'askvideo:process_video' GROUP BY 1")).all()
        events = conn.execute(text(
            "SELECT count(*) FROM procrastinate_events e JOIN procrastinate_jobs j ON j.id = e.job_id "
            "WHERE j.task_name = 'askvideo:process_video' AND e.type = 'started'")).scalar()
    assert sorted(int(v) for v, _ in runs) == sorted(r.video_id for r in submitted)
    assert all(count == 1 for _, count in runs) and events == 6
    with clean_db.session() as s:
        per_video = s.execute(select(TranscriptChunk.video_id, func.count()).group_by(TranscriptChunk.video_id)).all()
    assert len(per_video) == 6 and len({count for _, count in per_video}) == 1


def test_a_worker_killed_mid_job_leaves_work_that_the_next_worker_completes_once(clean_db, database_url, tmp_path):
    settings = load_settings()
    with clean_db.session() as s:
        owner = make_account(s)
    path = long_speech_video(tmp_path / "long.mp4")
    [submitted] = submission.submit_uploads(clean_db, settings, owner.id, [UploadItem("long.mp4", open(path, "rb"))],
                                        language="en")
    fast_recovery = {"ASKVIDEO_STALLED_WORKER_SECONDS": "2"}
    first = start_worker(database_url, "doomed", **fast_recovery)

    def transcribing():
        with clean_db.session() as s:
            row = s.get(Video, submitted.video_id)
            return row.status == "processing" and row.current_step == "transcribing"

    try:
        wait_for(transcribing, 120, "transcription to start")
        time.sleep(1)  # inside the transcription, which takes several seconds more
    finally:
        first.kill()  # SIGKILL: no cleanup, no goodbye
        first.wait()
    with clean_db.session() as s:
        assert s.get(Video, submitted.video_id).status == "processing"
    wait_for(lambda: heartbeats_older_than(clean_db, 2), 30, "the dead worker's heartbeat to go stale")
    second = start_worker(database_url, "rescuer", **fast_recovery)
    try:
        wait_for(lambda: statuses(clean_db)[submitted.video_id] in ("completed", "error"), 240, "the retry")
    finally:
        stop(second)
    with clean_db.session() as s:
        row = s.get(Video, submitted.video_id)
        assert row.status == "completed", row.error_message
        indexes = s.scalars(select(TranscriptChunk.chunk_index).where(TranscriptChunk.video_id == row.id)).all()
    assert sorted(indexes) == list(range(len(indexes))) and indexes
