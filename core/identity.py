"""Company sign-in: an account for whoever the company's OpenID Connect provider vouches for.

Streamlit's `st.login` does the OpenID Connect exchange and hands over the ID token's claims; this
module turns them into an account of ours and a signed-in session like a password sign-in's. An
account is the provider's identity (issuer and subject) from its first company sign-in on. That
first sign-in makes the account from the provider's verified email, or, when an account with that
email exists already, links it only once its password is given: this app never verifies the
addresses people type, so whoever made an account with a colleague's address must not get the
colleague's company sign-in with it. Workspace invitations made out to the address are accepted on
the way in.
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
from db.models import User

_NOT_USERNAME = re.compile(r"[^A-Za-z0-9_.-]+")


class IdentityRefused(InvalidCredentials):
    """The provider signed someone in whom this installation does not take."""


class LinkNeeded(InvalidCredentials):
    """An account with the provider's email exists and is not linked yet: its password links it."""

    def __init__(self, username: str) -> None:
        super().__init__(f"An Ask Video account with your email address exists already ({username}). Enter its "
                         "password once to sign in to it with your company account from now on.")
        self.username = username


def verified_email(claims: dict) -> str:
    """The claims' email address, if the provider says it verified it; else IdentityRefused."""
    email = auth.normalise_login(str(claims.get("email") or ""))
    if not email or auth.email_problem(email):
        raise IdentityRefused("Your company account has no email address that Ask Video can use.")
    if claims.get("email_verified") is not True:
        raise IdentityRefused("Your company account's email address is not verified, so it cannot sign you in here.")
    return email


def identity_of(claims: dict) -> str:
    """"<issuer> <subject>": who the provider says this is, for good (emails change, these do not)."""
    issuer, subject = str(claims.get("iss") or ""), str(claims.get("sub") or "")
    if not issuer or not subject or len(issuer) + len(subject) > 599:
        raise IdentityRefused("Your company sign-in did not say who you are (no issuer or subject).")
    return f"{issuer} {subject}"


def _free_username(session, email: str) -> str:
    base = _NOT_USERNAME.sub("-", email.split("@", 1)[0]).strip("-.")[:140]
    base = base if len(base) >= 3 else f"user-{base}".rstrip("-")
    name, n = base, 1
    while session.scalar(select(User.id).where(func.lower(User.username) == name.lower())) is not None:
        n += 1
        name = f"{base}-{n}"
    return name


def _signed_in(session, user: User, email: str, days: int) -> str:
    if not user.is_active:
        raise IdentityRefused("This account is disabled.")
    workspaces.accept_for_email(session, user.id, email)
    user.last_login = func.now()
    return auth.start_session(session, user.id, days=days)


def _account(db: Database, token: str) -> tuple[Account, str]:
    with db.session() as session:
        return auth.account_for_token(session, token), token


def sign_in_with_identity(db: Database, settings: Settings, claims: dict, *, days: int) -> tuple[Account, str]:
    """The account the provider's identity is (made at its first sign-in under the installation's
    sign-up rules, where an invitation to a workspace for the address counts as an invitation),
    its pending workspace invitations accepted, and a new session token for it. LinkNeeded when an
    unlinked account has the address."""
    email, key = verified_email(claims), identity_of(claims)
    with db.session() as session:
        user = session.scalars(select(User).where(User.company_identity == key)).first()
        if user is None:
            existing = session.scalar(select(User.username).where(User.email == email))
            if existing is not None:
                raise LinkNeeded(existing)
            invited = next(iter(workspaces.pending_for_email(session, email)), None)
            if refusal := signup.sign_up_refusal(session, settings, email, invited):
                raise IdentityRefused(refusal)
            try:
                made = auth.sign_up(session, _free_username(session, email), email, secrets.token_urlsafe(32),
                                    video_limit=settings.default_video_limit, min_password_length=0)
            except SignUpError as error:
                raise IdentityRefused(str(error)) from None
            user = session.get(User, made.id)
            user.company_identity = key
        token = _signed_in(session, user, email, days)
    return _account(db, token)


def link_with_password(db: Database, claims: dict, password: str, *, days: int,
                       address: str | None = None) -> tuple[Account, str]:
    """Link the account that has the provider's email to the provider's identity, once its password
    is right (checked through the sign-in throttle), and sign it in."""
    email, key = verified_email(claims), identity_of(claims)
    with db.session() as session:
        user_id = session.scalar(select(User.id).where(User.email == email, User.company_identity.is_(None)))
    if user_id is None:
        raise IdentityRefused("There is no account with your email address waiting to be linked.")
    try:
        auth.check_password(db, user_id, password, address=address)
    except InvalidCredentials as error:
        if str(error) == auth.WRONG_CURRENT_PASSWORD:
            raise InvalidCredentials("That is not the password of that account.") from None
        raise  # throttled: its own message says when to try again
    with db.session() as session:
        user = session.get(User, user_id, with_for_update=True)
        if user.company_identity is not None and user.company_identity != key:
            raise IdentityRefused("That account is linked to another company sign-in.")
        user.company_identity = key
        token = _signed_in(session, user, email, days)
    return _account(db, token)
