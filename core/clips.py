"""Clips: a stretch of one of the owner's videos cut into its own file to play and download.

A clip is named by a hash of (video, start, end) at a tenth of a second, unique in the table, so
asking twice for the same moment (two clicks, two tabs, two workers) gives one clip. Cutting runs
in the background worker; its status and error are kept like a video's.
"""

from __future__ import annotations

import hashlib
import math
import logging
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import av
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core import media, storage, workspaces
from core.config import Settings
from core.database import Database
from core.errors import AskVideoError, IngestError
from core.library import owned_video
from core.queue import defer_clip
from core.text import one_line
from core.transcripts import format_timestamp
from db.models import Clip, Video
from db.states import ACTIVE, Role, Status

log = logging.getLogger(__name__)

MAX_CLIP_SECONDS = 30 * 60
MIN_CLIP_SECONDS = 1.0
CITED_CLIP_SECONDS = 15.0  # a clip of a cited moment runs at least this long: a one-line citation is too short
COPY_TOLERANCE_S = 0.5  # stream copy starts at the keyframe before `start`; this much early is fine
COPYABLE = {".mp4", ".mov", ".m4a", ".mp3", ".webm", ".wav"}  # containers browsers play; .mkv is re-encoded


class ClipError(AskVideoError):
    pass


@dataclass(frozen=True)
class ClipView:
    id: int
    video_id: int
    video_title: str
    title: str
    start: float
    end: float
    status: Status
    error_message: str | None
    media_path: Path | None
    file_size: int | None
    created_at: datetime

    @property
    def label(self) -> str:
        return f"{format_timestamp(self.start)}–{format_timestamp(self.end)}"

    @property
    def download_name(self) -> str:
        """A file name for the browser's download: the title made filesystem-safe, never a path."""
        stem = "".join(c if c.isalnum() or c in " -_" else "_" for c in self.title).strip()[:80] or "clip"
        suffix = self.media_path.suffix if self.media_path else ".mp4"
        return f"{stem} {self.label.replace(':', '.')}{suffix}"


def clip_hash(video_id: int, start: float, end: float) -> str:
    return hashlib.sha256(f"{video_id}:{start:.1f}:{end:.1f}".encode()).hexdigest()


def _checked_range(video: Video, start: float, end: float) -> tuple[float, float]:
    if not (math.isfinite(float(start)) and math.isfinite(float(end))):
        raise ClipError("Clip times must be numbers of seconds.")
    start, end = round(max(0.0, float(start)), 1), round(float(end), 1)
    if video.duration_s:
        end = min(end, round(float(video.duration_s), 1))
    if end - start < MIN_CLIP_SECONDS:
        raise ClipError(f"A clip must be at least {MIN_CLIP_SECONDS:.0f} second long and end after it starts.")
    if end - start > MAX_CLIP_SECONDS:
        raise ClipError(f"A clip can be at most {MAX_CLIP_SECONDS // 60} minutes long.")
    return start, end


def request_cited_clip(db: Database, settings: Settings, user_id: int, video_id: int, *, start: float,
                       end: float, title: str | None = None) -> int:
    """A clip of a moment an answer or a summary cites: at least CITED_CLIP_SECONDS long."""
    return request_clip(db, settings, user_id, video_id, start=start, end=max(end, start + CITED_CLIP_SECONDS),
                        title=title)


def request_clip(db: Database, settings: Settings, user_id: int, video_id: int, *, start: float, end: float,
                 title: str | None = None) -> int:
    """Queue a clip of a video (the user an editor or owner of its workspace) and return its id;
    the same range returns the same clip.

    A clip that failed earlier is queued again; a finished one is returned as it is."""
    with db.session() as session:
        video = owned_video(session, user_id, video_id, needs=Role.EDITOR)
        if video.status != Status.COMPLETED:
            raise ClipError("Clips can be made once the video is ready.")
        if not video.file:
            raise ClipError("This video plays from its web page and no copy of it is stored here, so it "
                            "cannot be cut. Upload the file to make clips of it.")
        start, end = _checked_range(video, start, end)
        name = one_line(title)[:200] or f"{video.title[:180]} {format_timestamp(start)}"
        digest = clip_hash(video_id, start, end)
        session.execute(insert(Clip).values(
            workspace_id=video.workspace_id, video_id=video_id, clip_hash=digest, title=name, start_s=start, end_s=end,
        ).on_conflict_do_nothing(index_elements=[Clip.clip_hash]))
        clip = session.scalars(select(Clip).where(Clip.clip_hash == digest).with_for_update()).one()
        if clip.status == Status.ERROR or (clip.status == Status.COMPLETED and not _file_exists(settings, clip)):
            clip.status, clip.error_message, clip.finished_at = Status.PENDING, None, None
        queue = clip.status == Status.PENDING
        clip_id = clip.id
    if queue:
        defer_clip(db.url, clip_id)
    return clip_id


def _file_exists(settings: Settings, clip: Clip) -> bool:
    try:
        return bool(clip.file) and storage.resolve(settings.media_dir, clip.file).exists()
    except AskVideoError:
        return False


def _view(settings: Settings, clip: Clip, video_title: str) -> ClipView:
    path = None
    if clip.status == Status.COMPLETED and _file_exists(settings, clip):
        path = storage.resolve(settings.media_dir, clip.file)
    return ClipView(clip.id, clip.video_id, video_title, clip.title, clip.start_s, clip.end_s, Status(clip.status),
                    clip.error_message, path, clip.file_size, clip.created_at)


def list_clips(session: Session, settings: Settings, user_id: int, *, video_id: int | None = None,
               workspace_id: int | None = None) -> list[ClipView]:
    """The clips of one video, or of all the workspace's (the user's personal one by default), newest first."""
    if video_id is not None:
        workspace_id = owned_video(session, user_id, video_id).workspace_id
    else:
        workspace_id = workspaces.access(session, user_id, workspace_id).workspace_id
    query = (select(Clip, Video.title).join(Video, Video.id == Clip.video_id).where(Clip.workspace_id == workspace_id)
             .order_by(Clip.created_at.desc(), Clip.id.desc()))
    if video_id is not None:
        query = query.where(Clip.video_id == video_id)
    return [_view(settings, clip, title) for clip, title in session.execute(query).all()]


def _clip_in_reach(session: Session, user_id: int, clip_id: int, needs: Role) -> tuple[Clip, str]:
    missing = ClipError("That clip does not exist or is not yours.")
    row = session.execute(select(Clip, Video.title).join(Video, Video.id == Clip.video_id)
                          .where(Clip.id == clip_id)).first() if isinstance(clip_id, int) else None
    if row is None:
        raise missing
    workspaces.access(session, user_id, row[0].workspace_id, needs=needs, missing=missing)
    return row


def get_clip(session: Session, settings: Settings, user_id: int, clip_id: int) -> ClipView:
    return _view(settings, *_clip_in_reach(session, user_id, clip_id, Role.VIEWER))


def delete_clip(db: Database, settings: Settings, user_id: int, clip_id: int) -> None:
    with db.session() as session:
        _clip_in_reach(session, user_id, clip_id, Role.EDITOR)
        file = session.scalar(delete(Clip).where(Clip.id == clip_id).returning(Clip.file))
    if file:
        storage.delete(settings.media_dir, file)


# ----------------------------------------------------------------- the cut (in the worker)


def keyframe_before(path: Path, at: float) -> float | None:
    """The time of the last video keyframe at or before `at`; None for audio-only files."""
    with av.open(str(path), metadata_errors="ignore") as container:
        if not container.streams.video:
            return None
        stream = container.streams.video[0]
        if not stream.time_base:
            return 0.0
        container.seek(int(at / stream.time_base), stream=stream, backward=True, any_frame=False)
        for packet in container.demux(stream):
            if packet.pts is not None and packet.is_keyframe:
                return max(0.0, float((packet.pts - (stream.start_time or 0)) * stream.time_base))
        return 0.0


def cut(source: Path, dest_dir: Path, *, start: float, end: float) -> Path:
    """Cut [start, end) of `source` into a file next to `dest_dir`/clip.<ext>: stream copy when a
    keyframe sits close enough before `start` (fast, lossless), else a re-encode to H.264/AAC mp4."""
    length = end - start
    try:
        keyframe = keyframe_before(source, start)
    except (av.FFmpegError, ValueError, IndexError):
        raise IngestError("The video file could not be read to cut a clip; it may be damaged.") from None
    copy = source.suffix.lower() in COPYABLE and (keyframe is None or start - keyframe <= COPY_TOLERANCE_S)
    if copy:
        dest = dest_dir / f"clip{source.suffix.lower()}"
        args = ["-ss", f"{start:.3f}", "-i", str(source), "-t", f"{length:.3f}", "-map", "0:v?", "-map", "0:a?",
                "-c", "copy", "-avoid_negative_ts", "make_zero"]
    else:
        dest = dest_dir / "clip.mp4"
        args = ["-ss", f"{start:.3f}", "-i", str(source), "-t", f"{length:.3f}", "-map", "0:v:0?", "-map", "0:a:0?",
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-b:a", "128k"]
    if dest.suffix in (".mp4", ".mov", ".m4a"):
        args += ["-movflags", "+faststart"]
    try:
        done = media.run_ffmpeg([*args, str(dest)], timeout=max(120.0, length * 4))
    except subprocess.TimeoutExpired:
        raise IngestError("Cutting the clip took too long and was stopped.") from None
    if done.returncode != 0 or not dest.exists() or dest.stat().st_size == 0:
        raise IngestError("ffmpeg could not cut this clip; the video file may be damaged.")
    media.probe(dest)  # a cut that is not playable media is an error, not a clip
    return dest


def make_clip(db: Database, settings: Settings, clip_id: int) -> str:
    """Worker task body: cut a pending clip, store it, and record `completed` or `error`."""
    with db.session() as session:
        claimed = session.execute(
            update(Clip).where(Clip.id == clip_id, Clip.status.in_(ACTIVE))
            .values(status=Status.PROCESSING, error_message=None)
            .returning(Clip.workspace_id, Clip.start_s, Clip.end_s, Clip.video_id)
        ).first()
        if claimed is None:
            return "gone"
        workspace_id, start, end, video_id = claimed
        source = session.scalar(select(Video.file).where(Video.id == video_id))
    try:
        if not source:
            raise IngestError("The video's file is no longer stored.")
        source_path = storage.resolve(settings.media_dir, source)
        if not source_path.exists():
            raise IngestError("The video's file is no longer stored.")
        relative, final = storage.new_path(settings.media_dir, "clips", workspace_id, "")
        work = final.with_name(final.name + ".work")
        work.mkdir()
        try:
            made = cut(source_path, work, start=start, end=end)
            final = final.with_suffix(made.suffix)
            made.replace(final)
        finally:
            for leftover in work.iterdir():
                leftover.unlink(missing_ok=True)
            work.rmdir()
        relative += made.suffix
    except AskVideoError as error:
        _finish(db, clip_id, status=Status.ERROR, error_message=str(error))
        return Status.ERROR
    except Exception:
        log.exception("clip %s failed", clip_id)
        _finish(db, clip_id, status=Status.ERROR, error_message="Cutting the clip failed unexpectedly; try again.")
        return Status.ERROR
    if not _finish(db, clip_id, status=Status.COMPLETED, file=relative, file_size=final.stat().st_size):
        storage.delete(settings.media_dir, relative)  # deleted while it was being cut
        return "gone"
    return Status.COMPLETED


def _finish(db: Database, clip_id: int, **values) -> bool:
    with db.session() as session:
        return session.execute(update(Clip).where(Clip.id == clip_id).values(
            finished_at=datetime.now(UTC), **values).returning(Clip.id)).first() is not None
