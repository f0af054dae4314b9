"""Processing a video, as the worker does it: from its file or link to a searchable transcript.

transcript (captions, else local Whisper, else OpenAI) → the text on screen, from the stored file
(core/screen_text.py) → chunks → embeddings → one transaction that replaces the video's passages
and marks it completed (core/indexing.py), then chapters. A video that says nothing but shows
text becomes ready with its screen text.
Progress is written as it goes so the Library can show it live; a failure the user can act on
marks the video `error` with its message, a passing one is raised for the queue to retry.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from core import captions, chapters, media, passages, remote, screen_text, storage
from core.config import Settings
from core.database import Database
from core.errors import IngestError, NothingSaid, SettingsError, TransientIngestError
from core.indexing import store_transcript
from core.model_settings import workspace_access
from core.speech_to_text import SpeechToTextUnavailable, transcribe_local, transcribe_openai
from core.transcripts import ScreenPassage, Segment
from db.models import Video
from db.states import ACTIVE, Status, TranscriptSource, VideoSource

log = logging.getLogger(__name__)


class _Progress:
    """Writes progress in short transactions of their own, at most one per whole percent."""

    def __init__(self, db: Database, video_id: int) -> None:
        self.db, self.video_id, self.last = db, video_id, -1

    def __call__(self, percent: float, step: str | None = None) -> None:
        value = max(0, min(99, int(percent)))
        if value == self.last and step is None:
            return
        self.last = value
        values: dict = {"progress": value}
        if step:
            values["current_step"] = step
        with self.db.session() as session:
            session.execute(update(Video).where(Video.id == self.video_id, Video.status == Status.PROCESSING)
                            .values(**values))

    def span(self, low: float, high: float, step: str | None = None) -> Callable[[float], None]:
        if step:
            self(low, step)
        return lambda fraction: self(low + (high - low) * max(0.0, min(1.0, fraction)))


@dataclass
class _Job:
    video_id: int
    user_id: int | None  # the uploader: media paths are filed under them (0 once they are gone)
    workspace_id: int
    source: str
    file: str | None
    source_url: str | None
    captions_file: str | None
    language: str | None
    extractor: str | None
    read_screen_text: bool


def _claim(db: Database, video_id: int) -> _Job | None:
    """Mark a video as processing unless it is finished, failed or gone (then there is nothing to do)."""
    with db.session() as session:
        video = session.scalars(
            select(Video).where(Video.id == video_id, Video.status.in_(ACTIVE))
            .with_for_update(skip_locked=True)
        ).first()
        if video is None:
            return None
        video.status, video.progress, video.current_step = Status.PROCESSING, 1, "starting"
        video.error_message = None
        video.processing_started_at = datetime.now(timezone.utc)
        return _Job(video.id, video.user_id, video.workspace_id, video.source, video.file, video.source_url,
                    video.captions_file, video.language, video.extractor, video.read_screen_text)


def _set(db: Database, video_id: int, **values) -> None:
    with db.session() as session:
        session.execute(update(Video).where(Video.id == video_id).values(**values))


def mark_error(db: Database, video_id: int, message: str) -> None:
    _set(db, video_id, status=Status.ERROR, error_message=message[:2000], current_step=None,
         processing_finished_at=datetime.now(timezone.utc))


def process_video(db: Database, settings: Settings, video_id: int, *, final_attempt: bool = True) -> str:
    """Process one video end to end. Returns its final status; raises only transient errors to retry."""
    job = _claim(db, video_id)
    if job is None:
        return "skipped"
    work = storage.work_dir(settings.media_dir, video_id)
    progress = _Progress(db, video_id)
    try:
        silent = None
        try:
            segments, transcript_source = _transcript(db, settings, job, work, progress)
            if not segments or not any(s.text.strip() for s in segments):
                raise NothingSaid(
                    "No speech was found in this video and it has no captions. Add a captions file (.srt or .vtt)."
                )
        except NothingSaid as why:
            segments, transcript_source, silent = [], TranscriptSource.SCREEN_TEXT, why
        screen = _screen_text(settings, job, work, progress)
        if silent and not screen:
            raise silent
        _store(db, settings, job, segments, transcript_source, screen, progress)
        _make_chapters(db, settings, video_id)
        return Status.COMPLETED
    except IngestError as error:
        mark_error(db, video_id, str(error))
        return Status.ERROR
    except (TransientIngestError, OSError) as error:
        if isinstance(error, OSError) and not isinstance(error, (ConnectionError, TimeoutError)):
            mark_error(db, video_id, f"Server file error while processing: {error.strerror or error}")
            return Status.ERROR
        if final_attempt:
            mark_error(db, video_id, f"{error} (gave up after several tries; use Retry to try again).")
            return Status.ERROR
        raise TransientIngestError(str(error)) from error
    except SettingsError as error:
        mark_error(db, video_id, str(error))
        return Status.ERROR
    except OperationalError as error:
        # The database went away mid-job: nothing can be recorded now; the queue retries the job.
        raise TransientIngestError("The database was unavailable while processing.") from error
    except Exception:
        log.exception("processing video %s failed", video_id)
        mark_error(db, video_id, "Processing failed unexpectedly; the error was logged. Try Retry, or contact support.")
        return Status.ERROR
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _screen_text(settings: Settings, job: _Job, work: Path, progress: _Progress) -> list[ScreenPassage]:
    """The text on screen, read from the stored file when the installation and the video want it
    (a YouTube video has no stored file: the Library says so). A picture that cannot be read costs
    only its screen text, never a video whose transcript is fine."""
    path = storage.existing(settings.media_dir, job.file) if job.file else None
    if passages.screen_unread(settings, wanted=job.read_screen_text, file_stored=path is not None):
        return []
    try:
        return screen_text.read_screen_text(path, workers=settings.screen_text_workers, thumbnail_dir=work / "screen",
                                            progress=progress.span(80, 90, "reading screen text"))
    except IngestError as error:
        log.warning("video %s: no screen text (%s)", job.video_id, error)
    except Exception:
        log.exception("reading the screen text of video %s failed", job.video_id)
    return []


def _store(db: Database, settings: Settings, job: _Job, segments: list[Segment], transcript_source: str,
           screen: list[ScreenPassage], progress: _Progress) -> None:
    """Store the passages with the screen's frame pictures moved into the media directory; the
    pictures of an earlier reading go once the new ones are stored, and the new ones go if the
    video was deleted meanwhile."""
    kept = []
    for passage in screen:
        picture = None
        if passage.thumbnail:
            picture, absolute = storage.new_path(settings.media_dir, "screens", job.user_id or 0, ".jpg")
            shutil.move(passage.thumbnail, absolute)
        kept.append(replace(passage, thumbnail=picture))
    with db.session() as session:
        earlier = passages.screen_thumbnails(session, [job.video_id])
    new = [p.thumbnail for p in kept if p.thumbnail]
    stored = store_transcript(db, settings, job.video_id, segments, transcript_source, screen=kept,
                              on_progress=progress.span(90 if screen else 80, 99, "embedding"))
    storage.delete(settings.media_dir, *(earlier if stored else new))


def _make_chapters(db: Database, settings: Settings, video_id: int) -> None:
    """Chapters are a bonus on a ready video: failing to make them never fails the video."""
    try:
        chapters.generate(db, settings, video_id, keep_edited=True)
    except Exception:
        log.exception("making chapters for video %s failed", video_id)


def _transcript(db: Database, settings: Settings, job: _Job, work: Path, progress: _Progress
                ) -> tuple[list[Segment], str]:
    media_path: Path | None = None
    info: media.MediaInfo | None = None
    languages = tuple(dict.fromkeys([*( [job.language] if job.language else []), *settings.caption_languages]))
    is_youtube = False
    if job.source == VideoSource.URL:
        progress(2, "fetching details")
        details, found = remote.video_details(job.source_url or "", languages)
        is_youtube = details.is_youtube
        _set(db, job.video_id, channel=details.channel, duration_s=details.duration_s,
             thumbnail_url=details.thumbnail_url, published_on=details.published_on,
             external_id=details.external_id, extractor=details.extractor)
        segments = None
        if found is not None:
            try:
                segments = captions.parse_captions(found.data, name="The video's captions",
                                                   max_seconds=details.duration_s)
            except IngestError as error:  # the site's captions are broken: transcribe the speech instead
                log.warning("video %s: unusable captions from the site (%s); transcribing", job.video_id, error)
        if segments:
            _set(db, job.video_id, language=found.language)
            if not is_youtube:
                _download_for_playback(db, settings, job, work, progress)
            return segments, found.kind
        progress(5, "downloading")
        media_path, info = _download(settings, job, work, audio_only=is_youtube)
        if not is_youtube:
            media_path = _keep_download(db, settings, job, media_path)
        progress(20)
    else:
        if not job.file:
            raise IngestError("The uploaded file is missing; upload it again.")
        media_path = storage.resolve(settings.media_dir, job.file)
        if not media_path.exists():
            raise IngestError("The uploaded file is missing on the server; upload it again.")
    progress(max(progress.last, 3), "reading media")
    if info is None:
        info = _probe_upload(db, settings, job, media_path)
    _describe_media(db, settings, job, media_path, info, thumbnail=job.source == VideoSource.UPLOAD or not is_youtube)

    if job.captions_file:
        data = storage.resolve(settings.media_dir, job.captions_file).read_bytes()
        segments = captions.parse_captions(data, name="The captions file", max_seconds=info.duration_s)
        return segments, TranscriptSource.CAPTIONS
    if not info.has_audio:
        raise NothingSaid(
            "This video has no audio track and no captions, so there is nothing to transcribe. "
            "Add a captions file (.srt or .vtt)."
        )
    return _speech_to_text(db, settings, job, media_path, info, work, progress)


def _download(settings: Settings, job: _Job, work: Path, *, audio_only: bool) -> tuple[Path, media.MediaInfo]:
    """The link's media, downloaded into the work folder and probed there: what is not playable
    media (a page, a JSON file, a truncated download) fails here and goes with the work folder,
    never stored, played or counted."""
    downloaded = remote.download_media(job.source_url or "", work, audio_only=audio_only,
                                       max_bytes=settings.max_upload_mb * 1024 * 1024)
    return downloaded, media.probe(downloaded)


def _probe_upload(db: Database, settings: Settings, job: _Job, path: Path) -> media.MediaInfo:
    """An uploaded file that is not playable media is deleted, so it neither stays on disk nor
    counts against its owner's video limit (a failed video without a file does not count)."""
    try:
        return media.probe(path)
    except IngestError:
        _set(db, job.video_id, file=None, sha256=None, file_size=None)
        storage.delete(settings.media_dir, job.file)
        raise


def _download_for_playback(db: Database, settings: Settings, job: _Job, work: Path, progress: _Progress) -> None:
    """A non-YouTube link is kept as a file so the app can play it even if the site goes away."""
    progress(5, "downloading")
    downloaded, info = _download(settings, job, work, audio_only=False)
    path = _keep_download(db, settings, job, downloaded)
    _describe_media(db, settings, job, path, info, thumbnail=True)


def _keep_download(db: Database, settings: Settings, job: _Job, downloaded: Path) -> Path:
    extension = downloaded.suffix.lower() if downloaded.suffix.lower() in storage.VIDEO_EXTENSIONS else ".mp4"
    relative, absolute = storage.new_path(settings.media_dir, "videos", job.user_id or 0, extension)
    shutil.move(str(downloaded), absolute)
    with db.session() as session:
        old = session.scalar(select(Video.file).where(Video.id == job.video_id))
    _record_file(db, settings, job.video_id, relative, file=relative, file_size=absolute.stat().st_size)
    if old and old != relative:
        storage.delete(settings.media_dir, old)
    job.file = relative
    return absolute


def _record_file(db: Database, settings: Settings, video_id: int, relative: str, **values) -> None:
    """Point the video's row at a file just stored. If the video was deleted meanwhile, its delete
    could not know this file: remove it here and stop, so nothing is left on disk."""
    with db.session() as session:
        kept = session.execute(update(Video).where(Video.id == video_id).values(**values)
                               .returning(Video.id)).first()
    if kept is None:
        storage.delete(settings.media_dir, relative)
        raise IngestError("This video was deleted while it was being processed.")


def _describe_media(db: Database, settings: Settings, job: _Job, path: Path, info: media.MediaInfo,
                    *, thumbnail: bool) -> None:
    values: dict = {"duration_s": round(info.duration_s, 3), "width": info.width, "height": info.height}
    if thumbnail and info.has_video:
        relative, absolute = storage.new_path(settings.media_dir, "thumbnails", job.user_id or 0, ".jpg")
        if media.make_thumbnail(path, absolute, at_seconds=min(5.0, info.duration_s / 3)):
            with db.session() as session:
                old = session.scalar(select(Video.thumbnail).where(Video.id == job.video_id))
            _record_file(db, settings, job.video_id, relative, thumbnail=relative, **values)
            storage.delete(settings.media_dir, old)
            return
        storage.delete(settings.media_dir, relative)  # a failed frame may leave an empty file
    _set(db, job.video_id, **values)


def _speech_to_text(db: Database, settings: Settings, job: _Job, media_path: Path, info: media.MediaInfo,
                    work: Path, progress: _Progress) -> tuple[list[Segment], str]:
    progress(20, "extracting audio")
    audio = media.extract_audio(media_path, work / "audio.wav")
    try:
        segments, language = transcribe_local(
            audio, model_dir=settings.whisper_model_dir, data_dir=settings.data_dir,
            duration_s=info.duration_s, on_progress=progress.span(22, 80, "transcribing"),
        )
        if language:
            _set(db, job.video_id, language=language)
        return segments, TranscriptSource.LOCAL_WHISPER
    except SpeechToTextUnavailable as why:
        log.warning("local speech-to-text unavailable: %s", why)
    with db.session() as session:
        access = workspace_access(session, settings, job.workspace_id)
    if not access.remote:
        raise IngestError(
            "This video has no captions and speech-to-text is not available: add a captions file, "
            "configure a local Whisper model (ASKVIDEO_WHISPER_MODEL_DIR), or add an OpenAI API key in Settings."
        )
    segments = transcribe_openai(
        audio, work, api_key=access.api_key, base_url=access.base_url, duration_s=info.duration_s,
        on_progress=progress.span(22, 80, "transcribing"),
    )
    return segments, TranscriptSource.OPENAI_WHISPER
