"""Summaries of a video or of a group (its videos in order), with citations to moments.

Made by the configured model from representative passages or, offline, from the transcript's
key sentences. A summary is cached with a fingerprint of what it was made from (the videos,
their order, titles and transcripts, and the way of answering), so it is reused until the
group or a video changes, and regenerated on demand.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import keyphrases, llm, transcripts, workspaces
from core.answers import Citation, cited, passages_block
from core.config import Settings
from core.database import Database
from core.errors import AskVideoError
from core.groups import owned_group
from core.library import owned_video
from core.model_settings import ModelAccess, workspace_access
from core.prompts_store import prompt
from core.transcripts import Segment
from db.models import WITHOUT_TRANSCRIPT, Chapter, Summary, TranscriptChunk, Video, VideoGroup, VideoGroupMember
from db.states import PassageKind, Role, Status, SummaryMethod

EXTRACTIVE_NOTE = "Extractive summary — no AI model is configured, so these are key sentences from the transcript:"
MODEL_PASSAGES = 24
EXTRACTIVE_POINTS = 6


@dataclass(frozen=True)
class SummaryView:
    text: str
    citations: list[Citation]
    method: SummaryMethod
    created_at: datetime
    stale: bool  # made from an older state of the video or group


@dataclass(frozen=True)
class _Source:
    video_id: int
    title: str
    finished: str
    segments: list[Segment]
    chunks: list[tuple[float, float, str, np.ndarray]]
    chapters: list[tuple[str, float, float]]


def _mode(access: ModelAccess) -> str:
    return f"model:{access.chat_model}" if access.remote else "extractive"


def _fingerprint(kind: str, sources: list[tuple[int, str, str]], mode: str) -> str:
    return hashlib.sha256(json.dumps([kind, sources, mode]).encode()).hexdigest()


def _ready_videos(session: Session, user_id: int, *, video_id: int | None, group_id: int | None
                  ) -> tuple[int, list[Video]]:
    """The workspace of the video or group the user asks about, and its videos that are ready."""
    if video_id is not None:
        video = owned_video(session, user_id, video_id)
        return video.workspace_id, [video] if video.status == Status.COMPLETED else []
    workspace_id = owned_group(session, user_id, group_id).workspace_id
    return workspace_id, list(session.scalars(
        select(Video).options(*WITHOUT_TRANSCRIPT).join(VideoGroupMember, VideoGroupMember.video_id == Video.id)
        .where(VideoGroupMember.group_id == group_id, Video.workspace_id == workspace_id,
               Video.status == Status.COMPLETED)
        .order_by(VideoGroupMember.order, VideoGroupMember.added_at, VideoGroupMember.id)
    ))


def _state(videos: list[Video]) -> list[tuple[int, str, str]]:
    return [(v.id, v.title, v.processing_finished_at.isoformat() if v.processing_finished_at else "")
            for v in videos]


def _target(video_id: int | None, group_id: int | None):
    if (video_id is None) == (group_id is None):
        raise ValueError("summarise either a video or a group")
    return Summary.video_id == video_id if video_id is not None else Summary.group_id == group_id


def _view(row: Summary, current: str) -> SummaryView:
    return SummaryView(row.text, [Citation(**c) for c in row.citations], SummaryMethod(row.method), row.created_at,
                       row.fingerprint != current)


def cached(session: Session, settings: Settings, user_id: int, *, video_id: int | None = None,
           group_id: int | None = None) -> SummaryView | None:
    """The stored summary, marked stale when the videos or group changed since it was made."""
    target = _target(video_id, group_id)
    workspace_id, videos = _ready_videos(session, user_id, video_id=video_id, group_id=group_id)
    row = session.scalars(select(Summary).where(target, Summary.workspace_id == workspace_id)).first()
    if row is None:
        return None
    kind = "video" if video_id is not None else "group"
    return _view(row, _fingerprint(kind, _state(videos), _mode(workspace_access(session, settings, workspace_id))))


def summarize(db: Database, settings: Settings, user_id: int, *, video_id: int | None = None,
              group_id: int | None = None, regenerate: bool = False) -> SummaryView:
    """The current summary: the cached one if nothing changed (and not `regenerate`), else a new one.
    Any member may have one made, or remade once it is out of date; replacing a current one
    (`regenerate`) is an editor's call."""
    target = _target(video_id, group_id)
    kind = "video" if video_id is not None else "group"
    with db.session() as session:
        workspace_id, videos = _ready_videos(session, user_id, video_id=video_id, group_id=group_id)
        if not videos:
            raise AskVideoError("Nothing to summarise yet: " + (
                "the video is not ready." if kind == "video" else "no video in this group is ready."))
        access = workspace_access(session, settings, workspace_id)
        fingerprint = _fingerprint(kind, _state(videos), _mode(access))
        row = session.scalars(select(Summary).where(target, Summary.workspace_id == workspace_id)).first()
        if row is not None and row.fingerprint == fingerprint:
            if not regenerate:
                return _view(row, fingerprint)
            workspaces.access(session, user_id, workspace_id, needs=Role.EDITOR)
        sources = [_source(session, v) for v in videos]
    if access.remote:
        method, (text, citations) = SummaryMethod.MODEL, _with_model(access, sources, kind, settings.llm_timeout_s)
    else:
        method, (text, citations) = SummaryMethod.EXTRACTIVE, _extractive(sources, kind)
    with db.session() as session:
        # Two summaries of one target made at once (two tabs) take turns instead of colliding.
        locked = Video if video_id is not None else VideoGroup
        session.scalar(select(locked.id).where(locked.id == (video_id if video_id is not None else group_id))
                       .with_for_update())
        session.execute(delete(Summary).where(target, Summary.workspace_id == workspace_id))
        row = Summary(workspace_id=workspace_id, video_id=video_id, group_id=group_id, text=text, method=method,
                      citations=[asdict(c) for c in citations], fingerprint=fingerprint)
        session.add(row)
        session.flush()
        return _view(row, fingerprint)


def _source(session: Session, video: Video) -> _Source:
    # What is said; for a video that says nothing, what it shows.
    kind = PassageKind.SPEECH if video.transcript_segments else PassageKind.SCREEN
    chunks = [(float(r.start_time), float(r.end_time), r.text, np.asarray(r.embedding, dtype=np.float32))
              for r in session.execute(select(TranscriptChunk.start_time, TranscriptChunk.end_time,
                                              TranscriptChunk.text, TranscriptChunk.embedding)
                                       .where(TranscriptChunk.video_id == video.id, TranscriptChunk.kind == kind)
                                       .order_by(TranscriptChunk.chunk_index))]
    chapters = [(c.title, c.start_s, c.end_s) for c in session.scalars(
        select(Chapter).where(Chapter.video_id == video.id).order_by(Chapter.order))]
    return _Source(video.id, video.title, _state([video])[0][2], transcripts.from_json(video.transcript_segments),
                   chunks, chapters)


def _representative(source: _Source, count: int) -> list[tuple[float, float, str, np.ndarray]]:
    """Chunks that stand for the whole video: the most central one of each chapter, else a
    maximal-marginal-relevance pick around the video's centre; in time order."""
    if not source.chunks:
        return []
    vectors = np.array([c[3] for c in source.chunks])
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    picked: list[int] = []
    if 1 < len(source.chapters) <= count:
        for _, start, end in source.chapters:
            inside = [i for i, c in enumerate(source.chunks) if start <= c[0] < end]
            if inside:
                centre = vectors[inside].mean(axis=0)
                picked.append(max(inside, key=lambda i: float(vectors[i] @ centre)))
    else:
        centre = vectors.mean(axis=0)
        relevance = vectors @ centre
        while len(picked) < min(count, len(vectors)):
            redundancy = (vectors @ vectors[picked].T).max(axis=1) if picked else np.zeros(len(vectors))
            score = 0.6 * relevance - 0.4 * redundancy
            score[picked] = -np.inf
            picked.append(int(np.argmax(score)))
    return [source.chunks[i] for i in sorted(set(picked))]


def _with_model(access: ModelAccess, sources: list[_Source], kind: str, timeout: int
                ) -> tuple[str, list[Citation]]:
    per_video = max(2, MODEL_PASSAGES // len(sources))
    passages: list[Citation] = []
    for source in sources:
        for start, end, text, _ in _representative(source, per_video):
            passages.append(Citation(len(passages) + 1, source.video_id, source.title, start, end, 0.0, text))
    what = (f"the video “{sources[0].title}”" if kind == "video" else
            f"this group of {len(sources)} videos, in this order: " + "; ".join(f"“{s.title}”" for s in sources))
    text = llm.complete(access, prompt("summary_system"),
                        prompt("summary_user").format(what=what, passages=passages_block(passages)), timeout)
    if not text:
        raise llm.ModelError("The AI model returned an empty summary. Try again.")
    return text, cited(text, passages)


def _key_sentence(source: _Source, start: float, end: float, central: set[str]) -> Segment | None:
    inside = [s for s in source.segments if s.end > start and s.start < end and s.text.strip()]
    if not inside:
        return None
    return max(inside, key=lambda s: (len(set(keyphrases.words(s.text)) & central), -s.start))


def _chapter_at(chapters: list[tuple[str, float, float]], second: float) -> str | None:
    """The title of the chapter that contains `second` (the last one begun by then, if they leave a gap)."""
    begun = [(start, title) for title, start, _ in chapters if start <= second]
    return max(begun)[1] if begun else None


def _extractive(sources: list[_Source], kind: str) -> tuple[str, list[Citation]]:
    per_video = EXTRACTIVE_POINTS if kind == "video" else max(2, EXTRACTIVE_POINTS // len(sources))
    lines, citations = [EXTRACTIVE_NOTE, ""], []
    for source in sources:
        counts = Counter(w for s in source.segments for w in keyphrases.words(s.text)
                         if len(w) > 2 and w not in keyphrases.STOPWORDS)
        central = {w for w, _ in counts.most_common(30)}
        if kind == "group":
            lines.append(source.title)
        for start, end, _, _ in _representative(source, per_video):
            sentence = _key_sentence(source, start, end, central)
            if sentence is None:
                continue
            n = len(citations) + 1
            citations.append(Citation(n, source.video_id, source.title, sentence.start, sentence.end, 0.0,
                                      sentence.text))
            heading = _chapter_at(source.chapters, sentence.start)
            prefix = f"{heading}: " if heading and len(source.chapters) > 1 else ""
            lines.append(f"- {prefix}“{sentence.text}” [{n}]")
        if kind == "group":
            lines.append("")
    return "\n".join(lines).strip(), citations
