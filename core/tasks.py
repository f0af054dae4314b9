"""What the worker runs: the task bodies and the periodic sweeps, registered on its queue app.

The tasks are named in core/queue.py, where the web process and the domain modules defer them by
name; only the worker (core/worker.py) imports this module.
"""

from __future__ import annotations

import asyncio
import logging

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from sqlalchemy import select, update

from core import (
    access_tokens,
    auth,
    browser_cookies,
    clips,
    processing,
    queue,
    regression,
    reindex,
    sharing,
    storage,
    uploads,
    workspace_indexes,
)
from core.config import load_settings
from core.database import get_database
from core.errors import TransientIngestError
from db.engine import libpq_url
from db.models import Clip, Video
from db.states import ACTIVE, Status

log = logging.getLogger(__name__)

PROCESS_ATTEMPTS = queue.ATTEMPTS


def process_video(context: procrastinate.JobContext, video_id: int) -> str:
    attempts = context.job.attempts if context.job else 0
    db = get_database()
    outcome = processing.process_video(db, load_settings(), video_id, final_attempt=attempts + 1 >= PROCESS_ATTEMPTS)
    if outcome == Status.COMPLETED:  # a video processed again (Retry) may be found differently
        regression.queue_checks_of_video(db, video_id, regression.REPROCESSED)
    return outcome


def reembed_video(context: procrastinate.JobContext, video_id: int) -> str:
    attempts = context.job.attempts if context.job else 0
    return reindex.reembed(get_database(), load_settings(), video_id, final_attempt=attempts + 1 >= PROCESS_ATTEMPTS)


def make_clip(clip_id: int) -> str:
    return clips.make_clip(get_database(), load_settings(), clip_id)


def run_regression(group_id: int, reason: str, owner_id: int | None = None) -> str:
    """Check a group's regression questions against its retriever and store the run. (`owner_id`
    is only ever set by jobs queued before revision 0016, and unused.)"""
    done = regression.run(get_database(), load_settings(), group_id, reason)
    return "skipped" if done is None else f"{done.found}/{done.questions}"


async def recover(context: procrastinate.JobContext, timestamp: int | None = None) -> int:
    """Every minute (and when a worker starts): retry the jobs of workers that died, and queue
    pending videos and clips that have no job (their deferral failed after the row was saved)."""
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
    for video_id in await asyncio.to_thread(_pending_video_ids):
        await _defer_async(queue.process_job(app, video_id), video_id=video_id)
    for clip_id in await asyncio.to_thread(_pending_clip_ids):
        await _defer_async(queue.clip_job(app, clip_id), clip_id=clip_id)
    return len(stalled)


async def _defer_async(job, **kwargs) -> None:
    try:
        await job.defer_async(**kwargs)
    except procrastinate_errors.AlreadyEnqueued:
        pass


WORKER_DIED = ("The worker processing this {what} stopped {times} times (it may run out of memory on this "
               "file). Use Retry to try again{hint}.")


def _give_up(task_name: str, kwargs: dict) -> None:
    """Record why an item whose job was dropped failed, so it does not look busy forever."""
    db = get_database()
    if task_name.endswith((queue.PROCESS_VIDEO, queue.REEMBED_VIDEO)) and "video_id" in kwargs:
        processing.mark_error(db, int(kwargs["video_id"]),
                              WORKER_DIED.format(what="video", times=PROCESS_ATTEMPTS, hint=", or add a captions file"))
    elif task_name.endswith(queue.MAKE_CLIP) and "clip_id" in kwargs:
        with db.session() as session:
            session.execute(update(Clip).where(Clip.id == int(kwargs["clip_id"])).values(
                status=Status.ERROR, error_message=WORKER_DIED.format(what="clip", times=PROCESS_ATTEMPTS, hint="")))


def _pending_video_ids() -> list[int]:
    """Videos waiting to be processed, including any left `processing` by a job that ended
    without recording it (the database went away during its last try): those go back to `pending`."""
    with get_database().session() as session:
        busy = queue.in_flight(session, "video")
        session.execute(update(Video).where(Video.status == Status.PROCESSING, Video.id.not_in(busy))
                        .values(status=Status.PENDING))
        return list(session.scalars(select(Video.id).where(Video.status == Status.PENDING)))


def _pending_clip_ids() -> list[int]:
    """Clips waiting for a cut, including any left `processing` by a job that failed without
    recording it (the database went away as it finished): those go back to `pending`."""
    with get_database().session() as session:
        busy = queue.in_flight(session, "clip")
        session.execute(update(Clip).where(Clip.status == Status.PROCESSING, Clip.id.not_in(busy))
                        .values(status=Status.PENDING))
        return list(session.scalars(select(Clip.id).where(Clip.status == Status.PENDING)))


def sweep_media_scratch(timestamp: int | None = None) -> int:
    """Hourly housekeeping: scratch files of cuts and uploads whose process died are removed, and
    so are work folders of videos no worker is processing (their worker was killed) and uploads
    staged a day ago that nobody added."""
    settings = load_settings()
    media_dir = settings.media_dir
    removed = storage.sweep_abandoned(media_dir) + uploads.sweep(settings)
    with_work = storage.work_video_ids(media_dir)
    if with_work:
        with get_database().session() as session:
            in_flight = set(session.scalars(select(Video.id).where(
                Video.id.in_(with_work), Video.status.in_(ACTIVE))))
        removed += storage.sweep_leftover_work(media_dir, [v for v in with_work if v not in in_flight])
    return removed


def purge_expired_sessions(timestamp: int | None = None) -> int:
    """Hourly housekeeping: expired sign-in sessions, and failed sign-ins, shared questions, API
    call counts and spent cookie handoffs past the windows their limits look at, are deleted."""
    with get_database().session() as session:
        auth.purge_old_sign_in_failures(session)
        sharing.purge_old_questions(session)
        access_tokens.purge_old_calls(session)
        browser_cookies.purge_spent(session)
        return auth.purge_expired_sessions(session)


def build_workspace_indexes(timestamp: int | None = None) -> str:
    """Every ten minutes: large workspaces get search indexes of their own, deleted ones lose theirs
    (core/workspace_indexes.py)."""
    built, dropped = workspace_indexes.ensure(get_database().engine)
    return f"built {len(built)}, dropped {len(dropped)}"


def _blueprint() -> procrastinate.Blueprint:
    """A fresh set of task objects: procrastinate renames tasks when an app adopts a blueprint,
    so each app needs its own."""
    bp = procrastinate.Blueprint()
    # Passing failures (network, a busy provider) are retried with growing waits; others are final.
    passing = procrastinate.RetryStrategy(max_attempts=PROCESS_ATTEMPTS, wait=10, exponential_wait=3,
                                          retry_exceptions={TransientIngestError})
    bp.task(name=queue.PROCESS_VIDEO, queue=queue.QUEUES[queue.PROCESS_VIDEO], pass_context=True,
            retry=passing)(process_video)
    bp.task(name=queue.REEMBED_VIDEO, queue=queue.QUEUES[queue.REEMBED_VIDEO], pass_context=True,
            retry=passing)(reembed_video)
    bp.task(name=queue.MAKE_CLIP, queue=queue.QUEUES[queue.MAKE_CLIP])(make_clip)
    bp.task(name=queue.RUN_REGRESSION, queue=queue.QUEUES[queue.RUN_REGRESSION])(run_regression)
    bp.periodic(cron="* * * * *")(bp.task(name="recover", queueing_lock="recover", pass_context=True)(recover))
    bp.periodic(cron="17 * * * *")(
        bp.task(name="purge_expired_sessions", queueing_lock="purge_expired_sessions")(purge_expired_sessions)
    )
    bp.periodic(cron="41 * * * *")(
        bp.task(name="sweep_media_scratch", queueing_lock="sweep_media_scratch")(sweep_media_scratch)
    )
    bp.periodic(cron="*/10 * * * *")(
        bp.task(name="build_workspace_indexes", queueing_lock="build_workspace_indexes",
                lock="build_workspace_indexes")(build_workspace_indexes)
    )
    return bp


def make_app(url: str) -> procrastinate.App:
    """The worker's app (async connector, LISTEN/NOTIFY) with every task registered, bound to `url`."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=libpq_url(url)))
    app.add_tasks_from(_blueprint(), namespace=queue.NAMESPACE)
    return app
