"""Summaries of a video and of a group, cited to moments, cached until something changes."""

from __future__ import annotations

import pytest

from core import chapters, groups, summaries
from core.errors import AskVideoError
from core.library import update_video
from core.model_settings import set_models
from tests.corpus import KITCHEN, ONBOARDING, ingest_corpus, three_topics
from tests.factories import make_account


@pytest.fixture
def library(clean_db, settings, tmp_path):
    with clean_db.session() as s:
        owner = make_account(s)
    group_id, ids = ingest_corpus(clean_db, settings, owner.id, tmp_path, {
        "Weekend hobbies": three_topics(), "Kitchen safety training": KITCHEN, "IT onboarding": ONBOARDING})
    return clean_db, owner, group_id, ids


def test_offline_video_summary_quotes_a_key_sentence_of_each_chapter(library, settings):
    db, owner, _, ids = library
    summary = summaries.summarize(db, settings, owner.id, video_id=ids["Weekend hobbies"])
    assert summary.method == "extractive" and not summary.stale
    assert summary.text.startswith(summaries.EXTRACTIVE_NOTE)
    assert len(summary.citations) == 3
    # One point per topic, each citing the moment its sentence is spoken.
    assert [c.start // 150 for c in summary.citations] == [0, 1, 2]
    for citation in summary.citations:
        assert f"“{citation.snippet}” [{citation.n}]" in summary.text
    # Each point is headed by the chapter its second falls in (not always the first chapter).
    with db.session() as s:
        made = chapters.list_chapters(s, owner.id, ids["Weekend hobbies"])
    for citation in summary.citations:
        chapter = next(c for c in made if c.start <= citation.start < c.end)
        assert f"- {chapter.title}: “{citation.snippet}” [{citation.n}]" in summary.text


def test_group_summary_follows_the_group_order_and_is_cached_until_the_group_changes(library, settings):
    db, owner, group_id, ids = library
    first = summaries.summarize(db, settings, owner.id, group_id=group_id)
    titles = [line for line in first.text.splitlines() if line in ids]
    assert titles == ["Weekend hobbies", "Kitchen safety training", "IT onboarding"]
    assert {c.video_id for c in first.citations} == set(ids.values())
    again = summaries.summarize(db, settings, owner.id, group_id=group_id)
    assert again.created_at == first.created_at  # served from the cache

    with db.session() as s:
        groups.move_video(s, owner.id, group_id, ids["IT onboarding"], -2)
        assert summaries.cached(s, settings, owner.id, group_id=group_id).stale
    changed = summaries.summarize(db, settings, owner.id, group_id=group_id)
    assert [line for line in changed.text.splitlines() if line in ids][0] == "IT onboarding"
    assert not changed.stale and changed.created_at > first.created_at

    with db.session() as s:
        update_video(s, owner.id, ids["Kitchen safety training"], title="Kitchen rules", description="")
        assert summaries.cached(s, settings, owner.id, group_id=group_id).stale
    regenerated = summaries.summarize(db, settings, owner.id, group_id=group_id, regenerate=True)
    assert "Kitchen rules" in regenerated.text


def test_the_model_summarises_from_delimited_passages_and_cites_them(library, settings, fake_openai):
    db, owner, group_id, ids = library
    with db.session() as s:
        set_models(s, owner.id, base_url=fake_openai.base_url, chat_model="fake-chat", embedding_model="")
    fake_openai.rewrite_reply = "Three hobbies and two trainings.\n- Bread needs a starter [1]\n- Helpdesk [2] [99]"
    summary = summaries.summarize(db, settings, owner.id, group_id=group_id)
    assert summary.method == "model"
    assert [c.n for c in summary.citations] == [1, 2]  # [99] is no passage: ignored
    user = [r for r in fake_openai.requests if r.is_chat][-1].json()["messages"][1]["content"]
    assert "in this order: “Weekend hobbies”; “Kitchen safety training”; “IT onboarding”" in user
    assert '<passage id="1" video="Weekend hobbies"' in user


def test_a_group_with_nothing_ready_says_so_and_strangers_get_nothing(library, settings):
    db, owner, _, _ = library
    with db.session() as s:
        empty = groups.create_group(s, owner.id, "Empty")
        stranger = make_account(s)
    with pytest.raises(AskVideoError, match="no video in this group is ready"):
        summaries.summarize(db, settings, owner.id, group_id=empty)
    with pytest.raises(AskVideoError, match="not yours"):
        summaries.summarize(db, settings, stranger.id, group_id=empty)
