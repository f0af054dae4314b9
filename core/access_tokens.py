"""Personal access tokens: how scripts, chat tools and AI assistants (REST API, MCP) act as a user.

A token is shown once when made; the database keeps only its SHA-256, as for browser sessions.
It carries a scope (read, or read and ask) and acts as its owner: every call goes through the same
core functions and workspace roles as the pages, so a token never reaches further than its owner
can. It may also be limited to one workspace (least privilege: a script for a team's library
cannot read its owner's personal one): `reach` then keeps every call inside it, and anything
elsewhere looks like nothing, as it does to a stranger. It stops at its expiry, when revoked, or
when its owner's account is disabled. Calls are counted per token and minute in PostgreSQL, so
the limit holds across every web process.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core import workspaces
from core.auth import hash_token
from core.conversations import ConversationNotFound
from core.database import row_id
from core.errors import AnswerNotRatable, AskVideoError, GroupNotFound, VideoNotFound
from core.sharing import RateLimited
from db.models import AccessToken, AccessTokenCalls, ChatLog, Conversation, User, Video, VideoGroup, Workspace
from db.states import TokenScope

PREFIX = "avt_"  # says what a leaked string is (secret scanners match on it)
MAX_NAME = 100
EXPIRY_DAYS = (7, 30, 90, 365)
LAST_USED_EVERY = timedelta(minutes=1)  # last-used time is written at most this often per token


class TokenRefused(AskVideoError):
    """A token that is unknown, expired, revoked or not allowed this call; `status` is the HTTP one."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class TokenSummary:
    id: int
    name: str
    scope: TokenScope
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    workspace_id: int | None = None  # None: every workspace of its owner
    workspace_name: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > datetime.now(timezone.utc))


@dataclass(frozen=True)
class Caller:
    """Who a valid token acts as, and what it may do."""

    user_id: int
    token_id: int
    scope: TokenScope
    workspace_id: int | None = None  # the one workspace it may reach; None: all its owner's

    def may_ask(self) -> bool:
        return self.scope == TokenScope.ASK


def _summary(row: AccessToken, workspace_name: str | None) -> TokenSummary:
    return TokenSummary(row.id, row.name, TokenScope(row.scope), row.created_at, row.expires_at, row.last_used_at,
                        row.revoked_at, row.workspace_id, workspace_name)


def create(session: Session, user_id: int, name: str, scope: str, *, days: int | None,
           workspace_id: int | None = None) -> tuple[TokenSummary, str]:
    """Make a token for `user_id`, limited to `workspace_id` (one they are a member of) when given;
    returns it and its secret, which is never readable again."""
    name = " ".join((name or "").split())
    if not name:
        raise AskVideoError("Give the token a name, so you know later what uses it.")
    if len(name) > MAX_NAME:
        raise AskVideoError(f"Token names are at most {MAX_NAME} characters.")
    if scope not in TokenScope.__members__.values():
        raise AskVideoError("A token's scope is read, or read and ask.")
    if days is not None and days not in EXPIRY_DAYS:
        raise AskVideoError("Choose one of the offered expiries.")
    workspace_name = None
    if workspace_id is not None:
        workspace_id = workspaces.access(session, user_id, workspace_id).workspace_id
        workspace_name = session.scalar(select(Workspace.name).where(Workspace.id == workspace_id))
    secret = PREFIX + secrets.token_urlsafe(32)
    row = AccessToken(user_id=user_id, name=name, token_hash=hash_token(secret), scope=scope, workspace_id=workspace_id,
                      expires_at=datetime.now(timezone.utc) + timedelta(days=days) if days else None)
    session.add(row)
    session.flush()
    session.refresh(row)
    return _summary(row, workspace_name), secret


def list_tokens(session: Session, user_id: int) -> list[TokenSummary]:
    """The user's tokens for the Settings page, active first, each with the workspace it is limited to."""
    rows = session.execute(
        select(AccessToken, Workspace.name).outerjoin(Workspace, Workspace.id == AccessToken.workspace_id)
        .where(AccessToken.user_id == user_id)
        .order_by(AccessToken.revoked_at.is_not(None), AccessToken.created_at.desc()))
    return [_summary(row, workspace_name) for row, workspace_name in rows]


def revoke(session: Session, user_id: int, token_id: int) -> None:
    """Stop one of the user's tokens at once (kept in the list, marked revoked)."""
    changed = session.execute(update(AccessToken).where(
        AccessToken.id == token_id, AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None),
    ).values(revoked_at=func.now())).rowcount
    if not changed:
        raise AskVideoError("That token is not yours or is already revoked.")


def authenticate(session: Session, secret: str | None) -> Caller:
    """The caller a presented token acts as (TokenRefused when it does not hold now)."""
    if not isinstance(secret, str) or not secret.startswith(PREFIX) or len(secret) > 200:
        raise TokenRefused("A personal access token is needed: Authorization: Bearer avt_…")
    found = session.execute(
        select(AccessToken, User.is_active).join(User, User.id == AccessToken.user_id)
        .where(AccessToken.token_hash == hash_token(secret))
    ).first()
    if found is None or not found[1] or found[0].revoked_at is not None:
        raise TokenRefused("This token is not valid (unknown or revoked).")
    token = found[0]
    now = datetime.now(timezone.utc)
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRefused("This token has expired; make a new one on the Settings page.")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        session.execute(update(AccessToken).where(AccessToken.id == token.id).values(last_used_at=func.now()))
    return Caller(token.user_id, token.id, TokenScope(token.scope), token.workspace_id)


# What a limited token meets when it names something in another workspace: what a stranger meets.
_ELSEWHERE = ((VideoGroup, GroupNotFound), (Video, VideoNotFound), (Conversation, ConversationNotFound),
              (ChatLog, AnswerNotRatable))


def reach(session: Session, caller: Caller, *, workspace_id: int | None = None, group_id: int | None = None,
          video_id: int | None = None, conversation_id: int | None = None,
          answer_id: int | None = None) -> int | None:
    """The workspace a call acts in: as named for a token of every workspace; for a token limited to
    one, that one, refusing whatever the call names elsewhere with the error a stranger would get.
    Membership and roles are still checked by the core function the call goes on to."""
    if caller.workspace_id is None:
        return workspace_id
    if workspace_id is not None and workspace_id != caller.workspace_id:
        raise workspaces.WorkspaceNotFound()
    for (model, missing), wanted in zip(_ELSEWHERE, (group_id, video_id, conversation_id, answer_id)):
        if wanted is None:
            continue
        if row_id(wanted) != wanted:  # an id no row can have (2**70): nothing there, without asking the database
            raise missing()
        if session.scalar(select(model.workspace_id).where(model.id == wanted)) != caller.workspace_id:
            raise missing()
    return caller.workspace_id


def take_call(session: Session, caller: Caller, *, per_minute: int) -> None:
    """Count one call against the token's limit for this minute, or refuse it (RateLimited).

    One upsert: concurrent calls from several web processes each add one, and the row's lock makes
    them take turns, so a burst cannot slip past the count."""
    minute = func.date_trunc("minute", func.now())
    calls = session.scalar(
        insert(AccessTokenCalls).values(token_id=caller.token_id, minute=minute, calls=1)
        .on_conflict_do_update(index_elements=["token_id", "minute"],
                               set_={"calls": AccessTokenCalls.calls + 1})
        .returning(AccessTokenCalls.calls))
    if calls > per_minute:
        raise RateLimited(f"This token has made more than {per_minute} calls this minute; wait a moment.")


def purge_old_calls(session: Session) -> int:
    """Forget call counts of past minutes; returns how many rows went."""
    return session.execute(delete(AccessTokenCalls).where(
        AccessTokenCalls.minute < func.date_trunc("minute", func.now()))).rowcount
