"""Links to stored media (videos, poster frames, clips) that work only while their viewer's right does.

A link names the file, the right it was made under — a signed-in browser session or a group's
share link — and an expiry, signed with a key derived from the installation's secret. Every
request is checked again against the database: the link stops when the session signs out or
expires, when the share link is revoked or replaced, when the video leaves the shared group or is
deleted. So a copied link is not a key to the file forever, and any web process can serve any
file (nothing is held in a process's memory).

Links stay the same for a few hours, so a page that reruns keeps its player instead of
reloading it; they expire after LINK_HOURS to 2 × LINK_HOURS.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import clips, storage
from core.config import Settings
from core.encryption import sign, signed_by_us
from core.errors import AskVideoError, Refused
from db.models import TranscriptChunk, User, UserSession, Video, VideoGroup, VideoGroupMember, WorkspaceMember

ROUTE = "/files"
PURPOSE = "media links"
LINK_HOURS = 4
KINDS = ("video", "thumbnail", "clip", "screen")  # "screen": a screen passage's frame, by its chunk id
CONTENT_TYPES = {
    ".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm", ".mkv": "video/x-matroska",
    ".m4a": "audio/mp4", ".mp3": "audio/mpeg", ".wav": "audio/wav", ".jpg": "image/jpeg",
}


def session_grant(session_id: int) -> str:
    """The right of a signed-in browser session (its row, not its secret token)."""
    return f"s{session_id}"


def share_grant(group_id: int, share_token: str) -> str:
    """The right of a share link: the group and a hash of its current token, so replacing or
    revoking the link ends it."""
    return f"l{group_id}.{_token_hash(share_token)}"


def _token_hash(share_token: str) -> str:
    return hashlib.sha256(share_token.encode()).hexdigest()[:32]


def _message(kind: str, item_id: int, grant: str, expires: int) -> str:
    return f"{kind}:{item_id}:{grant}:{expires}"


def expiry(now: float | None = None) -> int:
    """The end of the window after the current one: links made within one window are identical."""
    window = LINK_HOURS * 3600
    return (int(now if now is not None else time.time()) // window + 2) * window


def signed_path(settings: Settings, kind: str, item_id: int, grant: str, *, download: bool = False,
                now: float | None = None) -> str:
    """The path (with its query) that serves one file under `grant`."""
    expires = expiry(now)
    query = {"g": grant, "e": expires, "s": sign(settings, PURPOSE, _message(kind, item_id, grant, expires))}
    if download:
        query["download"] = 1
    return f"{ROUTE}/{kind}/{item_id}?{urlencode(query)}"


@dataclass(frozen=True)
class Served:
    path: Path
    content_type: str
    download_name: str | None


def check_signature(settings: Settings, kind: str, item_id: int, grant: str, expires: str, signature: str,
                    *, now: float | None = None) -> None:
    """Refuse a link that was not made here or has expired (no database needed for that)."""
    if kind not in KINDS or not expires.isdigit():
        raise Refused(404, "Not found.")
    if not signed_by_us(settings, PURPOSE, _message(kind, item_id, grant, int(expires)), signature):
        raise Refused(403, "This link is not valid.")
    if int(expires) < (now if now is not None else time.time()):
        raise Refused(403, "This link has expired; reload the page for a new one.")


def locate(session: Session, settings: Settings, kind: str, item_id: int, grant: str) -> Served:
    """The file a checked link names, if its right still holds now."""
    holder = _holder(session, grant)
    if kind == "clip":
        if holder.group_id is not None:  # a share link opens its group's videos, not the owner's clips
            raise Refused(404, "Not found.")
        try:
            clip = clips.get_clip(session, settings, holder.user_id, item_id)
        except clips.ClipError:
            raise Refused(404, "Not found.") from None
        if clip.media_path is None:
            raise Refused(404, "Not found.")
        return Served(clip.media_path, _content_type(clip.media_path), clip.download_name)
    if kind == "screen":
        query = (select(TranscriptChunk.thumbnail).join(Video, Video.id == TranscriptChunk.video_id)
                 .where(TranscriptChunk.id == item_id))
    else:
        query = select(Video.file if kind == "video" else Video.thumbnail).where(Video.id == item_id)
    if holder.group_id is None and not holder.sees_all_videos:  # a member of the video's workspace, now
        query = query.where(Video.workspace_id.in_(
            select(WorkspaceMember.workspace_id).where(WorkspaceMember.user_id == holder.user_id)))
    if holder.group_id is not None:
        query = query.where(select(VideoGroupMember.id).where(
            VideoGroupMember.group_id == holder.group_id, VideoGroupMember.video_id == Video.id).exists())
    relative = session.scalar(query)
    try:
        path = storage.resolve(settings.media_dir, relative) if relative else None
    except AskVideoError:
        path = None
    if path is None or not path.is_file():
        raise Refused(404, "Not found.")
    return Served(path, _content_type(path), None)


def _content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


def signed_in_user(session: Session, session_id: int) -> tuple[int, bool] | None:
    """(user id, is staff) of a browser session that is still signed in, else None."""
    row = session.execute(select(User.id, User.is_staff).join(UserSession, UserSession.user_id == User.id).where(
        UserSession.id == session_id, UserSession.expires_at > func.now(), User.is_active)).first()
    return (row.id, row.is_staff) if row else None


@dataclass(frozen=True)
class _Holder:
    user_id: int | None  # the signed-in user; None for a share link
    group_id: int | None  # a share link reaches only its group's videos
    sees_all_videos: bool  # staff review everyone's answers and play their sources


def _holder(session: Session, grant: str) -> _Holder:
    if grant.startswith("s") and grant[1:].isdigit():
        user = signed_in_user(session, int(grant[1:]))
        if user is None:
            raise Refused(403, "You are signed out; sign in again to watch.")
        return _Holder(user[0], None, user[1])
    group_part, _, token_hash = grant[1:].partition(".")
    if grant.startswith("l") and group_part.isdigit() and token_hash:
        row = session.execute(select(VideoGroup.share_token).where(
            VideoGroup.id == int(group_part), VideoGroup.share_token.is_not(None))).first()
        if row is not None and hmac.compare_digest(_token_hash(row.share_token), token_hash):
            return _Holder(None, int(group_part), False)
        raise Refused(403, "This share link was revoked.")
    raise Refused(403, "This link is not valid.")
