"""Conversations last: asked, they are stored; reopened, they continue where they were, following
up on their own stored turns; they are listed newest first, searched, renamed and deleted — each
only by whoever it belongs to (a share-link visitor's by the token in their browser)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import analytics, answers, content_templates, conversations, groups, review
from core.config import load_settings
from core.conversations import ConversationNotFound
from core.errors import AskVideoError
from db.models import ChatLog, Conversation
from tests.corpus import KITCHEN, ONBOARDING, captioned_group, small_chunks
from tests.factories import make_account


@pytest.fixture
def team(clean_db):
    with clean_db.session() as s:
        owner = make_account(s, "owner")
    group_id, ids = captioned_group(clean_db, owner.id, {"Kitchen safety": KITCHEN, "IT onboarding": ONBOARDING})
    return clean_db, small_chunks(load_settings()), owner, group_id, ids


def test_a_conversation_is_kept_and_a_follow_up_uses_its_stored_turns(team):
    db, settings, owner, group_id, _ = team
    first = answers.ask(db, settings, group_id=group_id, user_id=owner.id, question="Where is the fire extinguisher?")
    assert first.conversation_id is not None and "elevator" in first.text

    # A new browser session (a reload, a second tab) has no history of its own: the stored turns are it.
    prepared = answers.prepare(db, settings, group_id=group_id, user_id=owner.id, question="Is it heavy?",
                               conversation_id=first.conversation_id)
    assert [t.question for t in prepared.history] == ["Where is the fire extinguisher?"]
    assert prepared.search_query == "Where is the fire extinguisher? Is it heavy?"
    second = answers.finish(db, prepared, "".join(answers.stream(prepared)))
    assert second.conversation_id == first.conversation_id

    with db.session() as s:
        answers.set_feedback(s, first.log_id, "good", user_id=owner.id)
    with db.session() as s:
        shown = answers.stored_answers(s, owner.id, first.conversation_id)
        [summary] = conversations.list_conversations(s, owner.id)
    assert [a.question for a in shown] == ["Where is the fire extinguisher?", "Is it heavy?"]
    assert shown[0].text == first.text and shown[0].citations == first.citations and shown[0].feedback == "good"
    assert shown[0].citations[0].chunk_id is not None  # each message keeps the chunks it cites
    assert (summary.title, summary.target, summary.turns, summary.scope) == (
        "Where is the fire extinguisher?", "Team videos", 2, "group")


def test_the_list_is_newest_first_searchable_renamable_and_deletable(team):
    db, settings, owner, group_id, _ = team
    kitchen = answers.ask(db, settings, group_id=group_id, user_id=owner.id, question="Where is the fire extinguisher?")
    laptop = answers.ask(db, settings, group_id=group_id, user_id=owner.id, question="Which password manager do we use?")
    with db.session() as s:
        assert [c.id for c in conversations.list_conversations(s, owner.id)] == [laptop.conversation_id,
                                                                                 kitchen.conversation_id]
        # Words of an answer find it too ("elevator" is only in the kitchen answer's quote), all words must match.
        assert [c.id for c in conversations.list_conversations(s, owner.id, words="ELEVATOR")] == [kitchen.conversation_id]
        assert conversations.list_conversations(s, owner.id, words="elevator bitwarden") == []
        for hostile in ("%", "_", "\\", "' OR 1=1 --", "x" * 5000):
            assert conversations.list_conversations(s, owner.id, words=hostile) == []
        assert conversations.rename(s, owner.id, kitchen.conversation_id, "  Fire   safety  ") == "Fire safety"
        for bad in ("", "   ", "x" * 81):
            with pytest.raises(Exception, match="title"):
                conversations.rename(s, owner.id, kitchen.conversation_id, bad)
    # A new turn moves a conversation to the top.
    answers.ask(db, settings, group_id=group_id, user_id=owner.id, question="And the first-aid kit?",
                conversation_id=kitchen.conversation_id)
    with db.session() as s:
        assert [c.title for c in conversations.list_conversations(s, owner.id)] == [
            "Fire safety", "Which password manager do we use?"]
        conversations.delete_conversation(s, owner.id, kitchen.conversation_id)
    with db.session() as s:
        assert [c.id for c in conversations.list_conversations(s, owner.id)] == [laptop.conversation_id]
        assert s.scalar(select(func.count()).select_from(ChatLog)) == 1  # its exchanges went with it


def test_nobody_else_opens_continues_or_changes_a_conversation(team):
    db, settings, owner, group_id, ids = team
    mine = answers.ask(db, settings, group_id=group_id, user_id=owner.id, question="Where is the fire extinguisher?")
    with db.session() as s:
        mallory = make_account(s, "mallory")
        other_group = groups.create_group(s, owner.id, "Other")
        mallory_group = groups.create_group(s, mallory.id, "Mallory's")
    for hostile in (mine.conversation_id, str(mine.conversation_id), "1; DROP TABLE conversations", None, 2**70, -1):
        with db.session() as s:
            with pytest.raises(ConversationNotFound):
                answers.stored_answers(s, mallory.id, hostile)
            with pytest.raises(ConversationNotFound):
                conversations.rename(s, mallory.id, hostile, "Mine now")
            with pytest.raises(ConversationNotFound):
                conversations.delete_conversation(s, mallory.id, hostile)
    with pytest.raises(ConversationNotFound):  # someone else's conversation cannot be continued …
        answers.prepare(db, settings, group_id=mallory_group, user_id=mallory.id, question="Is it heavy?",
                        conversation_id=mine.conversation_id)
    with pytest.raises(AskVideoError, match="not yours"):  # … nor their group or video asked
        answers.prepare(db, settings, group_id=group_id, user_id=mallory.id, question="Is it heavy?")
    with pytest.raises(AskVideoError, match="not yours"):
        answers.prepare(db, settings, group_id=None, video_id=ids["Kitchen safety"], user_id=mallory.id,
                        question="Is it heavy?")
    with pytest.raises(ConversationNotFound):  # … nor one carried over to another group
        answers.prepare(db, settings, group_id=other_group, user_id=owner.id, question="Is it heavy?",
                        conversation_id=mine.conversation_id)
    with db.session() as s:
        assert conversations.list_conversations(s, mallory.id) == []


def test_a_share_link_visitor_keeps_their_own_conversations_by_their_browser_token(team):
    db, settings, owner, group_id, _ = team
    visitor, stranger = conversations.new_visitor_token(), conversations.new_visitor_token()
    theirs = answers.ask(db, settings, group_id=group_id, user_id=owner.id, question="Where is the fire extinguisher?",
                         shared=True, visitor_token=visitor)
    again = answers.prepare(db, settings, group_id=group_id, user_id=owner.id, question="Is it heavy?",
                            shared=True, visitor_token=visitor, conversation_id=theirs.conversation_id)
    assert [t.question for t in again.history] == ["Where is the fire extinguisher?"]
    with db.session() as s:
        assert [c.id for c in conversations.list_conversations(s, owner.id, group_id=group_id, visitor_token=visitor)
                ] == [theirs.conversation_id]
        assert conversations.list_conversations(s, owner.id, visitor_token=stranger) == []
        assert conversations.list_conversations(s, owner.id) == []  # not in the owner's own list
        stored = s.get(Conversation, theirs.conversation_id)
        assert stored.is_shared_origin and stored.visitor_token_hash != visitor  # kept hashed
        for wrong in (stranger, None, "short", "x" * 500):
            with pytest.raises(ConversationNotFound):
                answers.stored_answers(s, owner.id, theirs.conversation_id, visitor_token=wrong)
        # The owner sees the exchange as a shared one, as before.
        assert s.get(ChatLog, theirs.log_id).is_shared_origin


def test_ask_one_video_or_everything_you_have(team):
    db, settings, owner, group_id, ids = team
    loose_group, made = captioned_group(db, owner.id, {"Office tour": [(0.0, 6.0, "The cactus by the window needs water monthly.")]},
                                        "Loose")
    loose = made["Office tour"]
    with db.session() as s:  # a video in no group at all is still part of "everything"
        groups.delete_group(s, owner.id, loose_group)

    kitchen = answers.ask(db, settings, group_id=None, video_id=ids["Kitchen safety"], user_id=owner.id,
                          question="Which password manager do we use?")  # said in the other video only
    assert kitchen.mode == "nothing" and kitchen.text == answers.NOTHING_FOUND_IN_VIDEO
    onboarding = answers.ask(db, settings, group_id=None, video_id=ids["IT onboarding"], user_id=owner.id,
                             question="Which password manager do we use?")
    assert {c.video_id for c in onboarding.citations} == {ids["IT onboarding"]} and "Bitwarden" in onboarding.text

    everything = answers.ask(db, settings, group_id=None, user_id=owner.id, question="How often does the cactus need water?")
    assert everything.citations[0].video_id == loose and "monthly" in everything.text
    with db.session() as s:
        listed = {c.id: (c.scope, c.target) for c in conversations.list_conversations(s, owner.id)}
        assert listed == {kitchen.conversation_id: ("video", "Kitchen safety"),
                          onboarding.conversation_id: ("video", "IT onboarding"),
                          everything.conversation_id: ("all", "Everything")}
        assert s.get(ChatLog, everything.log_id).group_id is None
    follow_up = answers.prepare(db, settings, group_id=None, user_id=owner.id, question="And in winter?",
                                conversation_id=everything.conversation_id)
    assert [t.question for t in follow_up.history] == ["How often does the cactus need water?"]
    with pytest.raises(ConversationNotFound):  # a video's conversation goes on about that video only
        answers.prepare(db, settings, group_id=None, video_id=ids["Kitchen safety"], user_id=owner.id,
                        question="And in winter?", conversation_id=onboarding.conversation_id)
    # Another owner's "everything" is theirs: none of these videos.
    with db.session() as s:
        mallory = make_account(s, "mallory")
    theirs = answers.ask(db, settings, group_id=None, user_id=mallory.id, question="How often does the cactus need water?")
    assert theirs.mode == "nothing" and theirs.text == answers.NOTHING_FOUND_ANYWHERE


def test_answers_asked_outside_a_group_are_reviewed_and_posted_but_not_pinned(team):
    db, settings, owner, group_id, ids = team
    of_video = answers.ask(db, settings, group_id=None, video_id=ids["IT onboarding"], user_id=owner.id,
                           question="Which password manager do we use?")
    of_all = answers.ask(db, settings, group_id=None, user_id=owner.id, question="Where is the fire extinguisher?")
    scope = analytics.Scope(owner.id)
    with db.session() as s:
        table = analytics.answers_table(s, scope, analytics.Filters()).rows
        assert dict(zip(table["id"], table["group"])) == {of_video.log_id: "Video: IT onboarding",
                                                          of_all.log_id: "Everything"}
        review.mark_reviewed(s, scope, of_all.log_id)  # reviewed and noted like any exchange …
        review.set_note(s, scope, of_all.log_id, "Right moment.")
        assert review.group_videos(s, scope, of_all.log_id) == []
        with pytest.raises(review.ReviewError, match="not of a group"):  # … but only a group keeps pinned questions
            review.pin(s, scope, of_all.log_id, video_id=ids["Kitchen safety"], start_s=10)
        post = content_templates.context_for_answer(s, owner.id, of_video.log_id)
        assert post["group_name"] == "" and post["video_titles"] == ["IT onboarding"] and "Bitwarden" in post["answer"]
