"""Workspaces: where a library lives, who is in it, and what each member may do.

Every user has a personal workspace (made at sign-up) and may create team workspaces and invite
people into them. Videos, groups, conversations, chat logs and everything made from them belong to
one workspace, and every core function that touches them first asks `access` for the acting
user's membership: the one place a role is checked. `access` reads the membership on every call,
so a member removed or demoted loses the right at once, whatever their browser still shows.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from core import auth, passages, storage
from core.config import Settings
from core.database import Database
from core.errors import AskVideoError
from core.text import one_line
from db.models import Clip, User, Video, Workspace, WorkspaceInvitation, WorkspaceMember
from db.states import Role

INVITATION_DAYS = 7
MAX_LINK_USES = 500
_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.OWNER: 2}
_NEEDS = {Role.VIEWER: "", Role.EDITOR: "an editor or owner", Role.OWNER: "an owner"}


class WorkspaceNotFound(AskVideoError):
    def __init__(self) -> None:
        super().__init__("That workspace does not exist or you are not a member of it.")


class NotAllowed(AskVideoError):
    """The acting member's role does not allow what was asked."""


class InvitationInvalid(AskVideoError):
    """A workspace invitation that is unknown, used up, expired, revoked or for another address."""


@dataclass(frozen=True)
class Access:
    """One user acting in one workspace with their role there, as `access` found it."""

    user_id: int
    workspace_id: int
    role: Role

    def can(self, role: Role) -> bool:
        """Whether this member's role is `role` or above it."""
        return _RANK[self.role] >= _RANK[role]


@dataclass(frozen=True)
class WorkspaceSummary:
    id: int
    name: str
    role: Role  # the member's own
    personal: bool
    members: int

    def can(self, role: Role) -> bool:
        """Whether a page should offer what `role` may do (core checks again whatever it shows)."""
        return _RANK[self.role] >= _RANK[role]


@dataclass(frozen=True)
class MemberView:
    user_id: int
    username: str
    email: str
    role: Role
    joined_at: datetime


@dataclass(frozen=True)
class NewInvitation:
    token: str  # for the link; shown once, never stored
    email: str | None
    role: Role
    max_uses: int
    expires_at: datetime


@dataclass(frozen=True)
class PendingInvitation:
    id: int
    email: str | None
    role: Role
    uses: int
    max_uses: int
    invited_by: str | None
    expires_at: datetime


@dataclass(frozen=True)
class InvitationOffer:
    """What an invitation link says before it is accepted."""

    workspace_name: str
    role: Role
    email: str | None  # the only address that may accept it; None: anyone holding the link


# ----------------------------------------------------------------------------------------- access


def personal_workspace_id(session: Session, user_id: int) -> int:
    workspace_id = session.scalar(select(Workspace.id).where(Workspace.personal_user_id == user_id))
    if workspace_id is None:
        raise WorkspaceNotFound()
    return workspace_id


def access(session: Session, user_id: int, workspace_id: int | None = None, *, needs: Role = Role.VIEWER,
           missing: AskVideoError | None = None) -> Access:
    """The user's access to the workspace (their personal one when None), if they are a member whose
    role is `needs` or above. A non-member gets `missing` (WorkspaceNotFound by default; a caller
    looking up a video by id passes its own "not found", so an id in someone else's workspace
    looks like no id at all); a member whose role is too low gets NotAllowed."""
    if workspace_id is None:
        workspace_id = personal_workspace_id(session, user_id)
    if not isinstance(workspace_id, int) or isinstance(workspace_id, bool):
        raise missing or WorkspaceNotFound()
    role = session.scalar(
        select(WorkspaceMember.role)
        .join(User, User.id == WorkspaceMember.user_id)
        .where(WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.user_id == user_id, User.is_active)
    )
    if role is None:
        raise missing or WorkspaceNotFound()
    found = Access(user_id, workspace_id, Role(role))
    if not found.can(needs):
        raise NotAllowed(f"Only {_NEEDS[needs]} of this workspace can do that.")
    return found


def model_holder(session: Session, workspace_id: int) -> int:
    """The user whose model settings (OpenAI key, endpoint, models) the workspace's indexing and
    answers use: the personal workspace's user, a team's creator while an owner there, else its
    longest-standing owner. One account's settings for the whole workspace keep every video
    indexed with the model its questions are embedded with."""
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise WorkspaceNotFound()
    if workspace.personal_user_id is not None:
        return workspace.personal_user_id
    owners = session.scalars(
        select(WorkspaceMember.user_id).where(WorkspaceMember.workspace_id == workspace_id,
                                              WorkspaceMember.role == Role.OWNER)
        .order_by(WorkspaceMember.joined_at, WorkspaceMember.user_id)
    ).all()
    if not owners:
        raise AskVideoError("This workspace has no owner left to answer with their model settings.")
    return workspace.created_by_id if workspace.created_by_id in owners else owners[0]


def models_from(session: Session, user_id: int, workspace_id: int) -> str | None:
    """Whose model settings answer in this workspace, named for a member they are not the
    settings of (None when they are the user's own)."""
    holder = model_holder(session, access(session, user_id, workspace_id).workspace_id)
    return None if holder == user_id else session.scalar(select(User.username).where(User.id == holder))


# ------------------------------------------------------------------------------------- workspaces


def _clean_name(name: str) -> str:
    name = one_line(name or "")
    if not name:
        raise AskVideoError("A workspace needs a name.")
    if len(name) > 200:
        raise AskVideoError("Workspace names are at most 200 characters.")
    return name


def create_workspace(session: Session, user_id: int, name: str) -> int:
    """A team workspace with its creator as its owner."""
    workspace = Workspace(name=_clean_name(name), created_by_id=user_id)
    session.add(workspace)
    session.flush()
    session.add(WorkspaceMember(workspace_id=workspace.id, user_id=user_id, role=Role.OWNER))
    session.flush()
    return workspace.id


def list_workspaces(session: Session, user_id: int) -> list[WorkspaceSummary]:
    """The user's workspaces: their personal one first, then teams by name."""
    counts = (select(WorkspaceMember.workspace_id, func.count().label("n"))
              .group_by(WorkspaceMember.workspace_id).subquery())
    rows = session.execute(
        select(Workspace, WorkspaceMember.role, counts.c.n)
        .join(WorkspaceMember, WorkspaceMember.workspace_id == Workspace.id)
        .join(counts, counts.c.workspace_id == Workspace.id)
        .where(WorkspaceMember.user_id == user_id)
        .order_by(Workspace.personal_user_id.is_(None), func.lower(Workspace.name), Workspace.id)
    ).all()
    return [WorkspaceSummary(w.id, w.name, Role(role), w.personal_user_id is not None, n) for w, role, n in rows]


def rename_workspace(session: Session, user_id: int, workspace_id: int, name: str) -> None:
    access(session, user_id, workspace_id, needs=Role.OWNER)
    session.get(Workspace, workspace_id).name = _clean_name(name)


def delete_workspace(db: Database, settings: Settings, user_id: int, workspace_id: int) -> None:
    """Delete a team workspace and everything in it, then its videos' and clips' files."""
    with db.session() as session:
        access(session, user_id, workspace_id, needs=Role.OWNER)
        workspace = session.get(Workspace, workspace_id, with_for_update=True)
        if workspace.personal_user_id is not None:
            raise NotAllowed("A personal workspace goes only with its account.")
        videos = session.execute(select(Video.file, Video.thumbnail, Video.captions_file)
                                 .where(Video.workspace_id == workspace_id)).all()
        files = [path for row in videos for path in row if path]
        files += [path for path in session.scalars(select(Clip.file).where(Clip.workspace_id == workspace_id)) if path]
        files += passages.screen_thumbnails(session, select(Video.id).where(Video.workspace_id == workspace_id))
        session.delete(workspace)
    # Files go only once the rows are gone for good (as when one video is deleted).
    storage.delete(settings.media_dir, *files)


# ---------------------------------------------------------------------------------------- members


def members(session: Session, user_id: int, workspace_id: int) -> list[MemberView]:
    access(session, user_id, workspace_id)
    rows = session.execute(
        select(User.id, User.username, User.email, WorkspaceMember.role, WorkspaceMember.joined_at)
        .join(WorkspaceMember, WorkspaceMember.user_id == User.id)
        .where(WorkspaceMember.workspace_id == workspace_id)
        .order_by(func.lower(User.username))
    ).all()
    return [MemberView(i, name, email, Role(role), joined) for i, name, email, role, joined in rows]


def _membership(session: Session, workspace_id: int, member_id: int) -> WorkspaceMember:
    """A member's row, locked with every owner row of the workspace, so two owners demoting each
    other at once cannot leave the workspace without one."""
    session.scalars(select(WorkspaceMember).where(WorkspaceMember.workspace_id == workspace_id,
                                                  WorkspaceMember.role == Role.OWNER).with_for_update()).all()
    row = session.scalars(select(WorkspaceMember).where(WorkspaceMember.workspace_id == workspace_id,
                                                        WorkspaceMember.user_id == member_id).with_for_update()).first()
    if row is None:
        raise AskVideoError("That person is not a member of this workspace.")
    return row


def _refuse_last_owner(session: Session, row: WorkspaceMember, what: str) -> None:
    if row.role != Role.OWNER:
        return
    owners = session.scalar(select(func.count()).select_from(WorkspaceMember).where(
        WorkspaceMember.workspace_id == row.workspace_id, WorkspaceMember.role == Role.OWNER))
    if owners <= 1:
        raise NotAllowed(f"A workspace needs an owner: make someone else an owner before {what}.")


def set_role(session: Session, user_id: int, workspace_id: int, member_id: int, role: str) -> None:
    access(session, user_id, workspace_id, needs=Role.OWNER)
    role = _role(role)
    row = _membership(session, workspace_id, member_id)
    if role != Role.OWNER:
        _refuse_last_owner(session, row, "this one stops being one")
    row.role = role


def remove_member(session: Session, user_id: int, workspace_id: int, member_id: int) -> None:
    """An owner removes a member, or a member leaves (`member_id` is themselves)."""
    if member_id != user_id:
        access(session, user_id, workspace_id, needs=Role.OWNER)
    else:
        access(session, user_id, workspace_id)
    if session.scalar(select(Workspace.personal_user_id).where(Workspace.id == workspace_id)) == member_id:
        raise NotAllowed("Nobody leaves their own personal workspace.")
    row = _membership(session, workspace_id, member_id)
    _refuse_last_owner(session, row, "leaving" if member_id == user_id else "removing this one")
    session.delete(row)


def leave(session: Session, user_id: int, workspace_id: int) -> None:
    remove_member(session, user_id, workspace_id, user_id)


# ------------------------------------------------------------------------------------ invitations


def _role(value: object) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise AskVideoError("A role is owner, editor or viewer.") from None


def invite(session: Session, user_id: int, workspace_id: int, *, role: str, email: str = "",
           max_uses: int = 1, days: int = INVITATION_DAYS) -> NewInvitation:
    """An invitation into the workspace: for one email address (used once), or with no address a
    link for a team chat that `max_uses` people may use. Only owners invite."""
    access(session, user_id, workspace_id, needs=Role.OWNER)
    if session.scalar(select(Workspace.personal_user_id).where(Workspace.id == workspace_id)) is not None:
        raise NotAllowed("A personal workspace is yours alone: create a team workspace to invite people.")
    role = _role(role)
    wanted = auth.normalise_login(email or "") or None
    if wanted is not None and (problem := auth.email_problem(wanted)):
        raise AskVideoError(problem)
    uses = 1 if wanted else max_uses
    if not isinstance(uses, int) or not 1 <= uses <= MAX_LINK_USES:
        raise AskVideoError(f"An invitation link may be used 1 to {MAX_LINK_USES} times.")
    if not 1 <= days <= 90:
        raise AskVideoError("An invitation lasts 1 to 90 days.")
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(timezone.utc) + timedelta(days=days)
    session.add(WorkspaceInvitation(workspace_id=workspace_id, token_hash=auth.hash_token(token), email=wanted,
                                    role=role, max_uses=uses, created_by_id=user_id, expires_at=expires_at))
    session.flush()
    return NewInvitation(token, wanted, role, uses, expires_at)


def pending_invitations(session: Session, user_id: int, workspace_id: int) -> list[PendingInvitation]:
    access(session, user_id, workspace_id, needs=Role.OWNER)
    rows = session.execute(
        select(WorkspaceInvitation, User.username)
        .outerjoin(User, User.id == WorkspaceInvitation.created_by_id)
        .where(WorkspaceInvitation.workspace_id == workspace_id, *_still_usable())
        .order_by(WorkspaceInvitation.created_at.desc(), WorkspaceInvitation.id.desc())
    ).all()
    return [PendingInvitation(i.id, i.email, Role(i.role), i.uses, i.max_uses, name, i.expires_at)
            for i, name in rows]


def revoke_invitation(session: Session, user_id: int, workspace_id: int, invitation_id: int) -> None:
    access(session, user_id, workspace_id, needs=Role.OWNER)
    done = session.execute(
        update(WorkspaceInvitation)
        .where(WorkspaceInvitation.id == invitation_id, WorkspaceInvitation.workspace_id == workspace_id,
               WorkspaceInvitation.revoked_at.is_(None))
        .values(revoked_at=func.now())
    ).rowcount
    if not done:
        raise InvitationInvalid("That invitation does not exist or was already revoked.")


def _still_usable():
    """Conditions an invitation must meet to let anyone in: not revoked, uses left, not expired,
    and its maker still an owner of the workspace (an owner removed or demoted, or whose account
    is gone, takes their invitations with them)."""
    maker_owns = select(WorkspaceMember.user_id).where(
        WorkspaceMember.workspace_id == WorkspaceInvitation.workspace_id,
        WorkspaceMember.user_id == WorkspaceInvitation.created_by_id, WorkspaceMember.role == Role.OWNER).exists()
    return [WorkspaceInvitation.revoked_at.is_(None), WorkspaceInvitation.uses < WorkspaceInvitation.max_uses,
            WorkspaceInvitation.expires_at > func.now(), maker_owns]


def _find_invitation(session: Session, token: object, *, lock: bool = False) -> WorkspaceInvitation:
    if not isinstance(token, str) or not 20 <= len(token) <= 200:
        raise InvitationInvalid("This invitation link is not valid. Check that you copied all of it.")
    query = select(WorkspaceInvitation).where(WorkspaceInvitation.token_hash == auth.hash_token(token))
    invitation = session.scalars(query.with_for_update() if lock else query).first()
    if invitation is None:
        raise InvitationInvalid("This invitation link is not valid. Check that you copied all of it.")
    return invitation


def usable_invitation(session: Session, token: object, *, lock: bool = False) -> WorkspaceInvitation:
    """The invitation a link's token names, if it can still be used; else InvitationInvalid saying why."""
    invitation = _find_invitation(session, token, lock=lock)
    if invitation.revoked_at is not None:
        raise InvitationInvalid("This invitation was revoked. Ask the workspace's owner for a new one.")
    if invitation.uses >= invitation.max_uses:
        raise InvitationInvalid("This invitation has been used up. Ask the workspace's owner for a new one.")
    if invitation.expires_at <= datetime.now(timezone.utc):
        raise InvitationInvalid("This invitation has expired. Ask the workspace's owner for a new one.")
    if not session.scalar(select(WorkspaceInvitation.id).where(WorkspaceInvitation.id == invitation.id,
                                                               *_still_usable())):
        raise InvitationInvalid("Whoever made this invitation no longer owns the workspace, so it no longer "
                                "works. Ask one of its owners for a new one.")
    return invitation


def invitation_offer(session: Session, token: object) -> InvitationOffer:
    """What the link invites to, for the page that asks the visitor to sign in or up first."""
    invitation = usable_invitation(session, token)
    name = session.scalar(select(Workspace.name).where(Workspace.id == invitation.workspace_id))
    return InvitationOffer(name, Role(invitation.role), invitation.email)


def _join(session: Session, user_id: int, invitation: WorkspaceInvitation) -> bool:
    """Make the user a member with the invitation's role (using one of its uses); False if they
    already were one (their role stays). Safe against the same user joining twice at once."""
    # RETURNING, not rowcount: an ORM-run INSERT … ON CONFLICT DO NOTHING does not report 0 rows.
    added = session.scalar(pg_insert(WorkspaceMember).values(
        workspace_id=invitation.workspace_id, user_id=user_id, role=invitation.role,
    ).on_conflict_do_nothing().returning(WorkspaceMember.user_id)) is not None
    if added:
        invitation.uses += 1
        session.flush()
    return bool(added)


def accept(session: Session, user_id: int, token: object) -> int:
    """Join the workspace the invitation names with its role and return the workspace's id. An
    invitation for an email address only works for the account with that address. Someone
    already a member keeps their role and uses nothing up (a sign-up through the link has joined
    already when the app next reads the link)."""
    invitation = _find_invitation(session, token, lock=True)
    if session.scalar(select(WorkspaceMember.role).where(WorkspaceMember.workspace_id == invitation.workspace_id,
                                                        WorkspaceMember.user_id == user_id)) is not None:
        return invitation.workspace_id
    invitation = usable_invitation(session, token, lock=True)
    email = session.scalar(select(User.email).where(User.id == user_id))
    if invitation.email and invitation.email != (email or "").lower():
        raise InvitationInvalid("This invitation is for another email address: sign in with the account it names.")
    _join(session, user_id, invitation)
    return invitation.workspace_id


def pending_for_email(session: Session, email: str, *, lock: bool = False) -> list[WorkspaceInvitation]:
    """Usable invitations made out to this address, oldest first."""
    query = (select(WorkspaceInvitation).where(WorkspaceInvitation.email == email.lower(), *_still_usable())
             .order_by(WorkspaceInvitation.id))
    return list(session.scalars(query.with_for_update(of=WorkspaceInvitation) if lock else query))


def accept_for_email(session: Session, user_id: int, email: str) -> list[int]:
    """Accept every pending invitation made out to the user's (verified) address: a company sign-in
    joins the workspaces its owner was invited to."""
    return [i.workspace_id for i in pending_for_email(session, email, lock=True) if _join(session, user_id, i)]
