"""Comments on a video: plain text, optionally at a second or a chapter, in threads.

Who may comment: every member of the video's workspace, and any signed-in user holding a valid
share link of a group that contains the video. Everyone edits and deletes only their own comments;
the workspace's editors and owners may also delete others'. A deleted comment that
has replies stays as "deleted" so the thread still reads; without replies it is removed.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from core import workspaces
from core.errors import AskVideoError, VideoNotFound
from core.text import clean
from core.transcripts import format_timestamp
from db.models import WITHOUT_TRANSCRIPT, Chapter, Comment, User, Video, VideoGroup, VideoGroupMember
from db.states import Role

MAX_LENGTH = 2000
DELETED_TEXT = "This comment was deleted."


class CommentError(AskVideoError):
    pass


@dataclass
class CommentView:
    id: int
    author: str
    text: str
    at_s: float | None
    chapter_title: str | None
    created_at: datetime
    edited: bool
    deleted: bool
    mine: bool
    can_delete: bool
    replies: list[CommentView] = field(default_factory=list)

    @property
    def anchor(self) -> str | None:
        """"at 02:05" or "chapter Baking · 02:05" for display; None when not anchored."""
        if self.at_s is None:
            return None
        stamp = format_timestamp(self.at_s)
        return f"{self.chapter_title} · {stamp}" if self.chapter_title else stamp


def _video_for(session: Session, user_id: int, video_id: int, share_token: str | None) -> Video:
    """The video if `user_id` may read and write its comments (a member of its workspace, or
    holding a share link of a group it is in); VideoNotFound otherwise."""
    video = session.get(Video, video_id, options=WITHOUT_TRANSCRIPT) if isinstance(video_id, int) else None
    if video is None:
        raise VideoNotFound()
    if _role(session, user_id, video.workspace_id) is not None:
        return video
    if share_token and session.scalar(select(exists().where(
        VideoGroup.share_token == share_token, VideoGroupMember.group_id == VideoGroup.id,
        VideoGroupMember.video_id == video_id,
    ))):
        return video
    raise VideoNotFound()


def _role(session: Session, user_id: int, workspace_id: int) -> Role | None:
    try:
        return workspaces.access(session, user_id, workspace_id).role
    except workspaces.WorkspaceNotFound:
        return None


def _moderates(session: Session, user_id: int, workspace_id: int) -> bool:
    """Editors and owners of a video's workspace may delete anyone's comment on it."""
    role = _role(session, user_id, workspace_id)
    return role is not None and role != Role.VIEWER


def _clean_text(text: str) -> str:
    body = clean(text).strip()
    if not body:
        raise CommentError("Write something first: the comment is empty.")
    if len(body) > MAX_LENGTH:
        raise CommentError(f"A comment can be at most {MAX_LENGTH:,} characters (this one has {len(body):,}).")
    return body


def add_comment(session: Session, user_id: int, video_id: int, text: str, *, at_s: float | None = None,
                chapter_id: int | None = None, parent_id: int | None = None, share_token: str | None = None) -> int:
    video = _video_for(session, user_id, video_id, share_token)
    body = _clean_text(text)
    if parent_id is not None:
        # FOR SHARE: the parent cannot be deleted while this reply is being added.
        parent = session.get(Comment, parent_id, with_for_update={"read": True})
        if parent is None or parent.video_id != video_id:
            raise CommentError("The comment you are replying to is not on this video.")
        if parent.is_deleted:
            raise CommentError("That comment was deleted; it cannot be replied to.")
    if chapter_id is not None:
        chapter = session.get(Chapter, chapter_id)
        if chapter is None or chapter.video_id != video_id:
            raise CommentError("That chapter is not part of this video.")
        at_s = chapter.start_s if at_s is None else at_s
    if at_s is not None:
        at_s = round(float(at_s), 1)
        if not math.isfinite(at_s) or at_s < 0 or (video.duration_s and at_s > video.duration_s + 0.5):
            raise CommentError(f"The moment must be between 00:00 and {format_timestamp(video.duration_s or 0)}.")
    comment = Comment(video_id=video_id, user_id=user_id, parent_id=parent_id, chapter_id=chapter_id,
                      at_s=at_s, text=body)
    session.add(comment)
    session.flush()
    return comment.id


def _own(session: Session, user_id: int, comment_id: int, share_token: str | None) -> Comment:
    """The comment, locked, while `user_id` may still see its video: an author who has left the
    workspace or whose share link was revoked no longer changes what its members read."""
    comment = session.get(Comment, comment_id, with_for_update=True) if isinstance(comment_id, int) else None
    if comment is None or comment.is_deleted:
        raise CommentError("That comment does not exist any more.")
    _video_for(session, user_id, comment.video_id, share_token)
    return comment


def edit_comment(session: Session, user_id: int, comment_id: int, text: str, *,
                 share_token: str | None = None) -> None:
    comment = _own(session, user_id, comment_id, share_token)
    if comment.user_id != user_id:
        raise CommentError("You can only edit your own comments.")
    comment.text = _clean_text(text)
    comment.edited_at = datetime.now(UTC)


def delete_comment(session: Session, user_id: int, comment_id: int, *, share_token: str | None = None) -> None:
    """The author, or an editor or owner of the video's workspace, deletes a comment (kept as "deleted" while it has replies)."""
    comment = _own(session, user_id, comment_id, share_token)
    if comment.parent_id is not None:
        # Siblings deleted at once take turns, so the last one sees it is last and cleans up.
        session.get(Comment, comment.parent_id, with_for_update=True)
    workspace_id = session.scalar(select(Video.workspace_id).where(Video.id == comment.video_id))
    if user_id != comment.user_id and not _moderates(session, user_id, workspace_id):
        raise CommentError("You can only delete your own comments.")
    has_replies = session.scalar(select(exists().where(Comment.parent_id == comment.id)))
    if has_replies:
        comment.is_deleted, comment.text = True, ""
        return
    parent_id = comment.parent_id
    session.delete(comment)
    session.flush()
    # A deleted parent kept only for this reply goes too, and so on up the thread.
    while parent_id is not None:
        parent = session.get(Comment, parent_id)
        if parent is None or not parent.is_deleted or session.scalar(
                select(exists().where(Comment.parent_id == parent.id))):
            break
        parent_id = parent.parent_id
        session.delete(parent)
        session.flush()


def thread(session: Session, user_id: int, video_id: int, *, share_token: str | None = None) -> list[CommentView]:
    """The video's comments as threads: top-level comments oldest first, each with its replies."""
    video = _video_for(session, user_id, video_id, share_token)
    moderates = _moderates(session, user_id, video.workspace_id)
    author = aliased(User)
    rows = session.execute(
        select(Comment, author.username, Chapter.title)
        .join(author, author.id == Comment.user_id)
        .outerjoin(Chapter, Chapter.id == Comment.chapter_id)
        .where(Comment.video_id == video_id)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    views: dict[int, CommentView] = {}
    roots: list[CommentView] = []
    for comment, username, chapter_title in rows:
        view = CommentView(
            id=comment.id, author=username, text=DELETED_TEXT if comment.is_deleted else comment.text,
            at_s=comment.at_s, chapter_title=chapter_title, created_at=comment.created_at,
            edited=comment.edited_at is not None, deleted=comment.is_deleted,
            mine=comment.user_id == user_id and not comment.is_deleted,
            can_delete=not comment.is_deleted and (comment.user_id == user_id or moderates),
        )
        views[comment.id] = view
        parent = views.get(comment.parent_id) if comment.parent_id else None
        (parent.replies if parent else roots).append(view)
    return roots


def count(session: Session, video_id: int) -> int:
    """Comments on the video that are not deleted (for a tab label)."""
    return session.scalar(select(func.count()).select_from(Comment).where(
        Comment.video_id == video_id, Comment.is_deleted.is_(False)))
