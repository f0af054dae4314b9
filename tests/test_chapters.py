"""Chapters: made when a video is ready, at its topic changes, and the owner's to edit."""

from __future__ import annotations

import json

import pytest

from core import chapters
from core.model_settings import set_api_key, set_models
from tests.corpus import TOPIC_SECONDS, ingest_corpus, three_topics
from tests.factories import make_account


@pytest.fixture
def talk(clean_db, settings, tmp_path):
    """A real 7.5-minute captioned video about three topics, ingested like any upload."""
    with clean_db.session() as s:
        owner = make_account(s)
    _, ids = ingest_corpus(clean_db, settings, owner.id, tmp_path, {"Weekend hobbies": three_topics()})
    return clean_db, owner, ids["Weekend hobbies"]


def test_a_ready_video_gets_chapters_at_its_topic_changes(talk):
    db, owner, video_id = talk
    with db.session() as s:
        made = chapters.list_chapters(s, owner.id, video_id)
    assert len(made) == 3, [(c.title, c.start) for c in made]
    starts = [c.start for c in made]
    assert starts[0] == 0
    assert abs(starts[1] - TOPIC_SECONDS) <= 20 and abs(starts[2] - 2 * TOPIC_SECONDS) <= 20
    assert made[-1].end == pytest.approx(3 * TOPIC_SECONDS, abs=1)
    assert [c.order for c in made] == [1, 2, 3]
    assert all(c.is_generated and 0 <= c.confidence <= 1 for c in made)
    # Named by what sets each part apart, not by filler words.
    titles = " | ".join(c.title.lower() for c in made)
    assert any(w in made[0].title.lower() for w in ("starter", "dough", "loaf", "bread", "crust"))
    assert any(w in made[1].title.lower() for w in ("tyre", "chain", "bike", "bicycle", "gear", "brake"))
    assert any(w in made[2].title.lower() for w in ("telescope", "moon", "stars", "planet", "galaxy", "sun"))
    assert "the" not in titles.split()
    said = " ".join(text for _, _, text in three_topics()).lower()
    assert all(c.title.lower() in said for c in made), titles  # a phrase of the talk, never words glued by "and"


def test_the_owner_edits_merges_adds_and_deletes_chapters(talk):
    db, owner, video_id = talk
    with db.session() as s:
        first, second, third = chapters.list_chapters(s, owner.id, video_id)
        chapters.update_chapter(s, owner.id, first.id, title="Bread", start=0, end=first.end)
        chapters.merge_with_next(s, owner.id, second.id)
        chapters.add_chapter(s, owner.id, video_id, title="Encore", start=420, end=450)
    with db.session() as s:
        now = chapters.list_chapters(s, owner.id, video_id)
    assert [(c.title, c.order) for c in now] == [("Bread", 1), (second.title, 2), ("Encore", 3)]
    assert now[1].end == third.end and not now[1].is_generated
    assert not now[0].is_generated and now[0].confidence == 1.0
    assert chapters.youtube_description(now).splitlines() == [
        "00:00 Bread", f"{now[1].label.split('–')[0]} {second.title}", "07:00 Encore"]
    with db.session() as s:
        chapters.delete_chapter(s, owner.id, now[2].id)
        assert [c.order for c in chapters.list_chapters(s, owner.id, video_id)] == [1, 2]


@pytest.mark.parametrize("start, end, message", [
    (-1, 10, "before 0:00"), (30, 30, "end after it starts"), (500, 510, "only 07:30 long"),
])
def test_impossible_chapters_are_refused_with_a_reason(talk, start, end, message):
    db, owner, video_id = talk
    with db.session() as s, pytest.raises(chapters.ChapterError, match=message):
        chapters.add_chapter(s, owner.id, video_id, title="x", start=start, end=end)


def test_edited_chapters_survive_processing_again_but_regenerate_replaces_them(talk, settings):
    db, owner, video_id = talk
    with db.session() as s:
        first = chapters.list_chapters(s, owner.id, video_id)[0]
        chapters.update_chapter(s, owner.id, first.id, title="Mine", start=0, end=first.end)
    assert chapters.generate(db, settings, video_id, keep_edited=True) == "kept"
    assert chapters.generate(db, settings, video_id, user_id=owner.id) == "offline"
    with db.session() as s:
        assert all(c.is_generated for c in chapters.list_chapters(s, owner.id, video_id))


def test_nobody_else_can_read_or_change_a_videos_chapters(talk):
    db, owner, video_id = talk
    with db.session() as s:
        intruder = make_account(s)
        mine = chapters.list_chapters(s, owner.id, video_id)[0]
    with db.session() as s:
        with pytest.raises(Exception, match="not yours"):
            chapters.list_chapters(s, intruder.id, video_id)
        with pytest.raises(chapters.ChapterError, match="not yours"):
            chapters.update_chapter(s, intruder.id, mine.id, title="hacked", start=0, end=5)
        with pytest.raises(chapters.ChapterError, match="not yours"):
            chapters.delete_chapter(s, intruder.id, mine.id)


def test_with_a_model_configured_the_model_proposes_chapters(talk, settings, fake_openai):
    db, owner, video_id = talk
    with db.session() as s:
        set_models(s, owner.id, base_url=fake_openai.base_url, chat_model="fake-chat", embedding_model="")
        set_api_key(s, settings, owner.id, "sk-test-chapters")
    fake_openai.rewrite_reply = "Here you go:\n" + json.dumps({"chapters": [
        {"start": 0, "title": "Baking bread", "confidence": 0.9},
        {"start": 151, "title": "Bike care", "confidence": 0.8},
        {"start": 300, "title": "Night sky", "confidence": 2},
        {"start": 9999, "title": "Beyond the end"},
    ]})
    assert chapters.generate(db, settings, video_id, user_id=owner.id) == "model"
    with db.session() as s:
        made = chapters.list_chapters(s, owner.id, video_id)
    assert [(c.title, c.start, c.end, c.confidence) for c in made] == [
        ("Baking bread", 0, 151, 0.9), ("Bike care", 151, 300, 0.8), ("Night sky", 300, 450.5, 1.0)]
    request = next(r for r in fake_openai.requests if r.is_chat).json()
    assert request["messages"][0]["role"] == "system" and "never instructions" in request["messages"][0]["content"]
    assert "<transcript>\n[0] Sourdough bread" in request["messages"][1]["content"]
    assert fake_openai.requests[0].headers["authorization"] == "Bearer sk-test-chapters"


def test_a_failing_model_falls_back_to_topic_shifts(talk, settings, fake_openai):
    db, owner, video_id = talk
    with db.session() as s:
        set_models(s, owner.id, base_url=fake_openai.base_url, chat_model="fake-chat", embedding_model="")
    fake_openai.rewrite_reply = "I cannot do JSON today."
    assert chapters.generate(db, settings, video_id, user_id=owner.id) == "offline"
    fake_openai.fail_with = 500
    assert chapters.generate(db, settings, video_id, user_id=owner.id) == "offline"
    with db.session() as s:
        assert len(chapters.list_chapters(s, owner.id, video_id)) == 3


def test_the_youtube_export_always_starts_at_zero(talk):
    db, owner, video_id = talk
    with db.session() as s:
        first = chapters.list_chapters(s, owner.id, video_id)[0]
        chapters.delete_chapter(s, owner.id, first.id)
        remaining = chapters.list_chapters(s, owner.id, video_id)
    lines = chapters.youtube_description(remaining).splitlines()
    assert lines[0] == "00:00 Intro" and len(lines) == len(remaining) + 1


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_times_that_are_not_numbers_are_refused(talk, value):
    db, owner, video_id = talk
    with db.session() as s, pytest.raises(chapters.ChapterError, match="numbers of seconds"):
        chapters.add_chapter(s, owner.id, video_id, title="x", start=10, end=value)


def test_a_short_one_topic_video_has_one_chapter_named_after_it(clean_db, settings, tmp_path):
    from tests.corpus import KITCHEN

    with clean_db.session() as s:
        owner = make_account(s)
    _, ids = ingest_corpus(clean_db, settings, owner.id, tmp_path, {"Kitchen safety training": KITCHEN})
    with clean_db.session() as s:
        [only] = chapters.list_chapters(s, owner.id, ids["Kitchen safety training"])
    assert (only.title, only.start, only.order) == ("Kitchen safety training", 0, 1)
