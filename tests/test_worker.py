"""The background worker is a real process that takes jobs from the PostgreSQL queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, text

from core import auth
from core.config import PROJECT_ROOT
from core.queue import connector_app
from db.models import UserSession
from tests.factories import make_account


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_worker_registers_runs_a_job_and_stops_cleanly(clean_db, database_url):
    with clean_db.session() as s:
        account = make_account(s)
        live = auth.start_session(s, account.id, days=7)
        s.add(UserSession(user_id=account.id, token_hash="e" * 64,
                          expires_at=datetime.now(timezone.utc) - timedelta(hours=1)))
    worker = subprocess.Popen(
        [sys.executable, "-m", "core.worker", "--name", "test-worker"],
        cwd=PROJECT_ROOT, env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        def registered():
            with clean_db.engine.connect() as conn:
                return conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar() == 1

        assert _wait_for(registered), "worker never registered"
        app = connector_app(database_url)
        with app.open():
            job_id = app.configure_task("askvideo:purge_expired_sessions").defer()

        def finished():
            with clean_db.engine.connect() as conn:
                return conn.execute(text("SELECT status FROM procrastinate_jobs WHERE id = :id"),
                                    {"id": job_id}).scalar() == "succeeded"

        assert _wait_for(finished), "job was not run"
        with clean_db.session() as s:
            assert s.scalar(select(func.count()).select_from(UserSession)) == 1
            assert auth.account_for_token(s, live).id == account.id
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    with clean_db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar() == 0
