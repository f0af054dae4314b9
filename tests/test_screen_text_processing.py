"""What a video shows becomes searchable: a slide talk without a word spoken is processed into
screen passages, answers about its slides cite the screen and play from the slide's second, and
the passages' pictures live and go with the video.

The pipeline runs in-process (the worker's code, without the queue), with the screen read as an
installation does by default (the rest of the suite turns it off: tests/conftest.py)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from core import (
    answers,
    auth,
    groups,
    library,
    media_links,
    moment_search,
    passages,
    processing,
    reindex,
    storage,
    submission,
)
from core.config import load_settings
from core.errors import Refused
from core.states import AnswerMode, PassageKind, Status, TranscriptSource
from core.submission import UploadItem
from db.models import TranscriptChunk, Video
from tests.factories import home, make_account
from tests.media_factory import TALK, slides, srt

SLIDES = [
    ("Quarterly Review", 0, 4),
    ("Revenue grew 42 percent\nin the third quarter", 4, 9),
    ("Hiring plan:\nthree data engineers", 9, 14),
]


@pytest.fixture
def settings():
    return dataclasses.replace(load_settings(), screen_text=True)


@pytest.fixture
def owner(clean_db):
    with clean_db.session() as s:
        return make_account(s)


def add_and_process(db, settings, owner, path, **item):
    [result] = submission.submit_uploads(db, settings, owner.id, [UploadItem(path.name, open(path, "rb"), **item)],
                                         language="en")
    processing.process_video(db, settings, result.video_id)
    return result.video_id


def screen_rows(db, video_id) -> list[TranscriptChunk]:
    with db.session() as s:
        return list(s.scalars(select(TranscriptChunk).where(TranscriptChunk.video_id == video_id,
                                                            TranscriptChunk.kind == PassageKind.SCREEN)
                              .order_by(TranscriptChunk.chunk_index)))


@pytest.fixture
def slide_talk(clean_db, settings, owner, tmp_path):
    path = slides(tmp_path / "review.mp4", SLIDES, size="640x360", fontsize=36)
    video_id = add_and_process(clean_db, settings, owner, path, title="Quarterly review")
    with clean_db.session() as s:
        group_id = groups.create_group(s, owner.id, "Reviews", workspace_id=home(s, owner.id))
        groups.add_videos(s, owner.id, group_id, [video_id])
    return video_id, group_id


def test_a_slide_talk_without_speech_becomes_ready_with_its_screen_text(clean_db, settings, owner, slide_talk):
    video_id, _ = slide_talk
    with clean_db.session() as s:
        video = s.get(Video, video_id)
        assert video.status == Status.COMPLETED, video.error_message
        assert video.transcript_source == TranscriptSource.SCREEN_TEXT
    rows = screen_rows(clean_db, video_id)
    assert [r.start_time for r in rows] == pytest.approx([0, 4, 9], abs=0.6)
    assert "42 percent" in rows[1].text and "data engineers" in rows[2].text
    for row in rows:  # each with its frame's picture in the media directory
        picture = storage.existing(settings.media_dir, row.thumbnail)
        assert picture is not None and picture.read_bytes()[:3] == b"\xff\xd8\xff"
    # The Library shows the slides in the transcript, at their seconds.
    with clean_db.session() as s:
        detail = library.video_detail(s, settings, owner.id, video_id)
    assert [line.on_screen for line in detail.lines] == [True, True, True]
    assert "Hiring plan" in detail.lines[2].text and detail.screen_text_note is None


def test_a_question_about_a_slide_cites_the_screen_from_the_slides_second(clean_db, settings, owner, slide_talk):
    video_id, group_id = slide_talk
    prepared = answers.prepare(clean_db, settings, group_id=group_id, user_id=owner.id,
                               question="How many data engineers are we hiring?")
    text = "".join(answers.stream(prepared))
    answer = answers.finish(clean_db, prepared, text)
    assert answer.mode == AnswerMode.EXTRACTIVE
    first = answer.citations[0]
    assert first.on_screen and first.video_id == video_id and "data engineers" in first.snippet
    assert first.start == pytest.approx(9, abs=0.6)  # plays from when the slide appears
    assert "On screen" in text
    # Its picture is served under the owner's right, like the video; not to someone outside.
    with clean_db.session() as s:
        stranger = make_account(s, "stranger")
        sessions = [auth.account_for_token(s, auth.start_session(s, who.id, days=1)).session_id
                    for who in (owner, stranger)]
    with clean_db.session() as s:
        served = media_links.locate(s, settings, "screen", first.chunk_id, media_links.session_grant(sessions[0]))
        assert served.content_type == "image/jpeg" and served.path == storage.resolve(settings.media_dir,
                                                                                      first.thumbnail)
        with pytest.raises(Refused):
            media_links.locate(s, settings, "screen", first.chunk_id, media_links.session_grant(sessions[1]))


def test_screen_text_is_searched_beside_what_is_said(clean_db, settings, owner, tmp_path):
    path = slides(tmp_path / "talk.mp4", [("Roadmap: Project Falcon ships in May", 0, 10)], size="640x360",
                  fontsize=32, audio="silence")
    video_id = add_and_process(clean_db, settings, owner, path, captions_name="talk.srt", captions_data=srt(TALK))
    with clean_db.session() as s:
        hits = answers.search(clean_db, settings, user_id=owner.id, query="When does Project Falcon ship?",
                              video_id=video_id, workspace_id=home(s, owner.id))
        video = s.get(Video, video_id)
    assert video.transcript_source == TranscriptSource.CAPTIONS  # what is said stays the transcript
    kinds = {h.kind for h in hits}
    assert kinds == {PassageKind.SPEECH, PassageKind.SCREEN}
    assert hits[0].kind == PassageKind.SCREEN and "Falcon" in hits[0].text
    # The Library's "find what is said" finds the slide's words too, and says they are on screen.
    with clean_db.session() as s:
        [shown] = moment_search.find_moments(s, owner.id, "Falcon", workspace_id=home(s, owner.id))
        said = moment_search.find_moments(s, owner.id, "Globex", workspace_id=home(s, owner.id))
        titled = moment_search.find_moments(s, owner.id, "talk", workspace_id=home(s, owner.id))
    assert shown.on_screen and shown.start == pytest.approx(0, abs=0.6)
    assert [piece for piece, matched in shown.pieces() if matched] == ["Falcon"]
    assert [(m.on_screen, m.start) for m in said] == [(False, 9.0)]  # said, never shown
    assert titled == []  # the video's title ("talk") is not text on its screen


def test_a_video_can_opt_out_and_the_server_can_turn_it_off(clean_db, settings, owner, tmp_path):
    path = slides(tmp_path / "quiet.mp4", SLIDES[:1], size="640x360", fontsize=36)
    video_id = add_and_process(clean_db, settings, owner, path, read_screen_text=False)
    with clean_db.session() as s:
        video = s.get(Video, video_id)
        assert video.status == Status.ERROR and "no audio track" in video.error_message
    off = dataclasses.replace(settings, screen_text=False)
    other = slides(tmp_path / "other.mp4", SLIDES[1:2], size="640x360", fontsize=36)
    other_id = add_and_process(clean_db, off, owner, other)
    with clean_db.session() as s:
        assert s.get(Video, other_id).status == Status.ERROR
        assert library.screen_text_note(off, s.get(Video, other_id)) == "Reading text on screen is turned off on this server."


def test_reindexing_keeps_the_screen_and_deleting_the_video_removes_its_pictures(clean_db, settings, owner,
                                                                                 slide_talk):
    video_id, _ = slide_talk
    before = screen_rows(clean_db, video_id)
    with clean_db.session() as s:
        s.execute(TranscriptChunk.__table__.update().where(TranscriptChunk.video_id == video_id)
                  .values(embedding_model="an older model"))
    reindex.reembed(clean_db, settings, video_id)
    after = screen_rows(clean_db, video_id)
    assert [(r.text, r.thumbnail) for r in after] == [(r.text, r.thumbnail) for r in before]
    assert {r.embedding_model for r in after} == {"all-MiniLM-L6-v2"}
    pictures = [storage.resolve(settings.media_dir, r.thumbnail) for r in after]
    library.delete_video(clean_db, settings, owner.id, video_id)
    assert not any(p.exists() for p in pictures)
    with clean_db.session() as s:
        assert passages.screen_thumbnails(s, [video_id]) == []


def test_a_video_played_from_its_site_says_its_screen_needs_the_file(clean_db, settings, owner):
    with clean_db.session() as s:
        linked = Video(user_id=owner.id, workspace_id=home(s, owner.id), title="Keynote", source="url",
                       source_url="https://www.youtube.com/watch?v=abc", status="completed")
        s.add(linked)
        s.flush()
        detail = library.video_detail(s, settings, owner.id, linked.id)
    assert "upload the file to search its slides" in detail.screen_text_note
