"""Background jobs on procrastinate, a PostgreSQL-backed queue.

Workers on any number of machines share one queue table; a job is taken with
`SELECT … FOR UPDATE SKIP LOCKED`, so no two workers run the same job. Tasks are declared on a
blueprint so this module can be imported without a database; `make_app` binds them to one.
"""

from __future__ import annotations

import procrastinate

from db.engine import libpq_url

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="17 * * * *")
@blueprint.task(name="purge_expired_sessions", queueing_lock="purge_expired_sessions")
def purge_expired_sessions(timestamp: int | None = None) -> int:
    """Hourly housekeeping: expired sign-in sessions are deleted."""
    from core import auth
    from core.database import get_database

    with get_database().session() as session:
        return auth.purge_expired_sessions(session)


def make_app(url: str) -> procrastinate.App:
    """An app for workers (async connector, LISTEN/NOTIFY) bound to the database at `url`."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=libpq_url(url)))
    app.add_tasks_from(blueprint, namespace="askvideo")
    return app


def make_sync_app(url: str) -> procrastinate.App:
    """An app for deferring jobs from synchronous code (Streamlit pages, the CLI)."""
    app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=libpq_url(url)))
    app.add_tasks_from(blueprint, namespace="askvideo")
    return app
