"""'Nothing found' only when nothing is there: three TutorialVQA tutorials ingested from their
captions, asked offline, as issue 17's walk-through asked them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from core import answers, captions, groups, retrieval
from core.indexing import store_transcript
from db.models import Video
from db.states import AnswerMode
from tests.factories import home, make_account

EVAL_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "tutorialvqa"
OFFTOPIC = Path(__file__).resolve().parent / "data" / "offtopic-questions.jsonl"
ARTBOARDS, LAYER_GROUPS, LAYER_BASICS = "4713", "4157", "19170"
AUTO_NESTING_S = 182.1  # "You can select the Prevent Auto-Nesting option in the Layers panel…"


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
