"""Comments: an owner and the colleagues they share a group with discuss a video in threads."""

from __future__ import annotations

import pytest

from core import comments, groups, sharing
from core.errors import VideoNotFound
from db.models import Chapter, Video
from tests.factories import home, make_account


@pytest.fixture
def review(session):
    """Ann owns a 10-minute video with a chapter at 2:00, in a group shared with a link; Bob is a colleague."""
    ann, bob, eve = make_account(session, "ann"), make_account(session, "bob"), make_account(session, "eve")
    video = Video(user_id=ann.id, workspace_id=home(session, ann.id), title="Launch review", status="completed", duration_s=600)
    session.add(video)
    session.flush()
    chapter = Chapter(video_id=video.id, title="Pricing", start_s=120, end_s=300, order=1, confidence=1,
                      is_generated=False)
    session.add(chapter)
    group_id = groups.create_group(session, ann.id, "Launch")
    groups.add_videos(session, ann.id, group_id, [video.id])
    token = sharing.create_link(session, ann.id, group_id)
    session.flush()
    return session, ann, bob, eve, video.id, chapter.id, token


def test_a_thread_with_anchors_replies_and_edits(review):
    s, ann, bob, _, video_id, chapter_id, token = review
    first = comments.add_comment(s, ann.id, video_id, "Is the price right?", chapter_id=chapter_id)
    comments.add_comment(s, bob.id, video_id, "I think it is too low.", parent_id=first, share_token=token)
    comments.add_comment(s, bob.id, video_id, "Typo on the slide here", at_s=42.26, share_token=token)
    reply = comments.add_comment(s, ann.id, video_id, "Agreed, we raise it", parent_id=first)
    comments.edit_comment(s, ann.id, reply, "Agreed, we raise it by 10%")

    [question, typo] = comments.thread(s, ann.id, video_id)
    assert (question.author, question.text, question.anchor) == ("ann", "Is the price right?", "Pricing · 02:00")
    assert [(r.author, r.text, r.edited) for r in question.replies] == [
        ("bob", "I think it is too low.", False), ("ann", "Agreed, we raise it by 10%", True)]
    assert (typo.author, typo.anchor, typo.at_s) == ("bob", "00:42", 42.3)
    # Bob sees the same thread through the link; he may change only his own words.
    seen_by_bob = comments.thread(s, bob.id, video_id, share_token=token)
    assert [c.mine for c in seen_by_bob] == [False, True]
    assert seen_by_bob[0].can_delete is False and seen_by_bob[1].can_delete is True
    with pytest.raises(comments.CommentError, match="your own"):
        comments.edit_comment(s, bob.id, first, "hijacked", share_token=token)
    with pytest.raises(comments.CommentError, match="your own"):
        comments.delete_comment(s, bob.id, first, share_token=token)
    assert comments.count(s, video_id) == 4


def test_a_deleted_comment_with_replies_reads_as_deleted_and_goes_with_its_last_reply(review):
    s, ann, bob, _, video_id, _, token = review
    parent = comments.add_comment(s, bob.id, video_id, "Why this music?", share_token=token)
    reply = comments.add_comment(s, ann.id, video_id, "Licensing.", parent_id=parent)
    comments.delete_comment(s, bob.id, parent, share_token=token)
    [shown] = comments.thread(s, ann.id, video_id)
    assert (shown.deleted, shown.text, shown.mine, shown.can_delete) == (True, comments.DELETED_TEXT, False, False)
    assert shown.replies[0].text == "Licensing."
    with pytest.raises(comments.CommentError, match="deleted"):
        comments.add_comment(s, ann.id, video_id, "more", parent_id=parent)
    comments.delete_comment(s, ann.id, reply)
    assert comments.thread(s, ann.id, video_id) == []
    assert comments.count(s, video_id) == 0


def test_the_owner_moderates_comments_on_their_video(review):
    s, ann, bob, _, video_id, _, token = review
    spam = comments.add_comment(s, bob.id, video_id, "buy now", share_token=token)
    comments.delete_comment(s, ann.id, spam)
    assert comments.thread(s, ann.id, video_id) == []


def test_outsiders_cannot_read_or_write_and_a_revoked_link_ends_access(review):
    s, ann, bob, eve, video_id, _, token = review
    comments.add_comment(s, ann.id, video_id, "private note")
    for call in (lambda: comments.thread(s, eve.id, video_id),
                 lambda: comments.add_comment(s, eve.id, video_id, "hello"),
                 lambda: comments.thread(s, eve.id, video_id, share_token="guessed-" + "x" * 40)):
        with pytest.raises(VideoNotFound):
            call()
    said = comments.add_comment(s, bob.id, video_id, "Looks good", share_token=token)
    comments.edit_comment(s, bob.id, said, "Looks good to me", share_token=token)
    sharing.revoke_link(s, ann.id, groups.list_groups(s, ann.id)[0].id)
    with pytest.raises(VideoNotFound):
        comments.thread(s, bob.id, video_id, share_token=token)
    # Bob's page was still open when the link went: his words stay as they were.
    for change in (lambda: comments.edit_comment(s, bob.id, said, "spam", share_token=token),
                   lambda: comments.delete_comment(s, bob.id, said, share_token=token)):
        with pytest.raises(VideoNotFound):
            change()
    assert [c.text for c in comments.thread(s, ann.id, video_id)] == ["private note", "Looks good to me"]


@pytest.mark.parametrize("text, at_s, message", [
    ("   \n ", None, "empty"),
    ("x" * 2001, None, "at most 2,000"),
    ("late", 601, "between 00:00 and 10:00"),
    ("early", -1, "between 00:00"),
])
def test_bad_comments_are_refused_with_a_reason(review, text, at_s, message):
    s, ann, _, _, video_id, _, _ = review
    with pytest.raises(comments.CommentError, match=message):
        comments.add_comment(s, ann.id, video_id, text, at_s=at_s)


def test_hostile_text_is_stored_as_plain_text(review):
    s, ann, _, _, video_id, _, _ = review
    hostile = "<script>alert(1)</script> '); DROP TABLE comments; -- \u202eשלום 🎉\x00"
    comments.add_comment(s, ann.id, video_id, hostile)
    [shown] = comments.thread(s, ann.id, video_id)
    assert shown.text == hostile.replace("\x00", "")


def test_replies_and_chapters_must_belong_to_the_same_video(review):
    s, ann, _, _, video_id, chapter_id, _ = review
    other = Video(user_id=ann.id, workspace_id=home(s, ann.id), title="Other", status="completed", duration_s=60)
    s.add(other)
    s.flush()
    note = comments.add_comment(s, ann.id, video_id, "note")
    with pytest.raises(comments.CommentError, match="not on this video"):
        comments.add_comment(s, ann.id, other.id, "reply", parent_id=note)
    with pytest.raises(comments.CommentError, match="chapter is not part"):
        comments.add_comment(s, ann.id, other.id, "here", chapter_id=chapter_id)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_moment_that_is_not_a_number_is_refused(review, value):
    s, ann, _, _, video_id, _, _ = review
    with pytest.raises(comments.CommentError, match="between 00:00"):
        comments.add_comment(s, ann.id, video_id, "when?", at_s=value)
