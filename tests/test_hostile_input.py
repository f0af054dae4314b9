"""Hostile and odd input: path tricks, a full disk, markup, SQL, emoji and right-to-left text."""

from __future__ import annotations

import errno
import io

import pytest
from sqlalchemy import select

from core import processing, storage, submission
from core.config import load_settings
from core.submission import UploadItem
from db.models import ChatLog, Video
from tests.app_driver import signed_in_app
from tests.factories import home, make_account
from tests.media_factory import TALK, srt, video

HOSTILE_TITLES = [
    "<script>alert('x')</script>",
    "'); DROP TABLE videos; --",
    "[click me](javascript:alert(1)) ![img](http://127.0.0.1:9/x.png)",
    "מדריך הדרכה — عرض تقديمي 🎬🙂",
    "x" * 600,
]


@pytest.fixture
def owner(clean_db):
    with clean_db.session() as s:
        return make_account(s)


@pytest.mark.parametrize("name", ["../../../../etc/passwd.mp4", "/etc/shadow.mp4", "..\\..\\windows.mp4",
                                  "a/b/c.mp4", "nul\x00byte.mp4", ".hidden.mp4"])
def test_file_names_never_become_paths(clean_db, owner, tmp_path, name):
    settings = load_settings()
    [result] = submission.submit_uploads(clean_db, settings, owner.id,
                                     [UploadItem(name, open(video(tmp_path / "v.mp4"), "rb"))], language="en")
    with clean_db.session() as s:
        row = s.get(Video, result.video_id)
    stored = storage.resolve(settings.media_dir, row.file)
    assert stored.parent == (settings.media_dir / "videos" / str(owner.id)).resolve()
    assert stored.name.endswith(".mp4") and len(stored.stem) == 32  # a generated name
    with pytest.raises(Exception, match="Invalid media path"):
        storage.resolve(settings.media_dir, "../../etc/passwd")


def test_disk_full_while_saving_fails_that_upload_cleanly(clean_db, owner, tmp_path, monkeypatch):
    settings = load_settings()
    real_open = open

    def full_disk(path, mode="r", *args, **kwargs):
        if str(path).endswith(".part") and "w" in mode:
            class Full(io.RawIOBase):
                def write(self, data):
                    raise OSError(errno.ENOSPC, "No space left on device")

                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    return False
            real_open(path, mode).close()
            return Full()
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", full_disk)
    [result] = submission.submit_uploads(clean_db, settings, owner.id,
                                     [UploadItem("talk.mp4", io.BytesIO(b"\0" * 4096))], language="en")
    monkeypatch.undo()
    assert result.status == "error" and "No space left on device" in result.message
    with clean_db.session() as s:
        row = s.get(Video, result.video_id)
    assert row.status == "error" and row.file is None
    assert list((settings.media_dir / "videos" / str(owner.id)).glob("*")) == []


def test_hostile_titles_and_questions_are_stored_verbatim_and_shown_inert(clean_db, tmp_path):
    at, account = signed_in_app(clean_db, page="pages/library.py")
    settings = load_settings()
    for n, title in enumerate(HOSTILE_TITLES):
        [result] = submission.submit_uploads(
            clean_db, settings, account.id,
            [UploadItem(f"{n}.mp4", open(video(tmp_path / f"{n}.mp4", seconds=20 + n), "rb"), title=title,
                        captions_name="c.srt", captions_data=srt(TALK))], language="en")
        processing.process_video(clean_db, settings, result.video_id)
    with clean_db.session() as s:
        titles = set(s.scalars(select(Video.title)))
    assert titles == {t[:500] for t in HOSTILE_TITLES}
    at.run()
    assert not at.exception
    labels = " ".join(b.label for b in at.button)
    assert "<script>" not in labels and "\\<script\\>" in labels  # escaped, so shown as text
    assert "](javascript" not in labels
    assert "מדריך הדרכה — عرض تقديمي 🎬🙂" in labels

    from core import groups

    with clean_db.session() as s:
        group_id = groups.create_group(s, account.id, "<b>group</b>")
        groups.add_videos(s, account.id, group_id, list(s.scalars(select(Video.id))))
    at.switch_page("pages/chat.py").run()
    question = "'; DELETE FROM chat_logs; -- <img src=x onerror=alert(1)> مرحبا 🙂 " + "long " * 300
    at.chat_input[0].set_value(question[:2000]).run()
    assert not at.exception
    with clean_db.session() as s:
        [log] = s.scalars(select(ChatLog)).all()
    assert log.question == " ".join(question[:2000].split())  # stored as asked, never executed
    import re

    assert not any(re.search(r"(?<!\\)<img", m.value) for m in at.markdown)  # only ever escaped: \<img


def test_a_feed_pointing_at_server_files_never_gets_them_played(clean_db, owner, site):
    """A feed's items name their media as a bare path or a file:// link. Stored as the videos'
    addresses, the player would read those files from this server's disk and serve them to the
    browser, so such items are skipped; a row that already holds one never plays it."""
    from core import library
    from core.config import load_settings
    from ui.media import play
    from tests.media_factory import video as make_video

    make_video(site.root / "real.mp4", seconds=3)
    (site.root / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Team feed</title>'
        "<link>http://example.com</link><description>d</description>"
        '<item><title>Key</title><enclosure url="/etc/hostname" type="video/mp4" length="1"/></item>'
        '<item><title>Passwords</title><enclosure url="file:///etc/passwd" type="video/mp4" length="1"/></item>'
        f'<item><title>Real talk</title><enclosure url="{site.url}/real.mp4" type="video/mp4" length="1"/></item>'
        "</channel></rss>"
    )
    linked = submission.submit_link(clean_db, load_settings(), owner.id, f"{site.url}/feed.xml", make_group=False,
                                language="en")
    assert [s.title for s in linked.submissions] == ["Real talk"]
    assert linked.unavailable == 2
    with clean_db.session() as session:
        assert session.scalars(select(Video.source_url)).all() == [f"{site.url}/real.mp4"]
        planted = Video(user_id=owner.id, workspace_id=home(session, owner.id), title="planted", status="error", source="url", source_url="/etc/hostname",
                        thumbnail_url="/etc/hostname")
        session.add(planted)
        session.flush()
        assert library.playable(session, load_settings(), owner.id, planted.id).web_url is None
        assert library.video_detail(session, load_settings(), owner.id, planted.id).summary.thumbnail_url is None
    assert play(planted.id, None, "/etc/hostname") is False and play(planted.id, None, "file:///etc/passwd") is False
