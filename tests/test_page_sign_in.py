"""The sign-in and settings pages, driven through AppTest as a user would click through them."""

from __future__ import annotations

import pytest
import streamlit as st

from streamlit.testing.v1 import AppTest

from core import auth
from core.errors import InvalidCredentials
from tests.app_driver import APP, click, errors, field, start_app
from tests.factories import PASSWORD, make_account


@pytest.fixture
def app(clean_db):
    return start_app()


@pytest.fixture
def installation(monkeypatch):
    """Set the sign-up rules as an administrator would before starting the app."""
    from ui.session import settings

    def configure(mode: str, domains: str | None = None) -> None:
        monkeypatch.setenv("ASKVIDEO_SIGNUP", mode)
        if domains:
            monkeypatch.setenv("ASKVIDEO_SIGNUP_DOMAINS", domains)
        settings.clear()

    yield configure
    monkeypatch.undo()
    settings.clear()


def _open(link: str | None = None) -> AppTest:
    """The app as a new browser opens it, from an invitation link if given."""
    at = AppTest.from_file(str(APP), default_timeout=30)
    if link:
        at.query_params["invite"] = link.split("?invite=", 1)[1]
    at.run()
    assert not at.exception, at.exception
    return at


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
    assert errors(app) == ["The two passwords differ."]
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
    assert errors(app) == ["Wrong username/email or password."]
    _sign_in(app, "alice", PASSWORD)
    assert app.session_state["account"].username == "alice"
    assert app.title[0].value == "Library"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/?share=x", "short"])
def test_a_next_that_is_no_share_token_leads_nowhere_but_the_library(clean_db, target):
    with clean_db.session() as s:
        make_account(s, "alice")
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params["next"] = target
    at.run()
    _sign_in(at, "alice", PASSWORD)
    assert at.title[0].value == "Library" and set(at.query_params) == {"ws"}  # the workspace it opens in


def test_a_locked_account_is_refused_on_the_page_however_it_is_typed(app, clean_db):
    with clean_db.session() as s:
        make_account(s, "victim1")
    for n in range(auth.FAILED_SIGN_INS):
        with pytest.raises(InvalidCredentials):
            auth.sign_in(clean_db, "victim1", f"guess number {n}", days=7)
    _sign_in(app, "VICTIM1@example.com", PASSWORD)
    assert errors(app) == ["Too many failed sign-ins for this account. Try again in 15 minutes."]
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
    assert errors(app) == ["Too many failed sign-ins from your network. Try again in 15 minutes."]
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
    assert "http://" in errors(app)[0]
    field(app, "OpenAI-compatible base URL (optional)").input("https://collector.example.net/v1")
    click(app, "Save models")
    assert "API key was removed" in app.warning[0].value and "No key stored" in app.info[0].value
    field(app, "New API key").input("sk-live-abcdefghijklmnop1234")
    click(app, "Save key")
    click(app, "Remove key")
    assert "No key stored" in app.info[0].value


def test_staff_invite_a_colleague_to_an_invitation_only_installation(clean_db, installation):
    installation("invite")
    admin = start_app()
    _sign_up(admin, "admin", "admin@example.com")  # the first account may always sign up: it is staff
    admin.switch_page("pages/settings.py").run()
    field(admin, "Email (optional)").input("bob@example.com")
    click(admin, "Create invitation")
    assert "shown only this once" in admin.success[0].value
    link = admin.code[0].value
    assert "/?invite=" in link
    admin.switch_page("pages/settings.py").run()
    assert "bob@example.com" in [t.value for t in admin.text]  # pending, as plain text (never a mailto link)
    assert not admin.code  # the link is not shown again

    stranger = _open()
    assert "ask an administrator for an invitation" in stranger.info[0].value
    assert "Repeat password" not in {w.label for w in stranger.text_input}

    bob = _open(link)
    assert "You are invited" in bob.info[0].value
    assert field(bob, "Email").value == "bob@example.com" and field(bob, "Email").proto.disabled
    field(bob, "Username").input("bob")
    field(bob, "Password", nth=1).input(PASSWORD)
    field(bob, "Repeat password").input(PASSWORD)
    click(bob, "Create account")
    assert bob.session_state["account"].username == "bob" and bob.title[0].value == "Library"
    assert not bob.session_state["account"].is_staff

    again = _open(link)
    assert "already been used" in again.error[0].value
    assert "Repeat password" not in {w.label for w in again.text_input}
    admin.switch_page("pages/settings.py").run()
    assert "No pending invitations." in [c.value for c in admin.caption]


def test_a_revoked_invitation_link_stops_working(clean_db, installation):
    installation("invite")
    admin = start_app()
    _sign_up(admin, "admin", "admin@example.com")
    admin.switch_page("pages/settings.py").run()
    click(admin, "Create invitation")
    link = admin.code[0].value
    assert "anyone with the link" in " ".join(m.value for m in admin.markdown)
    click(admin, "Revoke")  # the button inside the Revoke popover
    assert "No pending invitations." in [c.value for c in admin.caption]
    assert "was revoked" in _open(link).error[0].value
    assert "not valid" in _open(link[:-4]).error[0].value


def test_a_domain_installation_says_who_may_sign_up_and_turns_others_away(clean_db, installation):
    installation("domain", "example.com")
    with clean_db.session() as s:
        make_account(s, "admin")
    at = start_app()
    assert "Accounts are for addresses at example.com" in at.info[0].value
    _sign_up(at, "eve", "eve@elsewhere.org")
    assert "ask an administrator for an invitation" in at.error[0].value
    assert at.session_state["account"] is None
    _sign_up(at, "carol", "carol@example.com")
    assert at.session_state["account"].username == "carol"


def test_members_who_are_not_staff_see_no_invitations(clean_db):
    with clean_db.session() as s:
        make_account(s, "admin")
    at = start_app()
    _sign_up(at, "member", "member@example.com")
    at.switch_page("pages/settings.py").run()
    assert not at.exception and "Invitations" not in [h.value for h in at.subheader]
