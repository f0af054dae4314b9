"""The quality benchmark scores a click by the second it plays and recall by the chunk retrieved."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.claims import DATA, heldout_rows
from bench.quality import Citation, Question, score


def test_a_citation_inside_a_chunk_counts_for_recall_by_its_chunk_and_for_seek_by_its_second():
    question = Question("v1", "How do I crop?", start=40.0, end=50.0)
    # The chunk 30–60 s holds the answer; the citation plays from 58 s, past the answer.
    late = Citation("v1", start=58.0, end=60.0, chunk_start=30.0)
    figures = score([(question, [late])], k=5, seconds=1.0)
    assert figures["R@1"] == 1.0 and figures["seek@5"] == 0.0

    # Playing from 28 s (within 15 s before the answer) is a good click.
    early = Citation("v1", start=28.0, end=35.0, chunk_start=28.0)
    figures = score([(question, [early])], k=5, seconds=1.0)
    assert figures["seek@5"] == 1.0 and figures["R@1"] == 0.0  # but that chunk ends before the answer

    wrong_video = Citation("v2", start=40.0, end=50.0)
    figures = score([(question, [wrong_video, late])], k=5, seconds=1.0)
    assert figures["video@1"] == 0.0 and figures["R@1"] == 0.0 and figures["R@5"] == 1.0
    assert figures["MRR@10"] == 0.5


def test_video_halves_keep_each_video_in_one_half_and_deal_them_in_id_order():
    from bench.quality import video_halves

    questions = [Question(v, f"q{n}", 0.0, 1.0) for n, v in enumerate(["10", "9", "10", "100", "9", "11"])]
    halves = video_halves(questions)
    # Videos 9, 10, 11, 100 in numeric order go to A, B, A, B.
    assert [questions[i].video_id for i in halves["A"]] == ["9", "9", "11"]
    assert [questions[i].video_id for i in halves["B"]] == ["10", "10", "100"]
    shuffled = list(reversed(questions))  # the file's order does not matter, only the video ids
    assert {shuffled[i].video_id for i in video_halves(shuffled)["A"]} == {"9", "11"}


def test_each_held_out_claim_reads_its_passage_from_the_captions():
    """The held-out claims name their passages by video and seconds; the text comes from the eval captions."""
    eval_dir = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "tutorialvqa"
    if not (eval_dir / "captions").exists():
        pytest.skip(f"the TutorialVQA eval data is not at {eval_dir}")
    for name, claims in (("claims-tutorialvqa.jsonl", 50), ("claims-tutorialvqa-2.jsonl", 40),
                         ("claims-tutorialvqa-3.jsonl", 40)):
        rows = heldout_rows(eval_dir, DATA / name)
        assert len(rows) == claims and sum(r["supported"] for r in rows) == claims // 2
        assert all(len(r["passage"].split(". ")) >= 2 and r["context"] for r in rows), name
