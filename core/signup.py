"""Who may create an account: the installation's sign-up mode and staff's invitations.

`ASKVIDEO_SIGNUP=open` lets anyone who reaches the server sign up; `invite` only people holding an
invitation; `domain` people whose email is under `ASKVIDEO_SIGNUP_DOMAINS`, and invitees. The very
first account can always be made (it becomes staff). An invitation is a random token given out
once, as a link; only its SHA-256 is stored; it works once, within INVITATION_DAYS, unless revoked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import auth, workspaces
from core.auth import Account
from core.config import Settings, SignUpMode
from core.errors import AskVideoError, SignUpError
from db.models import Invitation, User, WorkspaceInvitation

INVITATION_DAYS = 7
_ASK = "ask an administrator for an invitation"


class SignUpClosed(SignUpError):
    """This installation's rules do not let this visitor create an account."""


class InvitationInvalid(SignUpError):
    """The invitation in a link is unknown, used, expired or revoked."""


class NotStaff(AskVideoError):
    def __init__(self) -> None:
        super().__init__("Only staff can manage invitations.")


@dataclass(frozen=True)
class SignUpOffer:
    """What the Create account tab offers a visitor."""

    form: bool  # whether to show the sign-up form at all
    email: str | None = None  # fixed by the invitation
    invitation_token: str | None = None  # the usable invitation the form carries
    note: str | None = None  # who may sign up, or how to get in
    problem: str | None = None  # why the invitation in the link cannot be used


@dataclass(frozen=True)
class NewInvitation:
    token: str  # for the link; shown once, never stored
    email: str | None
    expires_at: datetime


@dataclass(frozen=True)
class PendingInvitation:
    id: int
    email: str | None
    invited_by: str
    created_at: datetime
    expires_at: datetime


def sign_up_offer(session: Session, settings: Settings, invitation_token: str | None = None, *,
                  join_token: str | None = None) -> SignUpOffer:
    """What a visitor (who opened the app with `invitation_token`, or a workspace's `join_token`, if
    any) may do on the Create account tab. A workspace's invitation made by staff lets its invitee
    sign up as staff's own does; one made by anyone else is held to the installation's rules."""
    problem = None
    if join_token and not invitation_token:
        try:
            joining = workspaces.usable_invitation(session, join_token)
        except workspaces.InvitationInvalid as error:
            problem = str(error)
        else:
            allowed = SignUpOffer(form=True) if _by_staff(session, joining) else _by_the_rules(session, settings, None)
            if not allowed.form:
                return allowed
            note = ("You are invited into a workspace: create your account with the email address below."
                    if joining.email else "You are invited into a workspace: create your account to join.")
            return SignUpOffer(form=True, email=joining.email, note=note)
    if invitation_token:
        try:
            invitation = _usable_invitation(session, invitation_token)
        except InvitationInvalid as error:
            problem = str(error)
        else:
            # The email is shown in the form's field, never in markdown text.
            note = ("You are invited: the invitation is for the email address below." if invitation.email
                    else "You are invited: create your account.")
            return SignUpOffer(form=True, email=invitation.email, invitation_token=invitation_token, note=note)
    return _by_the_rules(session, settings, problem)


def _by_the_rules(session: Session, settings: Settings, problem: str | None) -> SignUpOffer:
    mode = settings.signup_mode
    if mode is SignUpMode.OPEN or not session.scalar(select(func.count()).select_from(User)):
        return SignUpOffer(form=True, problem=problem)
    if mode is SignUpMode.DOMAIN:
        return SignUpOffer(form=True, problem=problem,
                           note=f"Accounts are for addresses at {_domains(settings)}. With another address, {_ASK}.")
    return SignUpOffer(form=False, problem=problem, note=f"Sign-up here is by invitation: {_ASK}.")


def sign_up_refusal(session: Session, settings: Settings, email: str,
                    invitation: Invitation | WorkspaceInvitation | None) -> str | None:
    """Why the installation's rules refuse an account for `email` (normalised), or None if they allow it.

    Takes the first-account lock when it has to ask whether the installation is empty, so call it
    in the transaction that creates the account. A workspace owner's invitation counts only when
    staff made it: anyone may make a team, and a team's invitation must not open a closed installation."""
    if invitation is not None and invitation.email and invitation.email != email:
        return "This invitation is for another email address: sign up with the one it names."
    if isinstance(invitation, Invitation) or (invitation is not None and _by_staff(session, invitation)):
        return None
    mode = settings.signup_mode
    if mode is SignUpMode.OPEN:
        return None
    if mode is SignUpMode.DOMAIN and email.rsplit("@", 1)[-1] in settings.signup_domains:
        return None
    if auth.is_first_account(session):
        return None
    if mode is SignUpMode.DOMAIN:
        return f"Accounts are only for addresses at {_domains(settings)}. With another address, {_ASK}."
    return f"Sign-up here is by invitation only: {_ASK}."


def register(
    session: Session,
    settings: Settings,
    username: str,
    email: str,
    password: str,
    *,
    invitation_token: str | None = None,
    join_token: str | None = None,
) -> Account:
    """Create an account from the sign-up form, if the installation's rules allow it; an invitation
    given is used up in the same transaction (locked, so it cannot be used twice at once), and so
    is a workspace's (`join_token`): the new account joins that workspace as it is made."""
    if not settings.password_sign_in:
        raise SignUpClosed("Accounts here come from the company sign-in: use “Sign in with your company account”.")
    invitation = _usable_invitation(session, invitation_token, lock=True) if invitation_token else None
    joining = (workspaces.usable_invitation(session, join_token, lock=True)
               if join_token and invitation is None else None)
    # Mistakes in the form are reported before the rules, so a typo is not read as "not allowed".
    _, wanted = auth.check_new_account(username, email, password, min_password_length=settings.min_password_length)
    refusal = sign_up_refusal(session, settings, wanted, invitation or joining)
    if refusal:
        raise SignUpClosed(refusal)
    account = auth.sign_up(session, username, email, password, video_limit=settings.default_video_limit,
                           min_password_length=settings.min_password_length)
    if invitation is not None:
        invitation.used_at = datetime.now(timezone.utc)
        invitation.used_by_id = account.id
    if joining is not None:
        workspaces.accept(session, account.id, join_token)
    return account


def _by_staff(session: Session, invitation: WorkspaceInvitation) -> bool:
    return bool(session.scalar(select(User.is_staff).where(User.id == invitation.created_by_id)))


def create_invitation(session: Session, staff_id: int, email: str = "") -> NewInvitation:
    """A new invitation, optionally for one email address; its token is returned once, for the link."""
    _require_staff(session, staff_id)
    wanted = email.strip().lower() or None
    if wanted is not None:
        if not auth.EMAIL_RE.match(wanted) or len(wanted) > 254:
            raise SignUpError("That does not look like an email address.")
        if session.scalar(select(User.id).where(User.email == wanted)) is not None:
            raise SignUpError("An account with that email already exists.")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(token_hash=auth.hash_token(token), email=wanted, created_by_id=staff_id,
                            expires_at=datetime.now(timezone.utc) + timedelta(days=INVITATION_DAYS))
    session.add(invitation)
    session.flush()
    return NewInvitation(token, wanted, invitation.expires_at)


def pending_invitations(session: Session, staff_id: int) -> list[PendingInvitation]:
    """Invitations that can still be used, newest first (all staff's, not only this one's)."""
    _require_staff(session, staff_id)
    rows = session.execute(
        select(Invitation, User.username)
        .join(User, User.id == Invitation.created_by_id)
        .where(Invitation.used_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > func.now())
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).all()
    return [PendingInvitation(i.id, i.email, username, i.created_at.astimezone(timezone.utc),
                              i.expires_at.astimezone(timezone.utc)) for i, username in rows]


def revoke_invitation(session: Session, staff_id: int, invitation_id: int) -> None:
    """Withdraw a pending invitation: its link stops working at once."""
    _require_staff(session, staff_id)
    revoked = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.used_at.is_(None), Invitation.revoked_at.is_(None))
        .values(revoked_at=func.now())
    ).rowcount
    if not revoked:
        raise InvitationInvalid("That invitation was already used or revoked.")


def _usable_invitation(session: Session, token: str, *, lock: bool = False) -> Invitation:
    query = select(Invitation).where(Invitation.token_hash == auth.hash_token(token[:200]))
    invitation = session.scalars(query.with_for_update() if lock else query).first()
    if invitation is None:
        raise InvitationInvalid("This invitation link is not valid. Check that you copied all of it, "
                                f"or {_ASK}.")
    if invitation.revoked_at is not None:
        raise InvitationInvalid(f"This invitation was revoked. To get in, {_ASK}.")
    if invitation.used_at is not None:
        raise InvitationInvalid("This invitation has already been used. If it was you, sign in; "
                                f"otherwise {_ASK}.")
    if invitation.expires_at <= datetime.now(timezone.utc):
        raise InvitationInvalid(f"This invitation has expired (they last {INVITATION_DAYS} days). To get in, {_ASK}.")
    return invitation


def _require_staff(session: Session, user_id: int) -> None:
    user = session.get(User, user_id)
    if user is None or not user.is_staff or not user.is_active:
        raise NotStaff()


def _domains(settings: Settings) -> str:
    domains = list(settings.signup_domains)
    return domains[0] if len(domains) == 1 else ", ".join(domains[:-1]) + " or " + domains[-1]
