"""The sign-in and settings pages, driven through AppTest as a user would click through them."""

from __future__ import annotations

import pytest
import streamlit as st

from core import auth
from core.errors import InvalidCredentials
from tests.app_driver import click, field, start_app
from tests.factories import PASSWORD, make_account


@pytest.fixture
def app(clean_db):
    return start_app()


def _sign_up(at, username="alice", email="alice@example.com", password=PASSWORD, repeat=None):
    field(at, "Username").input(username)
    field(at, "Email").input(email)
    field(at, "Password", nth=1).input(password)  # the sign-up tab's password box comes second
    field(at, "Repeat password").input(password if repeat is None else repeat)
    click(at, "Create account")


def _sign_in(at, login, password):
    field(at, "Username or email").input(login)
    field(at, "Password").input(password)
    click(at, "Sign in")


def test_signed_out_visitor_sees_sign_in_and_sign_up(app):
    assert app.title[0].value == "Ask Video"
    labels = {w.label for w in app.text_input}
    assert {"Username or email", "Password", "Username", "Email", "Repeat password"} <= labels


def test_new_user_signs_up_and_lands_signed_in(app):
    _sign_up(app)
    assert app.session_state["account"].username == "alice"
    assert app.title[0].value == "Library"
    assert any("Signed in as **alice**" in c.value for c in app.sidebar.caption)


def test_mismatched_passwords_and_duplicates_get_clear_messages(app):
    _sign_up(app, repeat="something else entirely")
    assert [e.value for e in app.error] == ["The two passwords differ."]
    assert app.session_state["account"] is None
    _sign_up(app)
    click(app, "Sign out")
    _sign_up(app, username="alice", email="new@example.com")
    assert "username is taken" in app.error[0].value


def test_wrong_password_is_refused_and_right_one_signs_in(app):
    _sign_up(app)
    click(app, "Sign out")
    assert app.session_state["account"] is None
    _sign_in(app, "alice", "not my password")
    assert app.error[0].value == "Wrong username/email or password."
    _sign_in(app, "alice", PASSWORD)
    assert app.session_state["account"].username == "alice"
    assert app.title[0].value == "Library"


def test_a_locked_account_is_refused_on_the_page_however_it_is_typed(app, clean_db):
    with clean_db.session() as s:
        make_account(s, "victim1")
    for n in range(auth.FAILED_SIGN_INS):
        with pytest.raises(InvalidCredentials):
            auth.sign_in(clean_db, "victim1", f"guess number {n}", days=7)
    _sign_in(app, "VICTIM1@example.com", PASSWORD)
    assert app.error[0].value == "Too many failed sign-ins for this account. Try again in 15 minutes."
    assert app.session_state["account"] is None


def test_the_page_throttles_by_the_visitors_address(app, clean_db, monkeypatch):
    """The page hands Streamlit's client address to the throttle: a guesser spraying many
    logins from one address is stopped there, whatever account it tries next."""
    with clean_db.session() as s:
        make_account(s, "bob")
    monkeypatch.setattr(type(st.context), "ip_address", property(lambda self: "203.0.113.7"))
    for n in range(auth.FAILED_SIGN_INS_PER_ADDRESS):
        with pytest.raises(InvalidCredentials):
            auth.sign_in(clean_db, f"someone{n}", "guess", days=7, address="203.0.113.7")
    _sign_in(app, "bob", PASSWORD)
    assert app.error[0].value == "Too many failed sign-ins from your network. Try again in 15 minutes."
    assert app.session_state["account"] is None


def test_settings_page_stores_a_key_and_shows_it_masked(app):
    _sign_up(app)
    app.switch_page("pages/settings.py").run()
    assert not app.exception
    assert "No key stored" in app.info[0].value
    field(app, "New API key").input("sk-live-abcdefghijklmnop1234")
    click(app, "Save key")
    shown = " ".join(m.value for m in app.markdown)
    assert "sk-…1234" in shown and "abcdefghijklmnop" not in shown
    field(app, "OpenAI-compatible base URL (optional)").input("ftp://nope")
    click(app, "Save models")
    assert "http://" in app.error[0].value
    field(app, "OpenAI-compatible base URL (optional)").input("https://collector.example.net/v1")
    click(app, "Save models")
    assert "API key was removed" in app.warning[0].value and "No key stored" in app.info[0].value
    field(app, "New API key").input("sk-live-abcdefghijklmnop1234")
    click(app, "Save key")
    click(app, "Remove key")
    assert "No key stored" in app.info[0].value
