"""The process-wide database handle built from the settings: one engine, one session factory."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from collections.abc import Iterator

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.config import Settings, load_settings
from db.engine import make_engine, make_session_factory, start_embedded, sqlalchemy_url


# The database could not be reached or dropped the connection: what the pages catch to say so,
# without knowing the driver.
DatabaseUnreachable = OperationalError
UNREACHABLE_MESSAGE = "The database cannot be reached right now. Nothing you saved is lost; try again in a moment."


def database_url(settings: Settings) -> str:
    """DATABASE_URL when set, else the embedded server under the data directory (started if needed)."""
    if settings.database_url:
        return sqlalchemy_url(settings.database_url)
    return start_embedded(settings.embedded_pg_dir)


class Database:
    """An engine and its session factory; thread-safe, so one instance serves every Streamlit session."""

    def __init__(self, url: str, *, pool_size: int = 5) -> None:
        self.url = url
        self.engine: Engine = make_engine(url, pool_size=pool_size)
        self._sessions: sessionmaker[Session] = make_session_factory(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends normally, rolled back otherwise."""
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


_lock = threading.Lock()
_default: Database | None = None


def get_database() -> Database:
    """The process's shared `Database`, created on first use from the environment.

    It is rebuilt when DATABASE_URL changes, which only happens in tests that point the app
    at a fresh database.
    """
    global _default
    with _lock:
        wanted = os.environ.get("DATABASE_URL")
        if _default is None or (wanted and sqlalchemy_url(wanted) != _default.url):
            if _default is not None:
                _default.dispose()
            _default = Database(database_url(load_settings()))
        return _default


def row_id(value: object) -> int | None:
    """An id a page sent, if it can be a row's (a positive bigint); None for text, floats' junk or
    2**70, so a hostile id reads as "not found" instead of reaching the database as an error."""
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 < number < 2**63 else None
