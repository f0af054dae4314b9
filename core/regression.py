"""A group's regression questions: moments reviewers pinned as the answer to a question, checked
against the product's retriever the way `bench.quality` checks TutorialVQA.

The scoring rule lives here so the benchmark and the product count a found moment the same way.
"""

from __future__ import annotations

SEEK_LEAD_S = 15.0  # a click may land this much before the answer starts and still count as finding it
SEEK_K = 5  # seek@5: the answer is found when one of the first five citations plays it


def plays_the_answer(cited_video: object, cited_start: float, *, video: object, answer_start: float,
                     answer_end: float) -> bool:
    """Whether playing a citation from its second lands on the answer: the right video, from at most
    SEEK_LEAD_S before the answer starts until its end."""
    return cited_video == video and answer_start - SEEK_LEAD_S <= cited_start <= answer_end
