"""Accounts: sign up, sign in, signed-in sessions that survive a reload, sign out.

Passwords are argon2 hashes. A session is a random token held by the browser; the database
keeps only its SHA-256, so a leaked table does not let anyone sign in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.database import Database
from core.errors import InvalidCredentials, SignUpError
from db.models import SignInFailure, User, UserSession

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,150}$")
# Deliberately loose: one @, a dot in the domain, no spaces. Real validation is a confirmation mail.
FAILED_SIGN_INS = 10  # wrong passwords for one login within the window before it is refused
FAILED_SIGN_IN_WINDOW = timedelta(minutes=15)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    email: str
    is_staff: bool
    is_superuser: bool
    video_limit: int


def _account(user: User) -> Account:
    return Account(user.id, user.username, user.email, user.is_staff, user.is_superuser, user.video_limit)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_up(
    session: Session,
    username: str,
    email: str,
    password: str,
    *,
    video_limit: int,
    min_password_length: int,
    staff: bool = False,
) -> Account:
    """Create an account. The very first account on an installation is made staff."""
    username = username.strip()
    email = email.strip().lower()
    if not USERNAME_RE.match(username):
        raise SignUpError("Username must be 3–150 characters: letters, digits, '.', '_' or '-'.")
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise SignUpError("That does not look like an email address.")
    if len(password) < min_password_length:
        raise SignUpError(f"Password must be at least {min_password_length} characters long.")
    if password.lower() in (username.lower(), email):
        raise SignUpError("Password must not be your username or email.")
    taken = session.scalars(
        select(User).where((func.lower(User.username) == username.lower()) | (User.email == email))
    ).first()
    if taken is not None:
        if taken.email == email:
            raise SignUpError("An account with that email already exists. Sign in instead.")
        raise SignUpError("That username is taken. Choose another.")
    # Serialise first-user detection so two simultaneous first sign-ups cannot both become staff.
    session.execute(select(func.pg_advisory_xact_lock(0x41534B56)))
    first = session.scalar(select(func.count()).select_from(User)) == 0
    user = User(
        username=username,
        email=email,
        password=hash_password(password),
        video_limit=video_limit,
        is_staff=staff or first,
        is_superuser=staff or first,
    )
    session.add(user)
    session.flush()
    return _account(user)


def authenticate(session: Session, login: str, password: str) -> Account:
    """Check a username-or-email and password; raise `InvalidCredentials` without saying which was wrong."""
    login = login.strip()
    user = session.scalars(
        select(User).where((func.lower(User.username) == login.lower()) | (User.email == login.lower()))
    ).first()
    try:
        _hasher.verify(user.password if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise InvalidCredentials() from None
    if user is None:
        raise InvalidCredentials()
    if not user.is_active:
        raise InvalidCredentials("This account is disabled. Ask an administrator.")
    if _hasher.check_needs_rehash(user.password):
        user.password = hash_password(password)
    user.last_login = datetime.now(timezone.utc)
    return _account(user)


def start_session(session: Session, user_id: int, *, days: int) -> str:
    """Open a signed-in session and return the token for the browser (shown once, stored hashed)."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            user_id=user_id,
            token_hash=hash_token(token),
            expires_at=datetime.now(timezone.utc) + timedelta(days=days),
        )
    )
    return token


def purge_expired_sessions(session: Session) -> int:
    """Delete sessions past their expiry (they already sign nobody in); returns how many."""
    return session.execute(delete(UserSession).where(UserSession.expires_at <= func.now())).rowcount


def sign_in(db: Database, login: str, password: str, *, days: int) -> tuple[Account, str]:
    """Check the password and open a session. Failures are recorded in their own transaction:
    after FAILED_SIGN_INS for one login within FAILED_SIGN_IN_WINDOW, that login is refused until
    the oldest failure ages out, so passwords cannot be guessed online at speed."""
    key = login.strip().lower()[:320]
    with db.session() as session:
        recent = session.execute(
            select(func.count(), func.min(SignInFailure.failed_at))
            .where(SignInFailure.login == key, SignInFailure.failed_at > func.now() - FAILED_SIGN_IN_WINDOW)
        ).one()
    if recent[0] >= FAILED_SIGN_INS:
        wait = recent[1] + FAILED_SIGN_IN_WINDOW - datetime.now(timezone.utc)
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        raise InvalidCredentials(f"Too many failed sign-ins for this account. Try again in {minutes} "
                                 f"minute{'s' if minutes != 1 else ''}.")
    try:
        with db.session() as session:
            account = authenticate(session, login, password)
            return account, start_session(session, account.id, days=days)
    except InvalidCredentials:
        with db.session() as session:
            session.add(SignInFailure(login=key))
        raise


def purge_old_sign_in_failures(session: Session) -> int:
    """Delete failures older than the throttle's window (they no longer count); returns how many."""
    return session.execute(delete(SignInFailure).where(
        SignInFailure.failed_at <= func.now() - FAILED_SIGN_IN_WINDOW)).rowcount


def account_for_token(session: Session, token: str | None) -> Account | None:
    """The account a browser's token belongs to, or None when it is unknown, expired or disabled."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    user = session.scalars(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == hash_token(token), UserSession.expires_at > func.now())
    ).first()
    if user is None or not user.is_active:
        return None
    return _account(user)


def sign_out(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(UserSession).where(UserSession.token_hash == hash_token(token)))
