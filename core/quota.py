"""The video limit: how many videos a user may keep, and which ones count."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.errors import IngestError
from db.models import User, Video


def counted_videos(user_id: int) -> Select:
    """The videos that count against a user's limit: all but failed uploads whose file was not
    kept (refused at upload, or found unplayable), which hold nothing and cannot be retried."""
    return select(func.count()).select_from(Video).where(
        Video.user_id == user_id, ~((Video.status == "error") & (Video.source == "upload") & Video.file.is_(None)))


def check_quota(session: Session, user_id: int, adding: int) -> None:
    """Refuse a submission that would take the user past their video limit. The user's row stays
    locked until the caller's transaction ends, so submissions from two tabs take turns: the
    check and the rows it lets in are one step."""
    limit = session.scalar(select(User.video_limit).where(User.id == user_id).with_for_update())
    if limit is None:
        raise IngestError("Account not found.")
    owned = session.scalar(counted_videos(user_id))
    if owned + adding > limit:
        room = max(0, limit - owned)
        raise IngestError(
            f"Your limit is {limit} videos and you have {owned}: "
            + (f"you can add {room} more, not {adding}." if room else "delete some videos to add new ones.")
        )
