"""Adding videos, as the web process does it when someone uploads files or pastes links.

Quick, in the page's request: check the user's video limit, claim the uploaded files (or read
what a link holds), create `pending` video rows, queue one processing job per video. The worker
does the rest (core/processing.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import captions, quota, remote, storage, uploads, workspaces
from core.config import Settings
from core.database import Database
from core.errors import IngestError, TransientIngestError
from core.library import owned_video
from core.queue import defer_processing
from core.text import clean, one_line
from db.models import Video, VideoGroup, VideoGroupMember
from db.states import Role, Status, VideoSource


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
    read_screen_text: bool = True  # also search the text it shows (slides, code), when the server reads screens


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


def _workspace_to_add_to(db: Database, user_id: int, workspace_id: int | None) -> int:
    """The workspace new videos go into (the user's personal one by default), if they may add there."""
    with db.session() as session:
        return workspaces.access(session, user_id, workspace_id, needs=Role.EDITOR).workspace_id


def submit_uploads(
    db: Database, settings: Settings, user_id: int, items: list[UploadItem], *, language: str,
    workspace_id: int | None = None,
) -> list[Submission]:
    """Store uploaded files in the workspace and queue them. Each item succeeds or fails on its own;
    each counts against its uploader's video limit."""
    if not items:
        raise IngestError("Choose at least one file to upload.")
    workspace_id = _workspace_to_add_to(db, user_id, workspace_id)
    with db.session() as session:
        quota.check_quota(session, user_id, len(items))
    results: list[Submission] = []
    queued: list[int] = []
    for item in items:
        result = _submit_one_upload(db, settings, user_id, workspace_id, item, language)
        results.append(result)
        if result.status == "queued" and result.video_id:
            queued.append(result.video_id)
    defer_processing(db.url, queued)
    return results


def _submit_one_upload(db: Database, settings: Settings, user_id: int, workspace_id: int, item: UploadItem,
                       language: str) -> Submission:
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
                select(Video).where(Video.workspace_id == workspace_id, Video.sha256 == stored.sha256)
            ).first()
            if existing is not None:
                storage.delete(settings.media_dir, stored.relative_path)
                return Submission(title, existing.id, "duplicate",
                                  f"This workspace already has this file as “{existing.title}”; it was not stored twice.")
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
            user_id=user_id, workspace_id=workspace_id, title=title, description=clean(item.description).strip()[:10000],
            original_filename=one_line(item.filename)[:500], source=VideoSource.UPLOAD, language=language,
            file=stored.relative_path if stored else None, sha256=stored.sha256 if stored else None,
            file_size=stored.size if stored else None, captions_file=captions_path,
            status=Status.ERROR if error else Status.PENDING, error_message=error, read_screen_text=item.read_screen_text,
        )
        session.add(video)
        session.flush()
        video_id = video.id
    if error:
        return Submission(title, video_id, "error", error)
    return Submission(title, video_id, "queued", "Queued for processing.")


def submit_link(
    db: Database, settings: Settings, user_id: int, url: str, *, make_group: bool, language: str,
    title: str = "", description: str = "", whole_playlist: bool = False, workspace_id: int | None = None,
    read_screen_text: bool = True,
) -> LinkSubmission:
    """Queue a video link, or every available entry of a playlist (optionally as a group, in order).
    A video the user already added from the same address is not added twice: it is reported as
    a duplicate and, in a playlist's group, takes its place in the order. A link that fails for a
    passing reason (the site could not be reached) is kept as a video in error, with Retry. It all
    goes into `workspace_id` (the user's personal workspace by default)."""
    workspace_id = _workspace_to_add_to(db, user_id, workspace_id)
    try:
        listing = remote.inspect_url(url, whole_playlist=whole_playlist)
    except TransientIngestError as error:
        return LinkSubmission([_keep_failed_link(db, user_id, workspace_id, url, str(error), title=title,
                                                 description=description, language=language)], None, None, 0)
    results: list[Submission] = []
    group_id = group_name = None
    with db.session() as session:
        known = _known_links(session, workspace_id, listing.videos)
        quota.check_quota(session, user_id, len({_link_key(e) for e in listing.videos if _already(known, e) is None}))
        if listing.is_playlist and make_group:
            group_name = (listing.title or "Playlist")[:200]
            group = VideoGroup(user_id=user_id, workspace_id=workspace_id, name=group_name,
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
                user_id=user_id, workspace_id=workspace_id,
                title=_clean_title(title if single else "", entry.title),
                description=clean(description if single and description else entry.description).strip()[:10000],
                source=VideoSource.URL, source_url=entry.url, external_id=entry.external_id, extractor=entry.extractor,
                is_external_upload=True, duration_s=entry.duration_s, channel=entry.channel,
                thumbnail_url=entry.thumbnail_url, published_on=entry.published_on, language=language,
                read_screen_text=read_screen_text,
            )
            session.add(video)
            session.flush()
            known[_link_key(entry)] = video.id
            if group_id:
                session.add(VideoGroupMember(group_id=group_id, video_id=video.id, order=position))
                in_group.add(video.id)
            results.append(Submission(video.title, video.id, "queued", "Queued for processing."))
    defer_processing(db.url, [r.video_id for r in results if r.status == "queued"])
    return LinkSubmission(results, group_id, group_name, listing.unavailable)


def _keep_failed_link(db: Database, user_id: int, workspace_id: int, url: str, message: str, *, title: str,
                      description: str, language: str) -> Submission:
    """Keep a link that could not be read just now as a video in error, so Retry (in the Library)
    tries it again without pasting it again. Until then it holds nothing and does not count."""
    url = remote.validate_url(url)
    with db.session() as session:
        existing = session.scalar(select(Video.id).where(Video.workspace_id == workspace_id,
                                                         Video.source == VideoSource.URL,
                                                         Video.source_url == url))
        if existing is not None:
            return Submission(_clean_title(title, url), existing, "error", f"{message} It is already in your "
                              "Library; use Retry there.")
        video = Video(user_id=user_id, workspace_id=workspace_id, title=_clean_title(title, url),
                      source=VideoSource.URL, source_url=url,
                      description=clean(description).strip()[:10000], is_external_upload=True, language=language,
                      status=Status.ERROR, error_message=message[:2000])
        session.add(video)
        session.flush()
        return Submission(video.title, video.id, "error", f"{message} The link is kept in your Library; "
                          "use Retry there once it can be reached.")


def _link_key(entry: remote.RemoteVideo) -> tuple[str, str]:
    """What makes two links the same video: YouTube's video id (youtu.be, watch?v=, a playlist's
    entry all name one video), else the address (other sites' ids need not be unique)."""
    if entry.is_youtube and entry.external_id:
        return ("youtube", entry.external_id)
    return ("url", entry.url)


def _already(known: dict[tuple[str, str], int], entry: remote.RemoteVideo) -> int | None:
    return known.get(_link_key(entry), known.get(("url", entry.url)))


def _known_links(session: Session, workspace_id: int, entries: list[remote.RemoteVideo]) -> dict[tuple[str, str], int]:
    """The workspace's videos already added from any of these links, by `_link_key`."""
    urls = [e.url for e in entries]
    ids = [e.external_id for e in entries if e.external_id]
    rows = session.execute(
        select(Video.id, Video.source_url, Video.extractor, Video.external_id)
        .where(Video.workspace_id == workspace_id, Video.source == VideoSource.URL,
               or_(Video.source_url.in_(urls), Video.external_id.in_(ids)))
        .order_by(Video.id)
    ).all()
    known: dict[tuple[str, str], int] = {}
    for video_id, source_url, extractor, external_id in rows:
        known.setdefault(("url", source_url), video_id)
        if remote.is_youtube_extractor(extractor) and external_id:
            known.setdefault(("youtube", external_id), video_id)
    return known


def retry(db: Database, user_id: int, video_id: int) -> None:
    """Run a video through processing again (after an error, or to refresh it); an editor or owner
    of its workspace may."""
    with db.session() as session:
        owned_video(session, user_id, video_id, needs=Role.EDITOR)
        video = session.get(Video, video_id)
        if video.status == Status.PROCESSING:
            raise IngestError("This video is being processed right now.")
        if video.source == VideoSource.UPLOAD and not video.file:
            raise IngestError("The file of this video was not stored; upload it again.")
        if not quota.counts(video):
            if video.user_id is not None:  # it will count again, against its uploader
                quota.check_quota(session, video.user_id, 1)
        video.status, video.progress, video.error_message, video.current_step = Status.PENDING, 0, None, None
    defer_processing(db.url, [video_id])
