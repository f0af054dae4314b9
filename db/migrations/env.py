"""Alembic environment: runs migrations online against the URL db.migrate passes in."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool

from db.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    # The job queue's tables belong to procrastinate's own schema (revision 0003), not to our models.
    if type_ == "table" and name and name.startswith("procrastinate_"):
        return False
    return True


def _url() -> str:
    url = config.attributes.get("url") or os.environ.get("DATABASE_URL")
    if url:
        return url
    from core.config import load_settings
    from core.database import database_url

    return database_url(load_settings())


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
