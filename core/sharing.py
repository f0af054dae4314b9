"""Share links: an unguessable token opens one group, read-only, to anyone holding it.

The token is the only credential, so it is long (`secrets.token_urlsafe(32)`, 256 bits), compared
in the database by equality on a unique index, and revoking it (NULL) ends access at once.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core import workspaces
from core.database import Database
from core.errors import AskVideoError
from core.groups import Member, owned_group, members
from db.models import SharedQuestion, VideoGroup
from db.states import Role

TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")


class ShareLinkInvalid(AskVideoError):
    def __init__(self) -> None:
        super().__init__("This link is not valid. It may have been revoked; ask its owner for a new one.")


class RateLimited(AskVideoError):
    pass


@dataclass(frozen=True)
class SharedGroup:
    """What a visitor with the link may know: the group, its videos — nothing about the owner."""

    group_id: int
    owner_id: int  # the workspace's owner who holds visitors' conversations and whose models answer
    workspace_id: int
    name: str
    description: str
    members: list[Member]


def create_link(session: Session, user_id: int, group_id: int) -> str:
    """Give the group a new share token (replacing any old one, which stops working); editors and
    owners of its workspace may."""
    group = owned_group(session, user_id, group_id, needs=Role.EDITOR)
    group.share_token = secrets.token_urlsafe(TOKEN_BYTES)
    return group.share_token


def revoke_link(session: Session, user_id: int, group_id: int) -> None:
    owned_group(session, user_id, group_id, needs=Role.EDITOR).share_token = None


def return_token(value: object) -> str | None:
    """The share token a visitor who signs in is brought back to, if `value` is shaped like one.
    Anything else (an address, a path) is None: a sign-in only ever returns to this app's own
    share page, so the `next` it carries can send no one elsewhere."""
    return value if isinstance(value, str) and _TOKEN_SHAPE.fullmatch(value) else None


def open_link(session: Session, token: str | None) -> SharedGroup:
    if not isinstance(token, str) or not (20 <= len(token) <= 100):
        raise ShareLinkInvalid()
    group = session.scalars(select(VideoGroup).where(VideoGroup.share_token == token)).first()
    if group is None:
        raise ShareLinkInvalid()
    return SharedGroup(group.id, workspaces.model_holder(session, group.workspace_id), group.workspace_id,
                       group.name, group.description, members(session, group.id))


def take_question(db: Database, group_id: int, *, per_hour: int) -> None:
    """Count one shared question against the link's limit of `per_hour` (all visitors) before any
    work is done, or refuse it. Counted when asked, not when answered: a question interrupted or
    failed has cost the owner's provider too. The group row's lock makes concurrent visitors take
    turns, so a burst cannot slip past the count."""
    with db.session() as session:
        session.scalar(select(VideoGroup.id).where(VideoGroup.id == group_id).with_for_update())
        recent = session.scalar(select(func.count()).select_from(SharedQuestion).where(
            SharedQuestion.group_id == group_id, SharedQuestion.asked_at > func.now() - timedelta(hours=1)))
        if recent >= per_hour:
            raise RateLimited(
                f"This shared link has reached its limit of {per_hour} questions per hour. Please try again later."
            )
        session.add(SharedQuestion(group_id=group_id))


def purge_old_questions(session: Session) -> int:
    """Forget shared questions older than the hour the limit looks at; returns how many."""
    return session.execute(delete(SharedQuestion).where(
        SharedQuestion.asked_at <= func.now() - timedelta(hours=1))).rowcount
