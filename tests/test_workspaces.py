"""Teams: a workspace's members reach its library as their role allows, and nobody else reaches
any of it by any id."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core import (accounts, analytics, answers, auth, chapters, clips, comments, conversations, groups, library,
                  media_links, sharing, storage, summaries, workspaces)
from core.config import load_settings
from core.errors import AskVideoError, Refused, VideoNotFound
from core.groups import GroupNotFound
from core.workspaces import InvitationInvalid, NotAllowed, WorkspaceNotFound
from db.models import ChatLog, Clip, Video, WorkspaceInvitation
from tests.factories import PASSWORD, chat_log, home, make_account


class DatabaseOf:
    """The test's one session as a Database, for core functions that open their own sessions."""

    def __init__(self, session) -> None:
        self._session = session

    @contextmanager
    def session(self):
        yield self._session


@dataclass
class Team:
    session: object
    owner: auth.Account
    editor: auth.Account
    viewer: auth.Account
    outsider: auth.Account
    workspace_id: int
    video_id: int
    group_id: int


def _join(session, owner, workspace_id, person, role) -> None:
    invitation = workspaces.invite(session, owner.id, workspace_id, role=role, email=person.email)
    assert workspaces.accept(session, person.id, invitation.token) == workspace_id


@pytest.fixture
def team(session) -> Team:
    """Olga's support team: Eddie edits, Vivian views; Mallory has an account and a library of her own."""
    owner, editor, viewer, outsider = (make_account(session, name) for name in ("olga", "eddie", "vivian", "mallory"))
    workspace_id = workspaces.create_workspace(session, owner.id, "Support team")
    _join(session, owner, workspace_id, editor, "editor")
    _join(session, owner, workspace_id, viewer, "viewer")
    video = Video(user_id=editor.id, workspace_id=workspace_id, title="Escalations", status="completed",
                  duration_s=60)
    session.add(video)
    session.flush()
    group_id = groups.create_group(session, editor.id, "Onboarding", workspace_id=workspace_id)
    groups.add_videos(session, editor.id, group_id, [video.id])
    return Team(session, owner, editor, viewer, outsider, workspace_id, video.id, group_id)


def _titles(session, user_id, workspace_id=None) -> list[str]:
    page = library.list_videos(session, load_settings(), user_id, workspace_id=workspace_id)
    return [v.title for v in page.items]


def test_every_member_sees_the_teams_library_and_it_stays_out_of_personal_ones(team):
    s = team.session
    for member in (team.owner, team.editor, team.viewer):
        assert _titles(s, member.id, team.workspace_id) == ["Escalations"]
        assert [g.name for g in groups.list_groups(s, member.id, workspace_id=team.workspace_id)] == ["Onboarding"]
        assert _titles(s, member.id) == []  # their personal workspace
    assert [(w.name, w.role, w.personal) for w in workspaces.list_workspaces(s, team.viewer.id)] == [
        ("Personal", "owner", True), ("Support team", "viewer", False)]
    with pytest.raises(WorkspaceNotFound):
        _titles(s, team.outsider.id, team.workspace_id)


def test_a_viewer_watches_asks_rates_and_comments_but_changes_nothing(team):
    s, viewer = team.session, team.viewer
    assert library.video_detail(s, load_settings(), viewer.id, team.video_id).summary.title == "Escalations"
    comments.add_comment(s, viewer.id, team.video_id, "The second call is the one to learn from.")
    theirs = chat_log(user_id=viewer.id, group_id=team.group_id, question="Who escalates?", answer="Ed [1].",
                      mode="extractive")
    editors = chat_log(user_id=team.editor.id, group_id=team.group_id, question="When?", answer="Daily [1].",
                       mode="extractive")
    s.add_all([theirs, editors])
    s.flush()
    answers.set_feedback(s, theirs.id, "good", user_id=viewer.id)
    with pytest.raises(AskVideoError, match="cannot be rated"):
        answers.set_feedback(s, editors.id, "bad", user_id=viewer.id)  # not theirs to judge
    answers.set_feedback(s, theirs.id, "bad", user_id=team.editor.id)  # editors review anyone's
    for change in (lambda: library.update_video(s, viewer.id, team.video_id, title="Mine now", description=""),
                   lambda: groups.delete_group(s, viewer.id, team.group_id),
                   lambda: groups.create_group(s, viewer.id, "Side project", workspace_id=team.workspace_id),
                   lambda: groups.remove_video(s, viewer.id, team.group_id, team.video_id),
                   lambda: sharing.create_link(s, viewer.id, team.group_id),
                   lambda: chapters.add_chapter(s, viewer.id, team.video_id, title="Intro", start=0, end=10),

                   lambda: analytics.scope_for(s, viewer.id, all_users=False, workspace_id=team.workspace_id)):
        with pytest.raises(NotAllowed, match="editor or owner"):
            change()
    assert _titles(s, viewer.id, team.workspace_id) == ["Escalations"]
    # A viewer may have the summary made, but not replace a current one (each costs a model call).
    summaries.summarize(DatabaseOf(s), load_settings(), viewer.id, video_id=team.video_id)
    with pytest.raises(NotAllowed, match="editor or owner"):
        summaries.summarize(DatabaseOf(s), load_settings(), viewer.id, video_id=team.video_id, regenerate=True)
    summaries.summarize(DatabaseOf(s), load_settings(), team.editor.id, video_id=team.video_id, regenerate=True)


def test_an_editor_changes_the_library_but_not_who_is_in_it(team):
    s, editor = team.session, team.editor
    library.update_video(s, editor.id, team.video_id, title="Escalations, 2026", description="")
    assert sharing.create_link(s, editor.id, team.group_id)
    assert analytics.scope_for(s, editor.id, all_users=False, workspace_id=team.workspace_id).workspace_id == \
        team.workspace_id
    for manage in (lambda: workspaces.invite(s, editor.id, team.workspace_id, role="owner", email="pal@example.com"),
                   lambda: workspaces.set_role(s, editor.id, team.workspace_id, editor.id, "owner"),
                   lambda: workspaces.remove_member(s, editor.id, team.workspace_id, team.viewer.id),
                   lambda: workspaces.pending_invitations(s, editor.id, team.workspace_id),
                   lambda: workspaces.rename_workspace(s, editor.id, team.workspace_id, "Ed's team")):
        with pytest.raises(NotAllowed, match="owner"):
            manage()
    assert {m.role for m in workspaces.members(s, editor.id, team.workspace_id)} == {"owner", "editor", "viewer"}
    # The team answers with its owner's models (one embedding model for its videos and questions).
    assert workspaces.model_holder(s, team.workspace_id) == team.owner.id
    assert workspaces.models_from(s, editor.id, team.workspace_id) == "olga"
    assert workspaces.models_from(s, team.owner.id, team.workspace_id) is None


def _stored_file(settings, owner_id: int) -> str:
    relative, path = storage.new_path(settings.media_dir, "videos", owner_id, ".mp4")
    path.write_bytes(b"not really a video, but a file")
    return relative


def _plays(session, settings, account: auth.Account, video_id: int) -> bool:
    grant = media_links.session_grant(auth.account_for_token(session, auth.start_session(session, account.id,
                                                                                        days=1)).session_id)
    try:
        media_links.locate(session, settings, "video", video_id, grant)
    except Refused:
        return False
    return True


def test_an_outsider_reaches_nothing_of_a_workspace_by_any_id(team):
    s, outsider, settings = team.session, team.outsider, load_settings()
    s.get(Video, team.video_id).file = _stored_file(settings, team.editor.id)
    conversation_id = conversations.start(s, team.viewer.id, workspace_id=team.workspace_id, question="Who?",
                                          group_id=team.group_id)
    clip = Clip(workspace_id=team.workspace_id, video_id=team.video_id, clip_hash="c" * 64, title="Bit",
                start_s=0, end_s=5)
    s.add(clip)
    s.flush()
    assert _plays(s, settings, team.viewer, team.video_id)

    hidden = [
        (VideoNotFound, lambda: library.video_detail(s, settings, outsider.id, team.video_id)),
        (VideoNotFound, lambda: comments.thread(s, outsider.id, team.video_id)),
        (VideoNotFound, lambda: comments.add_comment(s, outsider.id, team.video_id, "hello")),
        (VideoNotFound, lambda: chapters.list_chapters(s, outsider.id, team.video_id)),
        (VideoNotFound, lambda: summaries.cached(s, settings, outsider.id, video_id=team.video_id)),
        (GroupNotFound, lambda: groups.group_detail(s, outsider.id, team.group_id)),
        (GroupNotFound, lambda: conversations.check_target(s, outsider.id, group_id=team.group_id, video_id=None)),
        (conversations.ConversationNotFound, lambda: conversations.find(s, outsider.id, conversation_id)),
        (clips.ClipError, lambda: clips.get_clip(s, settings, outsider.id, clip.id)),
        (WorkspaceNotFound, lambda: workspaces.members(s, outsider.id, team.workspace_id)),
        (WorkspaceNotFound, lambda: analytics.scope_for(s, outsider.id, all_users=False,
                                                        workspace_id=team.workspace_id)),
        (WorkspaceNotFound, lambda: conversations.list_conversations(s, outsider.id, workspace_id=team.workspace_id)),
    ]
    for error, reach in hidden:
        with pytest.raises(error):
            reach()
    with pytest.raises(GroupNotFound):  # nor can she put her own video into the team's group
        groups.add_videos(s, outsider.id, team.group_id, [team.video_id])
    assert not _plays(s, settings, outsider, team.video_id)
    # A teammate does not see another's conversations either: Analytics shows them to editors.
    with pytest.raises(conversations.ConversationNotFound):
        conversations.find(s, team.editor.id, conversation_id)


def test_a_removed_member_loses_access_at_once(team):
    s, viewer, settings = team.session, team.viewer, load_settings()
    s.get(Video, team.video_id).file = _stored_file(settings, team.editor.id)
    conversation_id = conversations.start(s, viewer.id, workspace_id=team.workspace_id, question="Who?",
                                          group_id=team.group_id)
    workspaces.remove_member(s, team.owner.id, team.workspace_id, viewer.id)
    with pytest.raises(WorkspaceNotFound):
        _titles(s, viewer.id, team.workspace_id)
    with pytest.raises(VideoNotFound):
        library.owned_video(s, viewer.id, team.video_id)
    with pytest.raises(conversations.ConversationNotFound):  # even the conversation they started there
        conversations.find(s, viewer.id, conversation_id)
    assert not _plays(s, settings, viewer, team.video_id)
    assert [w.name for w in workspaces.list_workspaces(s, viewer.id)] == ["Personal"]


def test_a_removed_member_can_no_longer_change_what_they_wrote(team):
    s, viewer = team.session, team.viewer
    said = comments.add_comment(s, viewer.id, team.video_id, "The refund policy changed in May.")
    workspaces.remove_member(s, team.owner.id, team.workspace_id, viewer.id)
    for change in (lambda: comments.edit_comment(s, viewer.id, said, "Ignore the refund policy."),
                   lambda: comments.delete_comment(s, viewer.id, said)):
        with pytest.raises(VideoNotFound):
            change()
    [kept] = comments.thread(s, team.owner.id, team.video_id)
    assert (kept.text, kept.edited) == ("The refund policy changed in May.", False)


def test_a_workspace_always_keeps_an_owner(team):
    s, owner = team.session, team.owner
    with pytest.raises(NotAllowed, match="needs an owner"):
        workspaces.leave(s, owner.id, team.workspace_id)
    with pytest.raises(NotAllowed, match="needs an owner"):
        workspaces.set_role(s, owner.id, team.workspace_id, owner.id, "editor")
    workspaces.set_role(s, owner.id, team.workspace_id, team.editor.id, "owner")
    workspaces.leave(s, owner.id, team.workspace_id)  # someone else owns it now
    assert [(m.username, m.role) for m in workspaces.members(s, team.editor.id, team.workspace_id)] == [
        ("eddie", "owner"), ("vivian", "viewer")]
    with pytest.raises(NotAllowed, match="personal"):
        workspaces.leave(s, owner.id, home(s, owner.id))


def test_an_invitation_is_for_its_address_once_a_link_for_its_uses_and_either_can_be_revoked(team):
    s, owner, ws = team.session, team.owner, team.workspace_id
    newcomer, other = make_account(s, "nina"), make_account(s, "oscar")
    for_nina = workspaces.invite(s, owner.id, ws, role="viewer", email="NINA@example.com ")
    with pytest.raises(InvitationInvalid, match="another email"):
        workspaces.accept(s, other.id, for_nina.token)
    assert workspaces.accept(s, newcomer.id, for_nina.token) == ws
    assert workspaces.accept(s, newcomer.id, for_nina.token) == ws  # opened again: already in, nothing used
    with pytest.raises(InvitationInvalid, match="used up"):
        workspaces.accept(s, other.id, for_nina.token)
    # Only the token's hash is kept.
    assert for_nina.token not in {i.token_hash for i in s.scalars(select(WorkspaceInvitation))}

    link = workspaces.invite(s, owner.id, ws, role="editor", max_uses=2)
    [pending] = workspaces.pending_invitations(s, owner.id, ws)
    assert (pending.email, pending.role, pending.uses, pending.max_uses) == (None, "editor", 0, 2)
    workspaces.accept(s, other.id, link.token)
    workspaces.accept(s, other.id, link.token)  # already a member: keeps the role, uses nothing up
    workspaces.accept(s, make_account(s, "patrick").id, link.token)
    with pytest.raises(InvitationInvalid, match="used up"):
        workspaces.accept(s, make_account(s, "quinn").id, link.token)
    assert workspaces.pending_invitations(s, owner.id, ws) == []

    revoked = workspaces.invite(s, owner.id, ws, role="viewer", email="rita@example.com")
    [pending] = workspaces.pending_invitations(s, owner.id, ws)
    workspaces.revoke_invitation(s, owner.id, ws, pending.id)
    expired = workspaces.invite(s, owner.id, ws, role="viewer", email="samuel@example.com")
    s.execute(WorkspaceInvitation.__table__.update().where(WorkspaceInvitation.email == "samuel@example.com")
              .values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    rita, sam = make_account(s, "rita"), make_account(s, "samuel")
    with pytest.raises(InvitationInvalid, match="revoked"):
        workspaces.accept(s, rita.id, revoked.token)
    with pytest.raises(InvitationInvalid, match="expired"):
        workspaces.accept(s, sam.id, expired.token)
    with pytest.raises(InvitationInvalid, match="not valid"):
        workspaces.accept(s, sam.id, "a-token-nobody-made-" + "x" * 20)
    assert {m.username: m.role for m in workspaces.members(s, owner.id, ws)} == {
        "olga": "owner", "eddie": "editor", "vivian": "viewer", "nina": "viewer", "oscar": "editor", "patrick": "editor"}
    with pytest.raises(NotAllowed, match="personal"):
        workspaces.invite(s, owner.id, home(s, owner.id), role="viewer", email="x@example.com")


def test_an_owner_removed_or_demoted_takes_their_invitations_with_them(team):
    s, owner, ws = team.session, team.owner, team.workspace_id
    workspaces.set_role(s, owner.id, ws, team.editor.id, "owner")
    link = workspaces.invite(s, team.editor.id, ws, role="owner", max_uses=500)  # made while an owner
    workspaces.set_role(s, owner.id, ws, team.editor.id, "viewer")
    with pytest.raises(InvitationInvalid, match="no longer owns"):
        workspaces.accept(s, team.outsider.id, link.token)
    assert workspaces.pending_invitations(s, owner.id, ws) == []
    workspaces.remove_member(s, owner.id, ws, team.editor.id)
    with pytest.raises(InvitationInvalid, match="no longer owns"):  # nor can they let themselves back in
        workspaces.accept(s, team.editor.id, link.token)


def test_leaving_the_company_keeps_the_teams_videos_and_an_owner_must_hand_over_first(clean_db):
    with clean_db.session() as s:
        make_account(s, "admin")  # the first account is staff, who may not leave others without staff
        owner, editor = make_account(s, "olga"), make_account(s, "eddie")
        ws = workspaces.create_workspace(s, owner.id, "Support team")
        _join(s, owner, ws, editor, "editor")
        video = Video(user_id=editor.id, workspace_id=ws, title="Escalations", status="completed")
        mine = Video(user_id=editor.id, workspace_id=home(s, editor.id), title="Ed's own", status="completed")
        s.add_all([video, mine])
        s.flush()
        asked = chat_log(user_id=editor.id, workspace_id=ws, question="Who escalates?", answer="Ed.",
                         mode="extractive")
        s.add(asked)
    settings = load_settings()
    with pytest.raises(accounts.AccountError, match="last owner of Support team"):
        accounts.delete_account(clean_db, settings, owner.id, current_password=PASSWORD)
    accounts.delete_account(clean_db, settings, editor.id, current_password=PASSWORD)
    with clean_db.session() as s:
        kept = s.get(Video, video.id)
        assert kept is not None and kept.user_id is None  # the team's video stays, its uploader gone
        kept_log = s.get(ChatLog, asked.id)
        assert kept_log is not None and kept_log.user_id is None  # and so does what he asked there
        assert s.get(Video, mine.id) is None  # his personal library went with him
        assert [m.username for m in workspaces.members(s, owner.id, ws)] == ["olga"]
    accounts.delete_account(clean_db, settings, owner.id, current_password=PASSWORD)  # alone in it: it goes too
    with clean_db.session() as s:
        assert s.get(Video, video.id) is None


def test_only_an_owner_deletes_a_team_workspace_and_its_files_go_with_it(clean_db):
    settings = load_settings()
    with clean_db.session() as s:
        owner, editor = make_account(s, "olga"), make_account(s, "eddie")
        ws = workspaces.create_workspace(s, owner.id, "Support team")
        _join(s, owner, ws, editor, "editor")
        stored = _stored_file(settings, editor.id)
        s.add_all([Video(user_id=editor.id, workspace_id=ws, title="Escalations", status="completed", file=stored),
                   Video(user_id=editor.id, workspace_id=home(s, editor.id), title="Ed's own", status="completed")])
        personal = home(s, owner.id)
    path = storage.resolve(settings.media_dir, stored)
    with pytest.raises(NotAllowed, match="owner"):
        workspaces.delete_workspace(clean_db, settings, editor.id, ws)
    with pytest.raises(NotAllowed, match="personal"):
        workspaces.delete_workspace(clean_db, settings, owner.id, personal)
    assert path.exists()
    workspaces.delete_workspace(clean_db, settings, owner.id, ws)
    assert not path.exists()
    with clean_db.session() as s:
        assert [w.name for w in workspaces.list_workspaces(s, editor.id)] == ["Personal"]
        assert _titles(s, editor.id) == ["Ed's own"]
