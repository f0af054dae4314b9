"""Background jobs on procrastinate, a PostgreSQL-backed queue.

Workers on any number of machines share one queue table; a job is taken with
`SELECT … FOR UPDATE SKIP LOCKED`, so no two workers run the same job. Each video's job carries
a queueing lock (never two waiting jobs for one video) and a lock (never two running). Tasks are
plain functions here; `make_app` binds them to a database.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from sqlalchemy import select, update

from core.errors import TransientIngestError
from db.engine import libpq_url, sqlalchemy_url

log = logging.getLogger(__name__)

PROCESS_ATTEMPTS = 3


def _video_lock(video_id: int) -> str:
    return f"video:{video_id}"


def process_video(context: procrastinate.JobContext, video_id: int) -> str:
    from core.config import load_settings
    from core.database import get_database
    from core.ingest import process_video as run

    attempts = context.job.attempts if context.job else 0
    return run(get_database(), load_settings(), video_id, final_attempt=attempts + 1 >= PROCESS_ATTEMPTS)


def reembed_video(context: procrastinate.JobContext, video_id: int) -> str:
    from core.config import load_settings
    from core.database import get_database
    from core.reindex import reembed

    attempts = context.job.attempts if context.job else 0
    return reembed(get_database(), load_settings(), video_id, final_attempt=attempts + 1 >= PROCESS_ATTEMPTS)


async def recover(context: procrastinate.JobContext, timestamp: int | None = None) -> int:
    """Every minute (and when a worker starts): retry the jobs of workers that died, and queue
    pending videos and clips that have no job (their deferral failed after the row was saved)."""
    from core.config import load_settings

    app = context.app
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=load_settings().stalled_worker_seconds
    )
    for job in stalled:
        if job.attempts + 1 < PROCESS_ATTEMPTS:
            log.warning("retrying job %s (%s) of a worker that stopped", job.id, job.task_name)
            await app.job_manager.retry_job(job)
            continue
        # Its worker died on every try: the item itself kills workers (a file that runs them out
        # of memory). Retrying forever would stall the queue; the item fails with a reason.
        log.error("giving up job %s (%s): its worker stopped %s times", job.id, job.task_name, PROCESS_ATTEMPTS)
        await app.job_manager.finish_job(job, status=procrastinate.jobs.Status.FAILED, delete_job=False)
        await asyncio.to_thread(_give_up, job.task_name, job.task_kwargs)
    task = app.tasks["askvideo:process_video"]
    for video_id in await asyncio.to_thread(_pending_video_ids):
        try:
            await task.configure(lock=_video_lock(video_id), queueing_lock=_video_lock(video_id)).defer_async(
                video_id=video_id
            )
        except procrastinate_errors.AlreadyEnqueued:
            pass
    clip_task = app.tasks["askvideo:make_clip"]
    for clip_id in await asyncio.to_thread(_pending_clip_ids):
        try:
            await clip_task.configure(lock=f"clip:{clip_id}", queueing_lock=f"clip:{clip_id}").defer_async(
                clip_id=clip_id
            )
        except procrastinate_errors.AlreadyEnqueued:
            pass
    return len(stalled)


WORKER_DIED = ("The worker processing this {what} stopped {times} times (it may run out of memory on this "
               "file). Use Retry to try again{hint}.")


def _give_up(task_name: str, kwargs: dict) -> None:
    """Record why an item whose job was dropped failed, so it does not look busy forever."""
    from core.database import get_database
    from core.ingest import mark_error
    from db.models import Clip

    db = get_database()
    if task_name.endswith(("process_video", "reembed_video")) and "video_id" in kwargs:
        mark_error(db, int(kwargs["video_id"]),
                   WORKER_DIED.format(what="video", times=PROCESS_ATTEMPTS, hint=", or add a captions file"))
    elif task_name.endswith("make_clip") and "clip_id" in kwargs:
        with db.session() as session:
            session.execute(update(Clip).where(Clip.id == int(kwargs["clip_id"])).values(
                status="error", error_message=WORKER_DIED.format(what="clip", times=PROCESS_ATTEMPTS, hint="")))


def _pending_video_ids() -> list[int]:
    """Videos waiting to be processed, including any left `processing` by a job that ended
    without recording it (the database went away during its last try): those go back to `pending`."""
    from sqlalchemy import text

    from core.database import get_database
    from db.models import Video

    with get_database().session() as session:
        session.execute(text(
            "UPDATE videos SET status = 'pending' WHERE status = 'processing' AND NOT EXISTS ("
            " SELECT 1 FROM procrastinate_jobs j WHERE j.lock = 'video:' || videos.id AND j.status IN ('todo', 'doing'))"
        ))
        return list(session.scalars(select(Video.id).where(Video.status == "pending")).all())


def make_clip(clip_id: int) -> str:
    from core.clips import make_clip as run
    from core.config import load_settings
    from core.database import get_database

    return run(get_database(), load_settings(), clip_id)


def _pending_clip_ids() -> list[int]:
    """Clips waiting for a cut, including any left `processing` by a job that failed without
    recording it (the database went away as it finished): those go back to `pending`."""
    from sqlalchemy import text

    from core.database import get_database
    from db.models import Clip

    with get_database().session() as session:
        session.execute(text(
            "UPDATE clips SET status = 'pending' WHERE status = 'processing' AND NOT EXISTS ("
            " SELECT 1 FROM procrastinate_jobs j WHERE j.lock = 'clip:' || clips.id AND j.status IN ('todo', 'doing'))"
        ))
        return list(session.scalars(select(Clip.id).where(Clip.status == "pending")).all())


def sweep_media_scratch(timestamp: int | None = None) -> int:
    """Hourly housekeeping: scratch files of cuts and uploads whose process died are removed, and
    so are work folders of videos no worker is processing (their worker was killed) and uploads
    staged a day ago that nobody added."""
    from core import storage, uploads
    from core.config import load_settings
    from core.database import get_database
    from db.models import Video

    settings = load_settings()
    media_dir = settings.media_dir
    removed = storage.sweep_abandoned(media_dir) + uploads.sweep(settings)
    with_work = storage.work_video_ids(media_dir)
    if with_work:
        with get_database().session() as session:
            in_flight = set(session.scalars(select(Video.id).where(
                Video.id.in_(with_work), Video.status.in_(("pending", "processing")))))
        removed += storage.sweep_leftover_work(media_dir, [v for v in with_work if v not in in_flight])
    return removed


def purge_expired_sessions(timestamp: int | None = None) -> int:
    """Hourly housekeeping: expired sign-in sessions, and failed sign-ins and shared questions
    past the windows their limits look at, are deleted."""
    from core import auth, sharing
    from core.database import get_database

    with get_database().session() as session:
        auth.purge_old_sign_in_failures(session)
        sharing.purge_old_questions(session)
        return auth.purge_expired_sessions(session)


def _blueprint() -> procrastinate.Blueprint:
    """A fresh set of task objects: procrastinate renames tasks when an app adopts a blueprint,
    so each app needs its own (the Streamlit process and a worker may both hold one)."""
    bp = procrastinate.Blueprint()
    # Passing failures (network, a busy provider) are retried with growing waits; others are final.
    passing = procrastinate.RetryStrategy(max_attempts=PROCESS_ATTEMPTS, wait=10, exponential_wait=3,
                                          retry_exceptions={TransientIngestError})
    bp.task(name="process_video", queue="ingest", pass_context=True, retry=passing)(process_video)
    bp.task(name="reembed_video", queue="ingest", pass_context=True, retry=passing)(reembed_video)
    bp.task(name="make_clip", queue="clips")(make_clip)
    bp.periodic(cron="* * * * *")(bp.task(name="recover", queueing_lock="recover", pass_context=True)(recover))
    bp.periodic(cron="17 * * * *")(
        bp.task(name="purge_expired_sessions", queueing_lock="purge_expired_sessions")(purge_expired_sessions)
    )
    bp.periodic(cron="41 * * * *")(
        bp.task(name="sweep_media_scratch", queueing_lock="sweep_media_scratch")(sweep_media_scratch)
    )
    return bp


def make_app(url: str) -> procrastinate.App:
    """An app for workers (async connector, LISTEN/NOTIFY) bound to the database at `url`."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=libpq_url(url)))
    app.add_tasks_from(_blueprint(), namespace="askvideo")
    return app


def make_sync_app(url: str) -> procrastinate.App:
    """An app for deferring jobs from synchronous code (Streamlit pages, the CLI)."""
    app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=libpq_url(url)))
    app.add_tasks_from(_blueprint(), namespace="askvideo")
    return app


_lock = threading.Lock()
_deferrers: dict[str, procrastinate.App] = {}


def _deferrer(url: str) -> procrastinate.App:
    key = sqlalchemy_url(url)
    with _lock:
        if key not in _deferrers:
            app = make_sync_app(url)
            app.open()
            _deferrers[key] = app
        return _deferrers[key]


def _defer(app: procrastinate.App, video_ids: list[int]) -> None:
    task = app.tasks["askvideo:process_video"]
    for video_id in video_ids:
        try:
            task.configure(lock=_video_lock(video_id), queueing_lock=_video_lock(video_id)).defer(video_id=video_id)
        except procrastinate_errors.AlreadyEnqueued:
            pass  # a job for this video is already waiting


def defer_processing(url: str, video_ids: list[int]) -> None:
    """Queue processing jobs. If this fails the videos stay `pending` and `recover` queues them."""
    if not video_ids:
        return
    try:
        _defer(_deferrer(url), video_ids)
    except Exception:
        log.exception("could not queue videos %s; the worker's recovery sweep will", video_ids)


def defer_reembedding(url: str, video_ids: list[int]) -> None:
    """Queue re-embedding jobs; they share the video's lock, so never run beside its processing."""
    task = _deferrer(url).tasks["askvideo:reembed_video"]
    for video_id in video_ids:
        try:
            task.configure(lock=_video_lock(video_id), queueing_lock=f"reembed:{video_id}").defer(video_id=video_id)
        except procrastinate_errors.AlreadyEnqueued:
            pass  # already waiting


def defer_clip(url: str, clip_id: int) -> None:
    """Queue a clip's cut; one waiting job per clip. If queueing fails the clip stays `pending`
    and the recovery sweep queues it."""
    try:
        _deferrer(url).tasks["askvideo:make_clip"].configure(
            lock=f"clip:{clip_id}", queueing_lock=f"clip:{clip_id}").defer(clip_id=clip_id)
    except procrastinate_errors.AlreadyEnqueued:
        pass
    except Exception:
        log.exception("could not queue clip %s; the worker's recovery sweep will", clip_id)
