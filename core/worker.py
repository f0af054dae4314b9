"""The background worker process: `python -m core.worker` (started by `make run`)."""

from __future__ import annotations

import argparse
import logging

from core.config import load_settings
from core.database import database_url
from core.jobs import make_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run an Ask Video background worker.")
    parser.add_argument("--concurrency", type=int, default=1, help="jobs run at once by this process")
    parser.add_argument("--name", default=None, help="worker name shown in the queue tables")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = make_app(database_url(load_settings()))
    logging.getLogger(__name__).info("worker starting (concurrency %d)", args.concurrency)
    # install_signal_handlers: SIGTERM/SIGINT finish the current job, then stop.
    app.run_worker(concurrency=args.concurrency, name=args.name, install_signal_handlers=True)


if __name__ == "__main__":
    main()
