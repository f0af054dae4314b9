"""Changing the embedding model: videos indexed before are flagged, and re-indexed from their
stored transcripts so questions find them again."""

from __future__ import annotations

from sqlalchemy import select, text

from core import model_settings, reindex
from core.config import load_settings
from db.models import TranscriptChunk, TranscriptSentence, Video
from tests.app_driver import click, errors
from tests.factories import home

REMOTE = "openai:text-embedding-3-small"


def switch_to_a_remote_embedding_model(db, settings, account, fake_openai) -> None:
    with db.session() as s:
        model_settings.set_models(s, account.id, base_url=fake_openai.base_url, chat_model="",
                                  embedding_model="text-embedding-3-small")
        model_settings.set_api_key(s, settings, account.id, "sk-test-0000000000")


def test_a_new_embedding_model_flags_old_videos_and_reindexing_brings_them_back(clean_db, corpus_app,
                                                                                fake_openai):
    at, account, group_id, ids = corpus_app
    settings = load_settings()
    switch_to_a_remote_embedding_model(clean_db, settings, account, fake_openai)
    with clean_db.session() as s:
        assert reindex.current_model(s, settings, home(s, account.id)) == REMOTE
        assert reindex.stale_videos(s, home(s, account.id), REMOTE) == sorted(ids.values())

    at.switch_page("pages/chat.py").run()
    assert "3 videos in this group were indexed with another embedding model" in at.warning[0].value
    at.switch_page("pages/settings.py").run()
    assert "3 videos of yours were indexed with another embedding model" in at.warning[0].value
    click(at, "Re-index 3 videos")
    assert not at.exception
    with clean_db.engine.connect() as conn:
        queued = conn.execute(text("SELECT (args->>'video_id')::int FROM procrastinate_jobs "
                                   "WHERE task_name = 'askvideo:reembed_video' AND status = 'todo'")).scalars().all()
    assert sorted(queued) == sorted(ids.values())

    with clean_db.session() as s:
        before = {v.id: (v.transcript_source, len(v.transcript_segments)) for v in s.scalars(select(Video))}
    for video_id in queued:  # what the worker runs for each job
        assert reindex.reembed(clean_db, settings, video_id) == "completed"
    with clean_db.session() as s:
        assert set(s.scalars(select(TranscriptChunk.embedding_model))) == {REMOTE}
        assert set(s.scalars(select(TranscriptSentence.embedding_model))) == {REMOTE}
        assert {v.id: (v.transcript_source, len(v.transcript_segments)) for v in s.scalars(select(Video))} == before
        assert {v.status for v in s.scalars(select(Video))} == {"completed"}
        assert reindex.stale_videos(s, home(s, account.id), REMOTE) == []
    assert any(r.path.endswith("/embeddings") for r in fake_openai.requests)
    at.switch_page("pages/settings.py").run()
    assert not at.warning


def test_reindexing_skips_a_video_that_is_gone_or_being_processed_again(clean_db, corpus_app):
    _, _, _, ids = corpus_app
    kitchen = ids["Kitchen safety training"]
    with clean_db.session() as s:
        s.get(Video, kitchen).status = "pending"
    assert reindex.reembed(clean_db, load_settings(), kitchen) == "skipped"
    assert reindex.reembed(clean_db, load_settings(), 999_999) == "skipped"


def test_a_queue_that_cannot_be_reached_is_explained_and_nothing_is_lost(clean_db, corpus_app, fake_openai,
                                                                         monkeypatch):
    from core import queue

    at, account, group_id, ids = corpus_app
    switch_to_a_remote_embedding_model(clean_db, load_settings(), account, fake_openai)

    def unreachable(url):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(queue, "_deferrer", unreachable)
    at.switch_page("pages/settings.py").run()
    click(at, "Re-index 3 videos")
    assert "job queue could not be reached" in errors(at)[0]
    assert "3 videos of yours were indexed" in at.warning[0].value  # still offered, to try again
