"""Searching the library for what is said: the sentence, its second and the words to mark."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.moment_search import MAX_QUERY_CHARS, Moment, find_moments
from db.models import EMBEDDING_DIMENSIONS, TranscriptSentence, Video
from tests.factories import home, make_account


def a_video(session: Session, owner_id: int, title: str, sentences: list[tuple[float, float, str]]) -> int:
    """A processed video whose transcript is `sentences` (start, end, text), stored as ingestion stores them."""
    video = Video(user_id=owner_id, workspace_id=home(session, owner_id), title=title, status="completed")
    session.add(video)
    session.flush()
    session.add_all(TranscriptSentence(
        video_id=video.id, workspace_id=video.workspace_id, sentence_index=n, start_time=start, end_time=end, text=said,
        embedding=[0.1] * EMBEDDING_DIMENSIONS, embedding_model="test")
        for n, (start, end, said) in enumerate(sentences))
    session.flush()
    return video.id


def marked(moment: Moment) -> list[str]:
    return [moment.text[a:b] for a, b in moment.highlights]


GARDEN = [
    (0.0, 6.0, "Welcome back to the greenhouse tour."),
    (6.0, 12.5, "Our cactus needs water only once a month."),
    (12.5, 18.0, "The ferns by the door like shade."),
]


def test_a_word_said_in_a_video_is_found_at_its_second(session):
    owner = make_account(session)
    video_id = a_video(session, owner.id, "Greenhouse tour", GARDEN)
    [moment] = find_moments(session, owner.id, "cactus")
    assert (moment.video_id, moment.title, moment.start, moment.end) == (video_id, "Greenhouse tour", 6.0, 12.5)
    assert moment.text == "Our cactus needs water only once a month."
    assert marked(moment) == ["cactus"]
    assert list(moment.pieces()) == [("Our ", False), ("cactus", True), (" needs water only once a month.", False)]


def test_other_forms_of_a_word_match_as_english_stems(session):
    owner = make_account(session)
    a_video(session, owner.id, "Training", [(0.0, 4.0, "She runs every morning."),
                                            (4.0, 9.0, "Watering plants is a chore.")])
    [run] = find_moments(session, owner.id, "running")
    assert marked(run) == ["runs"]
    [water] = find_moments(session, owner.id, "WATERED")
    assert marked(water) == ["Watering"]
    assert find_moments(session, owner.id, "the is a") == []  # only stop words: nothing to look for


def test_another_users_transcript_never_appears(session):
    owner, stranger = make_account(session), make_account(session)
    a_video(session, stranger.id, "Stranger's cactus diary", [(0.0, 5.0, "My cactus flowered today.")])
    assert find_moments(session, owner.id, "cactus") == []
    mine = a_video(session, owner.id, "Greenhouse tour", GARDEN)
    assert [m.video_id for m in find_moments(session, owner.id, "cactus")] == [mine]
    assert [m.title for m in find_moments(session, stranger.id, "cactus")] == ["Stranger's cactus diary"]


def test_one_video_saying_a_word_often_does_not_flood_the_results(session):
    owner = make_account(session)
    chatty = a_video(session, owner.id, "Cactus care, the long version",
                     [(n * 5.0, n * 5.0 + 5, f"Tip {n}: the cactus likes sun.") for n in range(30)])
    brief = a_video(session, owner.id, "Greenhouse tour", GARDEN)
    moments = find_moments(session, owner.id, "cactus", per_video=3)
    assert [m.video_id for m in moments].count(chatty) == 3
    assert brief in [m.video_id for m in moments]
    # A video's moments stay together, in time order.
    chatty_starts = [m.start for m in moments if m.video_id == chatty]
    assert chatty_starts == sorted(chatty_starts)
    assert len(find_moments(session, owner.id, "cactus", limit=2)) == 2


def test_the_sentence_that_says_more_of_the_words_comes_first(session):
    owner = make_account(session)
    a_video(session, owner.id, "Mentions", [(0.0, 5.0, "A cactus stands on the shelf in the hall.")])
    best = a_video(session, owner.id, "Care guide", [(0.0, 5.0, "Water the cactus, water it well, cactus first.")])
    assert find_moments(session, owner.id, "water cactus")[0].video_id == best
    assert [m.title for m in find_moments(session, owner.id, "cactus")][0] == "Care guide"


def test_a_quoted_phrase_and_an_excluded_word(session):
    owner = make_account(session)
    a_video(session, owner.id, "Offices", [(0.0, 5.0, "The New York office grew."),
                                           (5.0, 9.0, "York is lovely, and new to us."),
                                           (9.0, 14.0, "New York and London both hired.")])
    found = find_moments(session, owner.id, '"new york" -london')
    assert [m.start for m in found] == [0.0]
    assert marked(found[0]) == ["New", "York"]


HOSTILE = [
    "", "   ", "'", '"', "''", '"unclosed', "a & b", "cactus | ", "!cactus", "cactus:*", "cac:* & !(", "((((",
    "cactus'); DROP TABLE videos; --", "\\", "%_", "\x00cactus", "<script>alert(1)</script>", "[link](javascript:x)",
    "**cactus**", "c" * 100_000, "cactus " * 5_000, "-", "or", "-cactus", "🌵 cactus", "ｃａｃｔｕｓ", "\ue000\ue001",
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_whatever_is_typed_never_fails_and_stays_the_owners(session, query):
    owner, stranger = make_account(session), make_account(session)
    mine = a_video(session, owner.id, "Greenhouse tour", GARDEN)
    a_video(session, stranger.id, "Not yours", [(0.0, 5.0, "A cactus and a script tag.")])
    moments = find_moments(session, owner.id, query)
    assert {m.video_id for m in moments} <= {mine}
    assert all(m.text in {said for _, _, said in GARDEN} for m in moments)


def test_a_typed_search_is_read_as_words_not_operators(session):
    owner = make_account(session)
    a_video(session, owner.id, "Greenhouse tour", GARDEN)
    for query in ["cactus:*", "!cactus", "(cactus)", "cactus &", "'cactus'", "**cactus**", "#cactus", "`cactus`"]:
        assert [marked(m) for m in find_moments(session, owner.id, query)] == [["cactus"]], query
    assert find_moments(session, owner.id, "cact:*") == []  # no prefix search hidden in the syntax
    assert find_moments(session, owner.id, "x" * (MAX_QUERY_CHARS - 7) + " cactus") == []  # cut before the word


def test_html_and_markdown_in_a_transcript_come_back_as_text_with_exact_ranges(session):
    owner = make_account(session)
    said = "Click <b>Save</b> then **save** again & [save](javascript:alert(1)) \ue000saved\ue001."
    a_video(session, owner.id, "Editor <i>tips</i>", [(3.0, 8.0, said)])
    [moment] = find_moments(session, owner.id, "saving")
    assert moment.title == "Editor <i>tips</i>"  # plain text: escaping is the page's job
    assert moment.text == said.replace("\ue000", "").replace("\ue001", "")
    assert marked(moment) == ["Save", "save", "save", "saved"]
    assert "".join(piece for piece, _ in moment.pieces()) == moment.text
