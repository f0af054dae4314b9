"""Stored media is served by our own route, and only while the viewer's right lasts.

Before, a share visitor's player URL kept returning the whole file after the owner revoked the
link, and a deleted video kept playing from an open tab. Now each request is checked: sign-out,
revocation, replacement, removal from the group and deletion end access at once; a link cannot be
forged, reused for another file, or kept past its expiry. All of it over HTTP against the real app.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from core import auth, groups, library, media_links, sharing, storage
from core.config import load_settings
from db.models import Video
from tests.factories import home, make_account
from tests.media_factory import video


def fetch(url: str, **headers) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, {k.lower(): v for k, v in refused.headers.items()}, refused.read()


@pytest.fixture
def settings():
    return load_settings()


@pytest.fixture
def owner(clean_db):
    """An owner signed in in one browser, with one stored video in a group."""
    with clean_db.session() as s:
        make_account(s, "admin")  # the first account is staff, who may play anyone's video
        account = make_account(s, "olivia")
        token = auth.start_session(s, account.id, days=1)
    with clean_db.session() as s:
        account = auth.account_for_token(s, token)
    return account, token


def stored_video(db, settings, owner_id: int, tmp_path, title="Team review") -> int:
    relative, path = storage.new_path(settings.media_dir, "videos", owner_id, ".mp4")
    path.write_bytes(video(tmp_path / f"{title}.mp4", seconds=4).read_bytes())
    with db.session() as s:
        row = Video(user_id=owner_id, workspace_id=home(s, owner_id), title=title, status="completed", file=relative, file_size=path.stat().st_size)
        s.add(row)
        s.flush()
        return row.id


def url(web_app, settings, kind, item_id, grant, **kwargs) -> str:
    return web_app.url + media_links.signed_path(settings, kind, item_id, grant, **kwargs)


def test_the_owner_plays_by_byte_range_until_signing_out(clean_db, settings, owner, web_app, tmp_path):
    account, token = owner
    video_id = stored_video(clean_db, settings, account.id, tmp_path)
    link = url(web_app, settings, "video", video_id, media_links.session_grant(account.session_id))
    status, headers, body = fetch(link, Range="bytes=0-99")
    assert status == 206 and len(body) == 100 and headers["content-type"] == "video/mp4"
    assert headers["x-content-type-options"] == "nosniff" and "sandbox" in headers["content-security-policy"]
    assert fetch(link)[0] == 200
    with clean_db.session() as s:
        auth.sign_out(s, token)
    status, _, body = fetch(link)
    assert status == 403 and b"signed out" in body


def test_a_share_visitor_plays_until_the_link_is_revoked(clean_db, settings, owner, web_app, tmp_path):
    account, _ = owner
    video_id = stored_video(clean_db, settings, account.id, tmp_path)
    with clean_db.session() as s:
        group_id = groups.create_group(s, account.id, "Quarter")
        groups.add_videos(s, account.id, group_id, [video_id])
        share = sharing.create_link(s, account.id, group_id)
    visitor = url(web_app, settings, "video", video_id, media_links.share_grant(group_id, share))
    assert fetch(visitor, Range="bytes=0-9")[0] == 206
    with clean_db.session() as s:
        sharing.revoke_link(s, account.id, group_id)
    assert fetch(visitor)[0] == 403


def test_a_replaced_share_link_and_a_video_taken_out_of_the_group_stop_playing(clean_db, settings, owner, web_app,
                                                                               tmp_path):
    account, _ = owner
    kept = stored_video(clean_db, settings, account.id, tmp_path, "Kept")
    removed = stored_video(clean_db, settings, account.id, tmp_path, "Removed")
    with clean_db.session() as s:
        group_id = groups.create_group(s, account.id, "Quarter")
        groups.add_videos(s, account.id, group_id, [kept, removed])
        share = sharing.create_link(s, account.id, group_id)
    old_link = url(web_app, settings, "video", kept, media_links.share_grant(group_id, share))
    removed_link = url(web_app, settings, "video", removed, media_links.share_grant(group_id, share))
    with clean_db.session() as s:
        groups.remove_video(s, account.id, group_id, removed)
    assert fetch(removed_link)[0] == 404
    with clean_db.session() as s:
        sharing.create_link(s, account.id, group_id)  # replaced: the old link is revoked
    assert fetch(old_link)[0] == 403


def test_a_deleted_video_stops_playing_in_an_open_tab(clean_db, settings, owner, web_app, tmp_path):
    account, _ = owner
    video_id = stored_video(clean_db, settings, account.id, tmp_path)
    link = url(web_app, settings, "video", video_id, media_links.session_grant(account.session_id))
    assert fetch(link, Range="bytes=0-9")[0] == 206
    library.delete_video(clean_db, settings, account.id, video_id)
    assert fetch(link)[0] == 404


def test_links_cannot_be_forged_reused_for_another_file_or_kept_past_expiry(clean_db, settings, owner, web_app,
                                                                            tmp_path):
    account, _ = owner
    mine = stored_video(clean_db, settings, account.id, tmp_path, "Mine")
    with clean_db.session() as s:
        other = make_account(s, "mallory")
    theirs = stored_video(clean_db, settings, other.id, tmp_path, "Theirs")
    grant = media_links.session_grant(account.session_id)
    link = url(web_app, settings, "video", mine, grant)
    assert fetch(link.replace(f"/video/{mine}?", f"/video/{theirs}?"))[0] == 403  # signature names the file
    assert fetch(link.replace("g=s", "g=s1"))[0] == 403  # nor another session
    assert fetch(link[:-4] + "0000")[0] == 403
    # A link properly signed for my session but naming someone else's video finds nothing.
    assert fetch(url(web_app, settings, "video", theirs, grant))[0] == 404
    expired = url(web_app, settings, "video", mine, grant, now=0)
    status, _, body = fetch(expired)
    assert status == 403 and b"expired" in body


def test_a_link_stays_the_same_for_hours_so_the_player_is_not_reloaded(settings):
    first = media_links.signed_path(settings, "video", 7, "s1", now=3600 * 8 + 1)
    later = media_links.signed_path(settings, "video", 7, "s1", now=3600 * 12 - 1)
    assert first == later
    assert media_links.signed_path(settings, "video", 7, "s1", now=3600 * 12) != first


def test_staff_reviewing_answers_can_play_anyones_video(clean_db, settings, web_app, tmp_path):
    with clean_db.session() as s:
        staff = make_account(s, "sam")  # the first account is staff
        user = make_account(s, "ursula")
        token = auth.start_session(s, staff.id, days=1)
    with clean_db.session() as s:
        staff = auth.account_for_token(s, token)
    assert staff.is_staff
    theirs = stored_video(clean_db, settings, user.id, tmp_path)
    assert fetch(url(web_app, settings, "video", theirs, media_links.session_grant(staff.session_id)),
                 Range="bytes=0-9")[0] == 206
