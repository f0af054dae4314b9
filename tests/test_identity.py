"""Company sign-in: who the company's provider vouches for gets in, under the installation's rules."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from core import identity, signup, workspaces
from core.config import SignUpMode, load_settings
from core.errors import InvalidCredentials
from db.models import User
from tests.factories import PASSWORD, make_account


def _claims(email: str, **more) -> dict:
    return {"sub": email, "email": email, "email_verified": True, "iss": "http://127.0.0.1:9400", **more}


def _invite_only():
    return dataclasses.replace(load_settings(), signup_mode=SignUpMode.INVITE)


def test_a_verified_company_email_makes_an_account_once_and_signs_it_in(clean_db):
    with clean_db.session() as s:
        make_account(s, "admin")
    account, token = identity.sign_in_with_identity(clean_db, load_settings(),
                                                    _claims("Ada.Lovelace@Example.com", sub="ada-1"), days=1)
    # Her address changed at the company: the provider's subject still says who she is.
    again, other_token = identity.sign_in_with_identity(clean_db, load_settings(),
                                                        _claims("ada@example.com", sub="ada-1"), days=1)
    assert (account.username, account.email) == ("ada.lovelace", "ada.lovelace@example.com")
    assert again.id == account.id and token != other_token
    with clean_db.session() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.email == account.email)) == 1
        assert [w.name for w in workspaces.list_workspaces(s, account.id)] == ["Personal"]


def test_an_existing_account_with_that_email_is_linked_only_with_its_password(clean_db):
    """Addresses are not verified here: an account made with Bea's address by someone else must not
    become hers, nor hers theirs, without its password."""
    with clean_db.session() as s:
        make_account(s, "admin")
        bea = make_account(s, "bea")
    with pytest.raises(identity.LinkNeeded, match=r"exists already \(bea\)"):
        identity.sign_in_with_identity(clean_db, load_settings(), _claims("bea@example.com"), days=1)
    with pytest.raises(InvalidCredentials):
        identity.link_with_password(clean_db, _claims("bea@example.com"), "a wrong guess", days=1)
    linked, _ = identity.link_with_password(clean_db, _claims("bea@example.com"), PASSWORD, days=1)
    again, _ = identity.sign_in_with_identity(clean_db, load_settings(), _claims("bea@example.com"), days=1)
    assert linked.id == again.id == bea.id


@pytest.mark.parametrize("claims, why", [
    ({"sub": "x", "email": "cy@example.com"}, "not verified"),
    ({"sub": "x", "email": "cy@example.com", "email_verified": "true"}, "not verified"),  # a string is not a yes
    ({"sub": "x", "email_verified": True}, "no email address"),
    ({"sub": "x", "email": "not an address", "email_verified": True}, "no email address"),
])
def test_an_unverified_or_missing_email_gets_nobody_in(clean_db, claims, why):
    with pytest.raises(identity.IdentityRefused, match=why):
        identity.sign_in_with_identity(clean_db, load_settings(), claims, days=1)


def test_where_sign_up_is_by_invitation_a_workspace_invitation_lets_the_invitee_in_and_joins_it(clean_db):
    with clean_db.session() as s:
        owner = make_account(s, "olga")
        team = workspaces.create_workspace(s, owner.id, "Support team")
        workspaces.invite(s, owner.id, team, role="editor", email="dee@example.com")
    with pytest.raises(identity.IdentityRefused, match="by invitation"):
        identity.sign_in_with_identity(clean_db, _invite_only(), _claims("stranger@example.com"), days=1)
    dee, _ = identity.sign_in_with_identity(clean_db, _invite_only(), _claims("dee@example.com"), days=1)
    with clean_db.session() as s:
        assert {w.name: w.role for w in workspaces.list_workspaces(s, dee.id)} == {"Personal": "owner",
                                                                                  "Support team": "editor"}
        assert workspaces.pending_invitations(s, owner.id, team) == []  # used


def test_with_password_sign_in_turned_off_nobody_signs_up_with_a_password(clean_db):
    no_passwords = dataclasses.replace(load_settings(), password_sign_in=False)
    with clean_db.session() as s, pytest.raises(signup.SignUpClosed, match="company sign-in"):
        signup.register(s, no_passwords, "eve", "eve@example.com", PASSWORD)


def test_a_team_invitation_opens_an_invite_only_installation_only_when_staff_made_it(clean_db):
    """Anyone may make a team; a team's invitation must not let the whole world into a closed
    installation. A staff member's does, and signing up through it joins at once."""
    with clean_db.session() as s:
        admin, olga = make_account(s, "admin"), make_account(s, "olga")  # the first account is staff
        by_olga = workspaces.invite(s, olga.id, workspaces.create_workspace(s, olga.id, "Olga's team"),
                                    role="viewer", max_uses=5)
        staff_team = workspaces.create_workspace(s, admin.id, "Everyone")
        by_staff = workspaces.invite(s, admin.id, staff_team, role="viewer", email="fay@example.com")
    with clean_db.session() as s, pytest.raises(signup.SignUpClosed, match="by invitation"):
        signup.register(s, _invite_only(), "gus", "gus@example.com", PASSWORD, join_token=by_olga.token)
    with clean_db.session() as s:
        fay = signup.register(s, _invite_only(), "fay", "fay@example.com", PASSWORD, join_token=by_staff.token)
    with clean_db.session() as s:
        assert [w.name for w in workspaces.list_workspaces(s, fay.id)] == ["Personal", "Everyone"]
        assert workspaces.pending_invitations(s, admin.id, staff_team) == []  # used by the sign-up itself


def test_where_anyone_may_sign_up_a_teams_invitation_still_names_its_address(clean_db):
    with clean_db.session() as s:
        make_account(s, "admin")
        olga = make_account(s, "olga")  # not staff
        made = workspaces.invite(s, olga.id, workspaces.create_workspace(s, olga.id, "Olga's team"), role="viewer",
                                 email="hal@example.com")
        offer = signup.sign_up_offer(s, load_settings(), join_token=made.token)
        closed = signup.sign_up_offer(s, _invite_only(), join_token=made.token)
    assert offer.form and offer.email == "hal@example.com" and "invited" in offer.note
    assert not closed.form and "by invitation" in closed.note
