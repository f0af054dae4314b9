"""Chapters, summaries, clips, comments and posts, clicked through the real pages with AppTest."""

from __future__ import annotations

import pytest

from core import clips, tasks
from tests.app_driver import click, element_protos, field, signed_in_app
from tests.corpus import TOPIC_SECONDS, ingest_corpus, three_topics


def _player_start(at) -> int:
    return element_protos(at, "video")[0].start_time


def _text_area(at, label: str, nth: int = 0):
    return [w for w in at.text_area if w.label == label][nth]


@pytest.fixture
def watching(clean_db, settings, tmp_path):
    """Alice has a ready 7.5-minute talk about three topics in a group, and opens it in the Library."""
    at, account = signed_in_app(clean_db, page="pages/library.py", timeout=60)
    group_id, ids = ingest_corpus(clean_db, settings, account.id, tmp_path, {"Weekend hobbies": three_topics()},
                                  group_name="Hobbies")
    at.run()
    click(at, "Weekend hobbies")
    return at, account, ids["Weekend hobbies"]


def test_chapters_beside_the_player_seek_edit_and_export(watching):
    at, _, _ = watching
    chapter_buttons = [b for b in at.button if "  " in b.label]  # "02:30  Title"
    assert len(chapter_buttons) == 3, [b.label for b in chapter_buttons]
    second = chapter_buttons[1]
    second.click().run()
    assert abs(_player_start(at) - TOPIC_SECONDS) <= 20

    field(at, "Chapter title", nth=1).input("Cycling, really")  # the second chapter's edit form
    click(at, "Save chapter", nth=1)
    assert any(b.label.endswith("  Cycling, really") for b in at.button)
    click(at, "Merge with next", nth=1)
    assert len([b for b in at.button if "  " in b.label]) == 2
    [export] = [c.value for c in at.code]
    assert export.splitlines()[0].startswith("00:00 ") and export.splitlines()[1].endswith(" Cycling, really")

    click(at, "Replace chapters")  # regenerate: machine-made chapters again, the edits gone
    assert not at.exception
    chapter_buttons = [b.label for b in at.button if "  " in b.label]
    assert len(chapter_buttons) == 3 and not any(label.endswith("Cycling, really") for label in chapter_buttons)


def test_a_video_summary_cites_moments_that_play(watching):
    at, _, _ = watching
    click(at, "Summarize")
    assert any(c.value.startswith("Made offline · ") for c in at.caption)
    assert any(m.value.startswith("Extractive summary") for m in at.markdown)
    citations = [b for b in at.button if b.label.startswith("[") and "Weekend hobbies" in b.label]
    assert len(citations) >= 3
    citations[-1].click().run()
    assert _player_start(at) >= TOPIC_SECONDS  # the last point is from a later topic


def test_a_clip_is_made_played_and_offered_for_download(watching, clean_db, settings):
    at, account, _ = watching
    field(at, "From").input("2:30")
    field(at, "To").input("2:40")
    click(at, "Make clip")
    with clean_db.session() as s:
        [clip] = clips.list_clips(s, settings, account.id)
    assert (clip.status, clip.label) == ("pending", "02:30–02:40")
    assert tasks.make_clip(clip.id) == "completed"
    at.run()
    click(at, "Play")
    players = element_protos(at, "video")
    assert len(players) == 2  # the video, and the clip
    [download] = [b for b in element_protos(at, "link_button") if b.label == "Download"]
    assert f"/files/clip/{clip.id}?" in download.url and "download=1" in download.url  # our checked route
    field(at, "From").input("9:99")
    click(at, "Make clip")
    assert any("not a time" in e.value for e in at.error)


def test_comments_thread_under_the_player(watching):
    at, _, _ = watching
    _text_area(at, "Comment").input("<b>Great</b> bit about the moon")
    field(at, "At (optional)").input("5:10")
    click(at, "Post comment")
    assert any("\\<b\\>Great\\</b\\> bit about the moon" in m.value for m in at.markdown)
    next(b for b in at.button if b.label.startswith("▶ 05")).click().run()
    assert _player_start(at) == 310
    _text_area(at, "Reply").input("Agreed!")
    click(at, "Post reply")
    assert any(c.value == "1 reply" for c in at.caption)
    click(at, "Delete comment", nth=0)  # confirmed in the first comment's Delete popover: the parent
    assert any(c.value == "This comment was deleted." for c in at.caption)


def test_a_group_summary_becomes_a_linkedin_post(clean_db, settings, tmp_path):
    at, account = signed_in_app(clean_db, page="pages/groups.py", timeout=60)
    ingest_corpus(clean_db, settings, account.id, tmp_path)
    at.run()
    click(at, "Summarize")
    assert any("Team videos" in m.value or "Kitchen" in m.value for m in at.markdown)
    click(at, "Create")
    [post] = [c.value for c in at.code]
    assert post.startswith("Team videos: what we learned") and "Watch the moments:" in post


def test_from_an_answer_a_clip_and_a_post(clean_db, settings, tmp_path):
    at, account = signed_in_app(clean_db, page="pages/chat.py", timeout=60)
    ingest_corpus(clean_db, settings, account.id, tmp_path)
    at.run()
    at.chat_input[0].set_value("Where is the fire extinguisher?").run()
    click(at, "Clip", nth=0)
    with clean_db.session() as s:
        [clip] = clips.list_clips(s, settings, account.id)
    assert clip.title.startswith("Where is the fire extinguisher? · Kitchen safety training")
    assert clip.end - clip.start >= 15 - 0.1 or clip.end >= 28
    click(at, "Create")
    [post] = [c.value for c in at.code]
    assert "▶ Kitchen safety training at 00:" in post and "Extractive" not in post


def test_templates_page_previews_validates_and_keeps_a_users_own(clean_db):
    at, account = signed_in_app(clean_db, page="pages/templates.py")
    assert at.title[0].value == "Post templates"
    _text_area(at, "Template").input("{{ topic }} by {{ author }}")
    click(at, "Save as my template")
    assert any("Unknown variable" in e.value and "author" in e.value for e in at.error)
    _text_area(at, "Template").input("{{ topic | upper }}!")
    click(at, "Preview with sample data")
    assert [c.value for c in at.code] == ["KITCHEN SAFETY!"]
    click(at, "Save as my template")
    assert at.selectbox[0].options == ["LinkedIn post · yours"]
    click(at, "Go back to the shipped template")
    assert at.selectbox[0].options == ["LinkedIn post"]
    field(at, "Name").input("Team newsletter")
    _text_area(at, "Template", nth=1).input("News: {{ topic }}")
    click(at, "Add format")
    assert at.selectbox[0].options == ["LinkedIn post", "Team newsletter · yours"]


def test_a_colleague_with_the_share_link_reads_chapters_and_comments(clean_db, settings, tmp_path):
    from streamlit.testing.v1 import AppTest

    from core import auth, sharing
    from tests.app_driver import APP
    from tests.factories import make_account

    owner_app, owner = signed_in_app(clean_db, page="pages/library.py", timeout=60)
    group_id, _ = ingest_corpus(clean_db, settings, owner.id, tmp_path, {"Weekend hobbies": three_topics()})
    with clean_db.session() as s:
        token = sharing.create_link(s, owner.id, group_id)

    anonymous = AppTest.from_file(str(APP), default_timeout=60)
    anonymous.query_params["share"] = token
    anonymous.run()
    assert any("Sign in to Ask Video in this browser" in c.value for c in anonymous.caption)
    [b for b in anonymous.button if "  " in b.label][2].click().run()  # the third chapter
    [player] = element_protos(anonymous, "video")
    assert abs(player.start_time - 2 * TOPIC_SECONDS) <= 20

    with clean_db.session() as s:
        bob = make_account(s, "bob")
        bob_token = auth.start_session(s, bob.id, days=1)
    colleague = AppTest.from_file(str(APP), default_timeout=60)
    colleague.session_state["session_token"] = bob_token
    colleague.query_params["share"] = token
    colleague.run()
    _text_area(colleague, "Comment").input("Which telescope is that?")
    click(colleague, "Post comment")
    assert any("Which telescope is that?" in m.value for m in colleague.markdown)
    assert not any(b.label == "Make clip" for b in colleague.button)  # nothing of the owner's tools

    # The owner sees Bob's comment on the video's page.
    owner_app.run()
    click(owner_app, "Weekend hobbies")
    assert any("Which telescope is that?" in m.value for m in owner_app.markdown)
    assert any(m.value.startswith("**bob**") for m in owner_app.markdown)
