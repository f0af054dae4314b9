"""Is this installation able to serve? For load balancers and monitors (GET /healthz)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.database import Database


@dataclass(frozen=True)
class Health:
    database: bool
    worker_seconds_ago: float | None  # since the freshest worker heartbeat; None: no worker has one

    def healthy(self, stalled_worker_seconds: int) -> bool:
        """The database answers and a worker is alive (one that has not beaten its heart for
        `stalled_worker_seconds` is dead, as the queue itself judges it)."""
        return self.database and self.worker_seconds_ago is not None \
            and self.worker_seconds_ago <= stalled_worker_seconds


def check(db: Database) -> Health:
    try:
        with db.session() as session:
            ago = session.scalar(text(
                "SELECT extract(epoch FROM now() - max(last_heartbeat)) FROM procrastinate_workers"))
    except (SQLAlchemyError, OSError):
        return Health(False, None)
    return Health(True, float(ago) if ago is not None else None)
