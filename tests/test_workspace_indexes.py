"""A team whose library is a small share of a large server gets search indexes of its own: they
find what the whole table's indexes find, and go when the workspace goes."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core import retrieval, tasks, workspace_indexes, workspaces
from core.config import load_settings
from core.embeddings import LocalMiniLM
from tests.corpus import captioned_in, three_topics
from tests.factories import home, make_account

QUESTION = "Which filter do I need before pointing a telescope at the sun?"


def everything(db, workspace_id: int, by_index: bool | None = None) -> list[tuple[int, float]]:
    """The team's top moments over all its videos, as the Ask page's "Everything" finds them."""
    with db.session() as s:
        pool = retrieval.candidate_pool(s, group_id=None, workspace_id=workspace_id, model=LocalMiniLM.model_name,
                                        query_vector=LocalMiniLM().embed_query(QUESTION), query_text=QUESTION,
                                        by_index=by_index)
    return sorted((c.chunk_id, round(c.similarity, 5)) for c in pool)


@pytest.fixture
def server(clean_db, monkeypatch):
    """Olivia's field team (one talk) on a server where her personal library holds two more."""
    monkeypatch.setattr(workspace_indexes, "OWN_INDEXES_FROM_CHUNKS", 10)  # the talk has ~30 chunks
    monkeypatch.setattr(workspace_indexes, "OWN_INDEXES_FROM_TABLE_CHUNKS", 50)  # the three have ~100
    with clean_db.session() as s:
        olivia = make_account(s, "olivia")
        personal = home(s, olivia.id)
        team = workspaces.create_workspace(s, olivia.id, "Field team")
    captioned_in(clean_db, olivia.id, team, "Team talk", three_topics())
    for title in ("Morning talk", "Evening talk"):
        captioned_in(clean_db, olivia.id, personal, title, three_topics())
    yield clean_db, olivia, team, personal
    with clean_db.engine.begin() as conn:  # the next test's workspaces reuse these ids
        for name in workspace_indexes._catalog(conn):  # valid or not
            conn.execute(text(f"DROP INDEX IF EXISTS {name}"))


def test_a_small_share_of_a_large_table_gets_its_own_indexes_which_find_the_same(server):
    db, _, team, personal = server
    before = everything(db, team, by_index=True)  # through the whole table's indexes

    built, dropped = workspace_indexes.ensure(db.engine)

    # The team holds a third of the chunks: its own four indexes. The personal library holds two
    # thirds, and the whole table's indexes are nearly its own already.
    assert sorted(built) == sorted(index.name(team) for index in workspace_indexes.OWN_INDEXES) and not dropped
    assert set(workspace_indexes.existing(db.engine)) == {team}
    assert workspace_indexes.ensure(db.engine) == ([], [])  # built once
    assert everything(db, team, by_index=True) == before  # the same moments, with the same scores
    assert everything(db, team, by_index=False) == before  # and as reading the team's videos one by one finds
    # (That the planner picks them at scale is in BENCHMARKS.md: EXPLAIN at 1M chunks. In a table this
    # small its choice between them, the whole table's and a sort varies with the suite's statistics.)


def test_a_small_server_keeps_to_the_whole_tables_indexes(server, monkeypatch):
    db, _, team, _ = server
    monkeypatch.setattr(workspace_indexes, "OWN_INDEXES_FROM_TABLE_CHUNKS", 100_000)

    assert workspace_indexes.wanted(db.engine) == [] and workspace_indexes.ensure(db.engine) == ([], [])


def test_a_deleted_workspace_takes_its_indexes_with_it(server):
    db, olivia, team, _ = server
    workspace_indexes.ensure(db.engine)

    workspaces.delete_workspace(db, load_settings(), olivia.id, team)
    built, dropped = workspace_indexes.ensure(db.engine)

    assert not built and sorted(dropped) == sorted(index.name(team) for index in workspace_indexes.OWN_INDEXES)
    assert workspace_indexes.existing(db.engine) == {}


def test_a_build_that_died_is_built_again(server):
    db, _, team, _ = server
    workspace_indexes.ensure(db.engine)
    broken = workspace_indexes.OWN_INDEXES[1].name(team)
    with db.session() as s:  # what a worker killed during CREATE INDEX CONCURRENTLY leaves: an invalid index
        s.execute(text(f"UPDATE pg_index SET indisvalid = false WHERE indexrelid = '{broken}'::regclass"))

    built, dropped = workspace_indexes.ensure(db.engine)

    assert (built, dropped) == ([broken], [broken])
    assert broken in workspace_indexes.existing(db.engine)[team]


def test_the_worker_builds_them_every_ten_minutes(server):
    db, _, team, _ = server
    app = tasks.make_app(db.url)
    assert app.periodic_registry.periodic_tasks[("askvideo:build_workspace_indexes", "")].cron == "*/10 * * * *"

    assert tasks.build_workspace_indexes() == "built 4, dropped 0"  # the job's body, as the worker runs it
    assert len(workspace_indexes.existing(db.engine)[team]) == 4
