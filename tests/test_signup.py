"""Who may create an account: open, invitation-only and domain installations, and invitations."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core import signup
from core.config import SignUpMode, load_settings
from core.signup import InvitationInvalid, NotStaff, SignUpClosed
from db.models import Invitation, User
from tests.factories import PASSWORD, make_account

ASK = "ask an administrator for an invitation"


def _installation(settings, mode: str, *domains: str):
    return dataclasses.replace(settings, signup_mode=SignUpMode(mode), signup_domains=domains)


def _register(session, settings, username, email=None, invitation=None):
    return signup.register(session, settings, username, email or f"{username}@example.com", PASSWORD,
                           invitation_token=invitation)


def test_an_open_installation_lets_anyone_sign_up(session, settings):
    assert signup.sign_up_offer(session, settings) == signup.SignUpOffer(form=True)
    first = _register(session, settings, "alice")
    second = _register(session, settings, "bob", "bob@anywhere.example.org")
    assert first.is_staff and not second.is_staff


def test_an_invitation_only_installation_turns_visitors_away(session, settings):
    invite_only = _installation(settings, "invite")
    # The very first account can always be made: someone has to invite the others.
    assert signup.sign_up_offer(session, invite_only).form
    admin = _register(session, invite_only, "admin")
    assert admin.is_staff

    offer = signup.sign_up_offer(session, invite_only)
    assert not offer.form and ASK in offer.note
    with pytest.raises(SignUpClosed, match=ASK):
        _register(session, invite_only, "mallory")
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_an_invitation_lets_one_person_in_once(session, settings):
    invite_only = _installation(settings, "invite")
    admin = _register(session, invite_only, "admin")
    made = signup.create_invitation(session, admin.id)
    stored = session.scalars(select(Invitation.token_hash)).one()
    assert stored == signup.auth.hash_token(made.token) and made.token not in stored and len(made.token) >= 40

    offer = signup.sign_up_offer(session, invite_only, made.token)
    assert offer.form and offer.email is None and offer.invitation_token == made.token
    carol = _register(session, invite_only, "carol", invitation=made.token)
    assert not carol.is_staff
    assert session.scalars(select(Invitation.used_by_id)).one() == carol.id

    with pytest.raises(InvitationInvalid, match="already been used"):
        _register(session, invite_only, "dave", invitation=made.token)
    again = signup.sign_up_offer(session, invite_only, made.token)
    assert "already been used" in again.problem and not again.form and ASK in again.note


def test_an_invitation_for_an_email_admits_only_that_address(session, settings):
    invite_only = _installation(settings, "invite")
    admin = _register(session, invite_only, "admin")
    made = signup.create_invitation(session, admin.id, "  Erin@Example.com ")
    assert made.email == "erin@example.com"
    assert signup.sign_up_offer(session, invite_only, made.token).email == "erin@example.com"
    with pytest.raises(SignUpClosed, match="for another email address"):
        _register(session, invite_only, "mallory", "mallory@example.com", invitation=made.token)
    assert _register(session, invite_only, "erin", "ERIN@example.com", invitation=made.token).email == "erin@example.com"


def test_expired_revoked_and_unknown_invitations_say_so(session, settings):
    invite_only = _installation(settings, "invite")
    admin = _register(session, invite_only, "admin")
    expired, revoked = signup.create_invitation(session, admin.id), signup.create_invitation(session, admin.id)
    session.execute(update(Invitation).where(Invitation.token_hash == signup.auth.hash_token(expired.token))
                    .values(expires_at=func.now() - timedelta(seconds=1)))
    signup.revoke_invitation(session, admin.id, signup.pending_invitations(session, admin.id)[0].id)
    for token, message in ((expired.token, "has expired"), (revoked.token, "was revoked"),
                           ("made-up-" + "x" * 40, "not valid"), (expired.token[:-3], "not valid")):
        assert message in signup.sign_up_offer(session, invite_only, token).problem
        with pytest.raises(InvitationInvalid, match=message):
            _register(session, invite_only, "mallory", invitation=token)


def test_a_domain_installation_admits_only_its_domains_and_invitees(session, settings):
    corp = _installation(settings, "domain", "example.com", "corp.example.com")
    admin = _register(session, corp, "admin", "admin@example.com")
    offer = signup.sign_up_offer(session, corp)
    assert offer.form and "example.com or corp.example.com" in offer.note and ASK in offer.note
    _register(session, corp, "bob", "Bob@Corp.Example.com")
    for outsider in ("eve@elsewhere.org", "eve@sub.example.com", "eve@example.com.evil.org", "eve@notexample.com"):
        with pytest.raises(SignUpClosed, match=f"only for addresses at example.com or corp.example.com.*{ASK}"):
            _register(session, corp, "eve", outsider)
    made = signup.create_invitation(session, admin.id)
    assert _register(session, corp, "eve", "eve@elsewhere.org", invitation=made.token).username == "eve"


def test_form_mistakes_are_reported_before_the_rules(session, settings):
    invite_only = _installation(settings, "invite")
    _register(session, invite_only, "admin")
    with pytest.raises(signup.SignUpError, match="does not look like an email"):
        _register(session, invite_only, "mallory", "not-an-email")


def test_only_staff_manage_invitations(session, settings):
    admin = make_account(session, "admin")
    member = make_account(session, "member")
    signup.create_invitation(session, admin.id, "friend@example.com")
    for attempt in (lambda: signup.create_invitation(session, member.id),
                    lambda: signup.pending_invitations(session, member.id),
                    lambda: signup.revoke_invitation(session, member.id, 1)):
        with pytest.raises(NotStaff, match="Only staff"):
            attempt()
    assert [p.email for p in signup.pending_invitations(session, admin.id)] == ["friend@example.com"]


def test_staff_see_pending_invitations_and_revoke_them(session, settings):
    admin = make_account(session, "admin")
    first = signup.create_invitation(session, admin.id, "one@example.com")
    signup.create_invitation(session, admin.id)
    pending = signup.pending_invitations(session, admin.id)
    assert [(p.email, p.invited_by) for p in pending] == [(None, "admin"), ("one@example.com", "admin")]
    week = timedelta(days=signup.INVITATION_DAYS)
    assert all(abs(p.expires_at - p.created_at - week) < timedelta(minutes=1) for p in pending)
    signup.revoke_invitation(session, admin.id, pending[1].id)
    assert [p.email for p in signup.pending_invitations(session, admin.id)] == [None]
    with pytest.raises(InvitationInvalid, match="already used or revoked"):
        signup.revoke_invitation(session, admin.id, pending[1].id)
    with pytest.raises(InvitationInvalid, match="was revoked"):
        _register(session, settings, "one", "one@example.com", invitation=first.token)
    with pytest.raises(signup.SignUpError, match="already exists"):
        signup.create_invitation(session, admin.id, "ADMIN@example.com")


def test_two_visitors_racing_for_the_first_account_of_an_invite_only_installation(clean_db, settings):
    invite_only = _installation(settings, "invite")
    start = threading.Barrier(2)

    def race(name: str) -> str:
        start.wait()
        try:
            with clean_db.session() as s:
                return _register(s, invite_only, name).username
        except SignUpClosed:
            return "refused"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(race, ["racer1", "racer2"]))
    assert outcomes.count("refused") == 1 and outcomes[0] in ("racer1", "racer2")


def test_one_invitation_used_by_two_people_at_once_admits_one(clean_db, settings):
    invite_only = _installation(settings, "invite")
    with clean_db.session() as s:
        admin = _register(s, invite_only, "admin")
        token = signup.create_invitation(s, admin.id).token
    start = threading.Barrier(2)

    def race(name: str) -> str:
        start.wait()
        try:
            with clean_db.session() as s:
                return _register(s, invite_only, name, invitation=token).username
        except InvitationInvalid as refused:
            return str(refused)

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(race, ["guest1", "guest2"]))
    assert sum(o.startswith("guest") for o in outcomes) == 1
    assert sum("already been used" in o for o in outcomes) == 1


@pytest.mark.parametrize(
    ("mode", "domains", "message"),
    [
        ("invites", None, "ASKVIDEO_SIGNUP: “invites” is not a sign-up mode; use open, invite or domain"),
        ("domain", None, "ASKVIDEO_SIGNUP=domain needs ASKVIDEO_SIGNUP_DOMAINS"),
        ("domain", "example.com, *.corp.example.com", "“\\*.corp.example.com” is not a domain"),
        (None, "example.com", "ASKVIDEO_SIGNUP_DOMAINS is set but ASKVIDEO_SIGNUP is open"),
    ],
)
def test_a_mistyped_sign_up_setting_stops_the_app_at_start(monkeypatch, mode, domains, message):
    for name, value in (("ASKVIDEO_SIGNUP", mode), ("ASKVIDEO_SIGNUP_DOMAINS", domains)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        load_settings()


def test_sign_up_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("ASKVIDEO_SIGNUP", raising=False)
    monkeypatch.delenv("ASKVIDEO_SIGNUP_DOMAINS", raising=False)
    assert load_settings().signup_mode is SignUpMode.OPEN
    monkeypatch.setenv("ASKVIDEO_SIGNUP", " Domain ")
    monkeypatch.setenv("ASKVIDEO_SIGNUP_DOMAINS", "Example.com, @corp.example.com,")
    assert (load_settings().signup_mode, load_settings().signup_domains) == (
        SignUpMode.DOMAIN, ("example.com", "corp.example.com"))
