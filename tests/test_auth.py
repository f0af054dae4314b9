"""Signing up, signing in and staying signed in, as a user experiences it."""

from __future__ import annotations

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


def test_password_guessing_is_slowed_to_a_stop_for_that_account_only(clean_db):
    """Ten wrong passwords within fifteen minutes: that login is refused, even with the right
    password, until the oldest failure ages out. Other accounts are not affected."""
    with clean_db.session() as s:
        _sign_up(s)
        _sign_up(s, "bob", "bob@example.com")
    for _ in range(auth.FAILED_SIGN_INS):
        with pytest.raises(InvalidCredentials, match="Wrong username"):
            auth.sign_in(clean_db, "Alice", "guess " + PASSWORD, days=7)
    with pytest.raises(InvalidCredentials, match="Too many failed sign-ins.*15 minutes"):
        auth.sign_in(clean_db, "alice", PASSWORD, days=7)
    assert auth.sign_in(clean_db, "bob", PASSWORD, days=7)[0].username == "bob"

    with clean_db.session() as s:  # the window passes
        s.execute(update(SignInFailure).values(failed_at=func.now() - auth.FAILED_SIGN_IN_WINDOW))
        assert auth.purge_old_sign_in_failures(s) == auth.FAILED_SIGN_INS
    assert auth.sign_in(clean_db, "alice", PASSWORD, days=7)[0].username == "alice"


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
