"""A group's regression questions: moments reviewers pinned as the answer to a question, checked
against the product's retriever the way `bench.quality` checks TutorialVQA.

The scoring rule lives here so the benchmark and the product count a found moment the same way.
Who runs what: the worker runs `run` (a queued job: after a reviewer asks, after re-indexing, after
a model change); the web process reads the scores, queues runs and exports the questions.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass
from datetime import datetime

import openai
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from core import retrieval
from core.analytics import Scope
from core.captions import to_webvtt
from core.config import Settings
from core.database import Database, row_id
from core.embeddings import embeddings_for
from core.errors import GroupNotFound
from core.llm import provider_error
from core.model_settings import workspace_access
from core.queue import QueueUnavailable, defer_regression, in_flight
from core.transcripts import from_json
from db.models import RegressionQuestion, RegressionRun, Video, VideoGroup, VideoGroupMember

log = logging.getLogger(__name__)

SEEK_LEAD_S = 15.0  # a click may land this much before the answer starts and still count as finding it
SEEK_K = 5  # seek@5: the answer is found when one of the first five citations plays it

# Why a run happened, as stored in regression_runs.reason.
MANUAL, PINNED, REINDEXED, REPROCESSED = "run again", "pinned", "re-indexed", "re-processed"
# … and model_settings.MODEL_CHANGED, groups.GROUP_CHANGED


def plays_the_answer(cited_video: object, cited_start: float, *, video: object, answer_start: float,
                     answer_end: float) -> bool:
    """Whether playing a citation from its second lands on the answer: the right video, from at most
    SEEK_LEAD_S before the answer starts until its end."""
    return cited_video == video and answer_start - SEEK_LEAD_S <= cited_start <= answer_end


@dataclass(frozen=True)
class Run:
    id: int
    group_id: int
    ran_at: datetime
    reason: str
    questions: int
    found: int
    seek_at_5: float | None
    missed: list[int]
    error: str | None = None  # the check could not run: why (the provider refused, …)


def _run(row: RegressionRun) -> Run:
    return Run(row.id, row.group_id, row.ran_at, row.reason, row.questions, row.found, row.seek_at_5,
               list(row.missed or []), row.error)


def _group_in_scope(session: Session, scope: Scope, group_id: object) -> VideoGroup:
    """The group, if the viewer may see it; `group_id` may be anything a page sent."""
    number = row_id(group_id)
    group = session.scalars(select(VideoGroup).where(VideoGroup.id == number, *scope.holds(VideoGroup.workspace_id))
                            ).first() if number else None
    if group is None:
        raise GroupNotFound()
    return group


# ----------------------------------------------------------------- the check (worker)


def run(db: Database, settings: Settings, group_id: int, reason: str) -> Run | None:
    """Ask the group's retriever, as the chat asks it, each regression question; store and return
    the run (found in the top SEEK_K, seek@5, the ids missed). None if the group was deleted since
    the run was queued."""
    with db.session() as session:
        group = session.get(VideoGroup, group_id)
        if group is None:
            return None
        workspace_id = group.workspace_id
        questions = session.execute(
            select(RegressionQuestion.id, RegressionQuestion.question, RegressionQuestion.video_id,
                   RegressionQuestion.answer_start_s, RegressionQuestion.answer_end_s)
            .where(RegressionQuestion.group_id == group_id).order_by(RegressionQuestion.id)).all()
        access = workspace_access(session, settings, workspace_id)
    missed: list[int] = []
    error = None
    try:
        if questions:
            embedder = embeddings_for(access.embedding_model, api_key=access.api_key, base_url=access.base_url)
            retriever = retrieval.group_retriever(db.session, settings, embedder, group_id=group_id,
                                                  workspace_id=workspace_id)
            for q in questions:
                hits = retriever.hits(q.question)[:SEEK_K]
                if not any(plays_the_answer(h.video_id, h.start, video=q.video_id, answer_start=q.answer_start_s,
                                            answer_end=q.answer_end_s) for h in hits):
                    missed.append(q.id)
    except openai.OpenAIError as failure:  # the owner's embedding provider: kept as a failed run, said
        error, missed = str(provider_error(failure)), []
    found = len(questions) - len(missed) if error is None else 0
    with db.session() as session:
        row = RegressionRun(group_id=group_id, reason=reason[:40], questions=len(questions), found=found,
                            seek_at_5=found / len(questions) if questions and error is None else None,
                            missed=missed, error=error)
        session.add(row)
        session.flush()
        session.refresh(row)
        return _run(row)


def cited_instead(db: Database, settings: Settings, scope: Scope, question_id: object) -> list[dict]:
    """What retrieval cites now for one regression question, top SEEK_K: {video_id, title, start}."""
    with db.session() as session:
        question = _question_in_scope(session, scope, question_id)
        group = session.get(VideoGroup, question.group_id)
        text, group_id, workspace_id = question.question, group.id, group.workspace_id
        access = workspace_access(session, settings, workspace_id)
    embedder = embeddings_for(access.embedding_model, api_key=access.api_key, base_url=access.base_url)
    hits = retrieval.group_retriever(db.session, settings, embedder, group_id=group_id,
                                     workspace_id=workspace_id).hits(text)[:SEEK_K]
    return [{"video_id": h.video_id, "title": h.title, "start": h.start} for h in hits]


def _question_in_scope(session: Session, scope: Scope, question_id: object) -> RegressionQuestion:
    number = row_id(question_id)
    question = session.get(RegressionQuestion, number) if number else None
    if question is None:
        raise GroupNotFound()
    _group_in_scope(session, scope, question.group_id)
    return question


# ----------------------------------------------------------------- queueing (web, re-indexing, settings)


def groups_to_check(session: Session, *, workspace_id: int | None = None, video_id: int | None = None
                    ) -> list[int]:
    """The groups with regression questions, of one workspace or holding one video: the groups
    whose score a change there may move."""
    query = (select(VideoGroup.id)
             .where(select(RegressionQuestion.id).where(RegressionQuestion.group_id == VideoGroup.id).exists())
             .order_by(VideoGroup.id))
    if workspace_id is not None:
        query = query.where(VideoGroup.workspace_id == workspace_id)
    if video_id is not None:
        query = query.where(select(VideoGroupMember.id).where(VideoGroupMember.group_id == VideoGroup.id,
                                                              VideoGroupMember.video_id == video_id).exists())
    return list(session.scalars(query))


def queue_checks_of_video(db: Database, video_id: int, reason: str) -> None:
    """Queue a check of each group holding the video that has pinned questions: what retrieval sees
    of the video has just changed (re-indexed, processed again). Never raises: a check the queue
    could not take waits for the next change or Run again."""
    with db.session() as session:
        groups = groups_to_check(session, video_id=video_id)
    if groups:
        try:
            defer_regression(db.url, groups, reason)
        except QueueUnavailable:
            log.warning("the regression check after video %s changed was not queued", video_id)


def queue_run(db: Database, scope: Scope, group_id: object, reason: str = MANUAL) -> None:
    """Queue a check of a group the viewer may see. Raises GroupNotFound or QueueUnavailable."""
    with db.session() as session:
        group = _group_in_scope(session, scope, group_id)
        target = group.id
    defer_regression(db.url, [target], reason)


# ----------------------------------------------------------------- what Analytics shows (web)


@dataclass(frozen=True)
class GroupScore:
    group_id: int
    group: str
    questions: int
    latest: Run | None
    busy: bool  # a check is queued or running


def overview(session: Session, scope: Scope, group_id: int | None = None) -> list[GroupScore]:
    """Per group with regression questions (or one group): how many, the latest run, whether one is queued."""
    counts = (select(RegressionQuestion.group_id, func.count().label("n"))
              .group_by(RegressionQuestion.group_id).subquery())
    query = (select(VideoGroup.id, VideoGroup.name, counts.c.n)
             .join(counts, counts.c.group_id == VideoGroup.id).order_by(VideoGroup.name, VideoGroup.id))
    query = query.where(*scope.holds(VideoGroup.workspace_id))
    if group_id is not None:
        query = query.where(VideoGroup.id == group_id)
    rows = session.execute(query).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    latest = {}
    for row in session.scalars(
            select(RegressionRun).where(RegressionRun.group_id.in_(ids))
            .ext(distinct_on(RegressionRun.group_id))
            .order_by(RegressionRun.group_id, RegressionRun.ran_at.desc(), RegressionRun.id.desc())):
        latest[row.group_id] = _run(row)
    busy = in_flight(session, "regression")
    return [GroupScore(r.id, r.name, r.n, latest.get(r.id), r.id in busy) for r in rows]


def history(session: Session, scope: Scope, group_id: object, limit: int = 100) -> list[Run]:
    """The group's runs, oldest first (the last `limit`)."""
    group = _group_in_scope(session, scope, group_id)
    rows = session.scalars(select(RegressionRun).where(RegressionRun.group_id == group.id)
                           .order_by(RegressionRun.ran_at.desc(), RegressionRun.id.desc()).limit(limit)).all()
    return [_run(r) for r in reversed(rows)]


@dataclass(frozen=True)
class Missed:
    question_id: int
    group_id: int
    group: str
    question: str
    video_id: int
    video_title: str
    start: float
    end: float
    run_at: datetime
    chat_log_id: int | None


def still_missed(session: Session, scope: Scope, group_id: int | None = None) -> list[Missed]:
    """The pinned questions the latest run of their group missed (and that are still pinned)."""
    scores = overview(session, scope, group_id)
    missed_ids = {q: s for s in scores if s.latest for q in s.latest.missed}
    if not missed_ids:
        return []
    rows = session.execute(
        select(RegressionQuestion, Video.title).join(Video, Video.id == RegressionQuestion.video_id)
        .where(RegressionQuestion.id.in_(list(missed_ids))).order_by(RegressionQuestion.group_id,
                                                                     RegressionQuestion.id)).all()
    return [Missed(q.id, q.group_id, missed_ids[q.id].group, q.question, q.video_id, title, q.answer_start_s,
                   q.answer_end_s, missed_ids[q.id].latest.ran_at, q.chat_log_id) for q, title in rows]


# ----------------------------------------------------------------- export for bench.quality (web)


def export_zip(session: Session, scope: Scope, group_id: object) -> bytes:
    """The group's regression questions as `bench.quality` reads them: questions.jsonl, and an eval
    directory (videos.jsonl, captions/<video_id>.vtt written from the stored transcripts), so

        python -m bench.quality --eval-dir <unzipped> --questions <unzipped>/questions.jsonl

    runs them with the benchmark's own command."""
    group = _group_in_scope(session, scope, group_id)
    questions = session.execute(
        select(RegressionQuestion.question, RegressionQuestion.video_id, RegressionQuestion.answer_start_s,
               RegressionQuestion.answer_end_s)
        .where(RegressionQuestion.group_id == group.id).order_by(RegressionQuestion.id)).all()
    video_ids = sorted({q.video_id for q in questions})
    videos = session.execute(
        select(Video.id, Video.title, Video.description, Video.duration_s, Video.transcript_segments)
        .where(Video.id.in_(video_ids), Video.workspace_id == group.workspace_id).order_by(Video.id)).all()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("questions.jsonl", "".join(
            json.dumps({"video_id": str(q.video_id), "question": q.question, "answer_start_s": q.answer_start_s,
                        "answer_end_s": q.answer_end_s}, ensure_ascii=False) + "\n" for q in questions))
        archive.writestr("videos.jsonl", "".join(
            json.dumps({"video_id": str(v.id), "title": v.title, "description": v.description or "",
                        "duration_s": v.duration_s}, ensure_ascii=False) + "\n" for v in videos))
        for v in videos:
            archive.writestr(f"captions/{v.id}.vtt", to_webvtt(from_json(v.transcript_segments)))
    return buffer.getvalue()
