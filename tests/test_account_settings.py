"""A signed-in person looks after their own account: a new password, a new email, or deleting it
and everything in it. Each needs the current password, which is guessed no more easily here than
at sign-in."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from core import accounts, auth, clips, groups, sharing, storage
from core.errors import InvalidCredentials
from db.models import (
    ChatLog, Clip, Comment, ContentTemplate, SignInFailure, User, UserSession, Video, VideoGroup, Workspace,
)
from tests.app_driver import click, errors, field, signed_in_app
from tests.factories import PASSWORD, chat_log, home, make_account

NEW_PASSWORD = "a brand new passphrase"


def _accounts(db, *names):
    with db.session() as s:
        return [make_account(s, name) for name in names]


def _browser(db, user_id) -> tuple[str, int]:
    """A browser signed in as the user: its token and its session's id."""
    with db.session() as s:
        token = auth.start_session(s, user_id, days=1)
    with db.session() as s:
        return token, auth.account_for_token(s, token).session_id


def _signed_in(db, token) -> bool:
    with db.session() as s:
        return auth.account_for_token(s, token) is not None


def _failures(db, user_id) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(SignInFailure).where(SignInFailure.user_id == user_id))


def _change_password(db, settings, account, *, current=PASSWORD, new=NEW_PASSWORD, repeated=None, keep=None,
                     address=None):
    return accounts.change_password(db, settings, account.id, current=current, new=new,
                                    repeated=new if repeated is None else repeated, keep_session_id=keep,
                                    address=address)


# ------------------------------------------------------------------------ password


def test_a_new_password_signs_out_every_other_browser_and_keeps_this_one(clean_db, settings):
    [alice, bob] = _accounts(clean_db, "alice", "bob")
    here, here_id = _browser(clean_db, alice.id)
    laptop, _ = _browser(clean_db, alice.id)
    phone, _ = _browser(clean_db, alice.id)
    bobs, _ = _browser(clean_db, bob.id)

    assert _change_password(clean_db, settings, alice, keep=here_id) == 2

    assert _signed_in(clean_db, here) and _signed_in(clean_db, bobs)
    assert not _signed_in(clean_db, laptop) and not _signed_in(clean_db, phone)
    with clean_db.session() as s:
        assert s.get(User, alice.id).password.startswith("$argon2id$")
    with pytest.raises(InvalidCredentials):
        auth.sign_in(clean_db, "alice", PASSWORD, days=1)
    assert auth.sign_in(clean_db, "alice", NEW_PASSWORD, days=1)[0].id == alice.id


def test_a_wrong_current_password_is_refused_and_counted_as_a_failed_sign_in(clean_db, settings):
    [alice] = _accounts(clean_db, "alice")
    here, here_id = _browser(clean_db, alice.id)
    other, _ = _browser(clean_db, alice.id)
    with pytest.raises(InvalidCredentials, match="not your current password"):
        _change_password(clean_db, settings, alice, current="a guess at it", keep=here_id, address="203.0.113.9")
    assert _failures(clean_db, alice.id) == 1
    with clean_db.session() as s:
        assert s.scalar(select(SignInFailure.address).where(SignInFailure.user_id == alice.id)) == "203.0.113.9"
    assert _signed_in(clean_db, other)  # nothing changed
    # The right one removes its own record, as a right sign-in does; the wrong one still counts.
    _change_password(clean_db, settings, alice, keep=here_id)
    assert _failures(clean_db, alice.id) == 1


def test_guesses_through_the_form_and_at_sign_in_share_one_limit(clean_db, settings):
    """Someone at an unlocked, signed-in browser cannot try more passwords here than at sign-in."""
    [alice] = _accounts(clean_db, "alice")
    for n in range(auth.FAILED_SIGN_INS - 1):
        with pytest.raises(InvalidCredentials):
            auth.sign_in(clean_db, "alice", f"guess number {n}", days=1)
    with pytest.raises(InvalidCredentials, match="not your current password"):
        _change_password(clean_db, settings, alice, current="one more guess")
    with pytest.raises(InvalidCredentials, match="Too many failed sign-ins for this account"):
        _change_password(clean_db, settings, alice)  # even the right one, until the window passes
    with pytest.raises(InvalidCredentials, match="Too many failed sign-ins"):
        accounts.change_email(clean_db, alice.id, current_password=PASSWORD, new_email="a@example.org")
    with pytest.raises(InvalidCredentials, match="Too many failed sign-ins"):
        auth.sign_in(clean_db, "alice", PASSWORD, days=1)
    with clean_db.session() as s:
        assert s.get(User, alice.id).email == "alice@example.com"


@pytest.mark.parametrize(("new", "repeated", "message"), [
    (NEW_PASSWORD, NEW_PASSWORD + "!", "The two new passwords differ."),
    ("short", "short", "Password must be at least 10 characters long."),
    ("Alice@Example.com", "Alice@Example.com", "Password must not be your username or email."),
    (PASSWORD, PASSWORD, "The new password is the same as the current one."),
])
def test_a_new_password_follows_the_sign_up_rules_and_a_typo_costs_no_attempt(clean_db, settings, new, repeated,
                                                                               message):
    [alice] = _accounts(clean_db, "alice")
    other, _ = _browser(clean_db, alice.id)
    with pytest.raises(accounts.AccountError) as refused:
        _change_password(clean_db, settings, alice, new=new, repeated=repeated)
    assert str(refused.value) == message
    assert _failures(clean_db, alice.id) == 0 and _signed_in(clean_db, other)
    assert auth.sign_in(clean_db, "alice", PASSWORD, days=1)


# ------------------------------------------------------------------------ email


def test_a_new_email_is_stored_as_sign_up_would_and_signs_in(clean_db):
    [alice] = _accounts(clean_db, "alice")
    assert accounts.change_email(clean_db, alice.id, current_password=PASSWORD,
                                 new_email="  Alice.Smith@Example.ORG ") == "alice.smith@example.org"
    assert auth.sign_in(clean_db, "alice.smith@example.org", PASSWORD, days=1)[0].id == alice.id
    with pytest.raises(InvalidCredentials):
        auth.sign_in(clean_db, "alice@example.com", PASSWORD, days=1)


@pytest.mark.parametrize(("email", "message"), [
    ("BOB@example.com", "An account with that email already exists."),
    ("not an email", "That does not look like an email address."),
    ("alice@example.com", "That is already your email."),
])
def test_an_email_sign_up_would_refuse_is_refused_before_the_password_is_tried(clean_db, email, message):
    [alice, _] = _accounts(clean_db, "alice", "bob")
    with pytest.raises(accounts.AccountError) as refused:
        accounts.change_email(clean_db, alice.id, current_password="not even the password", new_email=email)
    assert str(refused.value) == message
    assert _failures(clean_db, alice.id) == 0


def test_a_new_email_needs_the_current_password(clean_db):
    [alice] = _accounts(clean_db, "alice")
    with pytest.raises(InvalidCredentials, match="not your current password"):
        accounts.change_email(clean_db, alice.id, current_password="a guess at it", new_email="mine@example.org")
    # A guess typed as the new email too is a counted wrong password, not "must not be your email".
    with pytest.raises(InvalidCredentials, match="not your current password"):
        accounts.change_email(clean_db, alice.id, current_password="guess@example.org",
                              new_email="guess@example.org")
    assert _failures(clean_db, alice.id) == 2
    with clean_db.session() as s:
        assert s.get(User, alice.id).email == "alice@example.com"


# ------------------------------------------------------------------------ deleting the account


def _stored(settings, kind: str, owner_id: int, extension: str, size: int = 10) -> str:
    relative, path = storage.new_path(settings.media_dir, kind, owner_id, extension)
    path.write_bytes(b"x" * size)
    return relative


def _fill(db, settings, owner) -> dict:
    """One of everything an account holds: a stored video with its thumbnail and captions, a clip,
    a shared group, a question, a template, a comment, an upload waiting to be added."""
    with db.session() as s:
        video = Video(user_id=owner.id, workspace_id=home(s, owner.id), title=f"{owner.username}'s talk", status="completed",
                      file=_stored(settings, "videos", owner.id, ".mp4", 1000), file_size=1000,
                      thumbnail=_stored(settings, "thumbnails", owner.id, ".jpg"),
                      captions_file=_stored(settings, "captions", owner.id, ".vtt"))
        s.add(video)
        s.flush()
        clip = Clip(workspace_id=home(s, owner.id), video_id=video.id, clip_hash=clips.clip_hash(video.id, 0, 1), title="Bit",
                    start_s=0, end_s=1, status="completed", file=_stored(settings, "clips", owner.id, ".mp4", 500),
                    file_size=500)
        group_id = groups.create_group(s, owner.id, "Team")
        groups.add_videos(s, owner.id, group_id, [video.id])
        sharing.create_link(s, owner.id, group_id)
        s.add_all([clip, chat_log(user_id=owner.id, group_id=group_id, question="Why?", answer="Because.", mode="llm"),
                   ContentTemplate(workspace_id=home(s, owner.id), content_type="linkedin_post", body="{{ topic }}"),
                   Comment(video_id=video.id, user_id=owner.id, text="My own note")])
        s.flush()
        files = [video.file, video.thumbnail, video.captions_file, clip.file]
        video_id = video.id
    staged = storage.resolve(settings.media_dir, f"uploads/{owner.id}/{'a' * 32}.mp4")
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes(b"half-added")
    staged.with_suffix(".json").write_text(json.dumps({"name": "x.mp4", "sha256": "0", "size": 10}))
    return {"video_id": video_id, "files": [storage.resolve(settings.media_dir, f) for f in files] + [staged]}


def _rows(db, user_id) -> dict[str, int]:
    """The user's rows in each table that holds any (their personal workspace's, for clips and templates)."""
    personal = select(Workspace.id).where(Workspace.personal_user_id == user_id).scalar_subquery()
    with db.session() as s:
        rows = {model.__tablename__: s.scalar(select(func.count()).select_from(model).where(model.user_id == user_id))
                for model in (Video, VideoGroup, ChatLog, Comment, UserSession, SignInFailure)}
        rows |= {model.__tablename__: s.scalar(select(func.count()).select_from(model)
                                               .where(model.workspace_id == personal))
                 for model in (Clip, ContentTemplate)}
        rows["users"] = s.scalar(select(func.count()).select_from(User).where(User.id == user_id))
    return rows


def test_deleting_an_account_removes_its_rows_and_files_and_nobody_elses(clean_db, settings):
    [_, alice, bob] = _accounts(clean_db, "admin", "alice", "bob")  # admin, the first, is staff
    mine, theirs = _fill(clean_db, settings, alice), _fill(clean_db, settings, bob)
    with clean_db.session() as s:
        on_bobs = Comment(video_id=theirs["video_id"], user_id=alice.id, text="Nice talk")
        s.add(on_bobs)
        s.flush()
        s.add_all([Comment(video_id=theirs["video_id"], user_id=bob.id, text="Thanks!", parent_id=on_bobs.id),
                   Comment(video_id=mine["video_id"], user_id=bob.id, text="Bob was here")])
    _browser(clean_db, alice.id)
    bobs_browser, _ = _browser(clean_db, bob.id)
    with pytest.raises(InvalidCredentials):
        auth.sign_in(clean_db, "alice", "a wrong guess", days=1)
    with clean_db.session() as s:
        before = accounts.account_contents(s, alice.id)
    assert (before.videos, before.files, before.stored_bytes, before.groups, before.share_links, before.chat_logs,
            before.clips, before.comments, before.templates, before.refusal) == (1, 4, 1500, 1, 1, 1, 1, 4, 1, None)
    assert "1 video and 4 stored files" in before.described() and "4 comments" in before.described()
    bob_rows = _rows(clean_db, bob.id)

    assert accounts.delete_account(clean_db, settings, alice.id, current_password=PASSWORD) == before

    assert set(_rows(clean_db, alice.id).values()) == {0}
    assert not any(path.exists() for path in mine["files"])
    assert not any(storage.resolve(settings.media_dir, f"{kind}/{alice.id}").exists()
                   for kind in accounts.OWNER_MEDIA_FOLDERS)
    # Bob keeps everything but what was on Alice's things: his comment on her video, his reply to hers.
    assert _rows(clean_db, bob.id) == {**bob_rows, "comments": bob_rows["comments"] - 2}
    assert all(path.exists() for path in theirs["files"])
    assert _signed_in(clean_db, bobs_browser)
    with pytest.raises(InvalidCredentials):
        auth.sign_in(clean_db, "alice", PASSWORD, days=1)


def test_a_wrong_password_deletes_nothing_and_counts(clean_db, settings):
    [_, alice] = _accounts(clean_db, "admin", "alice")
    mine = _fill(clean_db, settings, alice)
    with pytest.raises(InvalidCredentials, match="not your current password"):
        accounts.delete_account(clean_db, settings, alice.id, current_password="a guess at it")
    assert _failures(clean_db, alice.id) == 1
    assert all(path.exists() for path in mine["files"])
    with clean_db.session() as s:
        assert s.get(User, alice.id) is not None


def test_the_last_staff_account_stays_while_others_have_accounts(clean_db, settings):
    [admin, _] = _accounts(clean_db, "admin", "bob")
    with clean_db.session() as s:
        assert accounts.account_contents(s, admin.id).refusal == accounts.LastStaffAccount.MESSAGE
    with pytest.raises(accounts.LastStaffAccount, match="only staff account"):
        accounts.delete_account(clean_db, settings, admin.id, current_password=PASSWORD)
    assert _failures(clean_db, admin.id) == 0  # said before the password was asked for

    with clean_db.session() as s:  # another staff account, made on the server
        auth.sign_up(s, "second", "second@example.com", PASSWORD, video_limit=10, min_password_length=10, staff=True)
    accounts.delete_account(clean_db, settings, admin.id, current_password=PASSWORD)
    with clean_db.session() as s:
        assert s.get(User, admin.id) is None


def test_an_account_alone_on_the_installation_may_go_and_the_next_one_is_staff(clean_db, settings):
    [admin] = _accounts(clean_db, "admin")
    accounts.delete_account(clean_db, settings, admin.id, current_password=PASSWORD)
    [newcomer] = _accounts(clean_db, "newcomer")
    assert newcomer.is_staff


# ------------------------------------------------------------------------ the Settings page


def test_settings_page_changes_the_password_and_signs_out_the_other_browsers(clean_db):
    at, alice = signed_in_app(clean_db, "alice", page="pages/settings.py")
    laptop, _ = _browser(clean_db, alice.id)
    assert "Your account" in [h.value for h in at.subheader]
    field(at, "Current password").input("a wrong guess")
    field(at, "New password").input(NEW_PASSWORD)
    field(at, "Repeat new password").input(NEW_PASSWORD)
    click(at, "Change password")
    assert errors(at) == ["That is not your current password."]
    assert _signed_in(clean_db, laptop)

    field(at, "Current password").input(PASSWORD)
    field(at, "New password").input(NEW_PASSWORD)
    field(at, "Repeat new password").input(NEW_PASSWORD)
    click(at, "Change password")
    assert not errors(at)
    assert "1 other browser signed in as you was signed out" in at.success[0].value
    assert not _signed_in(clean_db, laptop)
    at.run()  # this browser stays signed in
    assert at.session_state["account"].username == "alice" and at.title[0].value == "Settings"
    assert auth.sign_in(clean_db, "alice", NEW_PASSWORD, days=1)


def test_settings_page_changes_the_email(clean_db):
    at, alice = signed_in_app(clean_db, "alice", page="pages/settings.py")
    _accounts(clean_db, "bob")
    field(at, "New email").input("bob@example.com")
    field(at, "Current password", nth=1).input(PASSWORD)
    click(at, "Change email")
    assert errors(at) == ["An account with that email already exists."]
    field(at, "New email").input("alice@example.org")
    field(at, "Current password", nth=1).input(PASSWORD)
    click(at, "Change email")
    assert at.success[0].value == "Email changed: sign in with the new one from now on."
    assert at.session_state["account"].email == "alice@example.org"
    assert "Username: alice · email: alice@example.org" in [t.value for t in at.text]


def test_settings_page_deletes_the_account_after_saying_what_goes(clean_db, settings):
    at, alice = signed_in_app(clean_db, "alice", page="pages/settings.py")
    _fill(clean_db, settings, alice)
    at.run()
    told = [c.value for c in at.caption if c.value.startswith("Deleted for good")]
    assert told and "1 video and 4 stored files" in told[0] and "1 share link" in told[0]
    field(at, "Current password", nth=2).input("a wrong guess")
    click(at, "Delete my account and all its data")
    assert errors(at) == ["That is not your current password."]
    assert at.session_state["account"].username == "alice"

    field(at, "Current password", nth=2).input(PASSWORD)
    click(at, "Delete my account and all its data")
    assert at.session_state["account"] is None
    assert at.title[0].value == "Ask Video" and "Username or email" in [w.label for w in at.text_input]
    with clean_db.session() as s:
        assert s.get(User, alice.id) is None


def test_the_last_staff_account_is_told_why_it_cannot_be_deleted(clean_db):
    at, _ = signed_in_app(clean_db, "admin", page="pages/settings.py")  # the first account: staff
    _accounts(clean_db, "bob")
    at.run()
    assert any("only staff account" in w.value for w in at.warning)
    assert "Delete my account and all its data" not in [b.label for b in at.button]
