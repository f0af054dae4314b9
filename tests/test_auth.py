"""Signing up, signing in and staying signed in, as a user experiences it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from core import auth
from core.errors import InvalidCredentials, SignUpError
from db.models import SignInFailure, User, UserSession
from tests.factories import PASSWORD, make_account


def _sign_up(session, username="alice", email="alice@example.com", password=PASSWORD):
    return auth.sign_up(session, username, email, password, video_limit=25, min_password_length=10)


def test_first_account_is_staff_and_later_ones_are_not(session):
    first = _sign_up(session)
    second = _sign_up(session, "bob", "bob@example.com")
    assert first.is_staff and first.is_superuser
    assert not second.is_staff and not second.is_superuser
    assert second.video_limit == 25


def test_password_is_stored_as_an_argon2_hash(session):
    account = _sign_up(session)
    stored = session.get(User, account.id).password
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("username", "email", "password", "message"),
    [
        ("al", "al@example.com", PASSWORD, "Username must be"),
        ("bad name!", "x@example.com", PASSWORD, "Username must be"),
        ("carol", "not-an-email", PASSWORD, "email address"),
        ("carol", "carol@example.com", "short", "at least 10"),
        ("carolcarol", "carol@example.com", "carolcarol", "must not be your username"),
    ],
)
def test_sign_up_explains_what_is_wrong(session, username, email, password, message):
    with pytest.raises(SignUpError, match=message):
        _sign_up(session, username, email, password)


def test_duplicate_username_or_email_is_refused_whatever_the_case(session):
    _sign_up(session)
    with pytest.raises(SignUpError, match="username is taken"):
        _sign_up(session, "ALICE", "other@example.com")
    with pytest.raises(SignUpError, match="email already exists"):
        _sign_up(session, "alice2", "Alice@Example.com")


def test_sign_in_with_username_or_email(clean_db):
    with clean_db.session() as s:
        _sign_up(s)
    account, token = auth.sign_in(clean_db, "alice", PASSWORD, days=7)
    assert account.username == "alice" and len(token) >= 40
    account, _ = auth.sign_in(clean_db, "  ALICE@example.com ", PASSWORD, days=7)
    assert account.username == "alice"
    with clean_db.session() as s:
        assert s.get(User, account.id).last_login is not None


def test_wrong_password_and_unknown_user_get_the_same_answer(clean_db):
    with clean_db.session() as s:
        _sign_up(s)
    with pytest.raises(InvalidCredentials) as wrong_password:
        auth.sign_in(clean_db, "alice", "wrong password!", days=7)
    with pytest.raises(InvalidCredentials) as unknown:
        auth.sign_in(clean_db, "nobody", PASSWORD, days=7)
    assert str(wrong_password.value) == str(unknown.value)


def test_disabled_account_cannot_sign_in_or_use_its_session(clean_db):
    with clean_db.session() as s:
        account = _sign_up(s)
    _, token = auth.sign_in(clean_db, "alice", PASSWORD, days=7)
    with clean_db.session() as s:
        s.execute(update(User).where(User.id == account.id).values(is_active=False))
    with pytest.raises(InvalidCredentials, match="disabled"):
        auth.sign_in(clean_db, "alice", PASSWORD, days=7)
    with clean_db.session() as s:
        assert auth.account_for_token(s, token) is None


def _window_passes(db):
    with db.session() as s:
        s.execute(update(SignInFailure).values(failed_at=func.now() - auth.FAILED_SIGN_IN_WINDOW))
        return auth.purge_old_sign_in_failures(s)


def test_password_guessing_is_slowed_to_a_stop_for_that_account_only(clean_db):
    """Ten wrong passwords within fifteen minutes: that account is refused, even with the right
    password, until the oldest failure ages out. Other accounts are not affected."""
    with clean_db.session() as s:
        _sign_up(s)
        _sign_up(s, "bob", "bob@example.com")
    for _ in range(auth.FAILED_SIGN_INS):
        with pytest.raises(InvalidCredentials, match="Wrong username"):
            auth.sign_in(clean_db, "Alice", "guess " + PASSWORD, days=7)
    with pytest.raises(InvalidCredentials, match="Too many failed sign-ins for this account.*15 minutes"):
        auth.sign_in(clean_db, "alice", PASSWORD, days=7)
    assert auth.sign_in(clean_db, "bob", PASSWORD, days=7)[0].username == "bob"

    assert _window_passes(clean_db) == auth.FAILED_SIGN_INS  # the hourly purge forgets them
    assert auth.sign_in(clean_db, "alice", PASSWORD, days=7)[0].username == "alice"


def test_a_locked_account_stays_locked_under_its_email_and_any_case(clean_db):
    """The attacker locks `victim1` by name, then tries its email and its name in capitals."""
    with clean_db.session() as s:
        _sign_up(s, "victim1", "victim1@example.com")
        _sign_up(s, "bystander", "bystander@example.com")
    for guess in range(auth.FAILED_SIGN_INS):
        with pytest.raises(InvalidCredentials, match="Wrong username"):
            auth.sign_in(clean_db, "victim1", f"guess number {guess}", days=7)
    for other_spelling in ("victim1@example.com", "VICTIM1", " Victim1@Example.COM "):
        with pytest.raises(InvalidCredentials, match="Too many failed sign-ins for this account"):
            auth.sign_in(clean_db, other_spelling, PASSWORD, days=7)
    assert auth.sign_in(clean_db, "bystander@example.com", PASSWORD, days=7)[0].username == "bystander"

    _window_passes(clean_db)
    assert auth.sign_in(clean_db, "VICTIM1@example.com", PASSWORD, days=7)[0].username == "victim1"


def test_a_login_naming_no_account_is_throttled_like_one_that_does(clean_db):
    """Locking out tells nobody whether an account exists: unknown logins lock the same way."""
    for _ in range(auth.FAILED_SIGN_INS):
        with pytest.raises(InvalidCredentials, match="Wrong username"):
            auth.sign_in(clean_db, "Nobody@Example.com", "guess " + PASSWORD, days=7)
    with pytest.raises(InvalidCredentials, match="Too many failed sign-ins for this account"):
        auth.sign_in(clean_db, "nobody@example.com", PASSWORD, days=7)


def test_a_right_password_does_not_count_as_a_failure(clean_db):
    with clean_db.session() as s:
        _sign_up(s)
    for _ in range(auth.FAILED_SIGN_INS - 1):
        with pytest.raises(InvalidCredentials):
            auth.sign_in(clean_db, "alice", "guess " + PASSWORD, days=7)
    for _ in range(3):
        assert auth.sign_in(clean_db, "alice", PASSWORD, days=7, address="203.0.113.7")[0].username == "alice"
    with clean_db.session() as s:
        assert s.scalar(select(func.count()).select_from(SignInFailure)) == auth.FAILED_SIGN_INS - 1


class _CountingHasher:
    """The real argon2 hasher, counting how many passwords it is asked to verify."""

    def __init__(self, real):
        self._real = real
        self._lock = threading.Lock()
        self.verifications = 0

    def verify(self, stored, password):
        with self._lock:
            self.verifications += 1
        return self._real.verify(stored, password)

    def __getattr__(self, name):
        return getattr(self._real, name)


def test_simultaneous_guesses_get_exactly_the_allowed_number_of_password_checks(clean_db, monkeypatch):
    """24 wrong passwords fired at once for one account: exactly ten are checked, the rest are
    refused without argon2 ever running (counting and checking used to race)."""
    with clean_db.session() as s:
        _sign_up(s, "victim1", "victim1@example.com")
    hasher = _CountingHasher(auth._hasher)
    monkeypatch.setattr(auth, "_hasher", hasher)
    attempts = 24
    start = threading.Barrier(attempts)

    def guess(n: int) -> str:
        start.wait()
        try:
            auth.sign_in(clean_db, "victim1" if n % 2 else "VICTIM1@example.com", f"guess number {n}", days=7)
        except InvalidCredentials as refused:
            return str(refused)
        return "signed in"

    with ThreadPoolExecutor(attempts) as pool:
        answers = list(pool.map(guess, range(attempts)))
    assert hasher.verifications == auth.FAILED_SIGN_INS
    assert answers.count("Wrong username/email or password.") == auth.FAILED_SIGN_INS
    assert sum("Too many failed sign-ins for this account" in a for a in answers) == attempts - auth.FAILED_SIGN_INS
    with pytest.raises(InvalidCredentials, match="Too many"):
        auth.sign_in(clean_db, "victim1", PASSWORD, days=7)
    assert hasher.verifications == auth.FAILED_SIGN_INS


def test_one_address_spraying_many_logins_is_stopped(clean_db):
    """A guesser spreading wrong passwords over many accounts, under each one's own limit, is
    stopped by the limit on its address; other addresses and the accounts themselves are not."""
    with clean_db.session() as s:
        _sign_up(s)
        _sign_up(s, "bob", "bob@example.com")
    attacker, colleague = "203.0.113.7", "198.51.100.20"
    # Four guesses each at alice and bob (under their own limits), the rest at invented logins.
    logins = ["alice", "bob"] * 4 + [f"someone{n}@example.com" for n in range(auth.FAILED_SIGN_INS_PER_ADDRESS - 8)]
    for n, login in enumerate(logins):
        with pytest.raises(InvalidCredentials, match="Wrong username"):
            auth.sign_in(clean_db, login, f"guess number {n}", days=7, address=attacker)
    with pytest.raises(InvalidCredentials, match="Too many failed sign-ins from your network.*15 minutes"):
        auth.sign_in(clean_db, "fresh-login", "guess", days=7, address=attacker)
    with pytest.raises(InvalidCredentials, match="from your network"):
        auth.sign_in(clean_db, "bob", PASSWORD, days=7, address=attacker)
    assert auth.sign_in(clean_db, "bob", PASSWORD, days=7, address=colleague)[0].username == "bob"
    assert auth.sign_in(clean_db, "alice", PASSWORD, days=7)[0].username == "alice"

    _window_passes(clean_db)
    assert auth.sign_in(clean_db, "bob", PASSWORD, days=7, address=attacker)[0].username == "bob"


def test_an_ipv6_guesser_cannot_step_around_the_limit_within_its_network():
    assert auth.client_address("2001:db8:1:2::5") == auth.client_address("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert auth.client_address("::ffff:203.0.113.7") == "203.0.113.7"
    assert auth.client_address(None) is None and auth.client_address("not an address") is None


def test_session_token_is_stored_only_as_its_hash(session):
    account = make_account(session)
    token = auth.start_session(session, account.id, days=7)
    stored = session.scalars(select(UserSession.token_hash).where(UserSession.user_id == account.id)).all()
    assert stored == [auth.hash_token(token)] and token not in stored
    assert auth.account_for_token(session, token).id == account.id


def test_session_expires_after_its_days(session):
    account = make_account(session)
    token = auth.start_session(session, account.id, days=7)
    row = session.scalars(select(UserSession).where(UserSession.user_id == account.id)).one()
    assert timedelta(days=6, hours=23) < row.expires_at - datetime.now(timezone.utc) <= timedelta(days=7)
    row.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    session.flush()
    assert auth.account_for_token(session, token) is None


def test_forged_or_missing_token_signs_nobody_in(session):
    make_account(session)
    assert auth.account_for_token(session, None) is None
    assert auth.account_for_token(session, "") is None
    assert auth.account_for_token(session, "forged-token-" + "x" * 30) is None


def test_sign_out_ends_only_that_session(session):
    account = make_account(session)
    laptop = auth.start_session(session, account.id, days=7)
    phone = auth.start_session(session, account.id, days=7)
    auth.sign_out(session, laptop)
    assert auth.account_for_token(session, laptop) is None
    assert auth.account_for_token(session, phone).id == account.id
