"""Keep `make run`'s processes up until Ctrl+C or SIGTERM.

A child that exits (a crash, kill -9, the OOM killer) is started again after a pause that grows
while it keeps failing; the others keep running meanwhile. The embedded PostgreSQL is checked
every few seconds and started again the same way: its children (the worker, the web app) only
reconnect to it, they never start it. An external database (DATABASE_URL) is not ours to restart.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from db.engine import EmbeddedServerDown, connection_error, restart_embedded

log = logging.getLogger("core.supervisor")

RESTART_DELAYS = (1, 2, 5, 10, 30)  # seconds before each restart while failures follow each other
STABLE_SECONDS = 60  # up this long, the next failure waits the first delay again
DATABASE_CHECK_SECONDS = 2
STOP_SECONDS = 20  # then children still running are killed
TICK_SECONDS = 0.25


class Backoff:
    """How long to wait before the next restart: longer after each quick failure."""

    def __init__(self) -> None:
        self._failures = 0
        self._up_since = time.monotonic()

    def up(self) -> None:
        self._up_since = time.monotonic()

    def failed(self) -> int:
        """Count a failure and return the seconds to wait before trying again."""
        if self._up_since is not None and time.monotonic() - self._up_since >= STABLE_SECONDS:
            self._failures = 0
        self._up_since = None
        delay = RESTART_DELAYS[min(self._failures, len(RESTART_DELAYS) - 1)]
        self._failures += 1
        return delay


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            return f"exited with signal {-returncode}"
        return f"exited with signal {-returncode} ({name})"
    return f"exited with code {returncode}"


@dataclass
class Child:
    """One supervised command: `name` is how the console calls it."""

    name: str
    command: Sequence[str]
    process: subprocess.Popen | None = None
    restart_at: float = 0.0
    backoff: Backoff = field(default_factory=Backoff)


class EmbeddedDatabase:
    """Watches the embedded server under `pg_dir` from a thread and starts it again when it dies."""

    def __init__(self, pg_dir: Path, url: str) -> None:
        self.pg_dir = pg_dir
        self.url = url
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="embedded-postgres", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def _watch(self) -> None:
        backoff = Backoff()
        wait = DATABASE_CHECK_SECONDS
        while not self._stop.wait(wait):
            wait = DATABASE_CHECK_SECONDS
            problem = connection_error(self.url)
            if problem is None:
                continue
            log.warning("embedded PostgreSQL is not accepting connections (%s); starting it", problem)
            try:
                restart_embedded(self.pg_dir)
            except Exception as error:  # keep watching whatever went wrong; the log says what
                wait = backoff.failed()
                reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
                if not isinstance(error, EmbeddedServerDown):
                    reason = f"{type(error).__name__}: {reason}"
                log.warning("embedded PostgreSQL did not start (%s); trying again in %d s", reason, wait)
                continue
            backoff.up()
            log.info("embedded PostgreSQL is accepting connections again")


def supervise(children: list[Child], *, cwd: Path, env: dict[str, str], database: EmbeddedDatabase | None) -> int:
    """Run `children` (and watch `database`) until SIGINT or SIGTERM; 0 when all stopped cleanly."""
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    # A flag rather than KeyboardInterrupt: an exception in the middle of Popen could orphan a child.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for child in children:
            child.process = subprocess.Popen(child.command, cwd=cwd, env=env)
        if database is not None:
            database.start()
        while not stopping:
            now = time.monotonic()
            for child in children:
                if child.process is None:
                    if now >= child.restart_at:
                        child.process = subprocess.Popen(child.command, cwd=cwd, env=env)
                        child.backoff.up()
                        log.info("%s started again (pid %d)", child.name, child.process.pid)
                elif child.process.poll() is not None and not stopping:  # Ctrl+C reaches children too
                    delay = child.backoff.failed()
                    log.warning("%s %s; restarting in %d s", child.name, describe_exit(child.process.returncode), delay)
                    child.process = None
                    child.restart_at = now + delay
            time.sleep(TICK_SECONDS)
    finally:
        if database is not None:
            database.stop()
        running = [child.process for child in children if child.process is not None]
        for process in running:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    failed = [p for p in running if p.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
    return 1 if failed else 0
