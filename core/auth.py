"""Accounts: sign up, sign in, signed-in sessions that survive a reload, sign out.

Passwords are argon2 hashes. A session is a random token held by the browser; the database
keeps only its SHA-256, so a leaked table does not let anyone sign in.
"""

from __future__ import annotations

import hashlib
import ipaddress
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
from db.models import SignInFailure, User, UserSession, Workspace, WorkspaceMember
from db.states import Role

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,150}$")
FAILED_SIGN_INS = 10  # failed sign-ins for one account within the window before it is refused
FAILED_SIGN_INS_PER_ADDRESS = 30  # failed sign-ins from one client address (any logins) within the window
FAILED_SIGN_IN_WINDOW = timedelta(minutes=15)
# Deliberately loose: one @, a dot in the domain, no spaces. Real validation is a confirmation mail.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_TAKEN = "An account with that email already exists."
WRONG_CURRENT_PASSWORD = "That is not your current password."


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    email: str
    is_staff: bool
    is_superuser: bool
    video_limit: int
    session_id: int | None = None  # the signed-in browser session it was found by (media links name it)


def _account(user: User, session_id: int | None = None) -> Account:
    return Account(user.id, user.username, user.email, user.is_staff, user.is_superuser, user.video_limit,
                   session_id)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def email_problem(email: str) -> str | None:
    """What is wrong with an email address (already stripped and lowercased) for an account; None if nothing."""
    if not EMAIL_RE.match(email) or len(email) > 254:
        return "That does not look like an email address."
    return None


def password_problem(password: str, *, username: str, email: str, min_password_length: int) -> str | None:
    """What is wrong with a password for this account, the same at sign-up and when it is changed; None if nothing."""
    if len(password) < min_password_length:
        return f"Password must be at least {min_password_length} characters long."
    if password.lower() in (username.lower(), email.lower()):
        return "Password must not be your username or email."
    return None


def check_new_account(username: str, email: str, password: str, *, min_password_length: int) -> tuple[str, str]:
    """The username and email as an account would store them; raises `SignUpError` saying what is wrong."""
    username = username.strip()
    email = email.strip().lower()
    if not USERNAME_RE.match(username):
        raise SignUpError("Username must be 3–150 characters: letters, digits, '.', '_' or '-'.")
    problem = email_problem(email) or password_problem(password, username=username, email=email,
                                                       min_password_length=min_password_length)
    if problem:
        raise SignUpError(problem)
    return username, email


def lock_roster(session: Session) -> None:
    """Hold, until the transaction ends, the lock that decides who is staff: the first sign-up
    (it becomes staff) and a staff account deleting itself take it, so neither misses the other."""
    session.execute(select(func.pg_advisory_xact_lock(0x41534B56)))


def is_first_account(session: Session) -> bool:
    """Whether the installation has no account yet. Decided under a lock held until the transaction
    ends, so two simultaneous first sign-ups cannot both see it empty."""
    lock_roster(session)
    return session.scalar(select(func.count()).select_from(User)) == 0


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
    """Create an account, whoever asks: administrators (`createsuperuser`) call it directly, the
    sign-up form through `signup.register`, which applies the installation's sign-up rules first.
    The very first account on an installation is made staff.

    It says when a username or email is taken, so a visitor learns that the account exists: a
    documented choice (README, "Accounts and security")."""
    username, email = check_new_account(username, email, password, min_password_length=min_password_length)
    taken = session.scalars(
        select(User).where((func.lower(User.username) == username.lower()) | (User.email == email))
    ).first()
    if taken is not None:
        if taken.email == email:
            raise SignUpError(f"{EMAIL_TAKEN} Sign in instead.")
        raise SignUpError("That username is taken. Choose another.")
    first = is_first_account(session)
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
    _personal_workspace(session, user.id)
    return _account(user)


def _personal_workspace(session: Session, user_id: int) -> None:
    """Every account has its own workspace, with it as the owner (core/workspaces.py); a team's are made there."""
    workspace = Workspace(name="Personal", personal_user_id=user_id, created_by_id=user_id)
    session.add(workspace)
    session.flush()
    session.add(WorkspaceMember(workspace_id=workspace.id, user_id=user_id, role=Role.OWNER))
    session.flush()


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


def normalise_login(login: str) -> str:
    """A login as the throttle and the account lookup read it: stripped, lowercased."""
    return login.strip().lower()[:320]


def client_address(address: str | None) -> str | None:
    """The throttle's key for a client address: the IPv4 address, or the /64 an IPv6 address is
    in (one subscriber commonly holds a whole /64); None when unknown or unreadable."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def sign_in(db: Database, login: str, password: str, *, days: int,
            address: str | None = None) -> tuple[Account, str]:
    """Check the password and open a session.

    Guessing is throttled per account (whether the login names it by username or email, in any
    case; a login naming no account counts by itself) and per client address. The attempt is
    counted as a failure before the password is checked, in one short transaction holding an
    advisory lock per key, so simultaneous guesses queue for their turn instead of all reading
    the same count; argon2 then runs outside any lock, and a right password deletes the record.
    """
    key = normalise_login(login)
    where = client_address(address)
    with db.session() as session:
        user = _user_for_login(session, key)
        attempt = _count_attempt(session, key, user.id if user else None, where)
        user_id, stored_hash = (user.id, user.password) if user else (None, _DUMMY_HASH)
    # The wrong-username path verifies a dummy hash, so it costs as long as a wrong password.
    try:
        _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        raise InvalidCredentials() from None
    if user_id is None:
        raise InvalidCredentials()
    with db.session() as session:
        user = session.get(User, user_id)
        if user is None or user.password != stored_hash:  # deleted, or its password changed meanwhile
            raise InvalidCredentials()
        if not user.is_active:
            raise InvalidCredentials("This account is disabled. Ask an administrator.")
        session.execute(delete(SignInFailure).where(SignInFailure.id == attempt))
        if _hasher.check_needs_rehash(user.password):
            user.password = hash_password(password)
        user.last_login = datetime.now(timezone.utc)
        return _account(user), start_session(session, user.id, days=days)


def check_password(db: Database, user_id: int, password: str, *, address: str | None = None) -> str:
    """Check a signed-in user's password before a change to their account (password, email,
    deletion); returns the hash it matched, so the change can make sure it is still the one stored.

    Counted by the sign-in throttle exactly as a sign-in to this account is (per account and per
    client address, recorded before argon2 runs, removed when right), so these forms cannot be
    used to guess a password that the sign-in form would refuse after ten tries."""
    where = client_address(address)
    with db.session() as session:
        user = session.get(User, user_id)
        if user is None:
            raise InvalidCredentials("This account no longer exists.")
        attempt = _count_attempt(session, normalise_login(user.username), user.id, where)
        stored_hash = user.password
    try:
        _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        raise InvalidCredentials(WRONG_CURRENT_PASSWORD) from None
    with db.session() as session:
        session.execute(delete(SignInFailure).where(SignInFailure.id == attempt))
    return stored_hash


def _user_for_login(session: Session, key: str) -> User | None:
    # Usernames cannot hold '@' and emails must, so a login names at most one account.
    return session.scalars(
        select(User).where((func.lower(User.username) == key) | (User.email == key))
    ).first()


def _count_attempt(session: Session, key: str, user_id: int | None, address: str | None) -> int:
    """Refuse this attempt if its account or address is over its limit, else record it as a
    failure now (the caller deletes it if the password is right); returns the record's id."""
    account = f"account:{user_id}" if user_id is not None else f"login:{key}"
    locks = [account] + ([f"address:{address}"] if address else [])
    # Always in the same order, so two attempts sharing both keys cannot deadlock.
    for lock in sorted(_lock_id(name) for name in locks):
        session.execute(select(func.pg_advisory_xact_lock(lock)))
    if user_id is not None:
        same_account = SignInFailure.user_id == user_id
    else:
        same_account = (SignInFailure.user_id.is_(None)) & (SignInFailure.login == key)
    _refuse_when_over(session, same_account, FAILED_SIGN_INS, "for this account")
    if address:
        _refuse_when_over(session, SignInFailure.address == address, FAILED_SIGN_INS_PER_ADDRESS,
                          "from your network")
    failure = SignInFailure(login=key, user_id=user_id, address=address)
    session.add(failure)
    session.flush()
    return failure.id


def _lock_id(name: str) -> int:
    """A signed 64-bit advisory-lock key for a throttle key (a rare collision only serialises more)."""
    return int.from_bytes(hashlib.sha256(f"sign-in {name}".encode()).digest()[:8], "big", signed=True)


def _refuse_when_over(session: Session, same_key, limit: int, whose: str) -> None:
    now = session.scalar(select(func.now()))
    recent = session.scalars(
        select(SignInFailure.failed_at)
        .where(same_key, SignInFailure.failed_at > now - FAILED_SIGN_IN_WINDOW)
        .order_by(SignInFailure.failed_at.desc())
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return
    # Refused until the limit-th newest failure ages out of the window.
    wait = recent[-1] + FAILED_SIGN_IN_WINDOW - now
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    raise InvalidCredentials(f"Too many failed sign-ins {whose}. Try again in {minutes} "
                             f"minute{'s' if minutes != 1 else ''}.")


def purge_old_sign_in_failures(session: Session) -> int:
    """Delete failures older than the throttle's window (they no longer count); returns how many."""
    return session.execute(delete(SignInFailure).where(
        SignInFailure.failed_at <= func.now() - FAILED_SIGN_IN_WINDOW)).rowcount


def account_for_token(session: Session, token: str | None) -> Account | None:
    """The account a browser's token belongs to, or None when it is unknown, expired or disabled."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    found = session.execute(
        select(User, UserSession.id)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == hash_token(token), UserSession.expires_at > func.now())
    ).first()
    if found is None or not found[0].is_active:
        return None
    return _account(*found)


def sign_out(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(UserSession).where(UserSession.token_hash == hash_token(token)))
