"""On the Ask page conversations last: the open one is in the URL, so a reload reopens it as it was;
the sidebar lists them to reopen, continue, search, rename and delete."""

from __future__ import annotations

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core import conversations, model_settings, sharing
from core.config import load_settings
from db.models import ChatLog, Conversation
from tests.app_driver import APP, click, element_protos, errors, signed_in_app
from tests.corpus import KITCHEN, captioned_group


def reload(at: AppTest) -> AppTest:
    """The same browser after F5: a new session, the same sign-in and the same URL."""
    again = AppTest.from_file(str(APP), default_timeout=30)
    again.session_state["session_token"] = at.session_state["session_token"]
    for name, value in at.query_params.items():
        again.query_params[name] = value
    again.run()
    again.switch_page("pages/chat.py").run()
    assert not again.exception, again.exception
    return again


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def listed(at: AppTest) -> list:
    return [b for b in at.sidebar.button if str(b.key).startswith("conversation-") and b.key != "conversation-new"]


def sidebar_titles(at: AppTest) -> list[str]:
    """The conversations listed, by title (the owner's list adds " · " and what each asks)."""
    return [b.label.rsplit(" · ", 1)[0] for b in listed(at)]


def open_listed(at: AppTest, title: str) -> AppTest:
    next(b for b in listed(at) if b.label.rsplit(" · ", 1)[0] == title).click().run()
    assert not at.exception, at.exception
    return at


def test_a_reload_reopens_the_conversation_with_its_answers_ratings_and_player(clean_db, corpus_app):
    at, account, group_id, ids = corpus_app
    at.switch_page("pages/chat.py").run()
    ask(at, "Where is the fire extinguisher?")
    conversation_id = int(at.query_params["conversation"][0])
    at.feedback[0].set_value(1).run()
    ask(at, "Is it heavy?")  # a follow-up in the same conversation
    with clean_db.session() as s:
        assert [log.conversation_id for log in s.scalars(select(ChatLog))] == [conversation_id] * 2

    after = reload(at)
    questions = [m.value for m in after.markdown]
    assert "Where is the fire extinguisher?" in questions and "Is it heavy?" in questions
    assert after.feedback[0].value == 1  # the rating is shown as given
    [player] = element_protos(after, "video")  # the last cited moment, waiting (not playing by itself)
    assert player.start_time > 0 and not player.autoplay
    assert [b.label for b in listed(after)] == ["Where is the fire extinguisher? · Team videos"]
    assert [b.proto.type for b in listed(after)] == ["primary"]  # the open one stands out

    # Continued after the reload: the follow-up borrows the stored question's words.
    ask(after, "And where is the first-aid kit?")
    with clean_db.session() as s:
        assert len(conversations.logs(s, conversation_id)) == 3


def test_open_an_older_conversation_search_rename_and_delete(clean_db, corpus_app):
    at, account, group_id, ids = corpus_app
    at.switch_page("pages/chat.py").run()
    ask(at, "Where is the fire extinguisher?")
    first = at.query_params["conversation"][0]
    click(at, "New conversation")
    assert not any(m.value == "Where is the fire extinguisher?" for m in at.markdown)
    ask(at, "Which password manager do we use?")
    second = at.query_params["conversation"][0]
    assert second != first and sidebar_titles(at) == ["Which password manager do we use?",
                                                      "Where is the fire extinguisher?"]

    at.sidebar.text_input(key="conversation-search").input("elevator").run()  # words of an answer
    assert sidebar_titles(at) == ["Where is the fire extinguisher?"]
    open_listed(at, "Where is the fire extinguisher?")
    assert at.query_params["conversation"][0] == first
    assert any(m.value == "Where is the fire extinguisher?" for m in at.markdown)
    assert not any(m.value == "Which password manager do we use?" for m in at.markdown)

    rename = next(t for t in at.text_input if t.label == "Title")
    rename.input("Fire safety")
    next(b for b in at.button if b.label == "Save" and b.form_id == rename.form_id).click().run()
    at.sidebar.text_input(key="conversation-search").input("").run()
    assert sidebar_titles(at) == ["Which password manager do we use?", "Fire safety"]

    click(at, "Delete conversation")
    assert "conversation" not in at.query_params
    assert sidebar_titles(at) == ["Which password manager do we use?"]
    with clean_db.session() as s:
        assert [c.title for c in s.scalars(select(Conversation))] == ["Which password manager do we use?"]


def test_a_conversation_id_in_the_url_that_is_not_yours_opens_nothing(clean_db, corpus_app):
    at, account, group_id, ids = corpus_app
    at.switch_page("pages/chat.py").run()
    ask(at, "Where is the fire extinguisher?")
    theirs = at.query_params["conversation"][0]
    mallory, someone = signed_in_app(clean_db, "mallory")
    captioned_group(clean_db, someone.id, {"Mallory's talk": KITCHEN}, "Mallory's")
    mallory.switch_page("pages/chat.py").run()
    for hostile in (theirs, "abc", "-1", "1e9", "99999999999999999999999"):
        mallory.query_params["conversation"] = hostile
        mallory.run()
        assert not mallory.exception, mallory.exception
        assert not any(m.value == "Where is the fire extinguisher?" for m in mallory.markdown)
        assert any("does not exist or is not yours" in e for e in errors(mallory))
        assert "conversation" not in mallory.query_params and not sidebar_titles(mallory)


def test_a_share_link_visitor_reopens_their_own_conversation_and_nobody_elses(clean_db, corpus_app):
    at, account, group_id, ids = corpus_app
    with clean_db.session() as s:
        token = sharing.create_link(s, account.id, group_id)

    def visitor(cookie: str | None = None, conversation: str | None = None) -> AppTest:
        """A browser on the share link, with its visitor cookie if it has one."""
        page = AppTest.from_file(str(APP), default_timeout=30)
        page.query_params["share"] = token
        if conversation:
            page.query_params["conversation"] = conversation
        if cookie:
            page.session_state["visitor_token"] = cookie
        page.run()
        assert not page.exception, page.exception
        return page

    first = visitor()
    ask(first, "Which password manager do we use?")
    conversation = first.query_params["conversation"][0]
    assert sidebar_titles(first) == ["Which password manager do we use?"]

    again = visitor(first.session_state["visitor_token"], conversation)  # the same browser, reloaded
    assert any(m.value == "Which password manager do we use?" for m in again.markdown)
    ask(again, "Is it for every account?")
    with clean_db.session() as s:
        assert len(conversations.logs(s, int(conversation))) == 2

    stranger = visitor(conversation=conversation)  # the link and the URL, but another browser
    assert not any(m.value == "Which password manager do we use?" for m in stranger.markdown)
    assert any("does not exist or is not yours" in e for e in errors(stranger)) and not sidebar_titles(stranger)

    at.switch_page("pages/chat.py").run()  # the owner's own list is theirs alone (Analytics shows the exchange)
    assert sidebar_titles(at) == []


def test_ask_one_video_from_its_link_then_everything(clean_db, corpus_app):
    at, account, group_id, ids = corpus_app
    at.query_params["video"] = str(ids["IT onboarding"])  # where the Library's "Ask this video" leads
    at.switch_page("pages/chat.py").run()
    assert at.session_state["ask-scope"] == "video" and at.selectbox[0].value == ids["IT onboarding"]
    ask(at, "What is the office wifi password?")  # near what it says (the password manager), not in it
    assert any("could not find anything about that in this video" in m.value for m in at.markdown)
    assert any(c.value.startswith("Closest moments: none of them seems to answer") for c in at.caption)
    assert any(b.label.startswith("[1] IT onboarding") for b in at.button)  # playable, in case one is meant
    ask(at, "Which password manager do we use?")
    assert any("Bitwarden" in m.value for m in at.markdown)
    sources = [b.label for b in at.button if b.label.startswith("[")]
    assert sources and all("IT onboarding" in label for label in sources)  # that video alone is searched

    at.segmented_control[0].set_value("all").run()  # Everything: a new conversation over all the videos
    assert "conversation" not in at.query_params and not at.selectbox
    ask(at, "How long should I wash my hands?")
    assert any(b.label.startswith("[1] Kitchen safety training") for b in at.button)
    with clean_db.session() as s:
        listed = {(c.scope, c.target) for c in conversations.list_conversations(s, account.id)}
    assert listed == {("video", "IT onboarding"), ("all", "Everything")}

    open_listed(at, "What is the office wifi password?")  # reopening the video's conversation brings its scope back
    assert at.session_state["ask-scope"] == "video" and at.selectbox[0].value == ids["IT onboarding"]


def test_play_the_cited_moments_queues_each_with_a_stored_file_in_the_player(clean_db, corpus_app, fake_openai):
    at, account, group_id, ids = corpus_app
    with clean_db.session() as s:
        model_settings.set_models(s, account.id, base_url=fake_openai.base_url, chat_model="m", embedding_model="")
        model_settings.set_api_key(s, load_settings(), account.id, "sk-test-0000000000")
    fake_openai.chat_reply = "The extinguisher is by the elevator [1]. Wash your hands for twenty seconds [2]."
    at.switch_page("pages/chat.py").run()
    ask(at, "Where is the fire extinguisher, and how long do I wash my hands?")
    click(at, "Play the cited moments")
    reel = at.session_state[f"reel-group-{group_id}"]
    cited = [(m["n"], m["start"], m["end"]) for m in reel["moments"]]
    assert [n for n, _, _ in cited] == [1, 2] and all(start < end for _, start, end in cited)
    assert all("/files/video/" in m["src"] for m in reel["moments"])  # our signed route, like every player
    assert not element_protos(at, "video")  # the reel's own player replaces the single one
    assert any(m.value.startswith("**Playing the cited moments**") for m in at.markdown)
    next(b for b in at.button if b.label.startswith("[2] ")).click().run()  # one moment chosen: back to one player
    assert element_protos(at, "video") and f"reel-group-{group_id}" not in at.session_state
