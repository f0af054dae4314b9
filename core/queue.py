"""The job queue: procrastinate on PostgreSQL, seen from the side that puts work in it.

Workers on any number of machines share one queue table; a job is taken with
`SELECT … FOR UPDATE SKIP LOCKED`, so no two workers run the same job. Jobs are deferred here by
task name, so this module knows nothing of what the tasks do (core/tasks.py does, and the worker
registers them): the web process and the domain modules can queue work without importing it.

Each video's jobs carry a lock (never two running for one video) and a queueing lock (never two
waiting); so do clips' and each group's regression check.
"""

from __future__ import annotations

import logging
import threading

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from procrastinate.jobs import JobDeferrer
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from core.errors import AskVideoError
from db.engine import libpq_url, sqlalchemy_url

log = logging.getLogger(__name__)

NAMESPACE = "askvideo"
PROCESS_VIDEO, REEMBED_VIDEO, MAKE_CLIP = "process_video", "reembed_video", "make_clip"
RUN_REGRESSION = "run_regression"
QUEUES = {PROCESS_VIDEO: "ingest", REEMBED_VIDEO: "ingest", MAKE_CLIP: "clips", RUN_REGRESSION: "checks"}
ATTEMPTS = 3  # tries of a job whose failure may pass (network, a busy provider, a killed worker)


def video_lock(video_id: int) -> str:
    return f"video:{video_id}"


def clip_lock(clip_id: int) -> str:
    return f"clip:{clip_id}"


def process_job(app: procrastinate.App, video_id: int) -> JobDeferrer:
    return app.configure_task(f"{NAMESPACE}:{PROCESS_VIDEO}", queue=QUEUES[PROCESS_VIDEO],
                              lock=video_lock(video_id), queueing_lock=video_lock(video_id))


def reembed_job(app: procrastinate.App, video_id: int) -> JobDeferrer:
    # The video's own lock: never beside its processing. A queueing lock of its own: one waiting.
    return app.configure_task(f"{NAMESPACE}:{REEMBED_VIDEO}", queue=QUEUES[REEMBED_VIDEO],
                              lock=video_lock(video_id), queueing_lock=f"reembed:{video_id}")


def clip_job(app: procrastinate.App, clip_id: int) -> JobDeferrer:
    return app.configure_task(f"{NAMESPACE}:{MAKE_CLIP}", queue=QUEUES[MAKE_CLIP],
                              lock=clip_lock(clip_id), queueing_lock=clip_lock(clip_id))


def regression_lock(group_id: int) -> str:
    return f"regression:{group_id}"


def regression_job(app: procrastinate.App, group_id: int) -> JobDeferrer:
    # Never two checks of one group at once, and one waiting: a burst of re-indexed videos asks
    # for one more check, not thirty.
    return app.configure_task(f"{NAMESPACE}:{RUN_REGRESSION}", queue=QUEUES[RUN_REGRESSION],
                              lock=regression_lock(group_id), queueing_lock=regression_lock(group_id))


def connector_app(url: str) -> procrastinate.App:
    """An app that only defers (synchronous code: pages, the CLI); no task is registered on it."""
    return procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=libpq_url(url)))


_lock = threading.Lock()
_deferrers: dict[str, procrastinate.App] = {}


def _deferrer(url: str) -> procrastinate.App:
    key = sqlalchemy_url(url)
    with _lock:
        if key not in _deferrers:
            app = connector_app(url)
            app.open()
            _deferrers[key] = app
        return _deferrers[key]


def _defer(job: JobDeferrer, **kwargs) -> None:
    try:
        job.defer(**kwargs)
    except procrastinate_errors.AlreadyEnqueued:
        pass  # one is already waiting


def defer_processing(url: str, video_ids: list[int]) -> None:
    """Queue processing jobs. If this fails the videos stay `pending` and the worker's recovery
    sweep queues them."""
    if not video_ids:
        return
    try:
        app = _deferrer(url)
        for video_id in video_ids:
            _defer(process_job(app, video_id), video_id=video_id)
    except Exception:
        log.exception("could not queue videos %s; the worker's recovery sweep will", video_ids)


class QueueUnavailable(AskVideoError):
    def __init__(self) -> None:
        super().__init__("The job queue could not be reached, so nothing was queued. Try again in a moment.")


def defer_reembedding(url: str, video_ids: list[int]) -> None:
    """Queue re-embedding jobs. Nothing else would queue them, so a failure is the user's to see."""
    try:
        app = _deferrer(url)
        for video_id in video_ids:
            _defer(reembed_job(app, video_id), video_id=video_id)
    except Exception as error:
        log.exception("could not queue re-embedding of videos %s", video_ids)
        raise QueueUnavailable() from error


def defer_clip(url: str, clip_id: int) -> None:
    """Queue a clip's cut. If queueing fails the clip stays `pending` and the recovery sweep queues it."""
    try:
        _defer(clip_job(_deferrer(url), clip_id), clip_id=clip_id)
    except Exception:
        log.exception("could not queue clip %s; the worker's recovery sweep will", clip_id)


def defer_regression(url: str, group_ids: list[int], reason: str) -> None:
    """Queue a check of each group's regression questions. Raises QueueUnavailable; callers that
    queue it by themselves (after re-indexing) catch it, a person asking sees it."""
    try:
        app = _deferrer(url)
        for group_id in group_ids:
            _defer(regression_job(app, group_id), group_id=group_id, reason=reason)
    except Exception as error:
        log.exception("could not queue regression checks of groups %s", group_ids)
        raise QueueUnavailable() from error


def defer_regression_after_commit(session: Session, group_ids: list[int], reason: str) -> None:
    """Queue the checks once the session's transaction commits: a worker taking one before then
    would measure what is about to change. Never raises: a check the queue could not take waits
    for the next change or Run again."""
    if not group_ids:
        return
    url = session.get_bind().engine.url.render_as_string(hide_password=False)

    def queue_checks(_session: Session) -> None:
        try:
            defer_regression(url, group_ids, reason)
        except QueueUnavailable:
            log.warning("the regression checks of groups %s (%s) were not queued", group_ids, reason)

    event.listen(session, "after_commit", queue_checks, once=True)


def in_flight(session: Session, kind: str) -> set[int]:
    """Ids of the videos (`kind` "video"), clips ("clip") or groups ("regression") that have a job
    waiting or running."""
    locks = session.scalars(text("SELECT lock FROM procrastinate_jobs WHERE status IN ('todo', 'doing') "
                                 "AND lock LIKE :prefix"), {"prefix": f"{kind}:%"})
    return {int(lock.split(":", 1)[1]) for lock in locks if lock.split(":", 1)[1].isdigit()}
