"""On the Settings page a user makes a token for a script, copies it once, sees it listed with its
scope, workspace and expiry, and revokes it: whatever used it is refused from then on."""

from __future__ import annotations

import pytest

from core import access_tokens, workspaces
from core.access_tokens import TokenRefused
from tests.app_driver import click, field, signed_in_app


def test_a_token_is_made_shown_once_listed_and_revoked(clean_db):
    at, alice = signed_in_app(clean_db, "alice", page="pages/settings.py")
    assert "API tokens" in [h.value for h in at.subheader]
    assert "No tokens yet." in [c.value for c in at.caption]

    click(at, "Make token")  # no name
    assert "Give the token a name" in at.error[0].value

    field(at, "Name").input("Slack bot")
    at.radio(key="api-token-scope").set_value("ask")
    at.selectbox(key="api-token-days").set_value(30)
    click(at, "Make token")
    [secret] = [c.value for c in at.code if c.value.startswith("avt_")]
    assert "Copy it now" in at.success[0].value
    assert any(secret in c.value and "/api/v1/groups" in c.value for c in at.code)  # a curl line to try it
    with clean_db.session() as s:
        caller = access_tokens.authenticate(s, secret)
    assert caller.user_id == alice.id and caller.may_ask()

    at.run()  # shown once: gone on the next visit, listed without its secret
    assert not [c for c in at.code if secret in c.value]
    listed = [m.value for m in at.markdown if "Slack bot" in m.value]
    assert listed == ["**Slack bot** · ask · All workspaces"]
    assert any("expires" in c.value and "last used" in c.value for c in at.caption)

    click(at, "Revoke")  # inside the popover: the confirm button shares its label
    with clean_db.session() as s, pytest.raises(TokenRefused):
        access_tokens.authenticate(s, secret)
    assert any("revoked" in c.value for c in at.caption)


def test_a_token_is_made_for_one_workspace_and_listed_with_it(clean_db):
    at, alice = signed_in_app(clean_db, "alice", page="pages/settings.py")
    with clean_db.session() as s:
        team_id = workspaces.create_workspace(s, alice.id, "Field team")
    at.run()
    choice = at.selectbox(key="api-token-workspace")
    assert choice.options == ["All my workspaces", "Personal", "Field team"] and choice.value is None

    field(at, "Name").input("Team bot")
    choice.set_value(team_id)
    click(at, "Make token")
    [secret] = [c.value for c in at.code if c.value.startswith("avt_")]
    with clean_db.session() as s:
        assert access_tokens.authenticate(s, secret).workspace_id == team_id

    at.run()
    assert [m.value for m in at.markdown if "Team bot" in m.value] == ["**Team bot** · read · Field team"]
