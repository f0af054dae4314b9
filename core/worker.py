"""The background worker process: `python -m core.worker` (started by `make run`)."""

from __future__ import annotations

import argparse
import logging

from core.config import load_settings
from core.database import database_url
from procrastinate.exceptions import AlreadyEnqueued

from core.jobs import make_app, make_sync_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run an Ask Video background worker.")
    parser.add_argument("--concurrency", type=int, default=1, help="jobs run at once by this process")
    parser.add_argument("--name", default=None, help="worker name shown in the queue tables")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    url = database_url(settings)
    app = make_app(url)
    log = logging.getLogger(__name__)
    log.info("worker starting (concurrency %d)", args.concurrency)
    # Recover at once what a previous, killed worker left half done, rather than at the next minute.
    try:
        with make_sync_app(url).open() as deferrer:
            deferrer.tasks["askvideo:recover"].defer()
    except AlreadyEnqueued:
        pass
    # SIGTERM/SIGINT finish the current job, then stop. Heartbeats every few seconds let others
    # see this worker die within `stalled_worker_seconds`.
    app.run_worker(
        concurrency=args.concurrency,
        name=args.name,
        install_signal_handlers=True,
        update_heartbeat_interval=max(1.0, settings.stalled_worker_seconds / 6),
        stalled_worker_timeout=settings.stalled_worker_seconds,
    )


if __name__ == "__main__":
    main()
