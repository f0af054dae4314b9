"""A signed-in user's own account: change the password or the email, or delete it with its data.

Every change asks for the current password, checked through the sign-in throttle
(`auth.check_password`), so a browser left signed in cannot be used to guess it or to take the
account over. Rules that need no password (a mistyped new password, a taken email) are checked
first, so a typo does not count as a failed attempt.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import auth, passages, storage
from core.config import Settings
from core.database import Database
from core.errors import AskVideoError, IngestError, InvalidCredentials
from db.models import (
    ChatLog, Clip, Comment, ContentTemplate, Invitation, User, UserSession, Video, VideoGroup, Workspace,
    WorkspaceMember,
)
from db.states import Role

# The media folders that hold one owner's files under `<kind>/<user id>/` (core.storage.new_path).
OWNER_MEDIA_FOLDERS = ("uploads",)  # only ever the account's own: staged uploads


class AccountError(AskVideoError):
    """A change to one's own account that cannot be made as asked."""


class LastStaffAccount(AccountError):
    MESSAGE = ("You are the only staff account, and other people still have accounts here: without staff nobody "
               "could invite anyone or see everyone's analytics. Ask whoever runs the server to make another staff "
               "account first (`python -m core.cli createsuperuser`), then delete yours.")

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


@dataclass(frozen=True)
class AccountContents:
    """What an account holds, i.e. what deleting it removes."""

    videos: int
    files: int  # stored files: videos, thumbnails, captions, clips
    stored_bytes: int  # of the videos and clips
    groups: int
    share_links: int
    chat_logs: int  # questions and answers, the owner's and those asked through share links
    clips: int
    comments: int  # written by the user, on the user's videos, or in reply to the user's
    templates: int
    invitations: int  # pending invitations the user made (staff)
    refusal: str | None = None  # why it cannot be deleted now, if it cannot

    def described(self) -> str:
        """What goes, in a sentence for the confirmation (every kind named, even at none)."""
        size = f" ({self.stored_bytes / 2**20:.1f} MB)" if self.stored_bytes else ""
        parts = [
            f"{_plural(self.videos, 'video')} and {_plural(self.files, 'stored file')}{size}",
            f"{_plural(self.groups, 'group')} and {_plural(self.share_links, 'share link')} (they stop working)",
            f"your chat history ({_plural(self.chat_logs, 'question')} and answers)",
            _plural(self.clips, "clip"),
            f"{_plural(self.comments, 'comment')} (yours, those on your videos and the replies to yours)",
            _plural(self.templates, "post template"),
        ]
        if self.invitations:
            parts.append(_plural(self.invitations, "pending invitation"))
        return "Deleted for good: " + ", ".join(parts[:-1]) + f" and {parts[-1]}. Every browser signed in " \
            "as you is signed out. This cannot be undone."


def change_password(db: Database, settings: Settings, user_id: int, *, current: str, new: str, repeated: str,
                    keep_session_id: int | None, address: str | None = None) -> int:
    """Replace the password; every other signed-in browser of this account is signed out (the
    session `keep_session_id`, this browser's, stays). Returns how many were signed out."""
    if new != repeated:
        raise AccountError("The two new passwords differ.")
    with db.session() as session:
        username, email = _user(session, user_id)
    if problem := auth.password_problem(new, username=username, email=email,
                                        min_password_length=settings.min_password_length):
        raise AccountError(problem)
    if new == current:
        raise AccountError("The new password is the same as the current one.")
    checked = auth.check_password(db, user_id, current, address=address)
    with db.session() as session:
        user = _unchanged(session, user_id, checked)
        user.password = auth.hash_password(new)
        others = delete(UserSession).where(UserSession.user_id == user_id)
        if keep_session_id is not None:
            others = others.where(UserSession.id != keep_session_id)
        return session.execute(others).rowcount


def change_email(db: Database, user_id: int, *, current_password: str, new_email: str,
                 address: str | None = None) -> str:
    """Give the account another email address (the same rules as at sign-up); returns it as stored."""
    email = new_email.strip().lower()
    if problem := auth.email_problem(email):
        raise AccountError(problem)
    with db.session() as session:
        _, old = _user(session, user_id)
        if email == old:
            raise AccountError("That is already your email.")
        if _email_taken(session, email):
            raise AccountError(auth.EMAIL_TAKEN)
    checked = auth.check_password(db, user_id, current_password, address=address)
    # Only after the check: asked before it, this would tell whoever types a guess as the new
    # email whether it is the password, without counting the guess.
    if current_password.lower() == email:
        raise AccountError("Password must not be your username or email: choose another email, or change "
                           "your password first.")
    with db.session() as session:
        user = _unchanged(session, user_id, checked)
        user.email = email
        try:
            session.flush()
        except IntegrityError:  # taken by a sign-up or another change since the check above
            raise AccountError(auth.EMAIL_TAKEN) from None
    return email


def _doomed_workspaces(user_id: int):
    """The workspaces that go with the account: its personal one, and teams it is alone in."""
    alone = (select(WorkspaceMember.workspace_id).group_by(WorkspaceMember.workspace_id)
             .having(func.count() == 1, func.bool_and(WorkspaceMember.user_id == user_id)))
    return select(Workspace.id).where((Workspace.personal_user_id == user_id) | Workspace.id.in_(alone))


def _ownerless_teams(session: Session, user_id: int) -> list[str]:
    """Teams the user is the last owner of while others remain: they would be left without one."""
    others = select(WorkspaceMember.workspace_id).where(WorkspaceMember.user_id != user_id)
    owners = (select(func.count()).where(WorkspaceMember.workspace_id == Workspace.id,
                                         WorkspaceMember.role == Role.OWNER, WorkspaceMember.user_id != user_id)
              .correlate(Workspace).scalar_subquery())
    return list(session.scalars(
        select(Workspace.name).join(WorkspaceMember, WorkspaceMember.workspace_id == Workspace.id)
        .where(WorkspaceMember.user_id == user_id, WorkspaceMember.role == Role.OWNER,
               Workspace.personal_user_id.is_(None), Workspace.id.in_(others), owners == 0)
        .order_by(Workspace.name)))


def account_contents(session: Session, user_id: int) -> AccountContents:
    """What deleting the account would remove (its personal workspace, teams it is alone in, its
    comments), and why it cannot be deleted now, if it cannot. Videos it added and questions it
    asked in a team that stays are the team's and stay."""
    doomed_workspaces = _doomed_workspaces(user_id)
    videos = select(Video.id).where(Video.workspace_id.in_(doomed_workspaces))

    def count(query) -> int:
        return session.scalar(query) or 0

    in_doomed = Video.workspace_id.in_(doomed_workspaces)
    clip_doomed = Clip.workspace_id.in_(doomed_workspaces)
    video_files = count(select(func.count(Video.file) + func.count(Video.thumbnail) + func.count(Video.captions_file))
                        .where(in_doomed))
    clip_files = count(select(func.count(Clip.file)).where(clip_doomed))
    stored = count(select(func.sum(Video.file_size)).where(in_doomed, Video.file.is_not(None)))
    stored += count(select(func.sum(Clip.file_size)).where(clip_doomed, Clip.file.is_not(None)))
    ownerless = _ownerless_teams(session, user_id)
    refusal = LastStaffAccount.MESSAGE if _last_staff(session, user_id) else (
        f"You are the last owner of {', '.join(ownerless)}: make another member an owner there (or remove "
        "its other members) before deleting your account." if ownerless else None)
    # Comments go with their writer and with the video they are on; replies go with what they answer.
    doomed = select(Comment.id).where((Comment.user_id == user_id) | Comment.video_id.in_(videos)) \
        .cte("doomed", recursive=True)
    doomed = doomed.union(select(Comment.id).join(doomed, Comment.parent_id == doomed.c.id))
    return AccountContents(
        videos=count(select(func.count()).select_from(Video).where(in_doomed)),
        files=video_files + clip_files,
        stored_bytes=int(stored),
        groups=count(select(func.count()).select_from(VideoGroup).where(VideoGroup.workspace_id.in_(doomed_workspaces))),
        share_links=count(select(func.count()).select_from(VideoGroup)
                          .where(VideoGroup.workspace_id.in_(doomed_workspaces), VideoGroup.share_token.is_not(None))),
        chat_logs=count(select(func.count()).select_from(ChatLog).where(ChatLog.workspace_id.in_(doomed_workspaces))),
        clips=count(select(func.count()).select_from(Clip).where(clip_doomed)),
        comments=count(select(func.count()).select_from(doomed)),
        templates=count(select(func.count()).select_from(ContentTemplate).where(
            ContentTemplate.workspace_id.in_(doomed_workspaces))),
        invitations=count(select(func.count()).select_from(Invitation).where(
            Invitation.created_by_id == user_id, Invitation.used_at.is_(None), Invitation.revoked_at.is_(None),
            Invitation.expires_at > func.now())),
        refusal=refusal,
    )


def delete_account(db: Database, settings: Settings, user_id: int, *, current_password: str,
                   address: str | None = None) -> AccountContents:
    """Delete the account and everything it holds; returns what went.

    The rows go in one transaction (users' ON DELETE CASCADE takes sessions, groups, share links,
    chat logs, summaries, comments, templates, invitations); the files only after it committed, as
    `library.delete_video` does, so a failed delete never leaves rows pointing at missing media."""
    with db.session() as session:
        _refuse_if_needed(account_contents(session, user_id))  # said before the password is asked for
    checked = auth.check_password(db, user_id, current_password, address=address)
    with db.session() as session:
        _unchanged(session, user_id, checked)
        # Asked again under the lock a first sign-up takes (it becomes staff when the installation
        # is empty), so that sign-up and this deletion each see what the other did; staff deleting
        # themselves at the same time take it in turn.
        auth.lock_roster(session)
        contents = account_contents(session, user_id)
        _refuse_if_needed(contents)
        doomed = list(session.scalars(_doomed_workspaces(user_id)))
        # Deleted with RETURNING (not read, then cascaded) so a worker recording a clip or a
        # thumbnail meanwhile either lands before this (and is returned) or finds its row gone
        # (and removes its own file).
        files = [f for f in session.scalars(delete(Clip).where(Clip.workspace_id.in_(doomed))
                                            .returning(Clip.file)) if f]
        files += passages.screen_thumbnails(session, select(Video.id).where(Video.workspace_id.in_(doomed)))
        for row in session.execute(delete(Video).where(Video.workspace_id.in_(doomed))
                                   .returning(Video.file, Video.thumbnail, Video.captions_file)):
            files += [f for f in row if f]
        session.execute(delete(Workspace).where(Workspace.id.in_(doomed)))
        session.execute(delete(User).where(User.id == user_id))
    _delete_media(settings, user_id, files)
    return contents


def _refuse_if_needed(contents: AccountContents) -> None:
    if contents.refusal == LastStaffAccount.MESSAGE:
        raise LastStaffAccount()
    if contents.refusal:
        raise AccountError(contents.refusal)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _user(session: Session, user_id: int) -> tuple[str, str]:
    found = session.execute(select(User.username, User.email).where(User.id == user_id)).first()
    if found is None:
        raise InvalidCredentials("This account no longer exists.")
    return found.username, found.email


def _unchanged(session: Session, user_id: int, checked_hash: str) -> User:
    """The user's row, locked for the change, if its password is still the one just checked."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise InvalidCredentials("This account no longer exists.")
    if user.password != checked_hash:
        raise InvalidCredentials("Your password was changed meanwhile (in another browser?). Sign in again.")
    return user


def _email_taken(session: Session, email: str) -> bool:
    return session.scalar(select(User.id).where(User.email == email)) is not None


def _last_staff(session: Session, user_id: int) -> bool:
    """Whether this is the last active staff account while other accounts remain: it may not go, or
    nobody would be left to invite people or look after them. (Alone on the installation it may:
    the next sign-up becomes staff, as the first account always does.)"""
    if not session.scalar(select(User.is_staff).where(User.id == user_id)):
        return False
    other_staff = session.scalar(select(func.count()).select_from(User).where(
        User.id != user_id, User.is_staff, User.is_active))
    others = session.scalar(select(func.count()).select_from(User).where(User.id != user_id))
    return bool(others) and not other_staff


def _delete_media(settings: Settings, user_id: int, files: list[str]) -> None:
    """The account's files: those its deleted rows named, then its staged uploads. (Its other
    folders may hold the files of videos it added to a team that stays.)"""
    storage.delete(settings.media_dir, *files)
    for kind in OWNER_MEDIA_FOLDERS:
        try:
            folder = storage.resolve(settings.media_dir, f"{kind}/{user_id}")
        except IngestError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
