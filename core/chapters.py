"""Chapters of a video: proposed by the configured model or, offline, at topic shifts; then the
owner's to edit. Edited chapters are no longer machine-made. Orders stay 1..n by start time."""

from __future__ import annotations

import math

import html
import json
import logging
import re
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import keyphrases, llm, passages, topics, transcripts, workspaces
from core.config import Settings
from core.database import Database
from core.errors import AskVideoError, VideoNotFound
from core.library import owned_video
from core.llm import ModelError
from core.model_settings import workspace_access
from core.prompts_store import prompt
from core.text import one_line
from core.transcripts import Segment, format_timestamp
from db.models import Chapter, TranscriptChunk, Video
from db.states import PassageKind, Role, Status

log = logging.getLogger(__name__)
MAX_TITLE = 200
MAX_CHAPTERS = 20
MODEL_TRANSCRIPT_CHARS = 48_000  # about 12k tokens of transcript for the model


class ChapterError(AskVideoError):
    pass


@dataclass(frozen=True)
class ChapterView:
    id: int
    video_id: int
    title: str
    start: float
    end: float
    order: int
    confidence: float
    is_generated: bool

    @property
    def label(self) -> str:
        return f"{format_timestamp(self.start)}–{format_timestamp(self.end)}"


@dataclass(frozen=True)
class Proposal:
    title: str
    start: float
    end: float
    confidence: float


# ----------------------------------------------------------------- reading


def _view(c: Chapter) -> ChapterView:
    return ChapterView(c.id, c.video_id, c.title, c.start_s, c.end_s, c.order, c.confidence, c.is_generated)


def list_chapters(session: Session, user_id: int, video_id: int) -> list[ChapterView]:
    owned_video(session, user_id, video_id)
    rows = session.scalars(select(Chapter).where(Chapter.video_id == video_id).order_by(Chapter.order)).all()
    return [_view(c) for c in rows]


def youtube_description(chapters: list[ChapterView]) -> str:
    """`00:00 Intro` lines, as YouTube reads chapters from a description. YouTube needs the first
    at 00:00, so an "Intro" line is added when the first chapter starts later."""
    lines = [f"{format_timestamp(c.start)} {c.title}" for c in chapters]
    if chapters and chapters[0].start >= 1:
        lines.insert(0, "00:00 Intro")
    return "\n".join(lines)


# ----------------------------------------------------------------- proposing


def _duration(video: Video, segments: list[Segment]) -> float:
    ends = [s.end for s in segments]
    return float(max([video.duration_s or 0.0, *ends])) if ends or video.duration_s else 0.0


def _snap(at: float, segments: list[Segment]) -> float:
    """The start of the sentence nearest a time, so a chapter never starts mid-sentence."""
    starts = [s.start for s in segments]
    return min(starts, key=lambda s: (abs(s - at), s)) if starts else at


def _text_between(segments: list[Segment], start: float, end: float) -> str:
    return " ".join(s.text for s in segments if s.start >= start - 0.01 and s.start < end)


def _named(spans: list[tuple[float, float, float]], segments: list[Segment]) -> list[Proposal]:
    documents = [_text_between(segments, a, b) for a, b, _ in spans]
    phrases = keyphrases.key_phrases(documents)
    proposals, taken = [], set()
    for n, ((a, b, conf), p, text) in enumerate(zip(spans, phrases, documents, strict=True)):
        title = keyphrases.phrase_title(text, p, "Introduction" if n == 0 else f"Part {n + 1}", taken=taken)
        taken.add(title.lower())
        proposals.append(Proposal(title, a, b, round(conf, 3)))
    return proposals


def propose_offline(chunks: list[tuple[float, float, np.ndarray]], segments: list[Segment],
                    duration: float, title: str = "") -> list[Proposal]:
    """Chapters at the transcript's topic shifts, named by their key phrases. A video with one
    topic gets one chapter named after the video: key phrases of a whole talk read as noise."""
    if duration <= 0:
        return []
    min_seconds = max(30.0, duration / 25)
    max_count = min(MAX_CHAPTERS - 1, int(duration // 60))
    found = []
    if chunks:
        vectors = np.array([c[2] for c in chunks], dtype=np.float32)
        starts = [c[0] for c in chunks]
        # A shift at gap i lies where chunk i begins to differ from chunk i-1: the middle of their overlap.
        mids = [starts[0]] + [(chunks[i][0] + chunks[i - 1][1]) / 2 for i in range(1, len(chunks))]
        found = topics.boundaries(vectors, mids, duration=duration, min_seconds=min_seconds, max_count=max_count)
        cuts = [(_snap(mids[b.index], segments), min(1.0, max(0.05, b.depth / 0.4))) for b in found]
    if not found:
        return [Proposal(title[:MAX_TITLE] or "Full video", 0.0, duration, 0.5)]
    cuts = sorted({round(t, 3): c for t, c in cuts if 0 < t < duration}.items())
    edges = [(0.0, 1.0), *cuts, (duration, 1.0)]
    spans = [(edges[i][0], edges[i + 1][0], (edges[i][1] + edges[i + 1][1]) / 2) for i in range(len(edges) - 1)]
    return _named([s for s in spans if s[1] > s[0]], segments)


def _transcript_lines(segments: list[Segment]) -> str:
    """`[12] text` lines, merged into longer windows when the transcript is too long for the prompt."""
    window = 0.0
    while True:
        lines, current, started = [], [], None
        for s in segments:
            if started is None:
                started = s.start
            current.append(s.text)
            if s.end - started >= window:
                lines.append(f"[{started:.0f}] {html.escape(' '.join(current), quote=False)}")
                current, started = [], None
        if current:
            lines.append(f"[{started:.0f}] {html.escape(' '.join(current), quote=False)}")
        text = "\n".join(lines)
        if len(text) <= MODEL_TRANSCRIPT_CHARS or window > 600:
            return text[:MODEL_TRANSCRIPT_CHARS]
        window = max(15.0, window * 2)


def parse_model_chapters(reply: str, duration: float) -> list[Proposal]:
    """The model's JSON as chapters: sorted, inside the video, first at 0; ValueError if unusable."""
    match = re.search(r"\{.*\}", reply, re.DOTALL)
    if not match:
        raise ValueError("no JSON object in the reply")
    items = json.loads(match.group(0)).get("chapters")
    if not isinstance(items, list):
        raise ValueError("no chapters list")
    starts: dict[float, tuple[str, float]] = {}
    for item in items[:MAX_CHAPTERS * 2]:
        try:
            start = float(item["start"])
            title = one_line(str(item.get("title", "")))[:MAX_TITLE]
            confidence = min(1.0, max(0.0, float(item.get("confidence", 0.7))))
        except (KeyError, TypeError, ValueError):
            continue
        if title and 0 <= start < duration and all(abs(start - s) >= 5 for s in starts):
            starts[start] = (title, confidence)
    if not starts:
        raise ValueError("no usable chapter")
    ordered = sorted(starts.items())[:MAX_CHAPTERS]
    ordered[0] = (0.0, ordered[0][1])
    ends = [s for s, _ in ordered[1:]] + [duration]
    return [Proposal(title, start, end, round(conf, 3)) for (start, (title, conf)), end in zip(ordered, ends)]


def propose_with_model(access, segments: list[Segment], duration: float, timeout: int) -> list[Proposal]:
    user = prompt("chapters_user").format(transcript=_transcript_lines(segments), duration=round(duration))
    return parse_model_chapters(llm.complete(access, prompt("chapters_system"), user, timeout), duration)


# ----------------------------------------------------------------- generating


def generate(db: Database, settings: Settings, video_id: int, *, user_id: int | None = None,
             keep_edited: bool = False) -> str:
    """Make the video's chapters (model if configured, else offline), as `user_id` (an editor of
    its workspace) asks or, without one, as processing does. Returns the method used: "model",
    "offline", or "kept" when `keep_edited` and a person has edited its chapters."""
    with db.session() as session:
        if user_id is not None:
            owned_video(session, user_id, video_id, needs=Role.EDITOR)
        video = session.get(Video, video_id)
        if video is None:
            raise VideoNotFound()
        if video.status != Status.COMPLETED:
            raise ChapterError("Chapters can be made once the video is ready.")
        if keep_edited and session.scalar(select(Chapter.id).where(
                Chapter.video_id == video_id, Chapter.is_generated.is_(False)).limit(1)):
            return "kept"
        segments = transcripts.from_json(video.transcript_segments)
        # A video that says nothing is chaptered by what it shows: a new chapter where the slides turn.
        kind = PassageKind.SPEECH if segments else PassageKind.SCREEN
        if not segments:
            segments = [Segment(p.start, p.end, p.text) for p in passages.stored_screen_text(session, video_id)]
        duration, video_title = _duration(video, segments), video.title
        access = workspace_access(session, settings, video.workspace_id)
        chunks = [(float(r.start_time), float(r.end_time), np.asarray(r.embedding, dtype=np.float32))
                  for r in session.execute(
                      select(TranscriptChunk.start_time, TranscriptChunk.end_time, TranscriptChunk.embedding)
                      .where(TranscriptChunk.video_id == video_id, TranscriptChunk.kind == kind)
                      .order_by(TranscriptChunk.chunk_index))]
    proposals, method = [], "offline"
    if access.remote and segments:
        try:
            proposals, method = propose_with_model(access, segments, duration, settings.llm_timeout_s), "model"
        except (ModelError, ValueError) as why:
            log.warning("model chapters for video %s failed, using topic shifts: %s", video_id, why)
    if not proposals:
        proposals, method = propose_offline(chunks, segments, duration, video_title), "offline"
    with db.session() as session:
        if session.scalar(select(Video.id).where(Video.id == video_id).with_for_update()) is None:
            return method
        session.execute(delete(Chapter).where(Chapter.video_id == video_id))
        session.add_all(Chapter(video_id=video_id, title=p.title, start_s=p.start, end_s=p.end, order=n,
                                confidence=p.confidence, is_generated=True)
                        for n, p in enumerate(proposals, 1))
    return method


# ----------------------------------------------------------------- editing


def _owned_chapter(session: Session, user_id: int, chapter_id: int) -> Chapter:
    """A chapter the user may edit: an editor or owner of its video's workspace."""
    missing = ChapterError("That chapter does not exist or is not yours.")
    chapter = session.scalars(select(Chapter).where(Chapter.id == chapter_id).with_for_update()).first() \
        if isinstance(chapter_id, int) else None
    if chapter is None:
        raise missing
    workspace_id = session.scalar(select(Video.workspace_id).where(Video.id == chapter.video_id))
    workspaces.access(session, user_id, workspace_id, needs=Role.EDITOR, missing=missing)
    return chapter


def _checked(title: str, start: float, end: float, duration: float | None) -> tuple[str, float, float]:
    title = one_line(title)
    if not title:
        raise ChapterError("A chapter needs a title.")
    if len(title) > MAX_TITLE:
        raise ChapterError(f"Chapter titles are at most {MAX_TITLE} characters.")
    start, end = float(start), float(end)
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ChapterError("Chapter times must be numbers of seconds.")
    if start < 0:
        raise ChapterError("A chapter cannot start before 0:00.")
    if end <= start:
        raise ChapterError("A chapter must end after it starts.")
    if duration and start >= duration:
        raise ChapterError(f"The video is only {format_timestamp(duration)} long.")
    if duration:
        end = min(end, duration)
    return title, round(start, 3), round(end, 3)


def _renumber(session: Session, video_id: int) -> None:
    session.flush()
    rows = session.scalars(select(Chapter).where(Chapter.video_id == video_id)
                           .order_by(Chapter.start_s, Chapter.id)).all()
    for n, chapter in enumerate(rows, 1):
        chapter.order = n
    session.flush()


def add_chapter(session: Session, user_id: int, video_id: int, *, title: str, start: float, end: float) -> int:
    video = owned_video(session, user_id, video_id, needs=Role.EDITOR)
    title, start, end = _checked(title, start, end, video.duration_s)
    chapter = Chapter(video_id=video_id, title=title, start_s=start, end_s=end, order=0, confidence=1.0,
                      is_generated=False)
    session.add(chapter)
    _renumber(session, video_id)
    return chapter.id


def update_chapter(session: Session, user_id: int, chapter_id: int, *, title: str, start: float,
                   end: float) -> None:
    chapter = _owned_chapter(session, user_id, chapter_id)
    duration = session.scalar(select(Video.duration_s).where(Video.id == chapter.video_id))
    title, start, end = _checked(title, start, end, duration)
    if (title, start, end) == (chapter.title, chapter.start_s, chapter.end_s):
        return
    chapter.title, chapter.start_s, chapter.end_s = title, start, end
    chapter.is_generated, chapter.confidence = False, 1.0
    _renumber(session, chapter.video_id)


def delete_chapter(session: Session, user_id: int, chapter_id: int) -> None:
    chapter = _owned_chapter(session, user_id, chapter_id)
    video_id = chapter.video_id
    session.delete(chapter)
    _renumber(session, video_id)


def merge_with_next(session: Session, user_id: int, chapter_id: int) -> None:
    """Join a chapter with the one after it; the first title stays, and a person made the result."""
    chapter = _owned_chapter(session, user_id, chapter_id)
    following = session.scalars(select(Chapter).where(Chapter.video_id == chapter.video_id,
                                                      Chapter.order > chapter.order)
                                .order_by(Chapter.order).limit(1).with_for_update()).first()
    if following is None:
        raise ChapterError("The last chapter has nothing after it to merge with.")
    chapter.end_s = max(chapter.end_s, following.end_s)
    chapter.is_generated, chapter.confidence = False, 1.0
    session.delete(following)
    _renumber(session, chapter.video_id)
