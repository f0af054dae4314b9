"""The background worker process: `python -m core.worker` (started by `make run`).

It outlives database restarts: procrastinate stops its worker when the database goes away, so
this loop waits for the database to come back and starts a new one. SIGTERM or Ctrl+C stop it
gracefully (the current job finishes, up to a timeout).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from procrastinate.exceptions import AlreadyEnqueued

from core.config import load_settings
from core.database import database_url
from core.tasks import make_app

log = logging.getLogger("core.worker")
RESTART_DELAYS = (1, 2, 5, 10, 30)  # seconds between attempts while the database is away
GRACEFUL_STOP_SECONDS = 60


async def serve(url: str, *, concurrency: int, name: str | None, stalled_seconds: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    failures = 0
    while not stop.is_set():
        app = make_app(url)
        try:
            async with app.open_async():
                # Recover at once what a killed worker left half done, rather than at the next minute.
                try:
                    await app.tasks["askvideo:recover"].defer_async()
                except AlreadyEnqueued:
                    pass
                work = asyncio.create_task(app.run_worker_async(
                    concurrency=concurrency, name=name, install_signal_handlers=False,
                    update_heartbeat_interval=max(1.0, stalled_seconds / 6), stalled_worker_timeout=stalled_seconds,
                    shutdown_graceful_timeout=GRACEFUL_STOP_SECONDS,
                ))
                stopping = asyncio.create_task(stop.wait())
                failures = 0
                done, _ = await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if stopping in done:
                    work.cancel()  # procrastinate finishes the running job, then returns
                    await asyncio.gather(work, return_exceptions=True)
                    return
                stopping.cancel()
                error = work.exception() if not work.cancelled() else None
                log.warning("worker stopped unexpectedly (%s); starting a new one", error or "database went away")
        except Exception as error:  # the database is unreachable: wait and try again
            log.warning("cannot reach the database (%s)", str(error).splitlines()[0] if str(error) else error)
        delay = RESTART_DELAYS[min(failures, len(RESTART_DELAYS) - 1)]
        failures += 1
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
        except TimeoutError:
            pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run an Ask Video background worker.")
    parser.add_argument("--concurrency", type=int, default=1, help="jobs run at once by this process")
    parser.add_argument("--name", default=None, help="worker name shown in the queue tables")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    log.info("worker starting (concurrency %d)", args.concurrency)
    asyncio.run(serve(database_url(settings), concurrency=args.concurrency, name=args.name,
                      stalled_seconds=settings.stalled_worker_seconds))


if __name__ == "__main__":
    main()
