"""A throwaway database for a benchmark run: embedded server in a temp dir, or DATABASE_URL's server."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def scratch_database(prefix: str, kept: Path | None = None) -> Iterator:
    """Yield a migrated `core.database.Database`; the app's settings in this process point at it.
    With `kept`, the embedded server lives in that directory and its database outlives the run, so
    a table that takes most of an hour to fill is filled once and asked again by later runs."""
    data_dir = kept or Path(tempfile.mkdtemp(prefix=f"askvideo-{prefix}-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["ASKVIDEO_DATA_DIR"] = str(data_dir)
    external = None if kept else os.environ.pop("DATABASE_URL", None)

    from core.database import Database
    from db.engine import drop_database, ensure_database, start_embedded, with_database
    from db.migrate import upgrade

    server = external or start_embedded(data_dir / "pg", "postgres", cleanup_mode="stop")
    url = with_database(server, f"askvideo_{prefix}_kept" if kept else f"askvideo_{prefix}_{uuid.uuid4().hex[:6]}")
    ensure_database(url)
    upgrade(url)
    os.environ["DATABASE_URL"] = url
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()
        if not kept:
            drop_database(url)
