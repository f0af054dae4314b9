"""From a video file or a link to searchable, timestamped chunks.

Submitting is quick and happens in the page's request: check the user's quota, store the file,
create `pending` video rows, queue one job per video. The worker then runs `process_video`:
transcript (captions, else local Whisper, else OpenAI) → chunks → embeddings → one transaction
that replaces the video's chunks and marks it completed. Progress is written as it goes so the
Library can show it live.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core import captions, llm, media, quota, remote, storage, transcripts, uploads
from core.chunking import chunk_segments
from core.config import Settings
from core.database import Database
from core.embeddings import embeddings_for
from core.errors import IngestError, SettingsError, TransientIngestError
from core.model_settings import model_access
from core.text import clean, one_line
from core.speech_to_text import SpeechToTextUnavailable, transcribe_local, transcribe_openai
from core.transcripts import Segment
from db.models import TranscriptChunk, TranscriptSentence, Video, VideoGroup, VideoGroupMember

log = logging.getLogger(__name__)

EMBED_BATCH = 64


# ---------------------------------------------------------------- submitting


@dataclass(frozen=True)
class UploadItem:
    """One file to add: already staged by the browser (`staged_id`, core/uploads.py), or a
    readable `stream` (scripts, tests)."""

    filename: str
    stream: BinaryIO | None = None
    staged_id: str | None = None
    title: str = ""
    description: str = ""
    captions_name: str | None = None
    captions_data: bytes | None = None


@dataclass(frozen=True)
class Submission:
    """What happened to one submitted item, for the page to report."""

    title: str
    video_id: int | None
    status: str  # "queued", "duplicate" or "error"
    message: str


@dataclass(frozen=True)
class LinkSubmission:
    submissions: list[Submission]
    group_id: int | None
    group_name: str | None
    unavailable: int


def _clean_title(title: str, fallback: str) -> str:
    return one_line(title)[:500] or one_line(fallback)[:500] or "Untitled video"


def language_from_locale(locale: str | None, settings: Settings) -> str:
    if locale:
        return locale.replace("_", "-").split("-")[0].lower()[:20]
    return settings.caption_languages[0] if settings.caption_languages else "en"


def submit_uploads(
    db: Database, settings: Settings, user_id: int, items: list[UploadItem], *, language: str
) -> list[Submission]:
    """Store uploaded files and queue them. Each item succeeds or fails on its own."""
    if not items:
        raise IngestError("Choose at least one file to upload.")
    with db.session() as session:
        quota.check_quota(session, user_id, len(items))
    results: list[Submission] = []
    queued: list[int] = []
    for item in items:
        result = _submit_one_upload(db, settings, user_id, item, language)
        results.append(result)
        if result.status == "queued" and result.video_id:
            queued.append(result.video_id)
    from core.jobs import defer_processing

    defer_processing(db.url, queued)
    return results


def _submit_one_upload(db: Database, settings: Settings, user_id: int, item: UploadItem, language: str) -> Submission:
    title = _clean_title(item.title, Path(item.filename or "").stem)
    extension = storage.extension_of(item.filename)
    error: str | None = None
    stored: storage.StoredFile | None = None
    captions_path: str | None = None
    if unsupported := storage.unsupported_video(extension):
        error = unsupported
    else:
        try:
            if item.staged_id is not None:
                stored, _ = uploads.claim(settings, user_id, item.staged_id)
            else:
                stored = storage.save_stream(settings.media_dir, "videos", user_id, extension, item.stream,
                                             max_bytes=settings.max_upload_mb * 1024 * 1024)
            if stored.size == 0:
                storage.delete(settings.media_dir, stored.relative_path)
                stored, error = None, "The file is empty (0 bytes)."
        except IngestError as failure:
            error = str(failure)
    if stored is not None:
        with db.session() as session:
            existing = session.scalars(
                select(Video).where(Video.user_id == user_id, Video.sha256 == stored.sha256)
            ).first()
            if existing is not None:
                storage.delete(settings.media_dir, stored.relative_path)
                return Submission(title, existing.id, "duplicate",
                                  f"You already have this file as “{existing.title}”; it was not stored twice.")
    if stored is not None and item.captions_data is not None:
        cap_ext = storage.extension_of(item.captions_name or "")
        if cap_ext not in storage.CAPTION_EXTENSIONS:
            error = "Captions must be an .srt or .vtt file."
        else:
            try:
                captions.parse_captions(item.captions_data, name=item.captions_name or "captions")
                rel, path = storage.new_path(settings.media_dir, "captions", user_id, cap_ext)
                path.write_bytes(item.captions_data)
                captions_path = rel
            except IngestError as failure:
                error = str(failure)
            except OSError as failure:
                error = f"Could not store the captions on the server ({failure.strerror or failure})."
    with db.session() as session:
        if stored is not None and not error:
            try:
                quota.check_quota(session, user_id, 1)  # again, under the lock: another tab may have added some
            except IngestError as refused:
                error = str(refused)
        if error and stored is not None:
            storage.delete(settings.media_dir, stored.relative_path)
            stored = None
        video = Video(
            user_id=user_id, title=title, description=clean(item.description).strip()[:10000],
            original_filename=one_line(item.filename)[:500], source="upload", language=language,
            file=stored.relative_path if stored else None, sha256=stored.sha256 if stored else None,
            file_size=stored.size if stored else None, captions_file=captions_path,
            status="error" if error else "pending", error_message=error,
        )
        session.add(video)
        session.flush()
        video_id = video.id
    if error:
        return Submission(title, video_id, "error", error)
    return Submission(title, video_id, "queued", "Queued for processing.")


def submit_link(
    db: Database, settings: Settings, user_id: int, url: str, *, make_group: bool, language: str,
    title: str = "", description: str = "", whole_playlist: bool = False,
) -> LinkSubmission:
    """Queue a video link, or every available entry of a playlist (optionally as a group, in order).
    A video the user already added from the same address is not added twice: it is reported as
    a duplicate and, in a playlist's group, takes its place in the order."""
    listing = remote.inspect_url(url, whole_playlist=whole_playlist)
    results: list[Submission] = []
    group_id = group_name = None
    with db.session() as session:
        known = _known_links(session, user_id, listing.videos)
        quota.check_quota(session, user_id, len({_link_key(e) for e in listing.videos if _already(known, e) is None}))
        if listing.is_playlist and make_group:
            group_name = (listing.title or "Playlist")[:200]
            group = VideoGroup(user_id=user_id, name=group_name,
                               description=f"Imported from {url}"[:2000])
            session.add(group)
            session.flush()
            group_id = group.id
        in_group: set[int] = set()
        for position, entry in enumerate(listing.videos):
            single = not listing.is_playlist
            if (existing_id := _already(known, entry)) is not None:
                if group_id and existing_id not in in_group:
                    session.add(VideoGroupMember(group_id=group_id, video_id=existing_id, order=position))
                    in_group.add(existing_id)
                results.append(Submission(entry.title, existing_id, "duplicate",
                                          "You already added this video; it was not added again."))
                continue
            video = Video(
                user_id=user_id,
                title=_clean_title(title if single else "", entry.title),
                description=clean(description if single and description else entry.description).strip()[:10000],
                source="url", source_url=entry.url, external_id=entry.external_id, extractor=entry.extractor,
                is_external_upload=True, duration_s=entry.duration_s, channel=entry.channel,
                thumbnail_url=entry.thumbnail_url, published_on=entry.published_on, language=language,
            )
            session.add(video)
            session.flush()
            known[_link_key(entry)] = video.id
            if group_id:
                session.add(VideoGroupMember(group_id=group_id, video_id=video.id, order=position))
                in_group.add(video.id)
            results.append(Submission(video.title, video.id, "queued", "Queued for processing."))
    from core.jobs import defer_processing

    defer_processing(db.url, [r.video_id for r in results if r.status == "queued"])
    return LinkSubmission(results, group_id, group_name, listing.unavailable)


def _link_key(entry: remote.RemoteVideo) -> tuple[str, str]:
    """What makes two links the same video: YouTube's video id (youtu.be, watch?v=, a playlist's
    entry all name one video), else the address (other sites' ids need not be unique)."""
    if entry.is_youtube and entry.external_id:
        return ("youtube", entry.external_id)
    return ("url", entry.url)


def _already(known: dict[tuple[str, str], int], entry: remote.RemoteVideo) -> int | None:
    return known.get(_link_key(entry), known.get(("url", entry.url)))


def _known_links(session: Session, user_id: int, entries: list[remote.RemoteVideo]) -> dict[tuple[str, str], int]:
    """The user's videos already added from any of these links, by `_link_key`."""
    urls = [e.url for e in entries]
    ids = [e.external_id for e in entries if e.external_id]
    rows = session.execute(
        select(Video.id, Video.source_url, Video.extractor, Video.external_id)
        .where(Video.user_id == user_id, Video.source == "url",
               or_(Video.source_url.in_(urls), Video.external_id.in_(ids)))
        .order_by(Video.id)
    ).all()
    known: dict[tuple[str, str], int] = {}
    for video_id, source_url, extractor, external_id in rows:
        known.setdefault(("url", source_url), video_id)
        if (extractor or "").lower().startswith("youtube") and external_id:
            known.setdefault(("youtube", external_id), video_id)
    return known


def retry(db: Database, user_id: int, video_id: int) -> None:
    """Run a video through processing again (after an error, or to refresh it)."""
    with db.session() as session:
        video = session.get(Video, video_id)
        if video is None or video.user_id != user_id:
            from core.errors import VideoNotFound

            raise VideoNotFound()
        if video.status == "processing":
            raise IngestError("This video is being processed right now.")
        if video.source == "upload" and not video.file:
            raise IngestError("The file of this video was not stored; upload it again.")
        if not quota.counts(video):
            quota.check_quota(session, user_id, 1)  # it will count again
        video.status, video.progress, video.error_message, video.current_step = "pending", 0, None, None
    from core.jobs import defer_processing

    defer_processing(db.url, [video_id])


# ---------------------------------------------------------------- processing


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
            session.execute(update(Video).where(Video.id == self.video_id, Video.status == "processing")
                            .values(**values))

    def span(self, low: float, high: float, step: str | None = None) -> Callable[[float], None]:
        if step:
            self(low, step)
        return lambda fraction: self(low + (high - low) * max(0.0, min(1.0, fraction)))


@dataclass
class _Job:
    video_id: int
    user_id: int
    source: str
    file: str | None
    source_url: str | None
    captions_file: str | None
    language: str | None
    extractor: str | None


def _claim(db: Database, video_id: int) -> _Job | None:
    """Mark a video as processing unless it is finished, failed or gone (then there is nothing to do)."""
    with db.session() as session:
        video = session.scalars(
            select(Video).where(Video.id == video_id, Video.status.in_(("pending", "processing")))
            .with_for_update(skip_locked=True)
        ).first()
        if video is None:
            return None
        video.status, video.progress, video.current_step = "processing", 1, "starting"
        video.error_message = None
        video.processing_started_at = datetime.now(timezone.utc)
        return _Job(video.id, video.user_id, video.source, video.file, video.source_url,
                    video.captions_file, video.language, video.extractor)


def _set(db: Database, video_id: int, **values) -> None:
    with db.session() as session:
        session.execute(update(Video).where(Video.id == video_id).values(**values))


def mark_error(db: Database, video_id: int, message: str) -> None:
    _set(db, video_id, status="error", error_message=message[:2000], current_step=None,
         processing_finished_at=datetime.now(timezone.utc))


def process_video(db: Database, settings: Settings, video_id: int, *, final_attempt: bool = True) -> str:
    """Process one video end to end. Returns its final status; raises only transient errors to retry."""
    job = _claim(db, video_id)
    if job is None:
        return "skipped"
    work = storage.work_dir(settings.media_dir, video_id)
    progress = _Progress(db, video_id)
    try:
        segments, transcript_source = _transcript(db, settings, job, work, progress)
        if not segments or not any(s.text.strip() for s in segments):
            raise IngestError(
                "No speech was found in this video and it has no captions. Add a captions file (.srt or .vtt)."
            )
        store_transcript(db, settings, video_id, segments, transcript_source, on_progress=progress.span(80, 99, "embedding"))
        _make_chapters(db, settings, video_id)
        return "completed"
    except IngestError as error:
        mark_error(db, video_id, str(error))
        return "error"
    except (TransientIngestError, OSError) as error:
        if isinstance(error, OSError) and not isinstance(error, (ConnectionError, TimeoutError)):
            mark_error(db, video_id, f"Server file error while processing: {error.strerror or error}")
            return "error"
        if final_attempt:
            mark_error(db, video_id, f"{error} (gave up after several tries; use Retry to try again).")
            return "error"
        raise TransientIngestError(str(error)) from error
    except SettingsError as error:
        mark_error(db, video_id, str(error))
        return "error"
    except OperationalError as error:
        # The database went away mid-job: nothing can be recorded now; the queue retries the job.
        raise TransientIngestError("The database was unavailable while processing.") from error
    except Exception:
        log.exception("processing video %s failed", video_id)
        mark_error(db, video_id, "Processing failed unexpectedly; the error was logged. Try Retry, or contact support.")
        return "error"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _make_chapters(db: Database, settings: Settings, video_id: int) -> None:
    """Chapters are a bonus on a ready video: failing to make them never fails the video."""
    from core import chapters

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
    if job.source == "url":
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
    _describe_media(db, settings, job, media_path, info, thumbnail=job.source == "upload" or not is_youtube)

    if job.captions_file:
        data = storage.resolve(settings.media_dir, job.captions_file).read_bytes()
        return captions.parse_captions(data, name="The captions file", max_seconds=info.duration_s), "captions"
    if not info.has_audio:
        raise IngestError(
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
    relative, absolute = storage.new_path(settings.media_dir, "videos", job.user_id, extension)
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
        relative, absolute = storage.new_path(settings.media_dir, "thumbnails", job.user_id, ".jpg")
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
        return segments, "local_whisper"
    except SpeechToTextUnavailable as why:
        log.warning("local speech-to-text unavailable: %s", why)
    with db.session() as session:
        access = model_access(session, settings, job.user_id)
    if not access.remote:
        raise IngestError(
            "This video has no captions and speech-to-text is not available: add a captions file, "
            "configure a local Whisper model (ASKVIDEO_WHISPER_MODEL_DIR), or add an OpenAI API key in Settings."
        )
    segments = transcribe_openai(
        audio, work, api_key=access.api_key, base_url=access.base_url, duration_s=info.duration_s,
        on_progress=progress.span(22, 80, "transcribing"),
    )
    return segments, "openai_whisper"


def store_transcript(
    db: Database, settings: Settings, video_id: int, segments: list[Segment], transcript_source: str,
    *, on_progress: Callable[[float], None] = lambda fraction: None,
) -> int:
    """Chunk, embed and store a transcript as the video's only set of chunks and sentences; returns
    the chunk count."""
    import openai

    segments = [Segment(s.start, s.end, one_line(s.text)) for s in segments if one_line(s.text)]
    with db.session() as session:
        video = session.get(Video, video_id)
        if video is None:
            return 0
        user_id, title = video.user_id, video.title
        access = model_access(session, settings, user_id)
    embedder = embeddings_for(access.embedding_model, api_key=access.api_key, base_url=access.base_url)
    chunks = chunk_segments(segments, target_words=settings.chunk_words, overlap_words=settings.chunk_overlap_words)
    sentences = transcripts.sentences(segments)
    texts = [f"{title}: {c.text}" if settings.embed_titles else c.text for c in chunks] + [s.text for s in sentences]
    vectors: list[list[float]] = []
    for start in range(0, len(texts), EMBED_BATCH):
        try:
            vectors += embedder.embed_documents(texts[start:start + EMBED_BATCH])
        except openai.OpenAIError as error:  # the user's embedding provider: retry what may pass
            failed = TransientIngestError if llm.is_transient(error) else IngestError
            raise failed(f"Embedding the transcript failed: {llm.provider_error(error)}") from None
        on_progress(len(vectors) / len(texts))
    chunk_vectors, sentence_vectors = vectors[:len(chunks)], vectors[len(chunks):]
    rows = [
        {"video_id": video_id, "user_id": user_id, "video_title": title, "chunk_index": c.index,
         "text": c.text, "start_time": c.start, "end_time": c.end, "embedding": v,
         "embedding_model": embedder.model_name}
        for c, v in zip(chunks, chunk_vectors, strict=True)
    ]
    sentence_rows = [
        {"video_id": video_id, "user_id": user_id, "sentence_index": i, "text": s.text,
         "start_time": s.start, "end_time": s.end, "embedding": v, "embedding_model": embedder.model_name}
        for i, (s, v) in enumerate(zip(sentences, sentence_vectors, strict=True))
    ]
    # One transaction: the old chunks and sentences go and the new ones arrive together, or nothing changes.
    with db.session() as session:
        still_there = session.scalar(select(Video.id).where(Video.id == video_id).with_for_update())
        if still_there is None:
            return 0  # deleted while we worked
        session.execute(delete(TranscriptChunk).where(TranscriptChunk.video_id == video_id))
        session.execute(delete(TranscriptSentence).where(TranscriptSentence.video_id == video_id))
        for start in range(0, len(rows), 500):
            session.execute(insert(TranscriptChunk), rows[start:start + 500])
        for start in range(0, len(sentence_rows), 500):
            session.execute(insert(TranscriptSentence), sentence_rows[start:start + 500])
        session.execute(
            update(Video).where(Video.id == video_id).values(
                transcript=transcripts.full_text(segments),
                transcript_segments=transcripts.to_json(segments),
                transcript_source=transcript_source, status="completed", progress=100,
                current_step=None, error_message=None, processing_finished_at=func.now(),
            )
        )
    return len(rows)
