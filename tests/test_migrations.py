"""The schema is made only by Alembic, and the migrations agree with the models."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from db.engine import drop_database, ensure_database, with_database
from db.migrate import downgrade, upgrade
from db.models import Base


@pytest.fixture
def scratch_url(server_url: str):
    url = with_database(server_url, f"askvideo_migr_{uuid.uuid4().hex[:8]}")
    ensure_database(url)
    yield url
    drop_database(url)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_and_the_vector_extension(scratch_url):
    upgrade(scratch_url)
    tables = _tables(scratch_url)
    assert {"users", "videos", "video_groups", "video_group_members", "chat_logs",
            "transcript_chunks", "user_sessions", "procrastinate_jobs"} <= tables
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")).scalar()
        index = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_transcript_chunks_embedding_hnsw'")
        ).scalar()
    engine.dispose()
    assert "hnsw" in index and "vector_cosine_ops" in index


def test_downgrade_to_base_removes_everything_and_upgrade_again_works(scratch_url):
    upgrade(scratch_url)
    downgrade(scratch_url, "base")
    assert _tables(scratch_url) <= {"alembic_version"}
    upgrade(scratch_url)
    assert "transcript_chunks" in _tables(scratch_url)


def test_each_revision_steps_down_and_up(scratch_url):
    upgrade(scratch_url)
    for target in ("0003", "0002", "0001"):
        downgrade(scratch_url, target)
    upgrade(scratch_url)
    assert "procrastinate_jobs" in _tables(scratch_url)


def test_models_and_migrated_database_agree(database_url):
    engine = create_engine(database_url)

    def ours(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and name.startswith("procrastinate_"))

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": ours, "compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []
