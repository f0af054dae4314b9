"""The Workspace page and what a role shows: an owner makes a team and invites by email; a viewer
finds the team's group and videos without the tools to change them."""

from __future__ import annotations

from core import groups, workspaces
from db.models import Video
from streamlit.testing.v1 import AppTest

from core import auth
from tests.app_driver import APP, click, errors, field, signed_in_app
from tests.factories import make_account


def test_an_owner_makes_a_team_workspace_and_invites_a_colleague(clean_db):
    at, owner = signed_in_app(clean_db, "olga", page="pages/team.py")
    assert "personal workspace" in at.caption[0].value
    field(at, "Name").input("Support team")
    click(at, "Create workspace")
    assert at.title[0].value == "Support team" and not errors(at)
    workspace_id = int(at.query_params["ws"])
    field(at, "Email").input("colin@example.com")
    click(at, "Create invitation")
    [link] = [c.value for c in at.code if "?join=" in c.value]
    with clean_db.session() as s:
        [pending] = workspaces.pending_invitations(s, owner.id, workspace_id)
        colin = make_account(s, "colin")
        assert workspaces.accept(s, colin.id, link.split("?join=", 1)[1]) == workspace_id
    assert (pending.email, pending.role) == ("colin@example.com", "viewer")


def test_a_viewer_sees_the_teams_group_but_not_the_tools_to_change_it(clean_db):
    with clean_db.session() as s:
        owner = make_account(s, "olga")
        team = workspaces.create_workspace(s, owner.id, "Support team")
        video = Video(user_id=owner.id, workspace_id=team, title="Escalations", status="completed", duration_s=60)
        s.add(video)
        s.flush()
        group_id = groups.create_group(s, owner.id, "Onboarding", workspace_id=team)
        groups.add_videos(s, owner.id, group_id, [video.id])
        viewer = make_account(s, "vivian")
        workspaces.accept(s, viewer.id, workspaces.invite(s, owner.id, team, role="viewer",
                                                            email=viewer.email).token)
        token = auth.start_session(s, viewer.id, days=1)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.session_state["session_token"] = token
    at.query_params["ws"] = str(team)  # a link into the team's workspace
    at.run()
    assert [p.label for p in at.sidebar.selectbox] == ["Workspace"]
    at.switch_page("pages/groups.py").run()
    assert not at.exception and not errors(at)
    assert at.main.selectbox[0].value.name == "Onboarding"  # the team's group, where the link pointed
    labels = {b.label for b in at.button}
    assert "New group" not in labels and not {"Up", "Down", "Remove"} & labels
    assert [t.label for t in at.tabs] == ["Videos", "Summary and posts"]  # no renaming, deleting or sharing
    assert any("Escalations" in m.value for m in at.markdown)
