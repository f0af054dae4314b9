"""Video files sent by the browser straight to disk, then claimed by a submission.

Streamlit's own file uploader keeps every file in the web process's memory (a 600 MB upload held
573 MB, minutes after the tab closed). Videos instead go to our route (`PUT /uploads`,
web/uploads.py) piece by piece into the user's staging folder; the Add videos page then names
the staged files it submits. Staged files nobody claimed are swept after a day.

The route is reached only with an upload token: this browser session's id, an expiry and a
signature. It is sent in a header, which another site's page cannot set, and it stops working
with the session.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import storage
from core.config import Settings
from core.encryption import sign, signed_by_us
from core.errors import IngestError, Refused
from core.media_links import expiry, signed_in_user
from core.quota import counted_videos
from core.text import one_line
from db.models import User

ROUTE = "/uploads"
PURPOSE = "uploads"
MAX_STAGED = 20  # files waiting in one user's staging folder
STAGED_FOR_S = 24 * 3600
_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Staged:
    id: str
    name: str  # the file's name on the user's computer; shown, never used as a path
    size: int


def token(settings: Settings, session_id: int, *, now: float | None = None) -> str:
    expires = expiry(now)
    return f"{session_id}.{expires}.{sign(settings, PURPOSE, f'{session_id}:{expires}')}"


def uploader(session: Session, settings: Settings, upload_token: str) -> int:
    """The user an upload token speaks for, while their session is signed in."""
    session_id, _, rest = (upload_token or "").partition(".")
    expires, _, signature = rest.partition(".")
    if not (session_id.isdigit() and expires.isdigit()
            and signed_by_us(settings, PURPOSE, f"{session_id}:{expires}", signature)):
        raise Refused(403, "This upload is not allowed; reload the page.")
    if int(expires) < time.time():
        raise Refused(403, "This page is too old to upload from; reload it.")
    user = signed_in_user(session, int(session_id))
    if user is None:
        raise Refused(403, "You are signed out; sign in again to upload.")
    return user[0]


def _folder(settings: Settings, user_id: int) -> Path:
    return storage.resolve(settings.media_dir, f"uploads/{user_id}")


def start(session: Session, settings: Settings, user_id: int, filename: str,
          declared_size: int | None) -> storage.IncomingFile:
    """Open a staged file for one upload, after the checks that need no byte of it."""
    extension = storage.extension_of(filename)
    if unsupported := storage.unsupported_video(extension):
        raise Refused(415, unsupported)
    max_bytes = settings.max_upload_mb * 1024 * 1024
    if declared_size is not None and declared_size > max_bytes:
        raise Refused(413, f"File is larger than the {settings.max_upload_mb} MB limit.")
    if declared_size == 0:
        raise Refused(400, "The file is empty (0 bytes).")
    limit = session.scalar(select(User.video_limit).where(User.id == user_id))
    if session.scalar(counted_videos(user_id)) >= limit:
        raise Refused(403, f"Your limit is {limit} videos; delete some videos to add new ones.")
    if len(list(_staged_files(settings, user_id))) >= MAX_STAGED:
        raise Refused(429, f"{MAX_STAGED} files are already waiting to be added; add or clear them first.")
    return storage.IncomingFile(settings.media_dir, "uploads", user_id, extension, max_bytes=max_bytes)


def finish(incoming: storage.IncomingFile, filename: str) -> Staged:
    """Keep a completely received upload, with what the page needs to show and claim it."""
    stored = incoming.finish()
    name = one_line(filename)[:500] or "upload"
    path = incoming.path
    path.with_suffix(".json").write_text(json.dumps({"name": name, "sha256": stored.sha256, "size": stored.size}))
    return Staged(path.stem, name, stored.size)


def _staged_files(settings: Settings, user_id: int):
    folder = _folder(settings, user_id)
    return (p for p in folder.glob("*") if p.suffix in storage.VIDEO_EXTENSIONS) if folder.is_dir() else ()


def _find(settings: Settings, user_id: int, staged_id: str) -> tuple[Path, dict]:
    if not _ID.match(staged_id or ""):
        raise IngestError("That upload is not known; upload the file again.")
    for path in _staged_files(settings, user_id):
        if path.stem == staged_id and path.with_suffix(".json").exists():
            return path, json.loads(path.with_suffix(".json").read_text())
    raise IngestError("That upload is no longer waiting (added already, or cleared after a day); upload it again.")


def claim(settings: Settings, user_id: int, staged_id: str) -> tuple[storage.StoredFile, str]:
    """Move one of the user's staged uploads into their videos: (the stored file, its original name)."""
    path, meta = _find(settings, user_id, staged_id)
    relative, destination = storage.new_path(settings.media_dir, "videos", user_id, path.suffix)
    path.replace(destination)
    path.with_suffix(".json").unlink(missing_ok=True)
    return storage.StoredFile(relative, meta["sha256"], meta["size"]), meta["name"]


def discard(settings: Settings, user_id: int, staged_id: str) -> None:
    """Drop a staged upload the user removed from the page."""
    try:
        path, _ = _find(settings, user_id, staged_id)
    except IngestError:
        return
    path.unlink(missing_ok=True)
    path.with_suffix(".json").unlink(missing_ok=True)


def sweep(settings: Settings, *, older_than_s: float = STAGED_FOR_S, now: float | None = None) -> int:
    """Remove staged uploads nobody added within a day (the page was closed); returns how many."""
    root = settings.media_dir.resolve() / "uploads"
    if not root.is_dir():
        return 0
    now = time.time() if now is None else now
    removed = 0
    for path in root.glob("*/*"):
        try:
            if path.suffix != ".part" and now - path.stat().st_mtime >= older_than_s:
                path.unlink()
                removed += path.suffix != ".json"
        except OSError:
            continue
    return removed
