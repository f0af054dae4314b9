"""Company sign-in: an account for whoever the company's OpenID Connect provider vouches for.

Streamlit's `st.login` does the OpenID Connect exchange and hands over the ID token's claims; this
module turns a verified email address into an account of ours (made at the first sign-in, or the
existing account with that address) and a signed-in session like a password sign-in's. Workspace
invitations made out to that address are accepted on the way in.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select

from core import auth, signup, workspaces
from core.auth import Account
from core.config import Settings
from core.database import Database
from core.errors import InvalidCredentials, SignUpError
from db.models import User, WorkspaceInvitation

_NOT_USERNAME = re.compile(r"[^A-Za-z0-9_.-]+")


class IdentityRefused(InvalidCredentials):
    """The provider signed someone in whom this installation does not take."""


def verified_email(claims: dict) -> str:
    """The claims' email address, if the provider says it verified it; else IdentityRefused."""
    email = auth.normalise_login(str(claims.get("email") or ""))
    if not email or auth.email_problem(email):
        raise IdentityRefused("Your company account has no email address that Ask Video can use.")
    if claims.get("email_verified") is not True:
        raise IdentityRefused("Your company account's email address is not verified, so it cannot sign you in here.")
    return email


def _free_username(session, email: str) -> str:
    base = _NOT_USERNAME.sub("-", email.split("@", 1)[0]).strip("-.")[:140]
    base = base if len(base) >= 3 else f"user-{base}".rstrip("-")
    name, n = base, 1
    while session.scalar(select(User.id).where(func.lower(User.username) == name.lower())) is not None:
        n += 1
        name = f"{base}-{n}"
    return name


def sign_in_with_identity(db: Database, settings: Settings, claims: dict, *, days: int) -> tuple[Account, str]:
    """The account for the provider's verified email (linked if it exists, else created under the
    installation's sign-up rules, where an invitation to a workspace for that address counts as an
    invitation), its pending workspace invitations accepted, and a new session token for it."""
    email = verified_email(claims)
    with db.session() as session:
        user = session.scalars(select(User).where(User.email == email)).first()
        if user is None:
            invited = session.scalars(select(WorkspaceInvitation).where(
                WorkspaceInvitation.email == email, WorkspaceInvitation.revoked_at.is_(None),
                WorkspaceInvitation.uses < WorkspaceInvitation.max_uses,
                WorkspaceInvitation.expires_at > func.now())).first()
            if refusal := signup.sign_up_refusal(session, settings, email, invited):
                raise IdentityRefused(refusal)
            try:
                made = auth.sign_up(session, _free_username(session, email), email, secrets.token_urlsafe(32),
                                    video_limit=settings.default_video_limit, min_password_length=0)
            except SignUpError as error:
                raise IdentityRefused(str(error)) from None
            user = session.get(User, made.id)
        if not user.is_active:
            raise IdentityRefused("This account is disabled.")
        workspaces.accept_for_email(session, user.id, email)
        user.last_login = func.now()
        token = auth.start_session(session, user.id, days=days)
    with db.session() as session:
        return auth.account_for_token(session, token), token
