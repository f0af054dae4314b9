"""The database goes away (a restart, a network cut) while people use the app.

Before, any page showed the generic crash screen, and an answer the owner's model had streamed in
full was lost. Now the page says what is happening, and an answer written meanwhile stays on
screen, marked as not saved, and is stored once the database is back.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import answers
from core.database import UNREACHABLE_MESSAGE, Database
from db.models import ChatLog
from tests.app_driver import click, errors

DEAD = "postgresql+psycopg://nobody@127.0.0.1:1/askvideo"  # nothing listens there: a real connect failure


@pytest.fixture(scope="module")
def dead_database():
    database = Database(DEAD)
    yield database
    database.dispose()


def test_an_answer_written_while_the_database_is_away_is_kept_and_saved_later(clean_db, corpus_app,
                                                                               dead_database, monkeypatch):
    at, *_ = corpus_app
    real_save = answers.save
    monkeypatch.setattr(answers, "save", lambda db, prepared, answer: real_save(dead_database, prepared, answer))
    at.switch_page("pages/chat.py").run()
    at.chat_input[0].set_value("Where is the fire extinguisher?").run()
    assert not at.exception, at.exception
    assert any("Extractive answer" in m.value for m in at.markdown)  # the answer is on screen
    assert "not saved yet" in at.warning[0].value and not at.feedback  # and says it cannot be rated yet
    click(at, "Save this answer")  # still away
    assert UNREACHABLE_MESSAGE in errors(at)[0]
    with clean_db.session() as s:
        assert s.scalars(select(ChatLog)).all() == []

    monkeypatch.setattr(answers, "save", real_save)  # the database is back
    click(at, "Save this answer")
    with clean_db.session() as s:
        [log] = s.scalars(select(ChatLog)).all()
    assert log.question == "Where is the fire extinguisher?" and "Extractive answer" in log.answer
    assert not at.warning and at.feedback  # stored: it can be rated now
    at.feedback[0].set_value(1).run()
    with clean_db.session() as s:
        assert s.scalars(select(ChatLog.feedback)).one() == "good"


def test_a_page_opened_while_the_database_is_away_says_so(clean_db, corpus_app, dead_database, monkeypatch):
    import ui.session

    at, *_ = corpus_app
    monkeypatch.setattr(ui.session, "get_database", lambda: dead_database)
    at.switch_page("pages/library.py").run()
    assert not at.exception, at.exception
    assert errors(at) == [UNREACHABLE_MESSAGE]
