"""The worker's minute sweep (`tasks.recover`) against the real queue tables: nothing stays busy
forever, and an item that keeps killing its worker fails with a reason instead of looping."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from sqlalchemy import text

from core import tasks
from db.models import Clip, Video
from tests.factories import home, make_account


def _job(db, task: str, lock: str, kwargs: dict, *, status: str, attempts: int) -> int:
    """A queue row as a worker that died would leave it: `doing`, with no live worker."""
    with db.engine.begin() as conn:
        return conn.execute(text(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, status, attempts) "
            "VALUES ('ingest', :task, :lock, CAST(:args AS jsonb), CAST(:status AS procrastinate_job_status), "
            ":attempts) RETURNING id"),
            {"task": task, "lock": lock, "args": json.dumps(kwargs), "status": status, "attempts": attempts},
        ).scalar()


def _recover(database_url: str) -> int:
    app = tasks.make_app(database_url)

    async def run() -> int:
        async with app.open_async():
            return await tasks.recover(SimpleNamespace(app=app))  # the sweep reads only its app

    # A thread of its own for a loop of its own: earlier tests may leave one running in this thread.
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, run()).result()


def _status(db, job_id: int) -> tuple[str, int]:
    with db.engine.connect() as conn:
        return tuple(conn.execute(text("SELECT status, attempts FROM procrastinate_jobs WHERE id = :id"),
                                  {"id": job_id}).one())


def test_items_whose_worker_keeps_dying_fail_with_a_reason_and_others_are_retried(clean_db, database_url):
    with clean_db.session() as s:
        owner = make_account(s)
        crashing, unlucky = (Video(user_id=owner.id, workspace_id=home(s, owner.id), title=t, status="processing") for t in ("huge", "unlucky"))
        s.add_all([crashing, unlucky])
        s.flush()
        clip = Clip(workspace_id=home(s, owner.id), video_id=unlucky.id, clip_hash="c" * 64, title="cut", start_s=0, end_s=5,
                    status="processing")
        s.add(clip)
        s.flush()
        crashing_id, unlucky_id, clip_id = crashing.id, unlucky.id, clip.id
    third_death = _job(clean_db, "askvideo:process_video", f"video:{crashing_id}", {"video_id": crashing_id},
                       status="doing", attempts=tasks.PROCESS_ATTEMPTS - 1)
    first_death = _job(clean_db, "askvideo:process_video", f"video:{unlucky_id}", {"video_id": unlucky_id},
                       status="doing", attempts=0)
    clip_death = _job(clean_db, "askvideo:make_clip", f"clip:{clip_id}", {"clip_id": clip_id},
                      status="doing", attempts=tasks.PROCESS_ATTEMPTS - 1)

    assert _recover(database_url) == 3
    assert _status(clean_db, third_death)[0] == "failed" and _status(clean_db, clip_death)[0] == "failed"
    assert _status(clean_db, first_death) == ("todo", 1)  # an ordinary crash: tried again
    with clean_db.session() as s:
        video = s.get(Video, crashing_id)
        assert video.status == "error" and "stopped 3 times" in video.error_message
        assert "Retry" in video.error_message
        assert s.get(Video, unlucky_id).status == "processing"  # its retry is queued
        assert s.get(Clip, clip_id).status == "error"


def test_a_video_left_processing_with_no_job_is_queued_again(clean_db, database_url):
    """The database went away during a video's last try: the job ended, the row still says
    processing, and Retry refuses a busy video — the sweep puts it back in the queue."""
    with clean_db.session() as s:
        owner = make_account(s)
        orphan = Video(user_id=owner.id, workspace_id=home(s, owner.id), title="orphan", status="processing")
        busy = Video(user_id=owner.id, workspace_id=home(s, owner.id), title="busy", status="processing")
        s.add_all([orphan, busy])
        s.flush()
        orphan_id, busy_id = orphan.id, busy.id
    _job(clean_db, "askvideo:process_video", f"video:{orphan_id}", {"video_id": orphan_id}, status="failed",
         attempts=tasks.PROCESS_ATTEMPTS)
    _job(clean_db, "askvideo:process_video", f"video:{busy_id}", {"video_id": busy_id}, status="todo", attempts=1)

    _recover(database_url)
    with clean_db.session() as s:
        assert s.get(Video, orphan_id).status == "pending"
        assert s.get(Video, busy_id).status == "processing"
    with clean_db.engine.connect() as conn:
        queued = conn.execute(text("SELECT args->>'video_id' FROM procrastinate_jobs WHERE status = 'todo' "
                                   "ORDER BY id")).scalars().all()
    assert queued == [str(busy_id), str(orphan_id)]
