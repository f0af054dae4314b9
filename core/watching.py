"""What the Library's video page shows, read in one go: one session per rerun instead of seven.

The panels on the page (chapters, summary, clips, comments) are handed their part of this; the
ones that refresh themselves while work finishes (status, clips being cut) read again on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core import chapters, clips, comments, library, summaries
from core.config import Settings


@dataclass(frozen=True)
class VideoPage:
    detail: library.VideoDetail
    chapters: list[chapters.ChapterView]
    summary: summaries.SummaryView | None
    clips: list[clips.ClipView]
    comments: list[comments.CommentView]
    comment_count: int


def video_page(session: Session, settings: Settings, user_id: int, video_id: int) -> VideoPage:
    """Everything the owner's page for one video shows; VideoNotFound if it is not theirs."""
    detail = library.video_detail(session, settings, user_id, video_id)
    return VideoPage(
        detail=detail,
        chapters=chapters.list_chapters(session, user_id, video_id),
        summary=summaries.cached(session, settings, user_id, video_id=video_id),
        clips=clips.list_clips(session, settings, user_id, video_id=video_id),
        comments=comments.thread(session, user_id, video_id),
        comment_count=comments.count(session, video_id),
    )
