"""The database itself refuses bad rows and cleans up after deletions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from db.models import (
    ChatLog,
    Clip,
    Summary,
    TranscriptChunk,
    User,
    UserSession,
    Video,
    VideoGroup,
    VideoGroupMember,
    Workspace,
)
from db.states import AnswerMode, Status, SummaryMethod, TranscriptSource, VideoSource
from tests.factories import chat_log, home, make_account


def _user(session, name="owner", **kw):
    user = User(username=name, email=f"{name}@example.com", password="x", video_limit=5, **kw)
    session.add(user)
    session.flush()
    session.add(Workspace(name="Personal", personal_user_id=user.id))
    session.flush()
    return user


def _video(session, user, **kw):
    video = Video(user_id=user.id, workspace_id=home(session, user.id), title="A talk", **kw)
    session.add(video)
    session.flush()
    return video


def _group(session, user, **kw):
    group = VideoGroup(user_id=user.id, workspace_id=home(session, user.id), name="G", **kw)
    session.add(group)
    session.flush()
    return group


def _chunk(session, video, index=0, **kw):
    values = dict(video_id=video.id, workspace_id=video.workspace_id, video_title=video.title, chunk_index=index,
                  text="hello world", start_time=0.0, end_time=5.0, embedding=[0.1] * 384,
                  embedding_model="all-MiniLM-L6-v2")
    values.update(kw)
    chunk = TranscriptChunk(**values)
    session.add(chunk)
    session.flush()
    return chunk


def _rejects(session, make):
    savepoint = session.begin_nested()
    with pytest.raises(IntegrityError):
        make()
        session.flush()
    savepoint.rollback()


def test_usernames_and_emails_are_unique(session):
    _user(session, "ann")
    _rejects(session, lambda: _user(session, "ann"))
    _rejects(session, lambda: session.add(User(username="ann2", email="ann@example.com", password="x",
                                               video_limit=1)))


def test_video_limit_must_be_positive(session):
    for bad in (0, -3):
        _rejects(session, lambda: session.add(
            User(username=f"u{bad}", email=f"u{bad}@example.com", password="x", video_limit=bad)))


def test_video_status_is_one_of_four(session):
    user = _user(session)
    for status in ("pending", "processing", "completed", "error"):
        _video(session, user, status=status)
    _rejects(session, lambda: _video(session, user, status="done"))


def test_new_video_is_pending(session):
    video = _video(session, _user(session))
    session.refresh(video)
    assert video.status == "pending" and video.is_external_upload is False


def test_chat_feedback_is_good_bad_or_nothing(session):
    user = _user(session)
    group = _group(session, user)
    for feedback in ("good", "bad", None):
        session.add(chat_log(user_id=user.id, group_id=group.id, question="q", answer="a", mode="llm",
                            feedback=feedback))
    session.flush()
    _rejects(session, lambda: session.add(
        chat_log(user_id=user.id, group_id=group.id, question="q", answer="a", mode="llm", feedback="meh")))


def test_every_named_state_is_stored_and_nothing_else(session):
    """The CHECK constraints are built from the enums: each member is accepted, a stray word is not."""
    user = _user(session)
    group = _group(session, user)
    for status in Status:
        video = _video(session, user, status=status)
        session.add(Clip(workspace_id=home(session, user.id), video_id=video.id, clip_hash=status.ljust(64, "0"), title="c",
                         start_s=0, end_s=1, status=status))
    for source in VideoSource:
        _video(session, user, source=source)
    for origin in TranscriptSource:
        _video(session, user, transcript_source=origin)
    for method in SummaryMethod:
        session.add(Summary(workspace_id=home(session, user.id), video_id=_video(session, user).id, text="s", method=method,
                            fingerprint="f"))
    for mode in AnswerMode:
        session.add(chat_log(user_id=user.id, group_id=group.id, question="q", answer="a", mode=mode))
    session.flush()
    video = _video(session, user)
    _rejects(session, lambda: _video(session, user, source="ftp"))
    _rejects(session, lambda: _video(session, user, transcript_source="guesswork"))
    _rejects(session, lambda: session.add(Clip(workspace_id=home(session, user.id), video_id=video.id, clip_hash="x" * 64, title="c",
                                               start_s=0, end_s=1, status="done")))
    _rejects(session, lambda: session.add(Summary(workspace_id=home(session, user.id), video_id=video.id, text="s", method="guess",
                                                  fingerprint="f")))
    _rejects(session, lambda: session.add(chat_log(user_id=user.id, group_id=group.id, question="q", answer="a",
                                                  mode="guess")))
    _rejects(session, lambda: session.add(chat_log(user_id=user.id, group_id=group.id, question="q", answer="a")))


def test_a_video_is_in_a_group_at_most_once(session):
    user = _user(session)
    video, group = _video(session, user), _group(session, user)
    session.add(VideoGroupMember(group_id=group.id, video_id=video.id))
    session.flush()
    _rejects(session, lambda: session.add(VideoGroupMember(group_id=group.id, video_id=video.id)))


def test_share_tokens_are_unique_but_may_be_empty(session):
    user = _user(session)
    _group(session, user, share_token=None)
    _group(session, user, share_token=None)
    _group(session, user, share_token="t" * 43)
    _rejects(session, lambda: _group(session, user, share_token="t" * 43))


def test_chunk_times_must_be_ordered_and_non_negative(session):
    video = _video(session, _user(session))
    _rejects(session, lambda: _chunk(session, video, start_time=-1.0))
    _rejects(session, lambda: _chunk(session, video, 1, start_time=10.0, end_time=5.0))


def test_chunk_text_is_searchable_by_full_text(session):
    video = _video(session, _user(session))
    chunk = _chunk(session, video, text="The quarterly revenue grew")
    found = session.scalar(select(func.count()).select_from(TranscriptChunk).where(
        TranscriptChunk.id == chunk.id,
        TranscriptChunk.search_vector.op("@@")(func.plainto_tsquery("english", "revenue"))))
    assert found == 1


def test_deleting_a_video_deletes_its_chunks_and_memberships(session):
    user = _user(session)
    video, group = _video(session, user), _group(session, user)
    _chunk(session, video)
    session.add(VideoGroupMember(group_id=group.id, video_id=video.id))
    session.flush()
    session.delete(video)
    session.flush()
    assert session.scalar(select(func.count()).select_from(TranscriptChunk)) == 0
    assert session.scalar(select(func.count()).select_from(VideoGroupMember)) == 0
    assert session.get(VideoGroup, group.id) is not None


def test_deleting_a_group_keeps_its_videos_but_drops_its_chat_logs(session):
    user = _user(session)
    video, group = _video(session, user), _group(session, user)
    session.add_all([VideoGroupMember(group_id=group.id, video_id=video.id),
                     chat_log(user_id=user.id, group_id=group.id, question="q", answer="a", mode="llm")])
    session.flush()
    session.delete(group)
    session.flush()
    assert session.get(Video, video.id) is not None
    assert session.scalar(select(func.count()).select_from(ChatLog)) == 0


def test_deleting_a_user_deletes_everything_they_own(session):
    owner = make_account(session)
    other = make_account(session)
    user = session.get(User, owner.id)
    video, group = _video(session, user), _group(session, user)
    _chunk(session, video)
    session.add(chat_log(user_id=user.id, group_id=group.id, question="q", answer="a", mode="llm"))
    session.add(UserSession(user_id=user.id, token_hash="h" * 64, expires_at=func.now()))
    other_video = _video(session, session.get(User, other.id))
    personal = home(session, owner.id)
    session.flush()
    session.delete(user)
    session.flush()
    for model in (Video, VideoGroup, TranscriptChunk, ChatLog):  # their personal workspace went, with its rows
        owned = session.scalar(select(func.count()).select_from(model).where(model.workspace_id == personal))
        assert owned == 0, model.__name__
    assert session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == owner.id)) == 0
    assert session.get(Video, other_video.id) is not None
