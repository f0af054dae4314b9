"""Small factories over the real database, for tests."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from core import auth
from core.auth import Account

_counter = itertools.count(1)
PASSWORD = "correct horse battery"


def make_account(session: Session, username: str | None = None, *, password: str = PASSWORD) -> Account:
    n = next(_counter)
    username = username or f"user{n}"
    return auth.sign_up(
        session, username, f"{username}@example.com", password, video_limit=10, min_password_length=10
    )
