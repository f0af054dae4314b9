"""Conversations: questions asked one after another about one scope, kept so a reload, a bookmark
or a second tab reopens them where they were.

A conversation belongs to the workspace of what it asks and is its asker's own: teammates see
its exchanges in Analytics, not in their list. A share-link visitor has no account: the
conversations they start name no member and are theirs through a random token kept in their
browser (`visitor_token`), stored here hashed; nobody's list shows them (Analytics does, as
shared exchanges). Every function takes the viewer's user id (for a visitor, the workspace's
owner the share link answers as) and token, and refuses a conversation that is not theirs, or is
in a workspace they are no longer a member of, with the same message as one that does not exist.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from core import workspaces
from core.auth import hash_token
from core.database import row_id
from core.errors import AskVideoError
from core.groups import owned_group
from core.library import owned_video
from core.text import contains_pattern, one_line
from db.models import ChatLog, Conversation, Video, VideoGroup, WorkspaceMember
from db.states import Scope

TITLE_CHARS = 80
LIST_LIMIT = 50


class ConversationNotFound(AskVideoError):
    def __init__(self) -> None:
        super().__init__("That conversation does not exist or is not yours.")


@dataclass(frozen=True)
class Summary:
    """One line of the conversation list."""

    id: int
    title: str
    scope: str
    group_id: int | None
    video_id: int | None
    target: str  # the group's or video's name, or "Everything"
    turns: int
    updated_at: datetime


def new_visitor_token() -> str:
    """A share-link visitor's key to their own conversations, kept in their browser."""
    return secrets.token_urlsafe(24)


def title_of(question: str) -> str:
    question = one_line(question)
    return question if len(question) <= TITLE_CHARS else question[:TITLE_CHARS - 1] + "…"


def _visitor_hash(visitor_token: str | None) -> str | None:
    if visitor_token is None:
        return None
    if not isinstance(visitor_token, str) or not 20 <= len(visitor_token) <= 100:
        raise ConversationNotFound()
    return hash_token(visitor_token)


def _theirs(user_id: int, visitor_token: str | None):
    """Conditions that keep a viewer to their own conversations, in workspaces they are still in."""
    hashed = _visitor_hash(visitor_token)
    member = Conversation.workspace_id.in_(select(WorkspaceMember.workspace_id)
                                           .where(WorkspaceMember.user_id == user_id))
    if hashed is None:
        return [Conversation.user_id == user_id, member, Conversation.is_shared_origin.is_(False)]
    return [member, Conversation.is_shared_origin.is_(True), Conversation.visitor_token_hash == hashed]


def find(session: Session, owner_id: int, conversation_id: object, *, visitor_token: str | None = None,
         lock: bool = False) -> Conversation:
    """The viewer's conversation, or ConversationNotFound (an id from a URL is hostile input)."""
    wanted = row_id(conversation_id)
    if wanted is None:
        raise ConversationNotFound()
    query = select(Conversation).where(Conversation.id == wanted, *_theirs(owner_id, visitor_token))
    conversation = session.scalars(query.with_for_update() if lock else query).first()
    if conversation is None:
        raise ConversationNotFound()
    return conversation


def check_target(session: Session, user_id: int, *, group_id: int | None, video_id: int | None,
                 workspace_id: int | None = None) -> int:
    """The workspace of what is asked (a group, a video, else everything in `workspace_id`, the
    user's personal one by default), refusing any the user cannot ask before anything is asked."""
    if group_id is not None:
        return owned_group(session, user_id, group_id).workspace_id
    if video_id is not None:
        return owned_video(session, user_id, video_id).workspace_id
    return workspaces.access(session, user_id, workspace_id).workspace_id


def start(session: Session, user_id: int, *, workspace_id: int, question: str, group_id: int | None = None,
          video_id: int | None = None, shared: bool = False, visitor_token: str | None = None) -> int:
    """A new conversation about a group, a video, or (neither given) everything in the workspace,
    titled by its first question. One asked through a share link (`shared`) is the visitor's, by
    their token."""
    scope = Scope.GROUP if group_id is not None else Scope.VIDEO if video_id is not None else Scope.ALL
    visitor = shared or visitor_token is not None
    conversation = Conversation(user_id=None if visitor else user_id, workspace_id=workspace_id, scope=scope,
                                group_id=group_id, video_id=video_id, title=title_of(question) or "A question",
                                is_shared_origin=visitor, visitor_token_hash=_visitor_hash(visitor_token))
    session.add(conversation)
    session.flush()
    return conversation.id


def touch(session: Session, conversation_id: int) -> None:
    """A turn was added: the conversation moves to the top of the list."""
    session.execute(update(Conversation).where(Conversation.id == conversation_id).values(updated_at=func.now()))


def _summaries(owner_id: int, visitor_token: str | None):
    turns = (select(func.count()).where(ChatLog.conversation_id == Conversation.id)
             .correlate(Conversation).scalar_subquery())
    target = func.coalesce(VideoGroup.name, Video.title, "Everything")
    return (select(Conversation, turns.label("turns"), target.label("target"))
            .outerjoin(VideoGroup, VideoGroup.id == Conversation.group_id)
            .outerjoin(Video, Video.id == Conversation.video_id)
            .where(*_theirs(owner_id, visitor_token)))


def _summary(row) -> Summary:
    c, n, name = row
    return Summary(c.id, c.title, c.scope, c.group_id, c.video_id, name, n, c.updated_at)


def summary(session: Session, owner_id: int, conversation_id: object, *,
            visitor_token: str | None = None) -> Summary:
    """One of the viewer's conversations (ConversationNotFound otherwise): what it asks, its title."""
    wanted = row_id(conversation_id)
    row = session.execute(_summaries(owner_id, visitor_token).where(Conversation.id == wanted)).first() \
        if wanted is not None else None
    if row is None:
        raise ConversationNotFound()
    return _summary(row)


def list_conversations(session: Session, owner_id: int, *, words: str = "", group_id: int | None = None,
                       visitor_token: str | None = None, limit: int = LIST_LIMIT,
                       workspace_id: int | None = None) -> list[Summary]:
    """The viewer's conversations in one workspace (the personal one by default; for a visitor,
    the shared group's), newest first; with `words`, those whose title, questions or answers hold
    every one of them (case-insensitive, as typed: no pattern syntax)."""
    if visitor_token is None or workspace_id is not None:
        workspace_id = workspaces.access(session, owner_id, workspace_id).workspace_id
    query = _summaries(owner_id, visitor_token).order_by(Conversation.updated_at.desc(),
                                                         Conversation.id.desc()).limit(limit)
    if workspace_id is not None:
        query = query.where(Conversation.workspace_id == workspace_id)
    if group_id is not None:
        query = query.where(Conversation.group_id == group_id)
    for word in one_line(words)[:200].split()[:10]:
        pattern = contains_pattern(word)
        said = exists().where(ChatLog.conversation_id == Conversation.id,
                              or_(ChatLog.question.ilike(pattern, escape="\\"), ChatLog.answer.ilike(pattern, escape="\\")))
        query = query.where(or_(Conversation.title.ilike(pattern, escape="\\"), said))
    return [_summary(row) for row in session.execute(query).all()]


def rename(session: Session, owner_id: int, conversation_id: object, title: str, *,
           visitor_token: str | None = None) -> str:
    """Give the conversation a title of the viewer's; returns it as stored."""
    title = one_line(title)
    if not title:
        raise AskVideoError("Give the conversation a title.")
    if len(title) > TITLE_CHARS:
        raise AskVideoError(f"A title is at most {TITLE_CHARS} characters.")
    find(session, owner_id, conversation_id, visitor_token=visitor_token, lock=True).title = title
    return title


def delete_conversation(session: Session, owner_id: int, conversation_id: object, *,
                        visitor_token: str | None = None) -> None:
    """Delete the conversation and its exchanges (their ratings and reviews go with them)."""
    conversation = find(session, owner_id, conversation_id, visitor_token=visitor_token, lock=True)
    session.execute(delete(Conversation).where(Conversation.id == conversation.id))


def logs(session: Session, conversation_id: int, *, last: int | None = None) -> list[ChatLog]:
    """The conversation's exchanges in the order they were asked (the last `last` of them)."""
    query = select(ChatLog).where(ChatLog.conversation_id == conversation_id)
    if last is None:
        return list(session.scalars(query.order_by(ChatLog.id)))
    return list(reversed(session.scalars(query.order_by(ChatLog.id.desc()).limit(last)).all()))
