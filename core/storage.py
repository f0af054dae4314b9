"""Media files under the one configured media directory (a shared volume when scaled out).

Names are generated (never the user's file name), and every path read back from the database
is resolved and checked to stay inside the media directory.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from core.errors import IngestError

VIDEO_EXTENSIONS = {".mp4", ".mov", ".webm", ".mkv", ".m4a", ".mp3", ".wav"}
CAPTION_EXTENSIONS = {".srt", ".vtt"}
_COPY_BLOCK = 1024 * 1024
# Scratch nothing has written to for this long was left by a process that died: a clip cut is
# stopped after at most two hours and writes its output all along, an upload writes as it arrives.
ABANDONED_AFTER_S = 3 * 3600
# A video's work folder whose video is not being processed is left over once it is this old (a
# worker that picks the video up again makes a fresh one; the age covers that race).
LEFTOVER_WORK_AFTER_S = 15 * 60


@dataclass(frozen=True)
class StoredFile:
    relative_path: str  # what the database keeps
    sha256: str
    size: int


def extension_of(filename: str) -> str:
    return Path(filename or "").suffix.lower()


def unsupported_video(extension: str) -> str | None:
    """What to tell someone whose file's extension is not a video or audio type we take; None if it is."""
    if extension in VIDEO_EXTENSIONS:
        return None
    return (f"Unsupported file type '{extension or 'none'}'. Upload one of: "
            + ", ".join(sorted(e.lstrip(".") for e in VIDEO_EXTENSIONS)) + ".")


def resolve(media_dir: Path, relative_path: str) -> Path:
    """The absolute path of a stored file; refuses anything that escapes the media directory."""
    root = media_dir.resolve()
    path = (root / relative_path).resolve()
    if root not in path.parents:
        raise IngestError("Invalid media path.")
    return path


def existing(media_dir: Path, relative_path: str | None) -> Path | None:
    """The absolute path of a stored file that is there; None when there is no path, it escapes
    the media directory or the file is gone."""
    if not relative_path:
        return None
    try:
        path = resolve(media_dir, relative_path)
    except IngestError:
        return None
    return path if path.exists() else None


def new_path(media_dir: Path, kind: str, owner_id: int, extension: str) -> tuple[str, Path]:
    relative = f"{kind}/{owner_id}/{uuid.uuid4().hex}{extension}"
    absolute = resolve(media_dir, relative)
    absolute.parent.mkdir(parents=True, exist_ok=True)
    return relative, absolute


class IncomingFile:
    """A file arriving in pieces (an upload, streamed), hashed while it is written to a `.part`
    beside its final name; nothing is left behind unless it is finished. Memory stays one piece."""

    def __init__(self, media_dir: Path, kind: str, owner_id: int, extension: str, *, max_bytes: int) -> None:
        self.relative, self.path = new_path(media_dir, kind, owner_id, extension)
        self.part = self.path.with_name(self.path.name + ".part")
        self.max_bytes, self.size, self._digest = max_bytes, 0, hashlib.sha256()
        self._out = open(self.part, "wb")

    def write(self, block: bytes) -> None:
        self.size += len(block)
        if self.size > self.max_bytes:
            self.discard()
            raise IngestError(f"File is larger than the {self.max_bytes // (1024 * 1024)} MB limit.")
        self._digest.update(block)
        try:
            self._out.write(block)
        except OSError as error:
            self.discard()
            raise IngestError(f"Could not store the file on the server ({error.strerror or error}).") from None

    def finish(self) -> StoredFile:
        try:
            self._out.close()
            os.replace(self.part, self.path)
        except OSError as error:
            self.discard()
            raise IngestError(f"Could not store the file on the server ({error.strerror or error}).") from None
        return StoredFile(self.relative, self._digest.hexdigest(), self.size)

    def discard(self) -> None:
        self._out.close()
        self.part.unlink(missing_ok=True)


def save_stream(
    media_dir: Path, kind: str, owner_id: int, extension: str, stream: BinaryIO, *, max_bytes: int
) -> StoredFile:
    """Copy a readable stream to the media directory while hashing it; nothing is left behind on failure."""
    try:
        incoming = IncomingFile(media_dir, kind, owner_id, extension, max_bytes=max_bytes)
    except OSError as error:
        raise IngestError(f"Could not store the file on the server ({error.strerror or error}).") from None
    try:
        while block := stream.read(_COPY_BLOCK):
            incoming.write(block)
    except BaseException:
        incoming.discard()
        raise
    return incoming.finish()


def delete(media_dir: Path, *relative_paths: str | None) -> None:
    for relative in relative_paths:
        if relative:
            try:
                resolve(media_dir, relative).unlink(missing_ok=True)
            except (OSError, IngestError):
                pass


def work_dir(media_dir: Path, video_id: int) -> Path:
    """Scratch space for one video's processing (downloads, extracted audio); removed after."""
    path = resolve(media_dir, f"work/{video_id}")
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def work_video_ids(media_dir: Path) -> list[int]:
    """The videos that have a work folder (processing now, or left by a worker that was killed)."""
    root = media_dir.resolve() / "work"
    return sorted(int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit()) if root.is_dir() else []


def sweep_leftover_work(media_dir: Path, video_ids: list[int], *, older_than_s: float = LEFTOVER_WORK_AFTER_S,
                        now: float | None = None) -> int:
    """Remove the work folders of these videos — ones no worker is processing (finished, failed
    or deleted after their worker was killed) — unless a worker made one again just now."""
    now = time.time() if now is None else now
    root = media_dir.resolve() / "work"
    removed = 0
    for video_id in video_ids:
        path = root / str(video_id)
        try:
            if now - path.stat().st_mtime < older_than_s:
                continue
            shutil.rmtree(path)
            removed += 1
        except OSError:
            continue  # gone already
    return removed


def sweep_abandoned(media_dir: Path, *, older_than_s: float = ABANDONED_AFTER_S, now: float | None = None) -> int:
    """Remove the scratch a killed worker or server left behind — clip cuts (`*.work` folders)
    and uploads (`*.part` files) — once nothing has written to them for `older_than_s`. Live ones
    are written to continuously, so their times stay fresh. Returns how many were removed."""
    root = media_dir.resolve()
    if not root.is_dir():
        return 0
    now = time.time() if now is None else now
    removed = 0
    for path in [*root.rglob("*.work"), *root.rglob("*.part")]:
        try:
            touched = [path.stat().st_mtime, *(p.stat().st_mtime for p in path.iterdir())] if path.is_dir() \
                else [path.stat().st_mtime]
            if now - max(touched) < older_than_s:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed += 1
        except OSError:
            continue  # another worker swept it first, or it finished just now
    return removed
