"""Ask shows what an answer's sources back: an unsupported sentence gets a subtle marker, and an
offline answer's sources are not repeated under its quotes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core import model_settings
from core.config import load_settings
from db.models import ChatLog, User
from tests.app_driver import signed_in_app
from ui.widgets import UNSUPPORTED_MARKER, claims_markdown

HOSTILE = 'Globex renewed <img src=x onerror="alert(1)"> [for five](javascript:alert(1)) years [1].'


def test_the_marker_follows_only_the_unsupported_sentence_and_the_text_stays_inert():
    text = f"Globex renewed for three years [1]. {HOSTILE}"
    shown = claims_markdown(text, [
        {"sentence": "Globex renewed for three years [1].", "source": 1, "supported": True, "score": 0.9},
        {"sentence": HOSTILE, "source": 1, "supported": False, "score": 0.3}])
    marker = f' [{UNSUPPORTED_MARKER}](#unsupported-claim "Source [1] does not clearly say this.")'
    assert shown.count(marker) == 1 and shown.endswith(marker)
    assert not re.search(r"(?<!\\)[<>]|(?<!\\)\]\(javascript", shown)  # nothing unescaped
    assert r'\<img src\=x onerror\="alert\(1\)"\>' in shown and r"\[for five\]\(javascript\:alert\(1\)\)" in shown
    # Text holding our stand-in character, or a claim that is not in the text, adds no marker.
    assert "(#unsupported-claim" not in claims_markdown("\ue000 Plain [1].", [
        {"sentence": "not there", "source": 1, "supported": False}])


def test_an_offline_answer_lists_its_sources_without_repeating_the_quotes(clean_db, corpus_app):
    at, *_ = corpus_app
    at.switch_page("pages/chat.py").run()
    at.chat_input[0].set_value("Where is the fire extinguisher?").run()
    assert not at.exception, at.exception
    answer = next(m.value for m in at.markdown if "Extractive answer" in m.value)
    assert "elevator" in answer and UNSUPPORTED_MARKER not in answer
    assert any(b.label.startswith("[1] Kitchen safety training") for b in at.button)
    assert not any("elevator" in c.value for c in at.caption), [c.value for c in at.caption]


def test_a_model_answer_marks_the_sentence_its_source_does_not_say(clean_db, corpus_app, fake_openai):
    at, account, *_ = corpus_app
    with clean_db.session() as s:
        model_settings.set_models(s, account.id, base_url=fake_openai.base_url, chat_model="m", embedding_model="")
        model_settings.set_api_key(s, load_settings(), account.id, "sk-test-0000000000")
    fake_openai.chat_reply = f"Globex renewed for three years [1]. {HOSTILE}"
    at.switch_page("pages/chat.py").run()
    at.chat_input[0].set_value("Which customer renewed their contract?").run()
    assert not at.exception, at.exception
    for _ in range(2):  # as answered, and shown again from the history
        answer = next(m.value for m in at.markdown if m.value.startswith("Globex renewed for three"))
        assert answer.count(UNSUPPORTED_MARKER) == 1 and answer.endswith('"Source [1] does not clearly say this.")')
        assert not re.search(r"(?<!\\)[<>]", answer)
        assert any("Globex, renewed for three years" in c.value for c in at.caption)  # a model's sources keep theirs
        at.run()
    with clean_db.session() as s:
        assert s.scalars(select(ChatLog.support_score)).one() == 0.5


def test_a_model_that_finds_the_near_passages_do_not_answer_is_shown_as_a_refusal(clean_db, corpus_app, fake_openai):
    """Not found but near: the model judges, and its uncited "not covered" reads as the refusal it is."""
    at, account, *_ = corpus_app
    with clean_db.session() as s:
        model_settings.set_models(s, account.id, base_url=fake_openai.base_url, chat_model="m", embedding_model="")
        model_settings.set_api_key(s, load_settings(), account.id, "sk-test-0000000000")
    fake_openai.chat_reply = "The videos do not say what the office wifi password is."
    at.switch_page("pages/chat.py").run()
    at.chat_input[0].set_value("What is the office wifi password?").run()  # near the password manager
    assert not at.exception, at.exception
    assert any(m.value.startswith("The videos do not say what the office wifi password") for m in at.markdown)
    assert any(c.value.startswith("Closest moments: none of them seems to answer") for c in at.caption)
    assert any(b.label.startswith("[1] IT onboarding") for b in at.button)  # to play, in case one is meant
    with clean_db.session() as s:
        assert s.scalars(select(ChatLog.mode)).one() == "nothing"


@pytest.mark.parametrize(("key", "column", "cost"), [
    ("check-claims", "check_claims_with_model", "one extra call per answer"),
    ("rerank", "rerank_with_model", "one extra call per question")])
def test_each_extra_model_call_is_a_settings_toggle_off_by_default(clean_db, key, column, cost):
    at, account = signed_in_app(clean_db, page="pages/settings.py")
    toggle = at.toggle(key=key)
    assert toggle.value is False and cost in toggle.label
    toggle.set_value(True).run()
    assert not at.exception, at.exception
    with clean_db.session() as s:
        assert getattr(s.get(User, account.id), column) is True
    at.toggle(key=key).set_value(False).run()
    with clean_db.session() as s:
        assert getattr(s.get(User, account.id), column) is False
