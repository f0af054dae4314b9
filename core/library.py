"""A workspace's videos: the Library list, one video's details, editing and deleting.

Every function takes the acting user's id and checks their role in the video's workspace first
(core/workspaces.py): viewers read, editors change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core import passages, remote, storage, transcripts, workspaces
from core.config import Settings
from core.database import Database
from core.errors import AskVideoError, VideoNotFound
from core.text import clean, contains_pattern, one_line
from core.transcripts import ScreenPassage, Segment
from db.models import WITHOUT_TRANSCRIPT, Clip, TranscriptChunk, Video, VideoGroup, VideoGroupMember
from db.states import ACTIVE, Role, Status, TranscriptSource, VideoSource

PER_PAGE = 20
# A time left is shown only for media long enough to wait for, and once the pace can be told.
ESTIMATE_MIN_MEDIA_SECONDS = 300
ESTIMATE_MIN_PROGRESS = 10
ESTIMATE_MIN_ELAPSED_SECONDS = 20
SOURCE_LABELS = {VideoSource.UPLOAD: "File", VideoSource.URL: "Web link"}
TRANSCRIPT_LABELS = {
    TranscriptSource.CAPTIONS: "Captions file",
    TranscriptSource.REMOTE_CAPTIONS: "Captions",
    TranscriptSource.REMOTE_AUTO_CAPTIONS: "Automatic captions",
    TranscriptSource.LOCAL_WHISPER: "Speech-to-text (local)",
    TranscriptSource.OPENAI_WHISPER: "Speech-to-text (OpenAI)",
}


@dataclass(frozen=True)
class VideoSummary:
    id: int
    title: str
    status: Status
    progress: int
    current_step: str | None
    error_message: str | None
    duration_s: float | None
    source: str  # "File", "YouTube", "Web link"
    transcript_source: str | None  # human label, once known
    thumbnail_path: Path | None
    thumbnail_url: str | None
    uploaded_at: datetime
    minutes_left: int | None = None  # while processing a long video, once it can be estimated

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE


@dataclass(frozen=True)
class VideoPage:
    items: list[VideoSummary]
    total: int
    page: int
    pages: int
    active: int  # videos of this user still pending or processing (drives auto-refresh)


@dataclass(frozen=True)
class VideoDetail:
    summary: VideoSummary
    description: str
    lines: list[TranscriptLine]  # what is said, and the text shown on screen between, in time order
    media_path: Path | None  # a local file to play
    web_url: str | None  # a YouTube page to play when there is no local file
    source_url: str | None
    channel: str | None
    published_on: date | None
    width: int | None
    height: int | None
    language: str | None
    original_filename: str | None
    groups: list[str]
    screen_text_note: str | None = None  # why the screen was not read, when it was not


@dataclass(frozen=True)
class TranscriptLine:
    start: float
    text: str
    on_screen: bool = False  # text read from the picture (a slide), not said


def transcript_lines(segments: list[Segment], screen: list[ScreenPassage]) -> list[TranscriptLine]:
    """The spoken lines with the screen's passages placed at their seconds (a slide before what
    is said while it shows)."""
    lines = [TranscriptLine(s.start, s.text) for s in segments]
    lines += [TranscriptLine(p.start, p.text, on_screen=True) for p in screen]
    return sorted(lines, key=lambda line: (line.start, not line.on_screen))


def screen_text_note(settings: Settings, video: Video) -> str | None:
    """Why the video's screen text is not read, if it is not."""
    return passages.screen_unread(settings, wanted=video.read_screen_text, file_stored=bool(video.file))


def _source_label(video: Video) -> str:
    if video.source == VideoSource.URL and remote.is_youtube_extractor(video.extractor):
        return "YouTube"
    return SOURCE_LABELS.get(video.source, video.source)


def minutes_left(progress: int, started_at: datetime | None, duration_s: float | None,
                 now: datetime) -> int | None:
    """About how many minutes a video still needs, at the pace it has made since processing
    started (at 1 %); None for short media, or before there is enough progress to tell."""
    if started_at is None or not duration_s or duration_s <= ESTIMATE_MIN_MEDIA_SECONDS:
        return None
    elapsed = (now - started_at).total_seconds()
    if progress < ESTIMATE_MIN_PROGRESS or progress >= 100 or elapsed < ESTIMATE_MIN_ELAPSED_SECONDS:
        return None
    seconds = elapsed * (100 - progress) / (progress - 1)
    return max(1, round(seconds / 60))


def _summary(settings: Settings, video: Video) -> VideoSummary:
    thumb = storage.existing(settings.media_dir, video.thumbnail)
    left = (minutes_left(video.progress, video.processing_started_at, video.duration_s, datetime.now(timezone.utc))
            if video.status == Status.PROCESSING else None)
    return VideoSummary(
        id=video.id, title=video.title, status=Status(video.status), progress=video.progress,
        current_step=video.current_step, error_message=video.error_message, duration_s=video.duration_s,
        source=_source_label(video), transcript_source=TRANSCRIPT_LABELS.get(video.transcript_source or ""),
        thumbnail_path=thumb, thumbnail_url=remote.web_address(video.thumbnail_url), uploaded_at=video.uploaded_at,
        minutes_left=left,
    )


def owned_video(session: Session, user_id: int, video_id: int, *, needs: Role = Role.VIEWER) -> Video:
    """A video in one of the user's workspaces where their role is `needs` or above (its transcript
    columns left unread); VideoNotFound if it is in none of theirs: the one check every module
    makes before it touches a video by id."""
    video = session.scalars(select(Video).where(Video.id == video_id).options(*WITHOUT_TRANSCRIPT)).first() \
        if isinstance(video_id, int) else None
    if video is None:
        raise VideoNotFound()
    workspaces.access(session, user_id, video.workspace_id, needs=needs, missing=VideoNotFound())
    return video


def list_videos(
    session: Session, settings: Settings, user_id: int, *, search: str = "", status: str | None = None,
    page: int = 1, per_page: int = PER_PAGE, workspace_id: int | None = None,
) -> VideoPage:
    """The workspace's videos (the user's personal one by default), newest first, filtered by title
    and status, one page at a time."""
    workspace_id = workspaces.access(session, user_id, workspace_id).workspace_id
    conditions = [Video.workspace_id == workspace_id]
    if search.strip():
        conditions.append(Video.title.ilike(contains_pattern(search.strip()), escape="\\"))
    if status:
        conditions.append(Video.status == status)
    total = session.scalar(select(func.count()).select_from(Video).where(*conditions)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.scalars(
        select(Video).where(*conditions).options(*WITHOUT_TRANSCRIPT)
        .order_by(Video.uploaded_at.desc(), Video.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    active = session.scalar(
        select(func.count()).select_from(Video)
        .where(Video.workspace_id == workspace_id, Video.status.in_(ACTIVE))
    ) or 0
    return VideoPage([_summary(settings, v) for v in rows], total, page, pages, active)


def video_summary(session: Session, settings: Settings, user_id: int, video_id: int) -> VideoSummary:
    """One video's status line, for polling while it processes (no transcript read)."""
    return _summary(settings, owned_video(session, user_id, video_id))


def video_detail(session: Session, settings: Settings, user_id: int, video_id: int) -> VideoDetail:
    video = owned_video(session, user_id, video_id)
    source = playable(session, settings, user_id, video_id)
    groups = session.scalars(
        select(VideoGroup.name).join(VideoGroupMember, VideoGroupMember.group_id == VideoGroup.id)
        .where(VideoGroupMember.video_id == video.id, VideoGroup.workspace_id == video.workspace_id)
        .order_by(VideoGroup.name)
    ).all()
    return VideoDetail(
        summary=_summary(settings, video), description=video.description,
        lines=transcript_lines(transcripts.from_json(video.transcript_segments),
                               passages.stored_screen_text(session, video.id)),
        media_path=source.media_path,
        web_url=source.web_url,
        source_url=video.source_url, channel=video.channel, published_on=video.published_on,
        width=video.width, height=video.height, language=video.language,
        original_filename=video.original_filename, groups=list(groups),
        screen_text_note=screen_text_note(settings, video),
    )


def transcript_span(session: Session, user_id: int, video_id: int, *, start: float = 0.0,
                    end: float | None = None) -> tuple[str, list[Segment]]:
    """A video's title and the transcript lines that overlap [start, end) (to its end when None)."""
    video = owned_video(session, user_id, video_id)
    return video.title, [s for s in transcripts.from_json(video.transcript_segments)
                         if s.end > start and (end is None or s.start < end)]


def moment_path(video_id: int, start: float) -> str:
    """The app's address (from its root) that opens a video playing from `start`."""
    return f"/library?{urlencode({'video': video_id, 't': int(max(start, 0))})}"


def update_video(session: Session, user_id: int, video_id: int, *, title: str, description: str) -> None:
    title, description = one_line(title), clean(description)
    if not title:
        raise AskVideoError("A video needs a title.")
    if len(title) > 500:
        raise AskVideoError("Titles are at most 500 characters.")
    if len(description) > 10000:
        raise AskVideoError("Descriptions are at most 10,000 characters.")
    video = owned_video(session, user_id, video_id, needs=Role.EDITOR)
    video.title, video.description = title, description.strip()
    # Chunks carry the title for full-text search and citations; keep them in step.
    session.execute(update(TranscriptChunk).where(TranscriptChunk.video_id == video_id).values(video_title=title))


def delete_video(db: Database, settings: Settings, user_id: int, video_id: int) -> None:
    """Delete a video; chunks, clips, comments and group memberships go with it (cascades), then its files."""
    with db.session() as session:
        video = owned_video(session, user_id, video_id, needs=Role.EDITOR)
        files = [p for p in (video.file, video.thumbnail, video.captions_file) if p]
        files += passages.screen_thumbnails(session, [video_id])
        # Deleted (not just read) here so a clip finishing meanwhile cannot leave its file behind.
        files += [p for p in session.scalars(delete(Clip).where(Clip.video_id == video_id).returning(Clip.file)) if p]
        session.execute(delete(Video).where(Video.id == video.id))
    # Files go only once the rows are gone for good, so a failed delete never leaves a video without media.
    storage.delete(settings.media_dir, *files)


@dataclass(frozen=True)
class Playable:
    media_path: Path | None
    web_url: str | None


def playable(session: Session, settings: Settings, user_id: int, video_id: int, *,
             in_group: int | None = None) -> Playable:
    """Where to play a video the user may watch from: the stored file, else its web page (YouTube).
    With `in_group` (a share-link visitor), only while the video is still in that group."""
    video = owned_video(session, user_id, video_id)
    if in_group is not None and session.scalar(select(VideoGroupMember.id).where(
            VideoGroupMember.group_id == in_group, VideoGroupMember.video_id == video_id)) is None:
        raise VideoNotFound("That video is no longer in this group.")
    media_path = storage.existing(settings.media_dir, video.file)
    web_url = remote.web_address(video.source_url) if media_path is None and video.source == VideoSource.URL else None
    return Playable(media_path, web_url)


def video_choices(session: Session, user_id: int, *, exclude: set[int] | None = None,
                  workspace_id: int | None = None) -> list[tuple[int, str, str]]:
    """(id, title, status) of the workspace's videos, newest first, for pickers."""
    workspace_id = workspaces.access(session, user_id, workspace_id).workspace_id
    rows = session.execute(
        select(Video.id, Video.title, Video.status).where(Video.workspace_id == workspace_id)
        .order_by(Video.uploaded_at.desc(), Video.id.desc())
    ).all()
    return [tuple(r) for r in rows if not exclude or r[0] not in exclude]
