"""Groups, Ask and shared-link pages, clicked through with AppTest over a real ingested corpus."""

from __future__ import annotations

from sqlalchemy import delete, select

from core.config import load_settings
from db.models import ChatLog, VideoGroup, VideoGroupMember
from tests.app_driver import APP, click, element_protos, errors, field, signed_in_app
from tests.factories import home


def member_titles(db, group_id):
    with db.session() as s:
        return list(s.scalars(
            select(VideoGroupMember.video_id).where(VideoGroupMember.group_id == group_id)
            .order_by(VideoGroupMember.order)))


def test_create_group_add_reorder_remove_and_delete(clean_db, corpus_app):
    at, account, _, ids = corpus_app
    at.switch_page("pages/groups.py").run()
    click(at, "New group")  # opens a dialog
    at.text_input(key="new-group-name").input("Safety")
    click(at, "Create group")
    assert not any(b.label == "Create group" for b in at.button)  # made: the dialog closed
    with clean_db.session() as s:
        safety = s.scalars(select(VideoGroup).where(VideoGroup.name == "Safety")).one()
    assert at.selectbox[0].value.id == safety.id
    at.multiselect[0].select(ids["Kitchen safety training"]).select(ids["IT onboarding"])
    click(at, "Add to group")
    assert member_titles(clean_db, safety.id) == [ids["Kitchen safety training"], ids["IT onboarding"]]
    next(b for b in at.button if b.key == f"up-{ids['IT onboarding']}").click().run()
    assert member_titles(clean_db, safety.id) == [ids["IT onboarding"], ids["Kitchen safety training"]]
    next(b for b in at.button if b.key == f"remove-{ids['IT onboarding']}").click().run()
    assert member_titles(clean_db, safety.id) == [ids["Kitchen safety training"]]
    click(at, "Delete for good")
    with clean_db.session() as s:
        assert s.get(VideoGroup, safety.id) is None
        assert len(s.scalars(select(VideoGroupMember)).all()) == 3  # the corpus group is untouched


def test_ask_click_a_citation_and_rate_the_answer(clean_db, corpus_app):
    at, account, group_id, ids = corpus_app
    at.switch_page("pages/chat.py").run()
    assert at.title[0].value == "Ask"
    at.chat_input[0].set_value("Where is the fire extinguisher?").run()
    assert not at.exception, at.exception
    assert any("Extractive answer" in m.value for m in at.markdown)
    source = next(b for b in at.button if b.label.startswith("[1] Kitchen safety training"))
    source.click().run()
    [player] = element_protos(at, "video")
    assert player.start_time == 10
    at.run()  # a rerun that is not a click keeps the player where it is
    assert element_protos(at, "video")[0].start_time == 10
    # Clicking the same source again must play it again: the player seeks only when its start
    # second changes, so that click starts one second earlier.
    next(b for b in at.button if b.label.startswith("[1] Kitchen safety training")).click().run()
    assert element_protos(at, "video")[0].start_time == 9
    at.feedback[0].set_value(1).run()  # thumbs up
    with clean_db.session() as s:
        log = s.scalars(select(ChatLog)).one()
    assert log.question == "Where is the fire extinguisher?" and not log.is_shared_origin
    assert log.feedback == "good"
    at.feedback[0].set_value(0).run()  # changed my mind
    with clean_db.session() as s:
        assert s.scalars(select(ChatLog.feedback)).one() == "bad"
    click(at, "New conversation")  # start over: the chat and its player are cleared, the log stays
    assert not any(m.value == "Where is the fire extinguisher?" for m in at.markdown)
    assert not element_protos(at, "video") and "conversation" not in at.query_params
    assert any(b.label == "Where is the fire extinguisher? · Team videos" for b in at.sidebar.button)  # to reopen
    with clean_db.session() as s:
        assert len(s.scalars(select(ChatLog)).all()) == 1


def test_share_link_opens_the_group_read_only_and_revoking_ends_it(clean_db, corpus_app):
    at, account, group_id, ids = corpus_app
    at.switch_page("pages/groups.py").run()
    click(at, "Create share link")
    with clean_db.session() as s:
        token = s.get(VideoGroup, group_id).share_token
    assert token and any(token in c.value for c in at.code)

    from streamlit.testing.v1 import AppTest

    visitor = AppTest.from_file(str(APP), default_timeout=30)
    visitor.query_params["share"] = token
    visitor.run()
    assert not visitor.exception and visitor.title[0].value == "Team videos"
    assert not any(b.label == "Sign out" for b in visitor.button)  # no account, no navigation
    visitor.chat_input[0].set_value("Which password manager do we use?").run()
    assert any("Bitwarden" in m.value for m in visitor.markdown)
    shown = " ".join(m.value for m in visitor.markdown)
    assert "in their own words" in shown and "no AI model" not in shown  # the owner's setup is not theirs to read
    with clean_db.session() as s:
        log = s.scalars(select(ChatLog)).one()
        personal = home(s, account.id)
    assert log.is_shared_origin and log.user_id is None and log.workspace_id == personal  # no member asked it
    next(b for b in visitor.button if b.label.startswith("[1] IT onboarding")).click().run()
    assert element_protos(visitor, "video")  # the cited moment plays for the visitor
    cited = [b.label for b in visitor.button if b.label.startswith("[")]
    visitor.chat_input[0].set_value("What is the capital of Mongolia?").run()  # far from all the group says
    assert not any(c.value.startswith("Closest moments") for c in visitor.caption)  # a plain refusal
    assert [b.label for b in visitor.button if b.label.startswith("[")] == cited
    visitor.chat_input[0].set_value("What is the office wifi password?").run()  # near the password manager, not said
    assert any(c.value.startswith("Closest moments: none of them seems to answer") for c in visitor.caption)
    offered = [b.label for b in visitor.button if b.label.startswith("[")][len(cited):]
    assert offered and all(label.split("] ", 1)[1].split(" · ")[0] in ids for label in offered)  # the group's

    with clean_db.session() as s:  # the owner takes that video out of the shared group
        s.execute(delete(VideoGroupMember).where(VideoGroupMember.group_id == group_id,
                                                 VideoGroupMember.video_id == ids["IT onboarding"]))
    visitor.run()
    assert not element_protos(visitor, "video") and "no longer available" in visitor.warning[0].value

    click(at, "Revoke link")
    visitor.run()
    assert "This link is not valid" in visitor.error[0].value
    assert not any("Bitwarden" in m.value for m in visitor.markdown)


def test_a_visitor_signs_in_from_the_share_page_to_comment_and_comes_back_to_it(clean_db, corpus_app):
    from streamlit.testing.v1 import AppTest

    from core import sharing
    from tests.factories import PASSWORD, make_account

    _, account, group_id, _ = corpus_app
    with clean_db.session() as s:
        token = sharing.create_link(s, account.id, group_id)
        make_account(s, "bob")
    visitor = AppTest.from_file(str(APP), default_timeout=30)
    visitor.query_params["share"] = token
    visitor.run()
    [link] = [e.proto for e in visitor.get("page_link") if e.proto.label == "Sign in to comment"]
    assert link.page == "sign_in" and link.query_string == f"next={token}"

    del visitor.query_params["share"]  # what following the link does: the sign-in page, carrying the token
    visitor.query_params["next"] = token
    visitor.switch_page("pages/sign_in.py").run()
    assert any("go back to the shared group" in c.value for c in visitor.caption)
    field(visitor, "Username or email").input("bob")
    field(visitor, "Password").input(PASSWORD)
    click(visitor, "Sign in")
    assert visitor.title[0].value == "Team videos"  # back on the shared group, signed in
    assert visitor.query_params == {"share": token}
    assert any(w.label == "Comment" for w in visitor.text_area)  # and now may comment


def test_wrong_share_token_gets_link_not_valid(clean_db):
    from streamlit.testing.v1 import AppTest

    visitor = AppTest.from_file(str(APP), default_timeout=30)
    visitor.query_params["share"] = "not-a-real-token-but-long-enough-to-try"
    visitor.run()
    assert "This link is not valid" in visitor.error[0].value


def test_provider_failure_keeps_the_question_to_ask_again(clean_db, corpus_app, fake_openai):
    from core import model_settings

    at, account, group_id, ids = corpus_app
    with clean_db.session() as s:
        model_settings.set_models(s, account.id, base_url=fake_openai.base_url, chat_model="m", embedding_model="")
        model_settings.set_api_key(s, load_settings(), account.id, "sk-test-0000000000")
    fake_openai.fail_with = 429
    at.switch_page("pages/chat.py").run()
    at.chat_input[0].set_value("Where is the fire extinguisher?").run()
    assert "rate-limiting" in errors(at)[0]
    assert any(m.value == "Where is the fire extinguisher?" for m in at.markdown)
    fake_openai.fail_with = None
    fake_openai.chat_reply = "Next to the elevator [1]."
    click(at, "Ask again")
    assert any(m.value.startswith("Next to the elevator") for m in at.markdown)
    with clean_db.session() as s:
        assert [log.answer for log in s.scalars(select(ChatLog))] == ["Next to the elevator [1]."]


def test_an_answer_stopped_midway_keeps_its_question_to_ask_again(clean_db, corpus_app, monkeypatch):
    """A click elsewhere while an answer streams stops that run: the question stays, with Ask again."""
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    from core import answers

    at, *_ = corpus_app
    real_stream = answers.stream

    def stopped_after_a_word(prepared):
        yield next(iter(real_stream(prepared)))
        raise StopException()  # what Streamlit raises in a run that another click replaced

    monkeypatch.setattr(answers, "stream", stopped_after_a_word)
    at.switch_page("pages/chat.py").run()
    at.chat_input[0].set_value("Where is the fire extinguisher?").run()
    at.run()
    assert "interrupted" in at.error[0].value
    assert any(m.value == "Where is the fire extinguisher?" for m in at.markdown)
    monkeypatch.setattr(answers, "stream", real_stream)
    click(at, "Ask again")
    assert any("Extractive answer" in m.value for m in at.markdown) and not at.error


def test_a_refused_key_while_embedding_the_question_is_explained(clean_db, corpus_app, fake_openai):
    from core import model_settings

    at, account, group_id, ids = corpus_app
    with clean_db.session() as s:
        model_settings.set_models(s, account.id, base_url=fake_openai.base_url, chat_model="m",
                                  embedding_model="text-embedding-3-small")
        model_settings.set_api_key(s, load_settings(), account.id, "sk-test-0000000000")
    fake_openai.fail_with = 401
    at.switch_page("pages/chat.py").run()
    at.chat_input[0].set_value("Where is the fire extinguisher?").run()
    assert not at.exception
    assert "refused the API key" in at.error[0].value and "Settings" in at.error[0].value


def test_another_user_never_sees_or_asks_the_owners_group(clean_db, corpus_app):
    at, account, group_id, ids = corpus_app
    mallory, _ = signed_in_app(clean_db, "mallory", page="pages/chat.py")
    assert "Add videos first" in mallory.info[0].value
    for name, value in (("group", group_id), ("video", ids["IT onboarding"]), ("scope", "all")):
        mallory.query_params[name] = str(value)
        mallory.run()
        assert not mallory.selectbox and not mallory.chat_input  # no way to reach the owner's group or videos
    mallory.switch_page("pages/groups.py").run()
    assert "No groups yet" in mallory.info[0].value
