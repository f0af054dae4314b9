"""The video limit: how many videos a user may keep, and which ones count."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.errors import IngestError
from db.models import User, Video
from db.states import Status


def counts(video: Video) -> bool:
    """Whether a video counts against its owner's limit: all but failed ones that hold no file
    (refused at upload, or a download or upload that was not playable media). Retrying a failed
    link makes it count again, so it is checked then."""
    return not (video.status == Status.ERROR and not video.file)


def counted_videos(user_id: int) -> Select:
    """How many of a user's videos count against their limit (see `counts`)."""
    return select(func.count()).select_from(Video).where(
        Video.user_id == user_id, ~((Video.status == Status.ERROR) & Video.file.is_(None)))


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
