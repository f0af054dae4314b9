"""A reviewer's pass over an exchange in Analytics: reviewed or not, a note, and for a bad answer
the moment that does answer it, pinned as one of the group's regression questions (web).

Every id comes from a page, so each is checked against the viewer's scope (analytics.scope_for):
an exchange is the viewer's when it was asked in one of their groups; staff looking at all users
may review any. A pinned moment must be in one of the exchange's group's videos.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.analytics import Scope
from core.database import row_id
from core.errors import AskVideoError
from core.text import one_line
from db.models import ChatLog, RegressionQuestion, TranscriptSentence, User, Video, VideoGroup, VideoGroupMember

MAX_NOTE_CHARS = 2000
MAX_QUESTION_CHARS = 500
# A moment typed or played (not picked as a sentence) is taken to last this long: long enough for
# an answer said in a few sentences, short enough that a citation half a minute off still misses.
PIN_WINDOW_S = 30.0
MAX_PIN_WINDOW_S = 300.0  # the longest moment a reviewer may pin


class ReviewError(AskVideoError):
    pass


class ExchangeNotFound(ReviewError):
    def __init__(self) -> None:
        super().__init__("That exchange does not exist or is not yours to review.")


@dataclass(frozen=True)
class Pinned:
    id: int
    group_id: int
    chat_log_id: int | None
    question: str
    video_id: int
    video_title: str
    start: float
    end: float
    created_at: datetime


@dataclass(frozen=True)
class Review:
    log_id: int
    group_id: int | None  # None: asked of one video or of everything
    reviewed_at: datetime | None
    reviewed_by: str | None  # the reviewer's username
    note: str
    pinned: Pinned | None


@dataclass(frozen=True)
class Line:
    """A transcript sentence a reviewer may pick as the answer's moment."""

    start: float
    end: float
    text: str


def _exchange(session: Session, scope: Scope, log_id: object, *, lock: bool = False) -> ChatLog:
    number = row_id(log_id)
    query = select(ChatLog).where(ChatLog.id == number, *scope.holds(ChatLog.workspace_id))
    log = session.scalars(query.with_for_update() if lock else query).first() if number else None
    if log is None:
        raise ExchangeNotFound()
    return log


def _pinned(session: Session, where) -> list[Pinned]:
    rows = session.execute(select(RegressionQuestion, Video.title).join(Video, Video.id == RegressionQuestion.video_id)
                           .where(where).order_by(RegressionQuestion.created_at, RegressionQuestion.id)).all()
    return [Pinned(q.id, q.group_id, q.chat_log_id, q.question, q.video_id, title, q.answer_start_s, q.answer_end_s,
                   q.created_at) for q, title in rows]


def review(session: Session, scope: Scope, log_id: object) -> Review:
    """The review state of one exchange in the viewer's scope."""
    log = _exchange(session, scope, log_id)
    reviewer = session.scalar(select(User.username).where(User.id == log.reviewed_by)) if log.reviewed_by else None
    pinned = _pinned(session, RegressionQuestion.chat_log_id == log.id)
    return Review(log.id, log.group_id, log.reviewed_at, reviewer, log.review_note or "",
                  pinned[0] if pinned else None)


NOT_IN_A_GROUP = ("This question was asked of one video or of everything, not of a group: pinned moments are "
                  "a group's regression questions. Ask it in a group to pin its answer.")


def mark_reviewed(session: Session, scope: Scope, log_id: object, reviewed: bool = True) -> None:
    log = _exchange(session, scope, log_id, lock=True)
    log.reviewed_at = func.now() if reviewed else None
    log.reviewed_by = scope.user_id if reviewed else None


def set_note(session: Session, scope: Scope, log_id: object, note: str) -> None:
    """Keep the reviewer's note (plain text; blank removes it). Pages show it escaped."""
    note = (note or "").replace("\r\n", "\n").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ReviewError(f"A note is at most {MAX_NOTE_CHARS:,} characters.")
    log = _exchange(session, scope, log_id, lock=True)
    log.review_note = note or None


def group_videos(session: Session, scope: Scope, log_id: object) -> list[tuple[int, str, float | None]]:
    """(id, title, duration) of the videos in the exchange's group, in the group's order: where
    its answer's moment may be pinned."""
    log = _exchange(session, scope, log_id)
    if log.group_id is None:  # asked of one video or of everything: no group to pin a question to
        return []
    workspace_id = session.scalar(select(VideoGroup.workspace_id).where(VideoGroup.id == log.group_id))
    rows = session.execute(
        select(Video.id, Video.title, Video.duration_s).join(VideoGroupMember, VideoGroupMember.video_id == Video.id)
        .where(VideoGroupMember.group_id == log.group_id, Video.workspace_id == workspace_id)
        .order_by(VideoGroupMember.order, VideoGroupMember.added_at, Video.id)).all()
    return [tuple(r) for r in rows]


def _group_video(session: Session, scope: Scope, log: ChatLog, video_id: object) -> tuple[int, str, float | None]:
    number = row_id(video_id)
    if log.group_id is None:
        raise ReviewError(NOT_IN_A_GROUP)
    for video in group_videos(session, scope, log.id):
        if video[0] == number:
            return video
    raise ReviewError("That video is not in this exchange's group.")


def transcript_lines(session: Session, scope: Scope, log_id: object, video_id: object) -> list[Line]:
    """The sentences of one of the exchange's group's videos, with their times, as indexed."""
    log = _exchange(session, scope, log_id)
    video = _group_video(session, scope, log, video_id)
    model = session.scalar(select(TranscriptSentence.embedding_model).where(TranscriptSentence.video_id == video[0])
                           .limit(1))
    rows = session.execute(select(TranscriptSentence.start_time, TranscriptSentence.end_time, TranscriptSentence.text)
                           .where(TranscriptSentence.video_id == video[0],
                                  TranscriptSentence.embedding_model == model)
                           .order_by(TranscriptSentence.sentence_index)).all()
    return [Line(float(s), float(e), t) for s, e, t in rows]


def pin(session: Session, scope: Scope, log_id: object, *, video_id: object, start_s: float,
        end_s: float | None = None, question: str | None = None) -> Pinned:
    """Pin the moment that answers the exchange's question as a regression question of its group;
    pinning the same exchange again replaces its moment. `end_s` is the end of the transcript
    sentence picked; without one the moment lasts PIN_WINDOW_S (both within the video)."""
    log = _exchange(session, scope, log_id, lock=True)
    video_id, _, duration = _group_video(session, scope, log, video_id)
    text = one_line(question if question is not None else log.question)
    if not text:
        raise ReviewError("Write the question this moment answers.")
    if len(text) > MAX_QUESTION_CHARS:
        raise ReviewError(f"A question is at most {MAX_QUESTION_CHARS} characters.")
    try:
        start = float(start_s)
        end = start + PIN_WINDOW_S if end_s is None else float(end_s)
    except (TypeError, ValueError):
        raise ReviewError("Choose the second the answer starts at.") from None
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0:
        raise ReviewError("Choose the second the answer starts at.")
    if duration and start > duration:
        raise ReviewError(f"The video is only {int(duration)} s long.")
    if end_s is None and duration:
        end = max(start, min(end, duration))
    if not start <= end <= start + MAX_PIN_WINDOW_S:
        raise ReviewError(f"A moment ends after it starts and lasts at most {int(MAX_PIN_WINDOW_S)} s.")
    existing = session.scalars(select(RegressionQuestion).where(RegressionQuestion.chat_log_id == log.id)
                               .with_for_update()).first()
    row = existing or RegressionQuestion(group_id=log.group_id, chat_log_id=log.id)
    row.question, row.video_id, row.answer_start_s, row.answer_end_s = text, video_id, start, end
    row.pinned_by = scope.user_id
    if existing:
        row.created_at = func.now()
    session.add(row)
    session.flush()
    return _pinned(session, RegressionQuestion.id == row.id)[0]


def unpin(session: Session, scope: Scope, question_id: object) -> None:
    """Remove a pinned question of a group in the viewer's scope."""
    query = select(RegressionQuestion).join(VideoGroup, VideoGroup.id == RegressionQuestion.group_id) \
        .where(RegressionQuestion.id == row_id(question_id), *scope.holds(VideoGroup.workspace_id))
    question = session.scalars(query).first()
    if question is None:
        raise ReviewError("That pinned question does not exist or is not yours.")
    session.delete(question)


def pinned_questions(session: Session, scope: Scope, group_id: object) -> list[Pinned]:
    """A group's regression questions, oldest first, if the group is in the viewer's scope."""
    query = select(VideoGroup.id).where(VideoGroup.id == row_id(group_id), *scope.holds(VideoGroup.workspace_id))
    group = session.scalar(query)
    return _pinned(session, RegressionQuestion.group_id == group) if group else []
