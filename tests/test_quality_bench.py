"""The quality benchmark scores a click by the second it plays and recall by the chunk retrieved."""

from __future__ import annotations

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
