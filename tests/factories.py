"""Small factories over the real database, for tests."""

from __future__ import annotations

import itertools

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import auth, workspaces
from core.auth import Account
from db.models import ChatLog, Conversation, VideoGroup, Workspace

_counter = itertools.count(1)
PASSWORD = "correct horse battery"


def make_account(session: Session, username: str | None = None, *, password: str = PASSWORD) -> Account:
    n = next(_counter)
    username = username or f"user{n}"
    return auth.sign_up(
        session, username, f"{username}@example.com", password, video_limit=10, min_password_length=10
    )


def chat_log(**fields) -> ChatLog:
    """An exchange as the chat stores it: a turn of a conversation (here one of its own), in its
    group's workspace (the asker's personal one without a group), found by SQL when it is saved."""
    if fields.get("group_id") is not None:
        where = select(VideoGroup.workspace_id).where(VideoGroup.id == fields["group_id"]).scalar_subquery()
    else:
        where = select(Workspace.id).where(Workspace.personal_user_id == fields.get("user_id")).scalar_subquery()
    fields.setdefault("workspace_id", where)
    scope = "group" if fields.get("group_id") is not None else "all"
    return ChatLog(conversation=Conversation(user_id=fields.get("user_id"), workspace_id=fields["workspace_id"],
                                             scope=scope, group_id=fields.get("group_id"),
                                             title=fields.get("question") or "A question",
                                             is_shared_origin=fields.get("is_shared_origin", False)),
                   **fields)


def home(session: Session, user_id: int) -> int:
    """The user's personal workspace: where rows a test builds by hand for one user's library go."""
    return workspaces.personal_workspace_id(session, user_id)


def personal_group(session: Session, user_id: int, name: str) -> VideoGroup:
    """A group in the user's personal workspace, flushed (so it has its id)."""
    group = VideoGroup(user_id=user_id, workspace_id=home(session, user_id), name=name)
    session.add(group)
    session.flush()
    return group
