"""Small factories over the real database, for tests."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from core import auth
from core.auth import Account
from db.models import ChatLog, Conversation

_counter = itertools.count(1)
PASSWORD = "correct horse battery"


def make_account(session: Session, username: str | None = None, *, password: str = PASSWORD) -> Account:
    n = next(_counter)
    username = username or f"user{n}"
    return auth.sign_up(
        session, username, f"{username}@example.com", password, video_limit=10, min_password_length=10
    )


def chat_log(**fields) -> ChatLog:
    """An exchange as the chat stores it: a turn of a conversation (here one of its own)."""
    return ChatLog(conversation=Conversation(user_id=fields.get("user_id"), scope="group", group_id=fields.get("group_id"),
                                             title=fields.get("question") or "A question",
                                             is_shared_origin=fields.get("is_shared_origin", False)),
                   **fields)
