"""The Add videos and Library pages, clicked through with AppTest against the real database."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

import ui.session
from core import library, processing
from core.config import load_settings
from db.models import TranscriptChunk, Video
from tests.app_driver import click, element_protos, field, send_files, signed_in_app
from tests.factories import home
from tests.media_factory import TALK, srt, text_renamed, video


def only_video(db) -> Video:
    with db.session() as s:
        return s.scalars(select(Video)).one()


def test_upload_with_captions_then_watch_it_in_the_library(clean_db, tmp_path):
    at, account = signed_in_app(clean_db, page="pages/upload.py")
    assert at.title[0].value == "Add videos"
    send_files(at, account.id, [("Team review.mp4", video(tmp_path / "v.mp4", seconds=20).read_bytes())])
    field(at, "Title").input("Q3 review")
    at.file_uploader[0].upload("talk.srt", srt(TALK), "application/x-subrip")
    click(at, "Add 1 video")
    assert "Q3 review" in at.success[0].value and "queued" in at.success[0].value
    row = only_video(clean_db)
    assert row.title == "Q3 review" and row.original_filename == "Team review.mp4" and row.status == "pending"

    at.switch_page("pages/library.py").run()
    assert any(b.label == "Q3 review" for b in at.button)
    assert "Waiting for a worker…" in [c.value for c in at.caption]

    processing.process_video(clean_db, load_settings(), row.id)
    at.run()
    click(at, "Q3 review")
    assert str(row.id) in at.query_params["video"]
    assert at.header[0].value == "Q3 review"
    [player] = element_protos(at, "video")
    assert player.start_time == 0
    click(at, "00:09")  # "Our biggest customer, Globex…"
    [player] = element_protos(at, "video")
    assert player.start_time == 9
    assert any("Globex" in m.value for m in at.markdown)


def test_broken_upload_shows_its_error_in_the_library(clean_db, tmp_path):
    at, account = signed_in_app(clean_db, page="pages/upload.py")
    send_files(at, account.id, [("holiday.mp4", text_renamed(tmp_path / "x.mp4").read_bytes())])
    click(at, "Add 1 video")
    processing.process_video(clean_db, load_settings(), only_video(clean_db).id)
    at.switch_page("pages/library.py").run()
    assert any("not a video or audio file" in e.value for e in at.error)


def test_links_are_queued_and_bad_links_explained(clean_db, site):
    video(site.root / "clip.mp4", seconds=3)
    at, _ = signed_in_app(clean_db, page="pages/upload.py")
    area = next(w for w in at.text_area if w.label == "Links, one per line")
    area.input(f"{site.url}/clip.mp4\n{site.url}/nothing-here.mp4\nnot a link")
    click(at, "Add")
    assert any("queued" in s.value for s in at.success)
    errors = " ".join(e.value for e in at.error)
    assert "404" in errors and "not a valid web address" in errors
    assert only_video(clean_db).is_external_upload
    click(at, "Add")  # the same links again: nothing is added twice
    assert any("already added" in i.value for i in at.info)
    assert only_video(clean_db).is_external_upload


def test_library_searches_filters_and_pages(clean_db):
    at, account = signed_in_app(clean_db, page="pages/library.py")
    assert "No videos yet" in at.info[0].value
    with clean_db.session() as s:
        for n in range(25):
            s.add(Video(user_id=account.id, workspace_id=home(s, account.id), title=f"Talk {n:02d}", status="completed" if n % 5 else "error",
                        error_message="broken" if n % 5 == 0 else None))
    at.run()
    titles = [b.label for b in at.button if b.label.startswith("Talk")]
    assert len(titles) == 20 and "25 videos" in at.caption[0].value
    click(at, "Older →")
    assert len([b for b in at.button if b.label.startswith("Talk")]) == 5
    field(at, "Search").input("talk 1").run()
    assert sorted(b.label for b in at.button if b.label.startswith("Talk")) == [f"Talk 1{n}" for n in range(10)]
    field(at, "Search").input("").run()
    at.selectbox[0].select("Error").run()
    assert len([b for b in at.button if b.label.startswith("Talk")]) == 5
    field(at, "Search").input("100%_").run()
    assert "No video matches." in at.info[0].value


def test_a_long_video_processing_says_about_how_long_is_left(clean_db):
    at, account = signed_in_app(clean_db, page="pages/library.py")
    started = datetime.now(timezone.utc) - timedelta(minutes=4)
    with clean_db.session() as s:
        s.add_all([Video(user_id=account.id, workspace_id=home(s, account.id), title=title, status="processing", progress=41, duration_s=media,
                         current_step="transcribing", processing_started_at=started)
                   for title, media in [("Hour-long talk", 3600), ("Short clip", 60)]])
    at.run()
    lines = sorted(p.proto.text for p in at.get("progress"))
    assert lines == ["transcribing · 41%", "transcribing · 41% · about 6 minutes left"]  # 40 points in 4 min


def ready_captioned_video(db, tmp_path):
    """Signed in, a captioned video named "a" added on the page and processed by the worker's code."""
    at, account = signed_in_app(db, page="pages/upload.py")
    send_files(at, account.id, [("a.mp4", video(tmp_path / "v.mp4", seconds=20).read_bytes())])
    at.file_uploader[0].upload("talk.srt", srt(TALK), "application/x-subrip")
    click(at, "Add 1 video")
    row = only_video(db)
    processing.process_video(db, load_settings(), row.id)
    return at, account, row


def test_edit_and_delete_a_video(clean_db, tmp_path):
    at, account, row = ready_captioned_video(clean_db, tmp_path)
    stored = load_settings().media_dir / row.file
    assert stored.exists()
    at.switch_page("pages/library.py").run()
    click(at, "a")
    field(at, "Title").input("<b>Renamed</b> [click](http://evil)")
    click(at, "Save")
    assert only_video(clean_db).title == "<b>Renamed</b> [click](http://evil)"
    assert "\\<b\\>Renamed" in at.header[0].value  # shown literally, never as HTML or a link
    click(at, "Delete for good")
    with clean_db.session() as s:
        assert s.scalars(select(Video)).all() == []
    assert not stored.exists()
    assert at.title[0].value == "Library"


def test_someone_elses_video_is_not_found(clean_db):
    from tests.factories import home, make_account

    with clean_db.session() as s:
        other = make_account(s, "mallory")
        s.add(Video(user_id=other.id, workspace_id=home(s, other.id), title="Secret plans", status="completed"))
    with clean_db.session() as s:
        secret_id = s.scalars(select(Video.id)).one()
    at, _ = signed_in_app(clean_db, "alice", page="pages/library.py")
    at.query_params["video"] = str(secret_id)
    at.run()
    assert "does not exist or is not yours" in at.error[0].value
    assert not any("Secret" in m.value for m in at.markdown)


def test_a_file_name_with_markdown_is_shown_literally_in_the_upload_list(clean_db, tmp_path):
    at, account = signed_in_app(clean_db, page="pages/upload.py")
    name = "[click me](http://evil.example) ![x](http://evil.example/x.png).mp4"
    send_files(at, account.id, [(name, video(tmp_path / "v.mp4", seconds=3).read_bytes())])
    [listed] = [m.value for m in at.markdown if "click me" in m.value]
    assert listed.startswith(r"**\[click me\]\(http\://evil\.example\) \!\[x\]")  # escaped: no link, no image


def test_every_files_title_and_captions_are_open_however_many_files(clean_db, tmp_path):
    at, account = signed_in_app(clean_db, page="pages/upload.py")
    clip = video(tmp_path / "v.mp4", seconds=3).read_bytes()
    send_files(at, account.id, [(f"Part {n}.mp4", clip) for n in range(1, 6)])
    assert not at.expander  # nothing folded away
    assert [field(at, "Title", nth=n).value for n in range(5)] == [f"Part {n}" for n in range(1, 6)]
    assert len([u for u in at.file_uploader if u.label == "Captions (optional)"]) == 5


def test_deleting_a_video_deleted_meanwhile_in_another_tab_just_goes_back(clean_db, tmp_path, monkeypatch):
    at, account, row = ready_captioned_video(clean_db, tmp_path)
    at.switch_page("pages/library.py").run()
    click(at, "a")
    real_delete = library.delete_video

    def the_other_tab_was_quicker(db, settings, user_id, video_id):
        real_delete(db, settings, user_id, video_id)  # gone between this page's read and its delete
        real_delete(db, settings, user_id, video_id)

    monkeypatch.setattr(library, "delete_video", the_other_tab_was_quicker)
    click(at, "Delete for good")
    assert not at.exception and at.title[0].value == "Library"


def test_a_video_can_be_added_without_reading_its_screen(clean_db, tmp_path, monkeypatch):
    reading = dataclasses.replace(load_settings(), screen_text=True)  # as installed (the suite turns it off)
    monkeypatch.setattr(ui.session, "settings", lambda: reading)
    at, account = signed_in_app(clean_db, page="pages/upload.py")
    send_files(at, account.id, [("Screencast.mp4", video(tmp_path / "v.mp4", seconds=3).read_bytes())])
    screen = [c for c in at.checkbox if c.label == "Read text on screen"][0]  # the file's (the links tab has one too)
    assert screen.value is True and not screen.disabled
    screen.uncheck().run()
    click(at, "Add 1 video")
    assert only_video(clean_db).read_screen_text is False


def test_text_read_from_a_slide_shows_literally_between_the_spoken_lines(clean_db, tmp_path):
    at, account, row = ready_captioned_video(clean_db, tmp_path)
    hostile = "[click me](http://evil.example) <b>Roadmap</b>"
    with clean_db.session() as s:
        s.add(TranscriptChunk(video_id=row.id, workspace_id=row.workspace_id, video_title="a", chunk_index=0,
                              text=hostile, start_time=5.0, end_time=9.0, embedding=[0.0] * 383 + [1.0],
                              embedding_model="all-MiniLM-L6-v2", kind="screen"))
    at.switch_page("pages/library.py").run()
    click(at, "a")
    lines = [m.value for m in at.markdown if any(w in m.value for w in ("Revenue grew", "On screen", "Globex"))]
    assert [w for line in lines for w in ("Revenue grew", "On screen", "Globex") if w in line] == [
        "Revenue grew", "On screen", "Globex"]  # the slide at 00:05, between the lines said at 00:04 and 00:09
    assert r"\[click me\]\(http\://evil\.example\)" in lines[1]  # escaped: no link
    # Searching the library finds the slide's words as a moment on screen, shown as text.
    next(b for b in at.button if b.key == "back").click().run()
    field(at, "Search").input("roadmap").run()
    assert not at.exception, at.exception
    assert [b.label for b in at.button if b.key and b.key.startswith("moment-")] == ["a · 00:05 · on screen"]
    assert not any("<b>" in m.value for m in at.markdown if "Roadmap" in m.value)
