"""'Nothing found' only when nothing is there: three TutorialVQA tutorials ingested from their
captions, asked offline, as issue 17's walk-through asked them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from core import answers, captions, groups, model_settings, retrieval
from core.indexing import store_transcript
from db.models import Video
from db.states import AnswerMode
from tests.factories import home, make_account

EVAL_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "tutorialvqa"
OFFTOPIC = Path(__file__).resolve().parent / "data" / "offtopic-questions.jsonl"
ARTBOARDS, LAYER_GROUPS, LAYER_BASICS = "4713", "4157", "19170"
AUTO_NESTING_S = 182.1  # "You can select the Prevent Auto-Nesting option in the Layers panel…"
EXPORTING_S = 197.67  # a dev question's answer: where the artboards tutorial exports its images


@pytest.fixture(scope="module")
def tutorials(db, settings):
    """The artboards tutorial and two other layer tutorials in one group, from their captions."""
    if not (EVAL_DIR / "captions" / f"{ARTBOARDS}.vtt").exists():
        pytest.skip(f"the TutorialVQA eval data is not at {EVAL_DIR} (the shared folder beside the project)")
    titles = {str(v["video_id"]): v["title"] for v in map(json.loads, (EVAL_DIR / "videos.jsonl").read_text().splitlines())}
    with db.session() as s:
        owner = make_account(s, "tutorials")
        group_id = groups.create_group(s, owner.id, "Photoshop layers")
    ids = {}
    for eval_id in (ARTBOARDS, LAYER_GROUPS, LAYER_BASICS):
        segments = captions.parse_captions((EVAL_DIR / "captions" / f"{eval_id}.vtt").read_bytes())
        with db.session() as s:
            video = Video(user_id=owner.id, workspace_id=home(s, owner.id), title=titles[eval_id], status="processing")
            s.add(video)
            s.flush()
            groups.add_videos(s, owner.id, group_id, [video.id])
            ids[eval_id] = video.id
        store_transcript(db, settings, video.id, segments, "captions")
    yield owner.id, group_id, ids
    with db.engine.begin() as conn:  # what this module made, and the answers it stored
        conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": owner.id})


def ask(db, settings, owner_id, group_id, question):
    prepared = answers.prepare(db, settings, group_id=group_id, user_id=owner_id, question=question)
    return answers.finish(db, prepared, "".join(answers.stream(prepared)))


def test_prevent_auto_nesting_is_found_and_its_moment_cited(db, settings, tutorials):
    owner_id, group_id, ids = tutorials
    answer = ask(db, settings, owner_id, group_id, "how can i prevent auto nesting?")
    assert answer.mode == AnswerMode.EXTRACTIVE and answer.text != answers.NOTHING_FOUND
    # A click plays the sentence: it is inside the cited span, or starts at most 15 s later.
    assert any(c.video_id == ids[ARTBOARDS] and (c.start <= AUTO_NESTING_S <= c.end or 0 <= AUTO_NESTING_S - c.start <= 15)
               for c in answer.citations), answer.citations


def test_questions_about_other_things_still_find_nothing(db, settings, tutorials):
    owner_id, group_id, _ = tutorials
    questions = [json.loads(line)["question"] for line in OFFTOPIC.read_text().splitlines() if line.strip()]
    for question in questions[::7]:  # a handful, across the file's topics
        answer = ask(db, settings, owner_id, group_id, question)
        assert answer.mode == AnswerMode.NOTHING and answer.citations == [], question


def test_a_passage_counts_as_found_by_its_rare_words_or_by_its_meaning():
    def hit(similarity=0.1, sentence_similarity=0.2, coverage=0.0):
        return retrieval.Hit(1, 1, "t", 0.0, 5.0, "text", 0.1, similarity, coverage > 0, "s", 5.0,
                             sentence_similarity, 0.0, coverage)

    assert not retrieval.is_found([], similarity=0.45)
    assert not retrieval.is_found([hit(), hit(similarity=0.44, coverage=0.69)], similarity=0.45)
    assert retrieval.is_found([hit(), hit(coverage=0.7)], similarity=0.45)  # the words, whatever the vector
    assert retrieval.is_found([hit(similarity=0.45)], similarity=0.45)
    assert retrieval.is_found([hit(sentence_similarity=0.65)], similarity=0.45)


def test_with_a_model_configured_it_judges_what_is_near_but_not_found(db, settings, tutorials, fake_openai):
    """Most answerable questions refused offline are near a passage, as are a few off-topic ones:
    a configured model reads those passages and answers, or says they do not cover it."""
    owner_id, group_id, ids = tutorials
    real, off_topic, far = "how can images be exported?", "which paint colors go well in a small bedroom?", \
        "what is the capital of mongolia?"
    offline = ask(db, settings, owner_id, group_id, real)
    assert offline.mode == AnswerMode.NOTHING  # no judge offline: the found rule alone decides
    offered_offline = ask(db, settings, owner_id, group_id, off_topic).closest
    with db.session() as s:
        model_settings.set_models(s, owner_id, base_url=fake_openai.base_url, chat_model="fake-chat",
                                  embedding_model="")
        model_settings.set_api_key(s, settings, owner_id, "sk-test-found-0000")
    try:
        fake_openai.chat_reply = "Choose File, then Export, then Artboards to Files [1]."
        answer = ask(db, settings, owner_id, group_id, real)
        assert answer.mode == AnswerMode.LLM and answer.closest == []
        assert answer.citations and answer.citations[0].video_id == ids[ARTBOARDS]
        prompt = fake_openai.requests[-1].json()["messages"][-1]["content"]
        assert "Export" in prompt  # the passages it judged are the near ones

        fake_openai.chat_reply = "The videos do not cover which paint colors suit a small bedroom."
        refused = ask(db, settings, owner_id, group_id, off_topic)
        assert refused.mode == AnswerMode.NOTHING and refused.citations == []
        assert refused.text == fake_openai.chat_reply  # its own words, with the closest moments to judge
        assert 1 <= len(refused.closest) <= answers.CLOSEST_MOMENTS
        # the moments a refusal offers offline, each with its sentence nearest the question
        assert [(c.video_id, c.start, c.end, c.snippet) for c in refused.closest] == \
            [(c.video_id, c.start, c.end, c.snippet) for c in offered_offline]

        calls = len(fake_openai.requests)
        nothing = ask(db, settings, owner_id, group_id, far)  # nothing near: no model call spent on it
        assert nothing.mode == AnswerMode.NOTHING and nothing.text == answers.NOTHING_FOUND
        assert len(fake_openai.requests) == calls
    finally:
        with db.session() as s:
            model_settings.remove_api_key(s, owner_id)
            model_settings.set_models(s, owner_id, base_url="", chat_model="", embedding_model="")


def test_near_is_a_looser_found():
    def hit(similarity=0.1, sentence_similarity=0.2, coverage=0.0):
        return retrieval.Hit(1, 1, "t", 0.0, 5.0, "text", 0.1, similarity, coverage > 0, "s", 5.0,
                             sentence_similarity, 0.0, coverage)

    assert not retrieval.is_near([hit(similarity=0.29, sentence_similarity=0.44, coverage=0.59)])
    for near in (hit(similarity=0.30), hit(sentence_similarity=0.45), hit(coverage=0.6)):
        assert retrieval.is_near([near]) and not retrieval.is_found([near], similarity=0.45)
